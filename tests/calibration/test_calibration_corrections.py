"""Corrections: binned KDE score, linear calibration, Tweedie, and the debiased regressor."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import gaussian_kde
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalkit.calibration import DebiasedRegressor, LinearCalibration, OutOfSupportWarning, TweedieCorrection
from causalkit.calibration._kde import BinnedKDE, scott_bandwidth, silverman_bandwidth
from causalkit.utils.validation import CausalkitWarning, FewObservationsWarning


def _fd_score(kde, y, d=1e-5):
    return (kde.logpdf(y + d) - kde.logpdf(y - d)) / (2 * d)


def test_binned_score_matches_scipy_kde(rng):
    x = np.r_[rng.normal(size=3000), rng.normal(3.0, 0.5, size=1000)]
    ref = gaussian_kde(x)
    h = scott_bandwidth(x)
    assert h == pytest.approx(np.sqrt(ref.covariance[0, 0]), rel=1e-12)
    assert silverman_bandwidth(x) == pytest.approx(
        np.sqrt(gaussian_kde(x, "silverman").covariance[0, 0]), rel=1e-12)
    b = BinnedKDE(x, h)
    y = np.linspace(-3.5, 5.0, 200)
    p, s = b.evaluate(y)
    np.testing.assert_allclose(p, ref(y), rtol=5e-3)
    # the score ranges over about +-10 here; binning + interpolation errors are ~1e-3
    np.testing.assert_allclose(s, _fd_score(ref, y), atol=5e-3)


def test_binned_score_far_outside_the_grid_is_exact(rng):
    x = rng.normal(size=500)
    ref = gaussian_kde(x)
    b = BinnedKDE(x, scott_bandwidth(x))
    y = np.array([-12.0, 9.0, 25.0])
    np.testing.assert_allclose(b.score(y), _fd_score(ref, y), rtol=1e-3)
    assert np.all(np.isfinite(b.score(np.array([-1e3, 1e3]))))


def test_binned_grid_stays_fine_with_an_outlier(rng):
    # one far point would make a 4096-point grid coarser than the kernel; the grid grows
    x = np.r_[rng.normal(size=400), 500.0]
    h = 0.05
    b = BinnedKDE(x, h, grid_size=256)
    assert b.dx <= h / 8 + 1e-12
    ref = gaussian_kde(x, bw_method=h / np.std(x, ddof=1))
    y = np.linspace(-1.5, 1.5, 7)
    np.testing.assert_allclose(b.score(y), _fd_score(ref, y), atol=0.05)


def test_linear_calibration_recovers_known_line(rng):
    n = 4000
    y = rng.normal(2.0, 1.5, n)
    pred = 0.7 + 0.4 * y + 0.5 * rng.normal(size=n)
    lcc = LinearCalibration().fit(pred, y)
    se = np.sqrt(np.diag(lcc.coef_cov_))
    assert abs(lcc.intercept_ - 0.7) < 3 * se[0]
    assert abs(lcc.slope_ - 0.4) < 3 * se[1]
    corrected = lcc.transform(pred)
    # unbiased given the truth: regression of corrected on truth has slope 1
    slope = np.polyfit(y, corrected, 1)[0]
    assert abs(slope - 1.0) < 3 * (0.5 / 0.4) / (1.5 * np.sqrt(n)) + 3 * se[1] / 0.4
    assert corrected.shape == pred.shape
    assert lcc.transform(pred[:, None]).shape == (n, 1)


def test_tweedie_matches_the_gaussian_posterior_mean_answer(rng):
    # Y ~ N(0, 1), prediction = E[Y | Y + noise] = lam * (Y + u) ~ N(0, lam): Tweedie's
    # correction with the true density is exactly prediction / lam. With a Gaussian KDE of
    # bandwidth h the expected density is N(0, lam + h^2), so the expected correction is
    # y * (1 + sigma^2 / (lam + h^2)); the KDE derivative has standard deviation
    # sqrt(f R(K') / (n h^3)) with R(K') = 1 / (4 sqrt(pi)) (Wand and Jones 1995, 2.7).
    n, lam = 20000, 0.6
    y = rng.normal(size=n)
    pred = lam * y + np.sqrt(lam * (1 - lam)) * rng.normal(size=n)
    tw = TweedieCorrection().fit(pred, y)
    assert tw.sigma_ == pytest.approx(np.std(pred - y))
    assert abs(tw.sigma_**2 - (1 - lam)) < 4 * np.sqrt(2 * (1 - lam) ** 2 / n)
    grid = np.quantile(pred, [0.1, 0.3, 0.5, 0.7, 0.9])
    h = tw.bandwidth_
    expected = grid * (1 + tw.sigma_**2 / (lam + h**2))
    f = np.exp(-0.5 * grid**2 / lam) / np.sqrt(2 * np.pi * lam)
    sd_score = np.sqrt(f / (4 * np.sqrt(np.pi)) / (n * h**3)) / f
    assert np.all(np.abs(tw.transform(grid) - expected) < 4 * tw.sigma_**2 * sd_score)
    # the smoothing bias itself is small next to the correction
    np.testing.assert_allclose(expected, grid / lam, atol=0.02)
    naive_gap = abs(np.polyfit(y, pred, 1)[0] - 1.0)
    tw_gap = abs(np.polyfit(y, tw.transform(pred), 1)[0] - 1.0)
    assert naive_gap > 0.35 and tw_gap < 0.05


def test_tweedie_with_zero_noise_is_the_identity(rng):
    y = rng.normal(size=300)
    tw = TweedieCorrection().fit(y, y)
    assert tw.sigma_ == 0.0
    np.testing.assert_array_equal(tw.transform(y), y)


def test_tweedie_downstream_density(rng):
    y = rng.normal(size=500)
    pred = 0.5 * y + 0.3 * rng.normal(size=500)
    down = rng.normal(0.3, 0.6, size=2000)
    # the plain kernel score (the bias-corrected default is checked in
    # tests/test_coverage_fixes_options.py)
    tw = TweedieCorrection(score_fit_on="downstream", bias_correction=False).fit(pred, y)
    assert tw.kde_ is None
    b = BinnedKDE(down, scott_bandwidth(down))
    np.testing.assert_allclose(tw.transform(down), down - tw.sigma_**2 * b.score(down))
    with pytest.raises(ValueError, match="`X` .* is constant"):
        tw.transform(np.ones(50))
    # the calibration density gives a different answer
    tc = TweedieCorrection().fit(pred, y)
    assert not np.allclose(tc.transform(down), tw.transform(down))


def test_errors_and_warnings(rng):
    y = rng.normal(size=200)
    with pytest.raises(ValueError, match="slope .* not positive"):
        LinearCalibration().fit(-y + 0.1 * rng.normal(size=200), y)
    with pytest.warns(CausalkitWarning, match=r"slope is 0\.\d+ \(< 0\.2\)"):
        LinearCalibration().fit(0.1 * y + 0.01 * rng.normal(size=200), y)
    with pytest.warns(FewObservationsWarning, match="Only 50 calibration"):
        TweedieCorrection().fit(y[:50] + 0.1, y[:50])
    lcc = LinearCalibration().fit(0.5 * y, y)
    with pytest.warns(OutOfSupportWarning, match="outside the calibration range"):
        lcc.transform(np.r_[0.5 * y, 100.0 + np.arange(10.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lcc.transform(0.5 * y)  # inside the support: silent


def test_inputs_are_not_modified(rng):
    y = rng.normal(size=300)
    pred = 0.5 * y + 0.2 * rng.normal(size=300)
    p0, y0 = pred.copy(), y.copy()
    for c in (LinearCalibration(), TweedieCorrection()):
        c.fit(pred, y).transform(pred)
    np.testing.assert_array_equal(pred, p0)
    np.testing.assert_array_equal(y, y0)


def test_sample_weights_equal_repetition(rng):
    y = rng.normal(size=200)
    pred = 0.5 * y + 0.3 * rng.normal(size=200)
    w = rng.integers(1, 4, size=200)
    rep = np.repeat(np.arange(200), w)
    a = LinearCalibration().fit(pred, y, sample_weight=w.astype(float))
    b = LinearCalibration().fit(pred[rep], y[rep])
    assert a.slope_ == pytest.approx(b.slope_) and a.intercept_ == pytest.approx(b.intercept_)
    ta = TweedieCorrection(bandwidth=0.3).fit(pred, y, sample_weight=w.astype(float))
    tb = TweedieCorrection(bandwidth=0.3).fit(pred[rep], y[rep])
    assert ta.sigma_ == pytest.approx(tb.sigma_)
    np.testing.assert_allclose(ta.transform(pred), tb.transform(pred), atol=1e-10)


@pytest.mark.parametrize("correction", ["linear", "tweedie"])
def test_debiased_regressor_in_a_pipeline_removes_attenuation(rng, correction):
    n = 3000
    X = rng.normal(size=(2 * n, 4))
    y = X[:, 0] + X[:, 1] + 1.5 * rng.normal(size=2 * n)  # R^2 about 0.47: strong shrinkage
    pipe = make_pipeline(StandardScaler(),
                         DebiasedRegressor(LinearRegression(), correction=correction, random_state=0))
    pipe.fit(X[:n], y[:n])
    raw = make_pipeline(StandardScaler(), LinearRegression()).fit(X[:n], y[:n]).predict(X[n:])
    fixed = pipe.predict(X[n:])
    raw_slope = np.polyfit(y[n:], raw, 1)[0]
    fixed_slope = np.polyfit(y[n:], fixed, 1)[0]
    assert raw_slope < 0.6
    assert abs(fixed_slope - 1.0) < 0.1


def test_debiased_regressor_with_a_held_out_calibration_split(rng):
    n = 3000
    X = rng.normal(size=(2 * n, 4))
    y = X[:, 0] + X[:, 1] + 1.5 * rng.normal(size=2 * n)
    model = DebiasedRegressor(LinearRegression(), correction="linear", cv=0.3, random_state=0).fit(X[:n], y[:n])
    assert model.oof_predictions_.shape == (900,) and model.calibration_index_.shape == (900,)
    assert abs(np.polyfit(y[n:], model.predict(X[n:]), 1)[0] - 1.0) < 0.1
    with pytest.raises(ValueError, match="The 'cv' parameter of DebiasedRegressor must be"):
        DebiasedRegressor(cv=1.5).fit(X[:100], y[:100])
