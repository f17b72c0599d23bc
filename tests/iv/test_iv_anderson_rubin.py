"""Anderson-Rubin tests and sets with several instruments and treatments; LIML over-id tests.

Parity: the AR statistic is the Wald statistic of the instruments in the regression of
y - A b on (1, X, Z), computed here by linearmodels (robust and unadjusted); the set's
ends are where it equals the chi-square critical value. Coverage: a fixed-seed Monte
Carlo with weak instruments against the known effect.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from causalkit.inference import ConfidenceSet
from causalkit.iv import TSLS
from causalkit.utils.validation import WeakInstrumentWarning

linearmodels = pytest.importorskip("linearmodels")


def _lm_ar(y, D, X, Z, b, cov_type):
    """The AR statistic by linearmodels: Wald test of Z in OLS of y - D b on (1, X, Z)."""
    n = len(y)
    exog = np.c_[np.ones(n), np.empty((n, 0)) if X is None else X, Z]
    res = linearmodels.iv.IV2SLS(y - D.reshape(n, -1) @ np.atleast_1d(b), exog, None, None).fit(
        cov_type=cov_type, debiased=False)
    k = Z.shape[1]
    g = res.params.to_numpy()[-k:]
    return float(g @ np.linalg.solve(res.cov.to_numpy()[-k:, -k:], g))


def _weak_design(rng, n=400, k=3, strength=0.06, rho=0.9):
    Z = rng.normal(size=(n, k))
    v = rng.normal(size=n)
    u = rho * v + np.sqrt(1 - rho**2) * rng.normal(size=n)
    d = Z @ np.full(k, strength) + v
    return Z, d, 1.0 * d + u


# ---------------------------------------------------------------- one treatment, k instruments


@pytest.mark.parametrize("cov_type", ["robust", "unadjusted"])
def test_ar_set_with_two_instruments_inverts_the_linearmodels_wald_test(cov_type, mroz):
    """Mroz, both parents' education: at each end the AR statistic is the chi2_2 quantile."""
    y, d, X, Z = mroz
    est = TSLS().fit(X, y, treatment=d, instrument=Z)
    ar = est.ar_conf_int(0.05, cov_type=cov_type)
    assert isinstance(ar, ConfidenceSet) and ar.bounded and len(ar) == 1
    (lo, hi), = ar
    assert lo < est.effect().value < hi
    crit = stats.chi2.ppf(0.95, 2)
    for b in (lo, hi):
        assert _lm_ar(y, d, X, Z, b, cov_type) == pytest.approx(crit, rel=1e-8)
    # the test itself, anywhere
    for b in (0.0, est.effect().value, 0.2):
        t = est.ar_test(b, cov_type=cov_type)
        assert t["statistic"] == pytest.approx(_lm_ar(y, d, X, Z, b, cov_type), rel=1e-8)
        assert t["pvalue"] == pytest.approx(stats.chi2.sf(t["statistic"], 2), rel=1e-10)
        assert t["df"] == 2
    assert "exact" in ar.method and cov_type in ar.method
    # LIML gives the same set: the AR set depends on the reduced forms only
    liml = TSLS(method="LIML").fit(X, y, treatment=d, instrument=Z).ar_conf_int(cov_type=cov_type)
    np.testing.assert_allclose(np.array(liml), np.array(ar), rtol=1e-10)


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.WeakInstrumentWarning")
def test_ar_set_on_card_with_two_instruments(card):
    y, d, X, Z = card
    est = TSLS().fit(X, y, treatment=d, instrument=Z)
    ar = est.ar_conf_int()
    crit = stats.chi2.ppf(0.95, 2)
    ends = [e for iv in ar for e in iv if np.isfinite(e)]
    assert ends and ar.contains(est.effect().value)
    for b in ends:
        assert _lm_ar(y, d, X, Z, b, "robust") == pytest.approx(crit, rel=1e-7)


def test_ar_set_shapes_have_their_documented_meaning():
    """Bounded exactly when the first stage rejects at the same level; empty (unadjusted)
    exactly when n (kappa_LIML - 1) exceeds the chi2_k quantile."""
    rng = np.random.default_rng(7)
    c = stats.chi2.ppf(0.95, 3)
    seen = set()
    for rep in range(60):
        strength = (0.0, 0.05, 0.1, 0.3)[rep % 4]
        Z, d, y = _weak_design(rng, n=300, strength=strength)
        if rep % 5 == 0:  # an instrument that reaches the outcome: the model is rejected
            y = y + 0.4 * Z[:, 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            est = TSLS(method="LIML").fit(None, y, treatment=d, instrument=Z)
        robust = est.ar_conf_int()
        first_stage_wald = 3 * est.diagnostics_["first_stage_F"]  # robust Wald of Z in A on Z
        if not robust.empty:
            assert robust.bounded == (first_stage_wald > c)
        un = est.ar_conf_int(cov_type="unadjusted")
        n = len(y)
        assert un.empty == (n * (est.diagnostics_["kappa"] - 1) > c)
        ols = linearmodels.iv.IV2SLS(d, np.c_[np.ones(n), Z], None, None).fit(
            cov_type="unadjusted", debiased=False)
        g = ols.params.to_numpy()[1:]
        w_un = g @ np.linalg.solve(ols.cov.to_numpy()[1:, 1:], g)
        if not un.empty:
            assert un.bounded == (w_un > c)
            assert len(un) == (1 if un.bounded else 2 - (un[0] == (-np.inf, np.inf)))
        seen.add("empty" if un.empty else "bounded" if un.bounded else
                 "whole line" if len(un) == 1 else "two half-lines")
    assert seen == {"empty", "bounded", "whole line", "two half-lines"}


def test_ar_covers_with_weak_instruments_where_the_wald_interval_does_not():
    """Three weak instruments (concentration about 4), strong confounding, 400 replications,
    truth 1: the AR sets cover at 0.95 within 3 Monte Carlo SE; the 2SLS interval does not."""
    rng = np.random.default_rng(20261204)
    reps = 400
    wald = robust = unadj = 0
    for _ in range(reps):
        Z, d, y = _weak_design(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            est = TSLS().fit(None, y, treatment=d, instrument=Z)
        lo, hi = est.effect().conf_int()
        wald += lo <= 1.0 <= hi
        robust += est.ar_conf_int().contains(1.0)
        unadj += est.ar_conf_int(cov_type="unadjusted").contains(1.0)
    tol = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert abs(robust / reps - 0.95) < tol
    assert abs(unadj / reps - 0.95) < tol
    assert wald / reps < 0.95 - 6 * tol


def test_ar_bad_arguments_are_named(mroz):
    y, d, X, Z = mroz
    est = TSLS().fit(X, y, treatment=d, instrument=Z)
    with pytest.raises(ValueError, match=r"`alpha` must lie in \(0, 1\)"):
        est.ar_conf_int(1.5)
    with pytest.raises(ValueError, match=r"`cov_type` must be one of"):
        est.ar_conf_int(cov_type="HC3")
    with pytest.raises(ValueError, match=r"`value` must be 1 finite number"):
        est.ar_test([0.1, 0.2])


# ---------------------------------------------------------------- several treatments


def _two_treatments(n=1000, seed=1, s=(0.3, 0.15)):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 3))
    u = rng.normal(size=n)
    d1 = Z @ [s[0], s[1], 0.0] + 0.7 * u + rng.normal(size=n)
    d2 = Z @ [0.0, s[1], s[0]] - 0.5 * u + rng.normal(size=n)
    return Z, np.c_[d1, d2], 2.0 * d1 - 1.0 * d2 + u


@pytest.mark.parametrize("cov_type", ["robust", "unadjusted"])
def test_joint_ar_test_and_projection_sets_with_two_treatments(cov_type):
    Z, D, y = _two_treatments()
    est = TSLS().fit(None, y, treatment=D, instrument=Z)
    b = np.array([2.1, -0.9])
    t = est.ar_test(b, cov_type=cov_type)
    assert t["statistic"] == pytest.approx(_lm_ar(y, D, None, Z, b, cov_type), rel=1e-8)
    assert t["df"] == 3
    sets = est.ar_conf_int(cov_type=cov_type)
    assert len(sets) == 2
    crit = stats.chi2.ppf(0.95, 3)
    for j, s in enumerate(sets):
        assert s.bounded and len(s) == 1 and s.contains(est.effects().values[j])
        assert "projection" in s.method and s.name == est.effects().names[j]
        # at each end the smallest AR statistic over the other coefficient is the quantile
        # (ar_test equals linearmodels above; the minimiser is then checked there too)
        for end in s[0]:
            def f(t, end=end, j=j):
                v = np.r_[end, t] if j == 0 else np.r_[t, end]
                return est.ar_test(v, cov_type=cov_type)["statistic"]
            other = est.effects().values[1 - j]
            grid = other + np.linspace(-1.5, 1.5, 301)
            i = int(np.argmin([f(g) for g in grid]))
            res = optimize.minimize_scalar(f, bracket=(grid[i - 1], grid[i], grid[i + 1]))
            assert res.fun == pytest.approx(crit, rel=1e-6)
            v = np.r_[end, res.x] if j == 0 else np.r_[res.x, end]
            assert _lm_ar(y, D, None, Z, v, cov_type) == pytest.approx(crit, rel=1e-6)
        # projection is wider than the Wald interval here (strong instruments)
        lo, hi = est.effects()[j].conf_int()
        assert s[0][0] < lo and hi < s[0][1]


@pytest.mark.slow  # about 10 s: a BFGS minimisation at each of ~300 values per coefficient
def test_projection_with_three_treatments_uses_the_numerical_inner_minimum():
    rng = np.random.default_rng(3)
    n = 2000
    Z = rng.normal(size=(n, 4))
    u = rng.normal(size=n)
    D = Z[:, :3] + 0.5 * Z[:, 3:] + 0.5 * u[:, None] + rng.normal(size=(n, 3))
    y = D @ [1.0, -1.0, 0.5] + u
    est = TSLS().fit(None, y, treatment=D, instrument=Z)
    sets = est.ar_conf_int()
    un = est.ar_conf_int(cov_type="unadjusted")
    for j, truth in enumerate((1.0, -1.0, 0.5)):
        assert "BFGS" in sets[j].method and "generalised eigenvalue" in un[j].method
        assert sets[j].contains(truth) and sets[j].bounded
        # homoscedastic data: the robust and unadjusted projections agree within a tenth
        # of their width
        width = un[j][0][1] - un[j][0][0]
        np.testing.assert_allclose(np.array(sets[j]), np.array(un[j]), atol=0.1 * width)
        # at each end the robust statistic, minimised over the other two, is the quantile
        crit = stats.chi2.ppf(0.95, 4)
        others = [i for i in range(3) if i != j]
        for end in sets[j][0]:
            def f(w, end=end, j=j, others=others):
                b = np.empty(3)
                b[j], b[others] = end, w
                return est.ar_test(b)["statistic"]
            res = optimize.minimize(f, est.effects().values[others], method="Nelder-Mead",
                                    options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
            assert res.fun == pytest.approx(crit, rel=1e-5)


@pytest.mark.slow
def test_projection_coverage_with_two_weakly_identified_treatments():
    """200 replications, truth (2, -1): projection keeps at least 0.95 up to 3 MC SE."""
    reps, cover = 200, np.zeros(2)
    for r in range(reps):
        Z, D, y = _two_treatments(n=500, seed=100 + r, s=(0.12, 0.06))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            est = TSLS().fit(None, y, treatment=D, instrument=Z)
        for j, (s, truth) in enumerate(zip(est.ar_conf_int(), (2.0, -1.0))):
            cover[j] += s.contains(truth)
    assert (cover / reps > 0.95 - 3 * np.sqrt(0.95 * 0.05 / reps)).all()


# ---------------------------------------------------------------- over-identification tests


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.WeakInstrumentWarning")
@pytest.mark.parametrize("method", ["2SLS", "LIML"])
def test_overid_tests_equal_linearmodels_on_the_fitted_residuals(method, mroz, card):
    cls = linearmodels.iv.IV2SLS if method == "2SLS" else linearmodels.iv.IVLIML
    for y, d, X, Z in (mroz, card):
        e = TSLS(method=method).fit(X, y, treatment=d, instrument=Z)
        lm = cls(y, np.c_[np.ones(len(y)), X], d[:, None], Z).fit(cov_type="robust")
        D = e.diagnostics_
        for ours, theirs in (("overid_stat", lm.wooldridge_overid),
                             ("overid_sargan", lm.sargan),
                             ("overid_anderson_rubin", lm.anderson_rubin),
                             ("overid_basmann_F", lm.basmann_f)):
            assert D[ours] == pytest.approx(theirs.stat, rel=1e-8), ours
            key = "overid_pvalue" if ours == "overid_stat" else ours + "_pvalue"
            assert D[key] == pytest.approx(theirs.pval, rel=1e-6, abs=1e-14), ours
    # an invalid instrument is rejected by every form
    rng = np.random.default_rng(0)
    n = 3000
    Z = rng.normal(size=(n, 3))
    u = rng.normal(size=n)
    d = Z.sum(axis=1) + u + rng.normal(size=n)
    bad = TSLS(method=method).fit(None, d + u + 0.3 * Z[:, 0], treatment=d, instrument=Z)
    for key in ("overid", "overid_sargan", "overid_anderson_rubin", "overid_basmann_F"):
        assert bad.diagnostics_[("overid_pvalue" if key == "overid" else key + "_pvalue")] < 1e-6


def test_rank_deficient_instruments_and_treatments_get_a_clear_error():
    Z, D, y = _two_treatments(n=500)
    with pytest.raises(ValueError, match=r"`instrument` column 2 is a linear combination"):
        TSLS().fit(None, y, treatment=D, instrument=np.c_[Z[:, :2], Z[:, 0] - Z[:, 1]])
    with pytest.raises(ValueError, match=r"`treatment` column 1 is a linear combination"):
        TSLS().fit(None, y, treatment=np.c_[D[:, 0], 2 * D[:, 0] + 1], instrument=Z)
    with pytest.raises(ValueError, match=r"`instrument` column 1 is a linear combination"):
        TSLS().fit(Z[:, :1], y, treatment=D[:, 0], instrument=np.c_[Z[:, 1], 3 * Z[:, 0]])
