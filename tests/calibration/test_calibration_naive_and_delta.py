"""Naive estimates (correction=None), the calibration variance against the delta method, PPI."""

from __future__ import annotations

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


def test_calibration_bootstrap_matches_the_delta_method_for_linear_calibration():
    d = make_calibration_data(5000, n_calibration=300, random_state=3)
    lcc = LinearCalibration().fit(d.calibration_predictions, d.calibration_truth)
    fixed = corrected_mean(lcc, d.predictions, calibration_uncertainty=False)
    full = corrected_mean(lcc, d.predictions, n_boot=600, random_state=0)
    assert full.value == fixed.value
    # mean((p - m) / k): gradient (-1/k, -(mean(p) - m) / k^2) against the HC0 covariance
    m, k = lcc.intercept_, lcc.slope_
    g = np.array([-1.0 / k, -(d.predictions.mean() - m) / k**2])
    delta = g @ lcc.coef_cov_ @ g
    boot = full.stderr**2 - fixed.stderr**2
    assert boot == pytest.approx(delta, rel=0.25)
    # the calibration term dominates here (300 labels against 5000 predictions)
    assert full.stderr > 1.5 * fixed.stderr


@pytest.mark.parametrize("correction", [LinearCalibration, TweedieCorrection])
def test_corrected_ate_recovers_the_truth_where_the_naive_one_is_attenuated(correction):
    d = make_calibration_data(20000, n_calibration=2000, ate=1.0, shrinkage=0.5, random_state=4)
    corr = correction().fit(d.calibration_predictions, d.calibration_truth)
    est = corrected_ate(corr, d.predictions, d.treatment, propensity=d.propensity, n_boot=100,
                        random_state=0)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    naive = corrected_ate(None, d.predictions, d.treatment, propensity=d.propensity)
    assert abs(naive.value - 0.5 * d.true_ate) < 3 * naive.stderr  # attenuated by lambda
    assert "calibration bootstrap" in est.method and "no correction" in naive.method


def test_corrected_ate_with_estimated_propensities_and_aipw():
    d = make_calibration_data(6000, n_calibration=1500, ate=-1.0, random_state=5)
    lcc = LinearCalibration().fit(d.calibration_predictions, d.calibration_truth)
    hajek = corrected_ate(lcc, d.predictions, d.treatment, X=d.X, n_boot=50, random_state=0)
    aipw = corrected_ate(lcc, d.predictions, d.treatment, X=d.X, estimator="aipw", n_boot=50,
                         random_state=0)
    for est in (hajek, aipw):
        assert abs(est.value - d.true_ate) < 3 * est.stderr
    assert aipw.method.startswith("AIPW")
    with pytest.raises(ValueError, match="`X` .* is required"):
        corrected_ate(lcc, d.predictions, d.treatment, estimator="aipw")
    with pytest.raises(ValueError, match="`estimator` must be"):
        corrected_ate(lcc, d.predictions, d.treatment, estimator="ols")
    with pytest.raises(ValueError, match="treatment"):
        corrected_ate(lcc, d.predictions, d.treatment + 2)


def test_same_seed_same_standard_error_and_inputs_untouched():
    d = make_calibration_data(3000, n_calibration=400, random_state=6)
    tw = TweedieCorrection().fit(d.calibration_predictions, d.calibration_truth)
    p0 = d.predictions.copy()
    a = corrected_ate(tw, d.predictions, d.treatment, propensity=d.propensity, n_boot=60,
                      random_state=11)
    b = corrected_ate(tw, d.predictions, d.treatment, propensity=d.propensity, n_boot=60,
                      random_state=11, n_jobs=2)
    assert a.stderr == b.stderr
    np.testing.assert_array_equal(d.predictions, p0)


def test_ppi_mean_equals_the_ppi_py_package():
    ppi_py = pytest.importorskip("ppi_py")
    d = make_calibration_data(4000, n_labeled=300, random_state=7)
    est = ppi_mean(d.predictions, d.labeled_predictions, d.labeled_truth)
    ref = ppi_py.ppi_mean_pointestimate(d.labeled_truth, d.labeled_predictions, d.predictions,
                                        lam=1)
    assert est.value == pytest.approx(float(np.ravel(ref)[0]), rel=1e-12)
    lo, hi = ppi_py.ppi_mean_ci(d.labeled_truth, d.labeled_predictions, d.predictions,
                                alpha=0.05, lam=1)
    ours = est.conf_int(0.05)
    assert ours[0] == pytest.approx(float(np.ravel(lo)[0]), rel=2e-2)
    assert ours[1] == pytest.approx(float(np.ravel(hi)[0]), rel=2e-2)


def test_ppi_ate_recovers_the_truth():
    d = make_calibration_data(20000, n_labeled=400, ate=2.0, random_state=8)
    est = ppi_ate(d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth,
                  d.labeled_treatment, propensity=d.propensity,
                  labeled_propensity=d.labeled_propensity)
    assert abs(est.value - d.true_ate) < 3 * est.stderr
    with pytest.raises(ValueError, match="labeled_truth"):
        ppi_ate(d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth[:-1],
                d.labeled_treatment)
    with pytest.raises(ValueError, match="propensity"):
        ppi_ate(d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth,
                d.labeled_treatment, propensity=np.zeros_like(d.propensity))
