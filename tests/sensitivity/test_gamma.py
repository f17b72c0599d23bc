"""Γ-selection bounds (Yadlowsky, Namkoong, Basu, Duchi & Tian 2022)."""

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.ate import AIPW
from causalkit.datasets import make_ate_data
from causalkit.sensitivity import cate_bounds, gamma_bounds, gamma_star
from causalkit.sensitivity._dgp import gamma_selection_population_bounds, make_gamma_selection_data


def _aipw(d, cv=3, **kw):
    return AIPW(LinearRegression(), LogisticRegression(), cv=cv, random_state=0, **kw).fit(
        d.X, d.y, treatment=d.treatment)


@pytest.fixture(scope="module")
def fitted():
    d = make_ate_data(1000, random_state=1)
    return d, _aipw(d)


def test_gamma_one_is_the_estimators_ate(fitted):
    d, est = fitted
    res = gamma_bounds(est, d.X, gamma=[1.0, 2.0])
    lo, hi = res.at(1.0)
    ate = est.ate()
    assert lo.value == pytest.approx(ate.value, abs=1e-12)
    assert hi.value == pytest.approx(ate.value, abs=1e-12)
    assert lo.stderr == pytest.approx(ate.stderr, rel=1e-10)


def test_bounds_widen_monotonically_in_gamma(fitted):
    d, est = fitted
    g = np.exp(np.linspace(0, np.log(8), 12))
    res = gamma_bounds(est, d.X, gamma=g)
    assert np.all(np.diff(res.lower.values) < 0)
    assert np.all(np.diff(res.upper.values) > 0)
    lo_p, hi_p = res.conf_int(0.05)
    lo_u, hi_u = res.conf_int(0.05, kind="uniform")
    assert np.all(lo_u <= lo_p) and np.all(hi_u >= hi_p)
    assert res.summary().shape == (12, 7)


def _normal_expectile(gamma):
    # Lower bound: E[(Y - q)_+] = gamma E[(q - Y)_+] for Y ~ N(0, 1).
    def foc(q):
        above = stats.norm.pdf(q) - q * stats.norm.sf(q)
        below = q * stats.norm.cdf(q) + stats.norm.pdf(q)
        return above - gamma * below
    return optimize.brentq(foc, -5, 5)


@pytest.mark.parametrize("gamma", [1.5, 3.0])
def test_randomised_null_effect_gives_the_normal_expectile(gamma):
    # T randomised (e = 1/2), Y ~ N(0, 1) in both arms, X pure noise: theta_1^- is the
    # 1/(1+Gamma)-expectile q of N(0, 1), theta_0^+ = -q, so the ATE bounds are (q, -q).
    rng = np.random.default_rng(11)
    n = 4000
    X = rng.normal(size=(n, 2))
    t = rng.binomial(1, 0.5, n)
    y = rng.normal(size=n)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=0).fit(X, y, treatment=t)
    res = gamma_bounds(est, X, gamma=gamma)
    q = _normal_expectile(gamma)
    lo, hi = res.at(gamma)
    assert abs(lo.value - q) < 4 * lo.stderr
    assert abs(hi.value + q) < 4 * hi.stderr
    clo, chi = cate_bounds(est, X, gamma)
    assert np.median(clo) == pytest.approx(q, abs=0.08)
    assert np.median(chi) == pytest.approx(-q, abs=0.08)


def test_bounds_cover_the_truth_at_the_generating_gamma():
    d = make_gamma_selection_data(4000, gamma=3.0, confounding=1.0, random_state=3)
    est = _aipw(d)
    ate = est.ate()
    assert ate.value - d.true_ate > 4 * ate.stderr            # confounded: AIPW is biased
    res = gamma_bounds(est, d.X, gamma=[1.0, 3.0])
    lo, hi = res.conf_int(0.05)
    assert not (lo[0] <= d.true_ate <= hi[0])
    assert lo[1] <= d.true_ate <= hi[1]
    assert res.lower.values[1] <= d.true_ate + 2 * res.lower.stderr[1]


def test_population_bounds_at_gamma_one_are_the_ipw_limit():
    # At Gamma = 1 the identified interval is the confounded limit E[mu_1(X) - mu_0(X)], which
    # IPW with the DGP's true propensity e(x) = (sigma(a + L/2) + sigma(a - L/2)) / 2 estimates.
    g0 = 2.0
    lo, hi = gamma_selection_population_bounds([1.0], g0)
    assert lo[0] == pytest.approx(hi[0], abs=1e-12)
    d = make_gamma_selection_data(200_000, gamma=g0, random_state=8)
    a = 0.5 * d.X[:, 0] - 0.25 * d.X[:, 1]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    e = 0.5 * (sig(a + np.log(g0) / 2) + sig(a - np.log(g0) / 2))
    psi = d.treatment * d.y / e - (1 - d.treatment) * d.y / (1 - e)
    assert abs(psi.mean() - lo[0]) < 4 * psi.std() / np.sqrt(psi.size)
    assert lo[0] - d.true_ate > 8 * psi.std() / np.sqrt(psi.size)     # confounded


@pytest.mark.parametrize("gamma", [1.5, 3.0])
def test_population_bounds_without_outcome_confounding_are_the_normal_expectile(gamma):
    # With confounding=0 each arm's outcome given X is N(m, 1): the identified interval is
    # effect + (q, -q), q the 1/(1+Gamma)-expectile of N(0, 1).
    lo, hi = gamma_selection_population_bounds([gamma], 3.0, effect=0.5, confounding=0.0)
    q = _normal_expectile(gamma)
    assert lo[0] == pytest.approx(0.5 + q, abs=1e-8)
    assert hi[0] == pytest.approx(0.5 - q, abs=1e-8)


def test_population_bounds_contain_the_truth_from_the_generating_gamma_on():
    g = np.array([1.0, 1.5, 2.0, 3.0, 4.0])
    lo, hi = gamma_selection_population_bounds(g, 2.0)
    assert np.all(np.diff(lo) < 0) and np.all(np.diff(hi) > 0)
    inside = (lo <= 1.0) & (1.0 <= hi)
    assert not inside[0] and inside[g >= 2.0].all()


def test_estimated_bounds_agree_with_the_identified_interval():
    # Fixed seed: the estimated bounds sit within 4 standard errors of the exact identified
    # interval of the DGP at every Gamma, and at Gamma = 1 they are the AIPW estimate.
    d = make_gamma_selection_data(4000, gamma=3.0, random_state=3)
    est = _aipw(d)
    g = [1.0, 2.0, 3.0, 4.0]
    res = gamma_bounds(est, d.X, gamma=g)
    lo, hi = gamma_selection_population_bounds(g, 3.0)
    assert np.all(np.abs(res.lower.values - lo) < 4 * res.lower.stderr)
    assert np.all(np.abs(res.upper.values - hi) < 4 * res.upper.stderr)
    assert res.lower.values[0] == pytest.approx(est.ate().value, abs=1e-12)


def test_gamma_star_solves_for_the_null(fitted):
    d, est = fitted
    gs = gamma_star(est, d.X, alpha=0.05)
    assert 1 < gs.lower < gs.value < gs.upper < np.inf
    at = gamma_bounds(est, d.X, gamma=[gs.value, gs.lower, gs.upper])
    assert at.lower.values[0] == pytest.approx(0.0, abs=1e-4)
    z = stats.norm.ppf(0.975)
    assert at.lower.values[1] - z * at.lower.stderr[1] == pytest.approx(0.0, abs=1e-4)
    assert at.lower.values[2] + z * at.lower.stderr[2] == pytest.approx(0.0, abs=1e-4)
    assert gs.side == "lower"
    # An effect whose CI already includes 0 has Gamma* confidence limit 1.
    d0 = make_ate_data(300, effect=0.0, random_state=2)
    assert gamma_star(_aipw(d0), d0.X).lower == 1.0


def test_cate_bounds_contain_unit_estimates_and_nan_for_dropped():
    d = make_ate_data(800, random_state=4)
    est = _aipw(d, trimming="drop", trimming_threshold=0.03)
    lo, hi = cate_bounds(est, d.X, 2.0)
    keep = np.isfinite(lo)
    assert keep.sum() == est.ate().n
    assert np.all(lo[keep] <= hi[keep])
    lo1, hi1 = cate_bounds(est, d.X, 1.0)
    assert np.allclose(lo1[keep], hi1[keep])


def test_degree_two_sieve_and_weights(fitted):
    d, est = fitted
    w = np.random.default_rng(0).uniform(0.5, 2, 1000)
    estw = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, treatment=d.treatment, sample_weight=w)
    res = gamma_bounds(estw, d.X, gamma=[1.0, 2.0], degree=2)
    assert res.lower.values[0] == pytest.approx(estw.ate().value, abs=1e-12)
    assert res.lower.stderr[0] == pytest.approx(estw.ate().stderr, rel=1e-10)
    assert res.lower.values[1] < res.lower.values[0]


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda e, X: gamma_bounds(e, X, gamma=0.5), ValueError, r"`gamma` must be >= 1"),
    (lambda e, X: gamma_bounds(e, X, gamma=[1.0, np.nan]), ValueError, r"`gamma` contains NaN"),
    (lambda e, X: gamma_bounds(e, X, gamma="2"), TypeError, r"`gamma` must be a number"),
    (lambda e, X: gamma_bounds(e, X[:-1]), ValueError, r"`X` has 999 rows"),
    (lambda e, X: gamma_bounds(e, X[:, :2]), ValueError, r"`X` has 2 columns"),
    (lambda e, X: gamma_bounds(e, np.where(X > 2, np.nan, X)), ValueError, r"`X` contains NaN"),
    (lambda e, X: gamma_bounds(e, X, degree=3), ValueError, r"`degree` must be 1 or 2"),
    (lambda e, X: gamma_bounds(e, X, ridge=-1), ValueError, r"`ridge` must be a non-negative"),
    (lambda e, X: cate_bounds(e, X, gamma=[1, 2]), ValueError, r"one number"),
    (lambda e, X: gamma_star(e, X, gamma_max=1.0), ValueError, r"`gamma_max` must exceed 1"),
    (lambda e, X: gamma_bounds(AIPW(), X), NotFittedError, r"not fitted"),
    (lambda e, X: gamma_bounds(LinearRegression().fit(X, X[:, 0]), X), TypeError,
     r"does not keep what the bounds need"),
])
def test_bad_input(fitted, call, exc, pattern):
    d, est = fitted
    with pytest.raises(exc, match=pattern):
        call(est, d.X)


def test_plot(fitted):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    d, est = fitted
    ax = gamma_bounds(est, d.X, gamma=[1, 2, 4]).plot()
    assert ax.get_xscale() == "log" and len(ax.lines) >= 2
    plt.close("all")


def test_hte_learner_and_dataframe_input():
    import pandas as pd

    from causalkit.hte import RLearner

    d = make_ate_data(600, random_state=6)
    Xdf = pd.DataFrame(d.X, columns=[f"c{i}" for i in range(d.X.shape[1])])
    rl = RLearner(LinearRegression(), LogisticRegression(), LinearRegression(), cv=3,
                  random_state=0).fit(Xdf, d.y, treatment=d.treatment)
    res = gamma_bounds(rl, Xdf, gamma=[1.0, 2.0])
    assert res.lower.values[0] == pytest.approx(rl.ate().value, abs=1e-10)
    assert res.lower.stderr[0] == pytest.approx(rl.ate().stderr, rel=1e-8)
    assert res.lower.values[1] < res.lower.values[0] < res.upper.values[1]


def test_clustered_standard_errors():
    d = make_ate_data(600, random_state=7)
    groups = np.repeat(np.arange(200), 3)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, treatment=d.treatment, groups=groups)
    res = gamma_bounds(est, d.X, gamma=[1.0, 2.0])
    assert res.lower.stderr[0] == pytest.approx(est.ate().stderr, rel=1e-8)


def test_subgroup_bounds(fitted):
    d, est = fitted
    mask = d.X[:, 0] > 0
    res = gamma_bounds(est, d.X, gamma=[1.0, 2.0], subset=mask)
    psi = est.scores_[mask]
    assert res.lower.values[0] == pytest.approx(psi.mean(), abs=1e-10)
    assert res.lower.stderr[0] == pytest.approx(psi.std() / np.sqrt(mask.sum()), rel=1e-8)
    assert res.estimate.value == pytest.approx(psi.mean(), abs=1e-10)
    assert res.lower.n == mask.sum()
    with pytest.raises(ValueError, match="`subset` must be a boolean mask"):
        gamma_bounds(est, d.X, subset=mask[:-1])


def test_cate_bounds_contain_the_true_cate_at_the_generating_gamma():
    # Constant true CATE 1 under exact Gamma-selection at Gamma0 = 3 (confounded: every
    # unit's CATE estimate at Gamma = 1 misses it).
    d = make_gamma_selection_data(4000, gamma=3.0, random_state=3)
    est = _aipw(d)
    lo1, hi1 = cate_bounds(est, d.X, 1.0)
    assert np.mean((lo1 <= 1) & (1 <= hi1)) < 0.05
    lo, hi = cate_bounds(est, d.X, 3.0)
    assert np.mean((lo <= 1) & (1 <= hi)) > 0.9


def test_cate_bounds_at_new_points_by_score_regression():
    # Constant true CATE 1 under exact Gamma-selection at Gamma0 = 3: the regressed bounds at
    # fresh points contain it at Gamma0, and at Gamma = 1 they equal the DR-learner of the AIPW
    # score (a linear regression of est.scores_ on X).
    d = make_gamma_selection_data(4000, gamma=3.0, random_state=3)
    new = make_gamma_selection_data(200, gamma=3.0, random_state=4)
    est = _aipw(d)
    lo, hi = cate_bounds(est, d.X, 3.0, X_new=new.X)
    assert lo.shape == (200,)
    assert np.mean((lo <= 1) & (1 <= hi)) > 0.9
    lo1, hi1 = cate_bounds(est, d.X, 1.0, X_new=new.X)
    dr = LinearRegression().fit(d.X, est.scores_).predict(new.X)
    assert np.allclose(lo1, dr) and np.allclose(hi1, dr)
    with pytest.raises(ValueError, match="`X_new` has 2 columns"):
        cate_bounds(est, d.X, 2.0, X_new=new.X[:, :2])
