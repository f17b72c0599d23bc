"""Coverage of TweedieCorrection's downstream ATE interval (calibration family).

``make_calibration_data`` (shrinkage 0.5, noise 0.5, true ATE 1): 3,000 downstream units
and 200 calibration units per replication, the design of the calibration guide. The
interval is ``corrected_ate``'s default (Hajek with the true propensities, calibration
uncertainty added by a 200-draw calibration bootstrap). The default score is the
bias-corrected (Richardson-extrapolated) kernel score; the second row is the plain kernel
score (``bias_correction=False``), whose smoothing bias made the interval under-cover.
"""

from __future__ import annotations

import warnings

from ._common import Rep, Study

N_DOWN, N_CAL = 3000, 200


def _one(seed, bias_correction):
    from causalkit.calibration import TweedieCorrection, corrected_ate
    from causalkit.datasets import make_calibration_data

    d = make_calibration_data(N_DOWN, n_calibration=N_CAL, ate=1.0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = TweedieCorrection(bias_correction=bias_correction).fit(
            d.calibration_predictions, d.calibration_truth)
        e = corrected_ate(c, d.predictions, d.treatment, propensity=d.propensity,
                          random_state=seed)
    lo, hi = e.conf_int()
    return Rep(float(e.value), float(e.stderr), float(lo), float(hi), float(d.true_ate))


def studies() -> list[Study]:
    dgp = f"make_calibration_data, {N_CAL} calibration units"
    return [
        Study("calibration", "corrected_ate(TweedieCorrection())", dgp, N_DOWN,
              lambda s: _one(s, True), seed_offset=0),
        Study("calibration", "corrected_ate(TweedieCorrection(bias_correction=False))", dgp,
              N_DOWN, lambda s: _one(s, False), default=False,
              note="plain kernel score (the original method): O(h^2) smoothing bias",
              seed_offset=0),
    ]
