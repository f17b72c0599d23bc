"""ControlVariates: textbook case, agreement with OLS, strata, weights, cross-fitting."""

import numpy as np
import pytest

from causalkit.montecarlo import ControlVariates
from causalkit.utils.validation import FewObservationsWarning

TRUTH = np.e - 1  # E[exp(U)], U ~ Uniform(0, 1)


def test_textbook_exp_uniform_variances():
    # Var[exp(U)] = (e^2 - 1)/2 - (e - 1)^2 = 0.2420; with U as control the residual
    # variance is 0.2420 - Cov(U, e^U)^2 / Var(U) = 0.0039 (Glasserman 2004, ex. 4.1.1).
    var_plain = (np.e ** 2 - 1) / 2 - TRUTH ** 2
    cov = 1 - 0.5 * TRUTH
    var_cv = var_plain - cov ** 2 * 12
    assert abs(var_plain - 0.2420) < 5e-4 and abs(var_cv - 0.0039) < 5e-5
    n = 20_000
    u = np.random.default_rng(3).uniform(size=n)
    cv = ControlVariates(control_means=0.5).fit(u[:, None], np.exp(u))
    est = cv.mean()
    assert abs(est.value - TRUTH) < 3 * est.stderr
    assert est.stderr ** 2 * n == pytest.approx(var_cv, rel=0.05)
    assert cv.plain_mean().stderr ** 2 * n == pytest.approx(var_plain, rel=0.05)
    assert cv.variance_reduction_ == pytest.approx(var_plain / var_cv, rel=0.08)
    lo, hi = est.conf_int()
    assert lo < TRUTH < hi


def test_matches_statsmodels_ols_intercept_and_se():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(500, 3)) + [1.0, -2.0, 0.5]
    y = Z @ [0.4, -1.0, 2.0] + rng.normal(size=500)
    mu = np.array([1.0, -2.0, 0.5])
    ref = sm.OLS(y, sm.add_constant(Z - mu)).fit()
    for solver in ("cholesky", "qr"):
        cv = ControlVariates(control_means=mu, solver=solver).fit(Z, y)
        assert cv.mean().value == pytest.approx(ref.params[0], rel=1e-10)
        # the residual SE treats the slopes as fixed; OLS adds the O(1/n) term
        # (Zbar - mu)' Var(beta) (Zbar - mu), so they agree to first order only
        assert cv.mean().stderr == pytest.approx(ref.bse[0], rel=0.05)
        resid = y - ref.fittedvalues
        assert cv.mean().stderr == pytest.approx(np.sqrt(resid @ resid / (500 * 496)), rel=1e-9)
        np.testing.assert_allclose(cv.coef_[0], ref.params[1:], rtol=1e-9)


def test_collinear_controls_fall_back_to_qr():
    rng = np.random.default_rng(1)
    u = rng.uniform(size=1000)
    Z = np.c_[u, 2 * u]  # exactly collinear
    a = ControlVariates(control_means=[0.5, 1.0]).fit(Z, np.exp(u))
    b = ControlVariates(control_means=0.5).fit(u[:, None], np.exp(u))
    assert a.mean().value == pytest.approx(b.mean().value, rel=1e-9)
    assert np.isfinite(a.mean().stderr)


def test_ridge_shrinks_slopes_towards_plain_mean():
    u = np.random.default_rng(2).uniform(size=200)
    y = np.exp(u)
    ols = ControlVariates(control_means=0.5).fit(u[:, None], y)
    big = ControlVariates(control_means=0.5, alpha=1e8).fit(u[:, None], y)
    assert abs(big.coef_[0, 0]) < 1e-3 * abs(ols.coef_[0, 0])
    assert big.mean().value == pytest.approx(big.plain_mean().value, rel=1e-4)


def test_weights_give_importance_sampling_target():
    # target E_p[exp(U)], p = Uniform(0,1), sampled from q = Beta(2, 1) (density 2u):
    # w = 1 / (2u); the control Z = w - 1 has mean 0 under q.
    rng = np.random.default_rng(4)
    x = np.sqrt(rng.uniform(size=20_000))
    w = 1 / (2 * x)
    cv = ControlVariates(control_means=0.0).fit((w - 1)[:, None], np.exp(x), weights=w)
    est = cv.mean()
    assert cv.plain_mean().value == pytest.approx(np.mean(w * np.exp(x)))
    assert abs(est.value - TRUTH) < 3 * est.stderr
    assert cv.variance_reduction_ > 1
    ess = cv.diagnostics_["effective_sample_size"]
    assert ess == pytest.approx(w.sum() ** 2 / (w ** 2).sum()) and ess < len(x)


def test_strata_equal_weighted_sum_of_stratum_regressions():
    rng = np.random.default_rng(5)
    n = 3000
    s = rng.integers(0, 3, size=n)
    z = rng.normal(size=n)
    y = (1 + s) * z + s + rng.normal(size=n)  # slope differs by stratum; E[z | s] = 0
    cv = ControlVariates().fit(z[:, None], y, strata=s)
    manual = 0.0
    for k in range(3):
        m = s == k
        A = np.c_[np.ones(m.sum()), z[m]]
        coef = np.linalg.lstsq(A, y[m], rcond=None)[0]
        manual += m.mean() * coef[0]
        assert cv.coef_[k, 0] == pytest.approx(coef[1], rel=1e-9)
    assert cv.mean().value == pytest.approx(manual, rel=1e-10)
    table = cv.diagnostics_["strata"]
    assert list(table["n"]) == [int((s == k).sum()) for k in range(3)]
    pooled = ControlVariates().fit(z[:, None], y)
    assert cv.mean().stderr < pooled.mean().stderr  # per-stratum slopes fit better
    truth = 1.0  # E[s]
    assert abs(cv.mean().value - truth) < 3 * cv.mean().stderr


def test_small_strata_are_pooled_with_warning():
    rng = np.random.default_rng(6)
    z = rng.normal(size=(100, 2))
    y = z.sum(axis=1) + rng.normal(size=100)
    s = np.r_[np.zeros(97, int), [1, 2, 2]]
    with pytest.warns(FewObservationsWarning, match="pooled"):
        cv = ControlVariates().fit(z, y, strata=s)
    assert cv.diagnostics_["n_pooled"] == 3
    assert list(cv.strata_) == ["0+pooled"]


def test_crossfit_removes_in_sample_bias():
    # Many controls, small n: in-sample slopes are biased (O(p/n)); cross-fitted are not.
    p, n, reps = 15, 40, 400
    rng = np.random.default_rng(7)
    ins, cfs = [], []
    for r in range(reps):
        Z = rng.normal(size=(n, p))
        y = np.exp(Z[:, 0]) + 0.5 * Z[:, 1] ** 2  # skewed: E[y] = e^0.5 + 0.5
        ins.append(ControlVariates().fit(Z, y).mean().value)
        cfs.append(ControlVariates(cv=2, random_state=r).fit(Z, y).mean().value)
    truth = np.exp(0.5) + 0.5
    ins, cfs = np.array(ins), np.array(cfs)
    se_cf = cfs.std(ddof=1) / np.sqrt(reps)
    assert abs(cfs.mean() - truth) < 3 * se_cf
    # the cross-fitted slopes are fixed on each held-out fold: its bias is the smaller one
    assert abs(cfs.mean() - truth) < abs(ins.mean() - truth) + 3 * se_cf


def test_does_not_modify_inputs_and_dataframe_names():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(8)
    X = pd.DataFrame(rng.uniform(size=(50, 2)), columns=["a", "b"])
    y = rng.normal(size=50)
    X0, y0 = X.copy(), y.copy()
    cv = ControlVariates(control_means=[0.5, 0.5]).fit(X, y)
    assert X.equals(X0) and np.array_equal(y, y0)
    assert list(cv.feature_names_in_) == ["a", "b"]


def test_cuped_unbiased_smaller_se_and_coverage():
    from causalkit.montecarlo import cuped

    rng = np.random.default_rng(9)
    reps, n, tau = 300, 400, 0.2
    hits, vals = 0, []
    for _ in range(reps):
        pre = rng.normal(size=(n, 2))
        t = rng.integers(0, 2, size=n)
        # heterogeneous slopes: the cross term of the variance matters
        y = pre @ [1.0, 0.5] + t * (tau + 0.5 * pre[:, 0]) + 0.5 * rng.normal(size=n)
        est = cuped(y, t, pre)
        lo, hi = est.conf_int()
        hits += lo < tau < hi
        vals.append(est.value)
    vals = np.array(vals)
    assert abs(vals.mean() - tau) < 3 * vals.std(ddof=1) / np.sqrt(reps)
    # 95% interval: binomial SE of coverage over 300 reps is 0.0126
    assert 0.95 - 3 * 0.0126 < hits / reps < 0.95 + 3 * 0.0126
    raw_se = np.sqrt(y[t == 1].var(ddof=1) / (t == 1).sum() + y[t == 0].var(ddof=1) / (t == 0).sum())
    assert est.stderr < 0.7 * raw_se


def test_cuped_bad_inputs():
    from causalkit.montecarlo import cuped

    y = np.arange(10.0)
    with pytest.raises(ValueError, match="`treatment` must be binary"):
        cuped(y, np.arange(10) % 3, y)
    with pytest.raises(ValueError, match="`treatment` arm 1 has 2"):
        cuped(y, (np.arange(10) < 2).astype(int), np.c_[y, y ** 2, y ** 3])
    with pytest.raises(ValueError, match="`covariates` contains NaN"):
        cuped(y, np.arange(10) % 2, np.where(y > 5, np.nan, y))


@pytest.mark.parametrize("solver", ["cholesky", "qr"])
def test_stable_with_large_control_offsets(solver):
    # raw normal equations lose ~12 digits here; centring first keeps the answer
    rng = np.random.default_rng(10)
    u = rng.uniform(size=(5000, 3))
    y = np.exp(u[:, 0]) + u[:, 1]
    ref = ControlVariates(control_means=0.5, solver=solver).fit(u, y).mean()
    big = ControlVariates(control_means=1e6 + 0.5, solver=solver).fit(u + 1e6, y).mean()
    assert big.value == pytest.approx(ref.value, rel=1e-6)
    assert big.stderr == pytest.approx(ref.stderr, rel=1e-4)


@pytest.mark.parametrize("offset", [0.0, 1e2, 1e6])
def test_centred_gram_is_accurate_for_small_and_huge_control_means(offset):
    # moderate means: the raw Gram matrix is centred afterwards; huge ones (1e6 sd):
    # block-wise shifting. Both must match a two-pass centred computation.
    from causalkit.montecarlo._cv import _centered_gram

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50_000, 4)) + offset
    y = Z @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=50_000)
    zbar, ybar, G, c = _centered_gram(Z, y)
    Zc = Z - Z.mean(axis=0)
    np.testing.assert_allclose(zbar, Z.mean(axis=0), rtol=1e-12)
    # accuracy relative to the size of the matrix (what the solve sees)
    ref = Zc.T @ Zc
    np.testing.assert_allclose(G, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    ref_c = Zc.T @ (y - y.mean())
    np.testing.assert_allclose(c, ref_c, rtol=0, atol=1e-9 * np.sqrt(np.abs(ref).max()
                                                                    * np.sum((y - y.mean()) ** 2)))
