"""FrontDoor: truth recovery, agreement between estimators, formulas and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_frontdoor_data, make_frontdoor_linear_data
from causalkit.frontdoor import FrontDoor
from causalkit.frontdoor._frontdoor import linear_frontdoor
from causalkit.inference import Estimate


def _fit(method, d, **kw):
    return FrontDoor(method=method, **kw).fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator)


def _light_dr(**kw):
    return dict(model_y=HistGradientBoostingRegressor(max_iter=60),
                model_t=LogisticRegression(), model_tm=HistGradientBoostingClassifier(max_iter=60),
                model_nested=HistGradientBoostingRegressor(max_iter=60), cv=3, random_state=0, **kw)


# ------------------------------------------------------------------ linear


def test_linear_recovers_truth_and_backdoor_is_biased():
    d = make_frontdoor_linear_data(5000, confounding=1.5, random_state=3)
    est = _fit("linear", d).ate()
    assert isinstance(est, Estimate)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    # Back-door adjustment for W (and the mediator path ignored) is biased through U.
    bd = LinearRegression().fit(np.c_[d.treatment, d.X], d.y).coef_[0]
    assert abs(bd - d.true_ate) > 10 * est.stderr


def test_linear_equals_residual_two_step():
    # Xu et al. (2024, Sec. 5): beta from Y on the first-stage residual e_M.
    d = make_frontdoor_linear_data(800, n_mediators=3, random_state=0)
    W, t, M, y = d.X, d.treatment.astype(float), d.mediator, d.y
    tau, se, alpha, beta, _ = linear_frontdoor(W, y, t, M)
    D1 = np.c_[np.ones(len(y)), t, W]
    A = np.linalg.lstsq(D1, M, rcond=None)[0]
    e_m = M - D1 @ A
    beta_res = np.linalg.lstsq(e_m, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(alpha, A[1], rtol=1e-10)
    np.testing.assert_allclose(beta, beta_res, rtol=1e-8)
    np.testing.assert_allclose(tau, np.sum(A[1] * beta_res), rtol=1e-8)


def test_linear_se_matches_bootstrap():
    d = make_frontdoor_linear_data(600, random_state=4)
    W, t, M, y = d.X, d.treatment.astype(float), d.mediator, d.y
    _, se, *_ = linear_frontdoor(W, y, t, M)
    rng = np.random.default_rng(0)
    reps = []
    for _ in range(300):
        i = rng.integers(0, len(y), len(y))
        reps.append(linear_frontdoor(W[i], y[i], t[i], M[i])[0])
    assert abs(np.std(reps) / se - 1) < 0.2


def test_linear_oracle_no_confounding_scalar_mediator_without_X():
    # Pearl's front-door (no W): make W irrelevant by drawing a fresh design without it.
    rng = np.random.default_rng(7)
    n = 4000
    u = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-u))).astype(int)
    m = 0.9 * t + rng.normal(size=n)
    y = 1.3 * m + 2.0 * u + rng.normal(size=n)
    est = FrontDoor(method="linear").fit(None, y, treatment=t, mediator=m).ate()
    assert abs(est.value - 0.9 * 1.3) < 3 * est.stderr


# ------------------------------------------------------------------ plug-in and dr


def test_plugin_recovers_truth():
    d = make_frontdoor_data(5000, random_state=11)
    est = _fit("plugin", d).ate()
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    assert "influence-function" in est.method


def test_plugin_is_theorem3_by_hand():
    d = make_frontdoor_data(400, random_state=2)
    W, t, m, y = d.X, d.treatment, d.mediator, d.y
    df = pd.DataFrame({"w1": W[:, 0], "w2": W[:, 1], "t": t, "m": m, "y": y})
    psi = {}
    for s in (0, 1):
        total = 0.0
        for _, g in df.groupby(["w1", "w2"]):
            pw = len(g) / len(df)
            pm = g[g.t == s].m.value_counts(normalize=True)
            for mv, pmv in pm.items():
                inner = sum(g[(g.t == tp) & (g.m == mv)].y.mean() * (g.t == tp).mean()
                            for tp in (0, 1))
                total += pw * pmv * inner
        psi[s] = total
    est = _fit("plugin", d)
    np.testing.assert_allclose(est.potential_means_, [psi[0], psi[1]], rtol=1e-10)
    np.testing.assert_allclose(est.ate().value, psi[1] - psi[0], rtol=1e-10)
    # The plug-in solves its own influence-function equation.
    assert abs(est.scores_.mean()) < 1e-10


def test_dr_agrees_with_plugin_on_discrete_data():
    d = make_frontdoor_data(4000, random_state=5)
    p = _fit("plugin", d).ate()
    r = _fit("dr", d, **_light_dr()).ate()
    assert abs(p.value - d.true_ate) < 3 * p.stderr
    assert abs(r.value - d.true_ate) < 3 * r.stderr
    assert abs(r.value - p.value) < 0.5 * p.stderr
    assert 0.8 < r.stderr / p.stderr < 1.25


def test_dr_continuous_vector_mediator():
    d = make_frontdoor_linear_data(3000, n_mediators=2, random_state=8)
    est = _fit("dr", d, model_y=LinearRegression(), model_t=LogisticRegression(),
               model_tm=LogisticRegression(), model_nested=LinearRegression(), cv=3,
               random_state=0).ate()
    assert abs(est.value - d.true_ate) < 3 * est.stderr


def test_dr_without_covariates_matches_plugin():
    d = make_frontdoor_data(3000, confounding=0.5, random_state=9)
    # Without W the front-door formula targets a different functional; both estimators
    # must agree on it (the unadjusted one).
    p = FrontDoor(method="plugin").fit(None, d.y, treatment=d.treatment, mediator=d.mediator).ate()
    r = FrontDoor(method="dr", model_y=HistGradientBoostingRegressor(max_iter=50),
                  model_tm=HistGradientBoostingClassifier(max_iter=50), cv=3,
                  random_state=0).fit(None, d.y, treatment=d.treatment,
                                      mediator=d.mediator).ate()
    assert abs(r.value - p.value) < 0.5 * p.stderr


@pytest.mark.parametrize("method", ["plugin", "dr"])
def test_coverage_small_monte_carlo(method):
    # Ten replicates: the 95% interval should cover the truth in (nearly) all of them.
    cover = 0
    kw = _light_dr() if method == "dr" else {}
    for seed in range(10):
        d = make_frontdoor_data(1500, random_state=100 + seed)
        lo, hi = _fit(method, d, **kw).ate().conf_int()
        cover += lo < d.true_ate < hi
    assert cover >= 8


def test_pandas_mediator_and_feature_names():
    d = make_frontdoor_data(800, as_frame=True, random_state=1)
    est = FrontDoor(method="plugin").fit(d.X, pd.Series(d.y), treatment=pd.Series(d.treatment),
                                         mediator=pd.Series(d.mediator, name="m"))
    assert list(est.feature_names_in_) == ["w1", "w2"]
    ref = _fit("plugin", make_frontdoor_data(800, random_state=1))
    assert est.ate().value == pytest.approx(ref.ate().value, rel=1e-12)


def test_inputs_not_modified():
    d = make_frontdoor_linear_data(300, random_state=0)
    before = {k: np.copy(d[k]) for k in ("X", "y", "treatment", "mediator")}
    _fit("dr", d, model_y=LinearRegression(), model_t=LogisticRegression(), cv=3, random_state=0)
    _fit("linear", d)
    for k, v in before.items():
        np.testing.assert_array_equal(d[k], v)


def test_datasets_truth():
    d = make_frontdoor_linear_data(10, n_mediators=3, confounding=0.0, random_state=0)
    assert d.true_ate == pytest.approx(1.0 * 0.8 + 0.5 * -0.4 + 1.0 * 0.8)
    big = make_frontdoor_data(200000, confounding=0.0, random_state=0)
    # Without confounding the front-door effect equals the randomised-within-W contrast.
    fd = _fit("plugin", big).ate()
    assert abs(fd.value - big.true_ate) < 3 * fd.stderr
    with pytest.raises(ValueError, match="`n_mediators`"):
        make_frontdoor_linear_data(10, n_mediators=0)


def test_dr_mediator_density_agrees_with_plugin():
    d = make_frontdoor_data(4000, random_state=5)
    p = _fit("plugin", d).ate()
    r = _fit("dr", d, **_light_dr(density_ratio="mediator",
                                   model_m=HistGradientBoostingClassifier(max_iter=60))).ate()
    assert abs(r.value - d.true_ate) < 3 * r.stderr
    assert abs(r.value - p.value) < 0.5 * p.stderr
    assert 0.8 < r.stderr / p.stderr < 1.25


def test_dr_mediator_density_errors():
    d = make_frontdoor_data(300, random_state=0)
    rare = d.mediator.copy()
    rare[np.argmax(d.treatment == 1)] = 7.0
    with pytest.raises(ValueError, match="`mediator` has a value seen fewer than cv=3"):
        FrontDoor(method="dr", density_ratio="mediator", cv=3).fit(
            d.X, d.y, treatment=d.treatment, mediator=rare)
    with pytest.raises(TypeError, match="The 'model_m' parameter of FrontDoor must be"):
        FrontDoor(method="dr", density_ratio="mediator", model_m=LinearRegression(), cv=3).fit(
            d.X, d.y, treatment=d.treatment, mediator=d.mediator)


def test_dr_nuisances_and_diagnostics():
    d = make_frontdoor_data(600, random_state=0)
    est = _fit("dr", d, **_light_dr())
    n = len(d.y)
    assert est.nuisances_["nu"].shape == (n, 2, 2)
    assert est.nuisances_["density_ratio"].shape == (n, 2)
    # The ratio is one for the unit's own arm.
    np.testing.assert_allclose(est.nuisances_["density_ratio"][np.arange(n), d.treatment], 1.0)
    assert 0 < est.diagnostics_["propensity_min"] <= est.diagnostics_["propensity_max"] < 1
    assert est.potential_means_.shape == (2,)
    np.testing.assert_allclose(est.ate().value, est.potential_means_[1] - est.potential_means_[0])


@pytest.mark.parametrize("wrong", ["outcome", "treatment", "mediator"])
def test_dr_multiple_robustness(wrong):
    # The one-step score is unbiased when (mu, nu), (pi, ratio) or (mu, pi) are right:
    # replace the other nuisances with constants (badly wrong on this design).
    from sklearn.dummy import DummyClassifier, DummyRegressor

    good_r, good_c = HistGradientBoostingRegressor(max_iter=60), HistGradientBoostingClassifier(max_iter=60)
    models = {"model_y": good_r, "model_nested": good_r, "model_t": good_c, "model_m": good_c}
    if wrong == "outcome":      # (pi, ratio) right
        models.update(model_y=DummyRegressor(), model_nested=DummyRegressor())
    elif wrong == "treatment":  # (mu, nu) right
        models.update(model_t=DummyClassifier(), model_m=DummyClassifier())
    else:                       # (mu, pi) right
        models.update(model_nested=DummyRegressor(), model_m=DummyClassifier())
    d = make_frontdoor_data(6000, random_state=40)
    est = _fit("dr", d, density_ratio="mediator", cv=3, random_state=0, **models).ate()
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    # Both sides wrong: the estimate collapses (far from the truth).
    bad = _fit("dr", d, density_ratio="mediator", cv=3, random_state=0,
               model_y=DummyRegressor(), model_nested=DummyRegressor(), model_t=good_c,
               model_m=DummyClassifier()).ate()
    assert abs(bad.value - d.true_ate) > 10 * est.stderr
