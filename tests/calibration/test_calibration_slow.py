"""Slow: one upstream model, many trials: corrections restore the slope of the effects."""

import warnings

import numpy as np
import pytest

from causalkit.calibration import LinearCalibration, TweedieCorrection, corrected_ate
from causalkit.datasets import make_proxy_outcome_data

pytestmark = pytest.mark.slow


def test_corrections_restore_the_slope_of_estimated_on_true_effects():
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    survey = make_proxy_outcome_data(10_000, ate=0.0, map_seed=0, random_state=0)
    model = make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(64, 32, 32), alpha=1e-2, early_stopping=True, max_iter=300,
        random_state=0)).fit(survey.X[:8000], survey.y[:8000])
    cal_pred, cal_truth = model.predict(survey.X[8000:]), survey.y[8000:]
    corrections = {"linear": LinearCalibration().fit(cal_pred, cal_truth),
                   "tweedie": TweedieCorrection().fit(cal_pred, cal_truth)}
    taus = np.linspace(-2, 2, 12)
    est = {k: [] for k in ("naive", "linear", "tweedie")}
    se = {k: [] for k in est}
    for k, tau in enumerate(taus):
        trial = make_proxy_outcome_data(4000, ate=tau, map_seed=0, random_state=100 + k)
        pred = model.predict(trial.X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in est:
                e = corrected_ate(corrections.get(name), pred, trial.treatment,
                                  propensity=trial.propensity, n_boot=50, random_state=k)
                est[name].append(e.value)
                se[name].append(e.stderr)
    slope = {k: np.polyfit(taus, v, 1)[0] for k, v in est.items()}
    # SE of an OLS slope from per-trial SEs (independent trials)
    slope_se = {k: np.sqrt(np.mean(np.square(v)) / np.sum((taus - taus.mean()) ** 2))
                for k, v in se.items()}
    assert slope["naive"] < 0.7
    for name in ("linear", "tweedie"):
        assert abs(slope[name] - 1.0) < 0.05 + 3 * slope_se[name], (name, slope[name])
