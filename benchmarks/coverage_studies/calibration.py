"""Coverage studies of the calibration family's linear correction and PPI baselines.

``make_calibration_data`` (shrinkage 0.5, noise 0.5, true ATE 1, true mean 0.5): 3,000
downstream units and 200 calibration units (100 fresh labelled units for PPI). The
intervals of :func:`corrected_ate` (Hajek with the true propensities) and
:func:`corrected_mean` with LinearCalibration and the default
``calibration_uncertainty=True`` (100 bootstrap refits here), the held-fixed interval
for reference, and :func:`ppi_mean` / :func:`ppi_ate`. Untuned design: t(3) noise
added to the truth of the downstream and calibration populations' outcomes (the
predictions see it through the same shrinkage). TweedieCorrection is in ``tweedie.py``.
Absorbs the linear rows of ``benchmarks/calibration_coverage.py``.
"""

from __future__ import annotations

from functools import partial

from ._common import Study
from ._designs import rep_of, t3_noise


def _data(seed, heavy):
    from causalkit.datasets import make_calibration_data

    d = make_calibration_data(3000, n_calibration=200, n_labeled=100, ate=1.0, random_state=seed)
    if heavy:  # heavy-tailed outcome noise, passed to the predictions through the shrinkage
        for y, p, k in (("y", "predictions", 0), ("calibration_truth", "calibration_predictions", 1),
                        ("labeled_truth", "labeled_predictions", 2)):
            eps = t3_noise(seed + 1_000_003 * k, getattr(d, y).shape[0], 0.5)
            setattr(d, y, getattr(d, y) + eps)
            setattr(d, p, getattr(d, p) + 0.5 * eps)
    return d


def linear(seed, target="ate", uncertainty=True, heavy=False):
    from causalkit.calibration import LinearCalibration, corrected_ate, corrected_mean

    d = _data(seed, heavy)
    c = LinearCalibration().fit(d.calibration_predictions, d.calibration_truth)
    if target == "ate":
        e = corrected_ate(c, d.predictions, d.treatment, propensity=d.propensity,
                          calibration_uncertainty=uncertainty, n_boot=100, random_state=seed)
        return rep_of(e, d.true_ate)
    e = corrected_mean(c, d.predictions, calibration_uncertainty=uncertainty, n_boot=100,
                       random_state=seed)
    return rep_of(e, d.true_mean)


def ppi(seed, target="mean", heavy=False):
    from causalkit.calibration import ppi_ate, ppi_mean

    d = _data(seed, heavy)
    if target == "mean":
        return rep_of(ppi_mean(d.predictions, d.labeled_predictions, d.labeled_truth), d.true_mean)
    e = ppi_ate(d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth,
                d.labeled_treatment, propensity=d.propensity, labeled_propensity=d.labeled_propensity)
    return rep_of(e, d.true_ate)


def ppi_regression(seed, per_coefficient=False, N=3000, n=200):
    """``ppi_ols``: Y = 1 + 2 x1 - x2 + N(0, 1), predictions 0.8 Y + 0.3 + N(0, 0.5^2)
    (biased, imperfect); N unlabelled and n labelled units; the x1 coefficient (truth 2)."""
    import numpy as np

    from causalkit.calibration import ppi_ols

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N + n, 2))
    y = 1 + 2 * X[:, 0] - X[:, 1] + rng.normal(size=N + n)
    f = 0.8 * y + 0.3 + 0.5 * rng.normal(size=N + n)
    tab = ppi_ols(X[:N], f[:N], X[N:], f[N:], y[N:], per_coefficient=per_coefficient)
    return rep_of(tab[1], 2.0)


def studies():
    dgp = "make_calibration_data, 3,000 + 200 calibration"
    out = []
    for target, fn in (("ate", "corrected_ate"), ("mean", "corrected_mean")):
        name = f"{fn}(LinearCalibration())"
        out += [
            Study("calibration", name, dgp, 3000, partial(linear, target=target),
                  note="calibration bootstrap, 100 refits"),
            Study("calibration", name, dgp + " + t(3) noise", 3000,
                  partial(linear, target=target, heavy=True),
                  note="calibration bootstrap, 100 refits; heavy-tailed outcome"),
            Study("calibration", f"{fn}(LinearCalibration(), calibration_uncertainty=False)",
                  dgp, 3000, partial(linear, target=target, uncertainty=False), default=False,
                  note="calibration held fixed (the original method), for reference"),
        ]
    for target in ("mean", "ate"):
        out += [
            Study("calibration", f"ppi_{target}()", dgp + ", 100 labelled", 3000,
                  partial(ppi, target=target)),
            Study("calibration", f"ppi_{target}()", dgp + ", 100 labelled + t(3) noise", 3000,
                  partial(ppi, target=target, heavy=True), note="heavy-tailed outcome"),
        ]
    reg = "Y = 1 + 2 x1 - x2 + N(0, 1), 3,000 unlabelled + 200 labelled, biased predictions"
    out += [
        Study("calibration", "ppi_ols() x1 coefficient", reg, 3200, ppi_regression,
              note="PPI++ (one tuned lambda)"),
        Study("calibration", "ppi_ols(per_coefficient=True) x1 coefficient", reg, 3200,
              partial(ppi_regression, per_coefficient=True), default=False,
              note="one tuned lambda per coefficient"),
    ]
    return out
