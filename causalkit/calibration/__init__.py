"""Debiasing predictions used as outcomes: linear calibration, Tweedie's correction,
downstream means and treatment effects on corrected outcomes, and prediction-powered
inference as a baseline."""

from ._corrections import DebiasedRegressor, LinearCalibration, OutOfSupportWarning, TweedieCorrection
from ._downstream import corrected_ate, corrected_mean, ppi_ate, ppi_mean
from ._ppi import ppi_ols

__all__ = ["DebiasedRegressor", "LinearCalibration", "OutOfSupportWarning", "TweedieCorrection",
           "corrected_ate", "corrected_mean", "ppi_ate", "ppi_mean", "ppi_ols"]
