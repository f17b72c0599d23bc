"""Downstream means and effects on corrected predictions, and the PPI baseline."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalkit.calibration import (
    LinearCalibration,
    TweedieCorrection,
    corrected_ate,
    corrected_mean,
    ppi_ate,
    ppi_mean,
)
from causalkit.datasets import make_calibration_data
from causalkit.inference import Estimate


@pytest.fixture(scope="module")
def data():
    return make_calibration_data(6000, n_calibration=800, n_labeled=400, ate=1.5, random_state=3)


def _fit(kind, d, **kw):
    c = LinearCalibration() if kind == "linear" else TweedieCorrection(**kw)
    return c.fit(d.calibration_predictions, d.calibration_truth)


def test_naive_effect_is_attenuated_and_corrections_remove_it(data):
    d = data
    naive = (np.average(d.predictions, weights=d.treatment / d.propensity)
             - np.average(d.predictions, weights=(1 - d.treatment) / (1 - d.propensity)))
    assert abs(naive - 0.5 * d.true_ate) < 0.15  # shrinkage 0.5 halves the effect
    for kind in ("linear", "tweedie"):
        est = corrected_ate(_fit(kind, d), d.predictions, d.treatment, propensity=d.propensity,
                            n_boot=100, random_state=0)
        assert isinstance(est, Estimate)
        assert abs(est.value - d.true_ate) < 3 * est.stderr, kind
        assert abs(naive - d.true_ate) > 5 * est.stderr


@pytest.mark.parametrize("kind", ["linear", "tweedie"])
def test_aipw_with_covariates(data, kind):
    d = data
    from sklearn.linear_model import LinearRegression, LogisticRegression

    est = corrected_ate(_fit(kind, d), d.predictions, d.treatment, X=d.X, estimator="aipw",
                        model_y=LinearRegression(), model_t=LogisticRegression(), cv=3, n_boot=50,
                        random_state=0)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    assert "AIPW" in est.method


def test_hajek_with_estimated_propensities_and_aipw_with_known_ones(data):
    from sklearn.linear_model import LinearRegression

    d = data
    lcc = _fit("linear", d)
    est = corrected_ate(lcc, d.predictions, d.treatment, X=d.X, cv=3, n_boot=50, random_state=0)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    est = corrected_ate(lcc, d.predictions, d.treatment, X=d.X, propensity=d.propensity, estimator="aipw",
                        model_y=LinearRegression(), cv=3, n_boot=50, random_state=0)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    with pytest.raises(ValueError, match="`X` has 10 rows"):
        corrected_ate(lcc, d.predictions, d.treatment, X=d.X[:10])


def test_corrected_mean_and_the_delta_method(data):
    d = data
    lcc = _fit("linear", d)
    est = corrected_mean(lcc, d.predictions, n_boot=400, random_state=0)
    fixed = corrected_mean(lcc, d.predictions, calibration_uncertainty=False)
    assert est.value == fixed.value
    assert abs(est.value - d.true_mean) < 3 * est.stderr
    # calibration part: the delta method for mean((x - m) / k) in (m, k)
    xbar = d.predictions.mean()
    g = np.array([-1.0 / lcc.slope_, -(xbar - lcc.intercept_) / lcc.slope_**2])
    var_cal = g @ lcc.coef_cov_ @ g
    var_boot = est.stderr**2 - fixed.stderr**2
    assert var_boot == pytest.approx(var_cal, rel=0.3)  # 400 replicates: ~7% Monte Carlo sd
    assert est.stderr > fixed.stderr


def test_tweedie_downstream_score_uses_a_joint_bootstrap(data):
    d = data
    tw = _fit("tweedie", d, score_fit_on="downstream")
    est = corrected_ate(tw, d.predictions, d.treatment, propensity=d.propensity, n_boot=100, random_state=0)
    assert "joint bootstrap" in est.method
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    m = corrected_mean(tw, d.predictions, n_boot=50, random_state=0)
    assert "joint bootstrap" in m.method and np.isfinite(m.stderr)


def test_same_seed_same_numbers_and_inputs_untouched(data):
    d = data
    lcc = _fit("linear", d)
    p0 = d.predictions.copy()
    a = corrected_ate(lcc, d.predictions, d.treatment, n_boot=30, random_state=7)
    b = corrected_ate(lcc, d.predictions, d.treatment, n_boot=30, random_state=7)
    assert a.stderr == b.stderr
    np.testing.assert_array_equal(d.predictions, p0)


def test_ppi_mean_matches_ppi_python(data):
    ppi_py = pytest.importorskip("ppi_py")
    d = data
    est = ppi_mean(d.predictions, d.labeled_predictions, d.labeled_truth)
    ref_value = ppi_py.ppi_mean_pointestimate(d.labeled_truth, d.labeled_predictions, d.predictions, lam=1)
    lo, hi = ppi_py.ppi_mean_ci(d.labeled_truth, d.labeled_predictions, d.predictions, alpha=0.1, lam=1)
    assert est.value == pytest.approx(float(np.ravel(ref_value)[0]), rel=1e-10)
    mine = est.conf_int(0.1)
    assert mine[0] == pytest.approx(float(np.ravel(lo)[0]), rel=1e-3)
    assert mine[1] == pytest.approx(float(np.ravel(hi)[0]), rel=1e-3)


def test_ppi_ate_is_unbiased_with_labels(data):
    d = data
    est = ppi_ate(d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth, d.labeled_treatment,
                  propensity=d.propensity, labeled_propensity=d.labeled_propensity)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    # with labels, PPI pays for them in variance: wider than the corrected estimate
    lin = corrected_ate(_fit("linear", d), d.predictions, d.treatment, propensity=d.propensity,
                        n_boot=50, random_state=0)
    assert est.stderr > lin.stderr


def test_downstream_bad_inputs(data):
    d = data
    lcc = _fit("linear", d)
    with pytest.raises(ValueError, match="`treatment`"):
        corrected_ate(lcc, d.predictions, d.treatment[:-1])
    bad = d.predictions.copy()
    bad[2] = np.nan
    with pytest.raises(ValueError, match="`predictions` contains NaN"):
        corrected_mean(lcc, bad)
    with pytest.raises(ValueError, match="`estimator` must be"):
        corrected_ate(lcc, d.predictions, d.treatment, estimator="tmle")
    with pytest.raises(ValueError, match="`X`"):
        corrected_ate(lcc, d.predictions, d.treatment, estimator="aipw")
    with pytest.raises(ValueError, match="`n_boot`"):
        corrected_mean(lcc, d.predictions, n_boot=1)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        corrected_mean(LinearCalibration(), d.predictions)
    with pytest.raises(ValueError, match="`labeled_truth`"):
        ppi_mean(d.predictions, d.labeled_predictions, d.labeled_truth[:-1])


@pytest.mark.slow
def test_calibration_uncertainty_restores_coverage():
    """Small calibration sets: held-fixed intervals under-cover, the full ones do not."""
    reps, truth = 200, 1.0
    hits = {True: [], False: []}
    for r in range(reps):
        d = make_calibration_data(3000, n_calibration=150, ate=truth, random_state=1000 + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lcc = LinearCalibration().fit(d.calibration_predictions, d.calibration_truth)
        for cu in (True, False):
            lo, hi = corrected_mean(lcc, d.predictions, calibration_uncertainty=cu, n_boot=100,
                                    random_state=r).conf_int()
            hits[cu].append(lo < d.true_mean < hi)
    full, fixed = np.mean(hits[True]), np.mean(hits[False])
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(full - 0.95) < 3 * se + 0.01
    assert fixed < full - 0.1
