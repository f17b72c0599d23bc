"""Shrunken predictions used as outcomes, with calibration and labelled samples."""

from __future__ import annotations

import numpy as np

from ._base import Dataset

__all__ = ["make_calibration_data"]


def _population(rng, n, ate):
    c = rng.normal(size=n)
    e = 1.0 / (1.0 + np.exp(-c))
    t = (rng.random(n) < e).astype(np.int8)
    y = ate * t + c + rng.normal(size=n)
    return c, e, t, y


def make_calibration_data(n=2000, *, n_calibration=1000, n_labeled=100, ate=1.0, shrinkage=0.5,
                          noise=0.5, random_state=None) -> Dataset:
    r"""Predictions that shrink toward the mean, used as the outcome of a downstream study.

    A population follows the design of Pettersson, Jerzak and Daoud (2025):
    :math:`C \sim N(0, 1)`, :math:`T \sim \mathrm{Bernoulli}(\mathrm{expit}(C))`,
    :math:`Y = \tau T + C + N(0, 1)`. An upstream model predicts

    .. math::

        \hat Y = \bar\mu + \lambda (Y - \bar\mu) + s\,\eta, \qquad \eta \sim N(0, 1),

    with shrinkage :math:`\lambda` (``shrinkage``), noise :math:`s` (``noise``)
    and :math:`\bar\mu = \tau/2 = E[Y]`. A naive ATE on :math:`\hat Y` is
    :math:`\lambda\tau`; the linear calibration correction is exactly unbiased under
    this model, Tweedie's correction approximately.

    Parameters
    ----------
    n : int
        Downstream units (predictions, treatment, covariate; no labels).
    n_calibration : int
        Labelled calibration units (same population, held out upstream).
    n_labeled : int
        Fresh labelled downstream units (for prediction-powered inference).
    ate : float
        The true average treatment effect :math:`\tau`.
    shrinkage, noise : float
        :math:`\lambda` and :math:`s`.
    random_state : int, Generator or None

    Returns
    -------
    Dataset
        ``X`` (the covariate, shape (n, 1)), ``y`` (downstream truth, for
        reference only), ``treatment``, ``propensity``, ``predictions``,
        ``calibration_predictions``, ``calibration_truth``, ``labeled_X``,
        ``labeled_predictions``, ``labeled_truth``, ``labeled_treatment``,
        ``labeled_propensity``, ``true_ate``, ``true_mean``, ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_calibration_data
    >>> d = make_calibration_data(500, random_state=0)
    >>> d.predictions.shape, d.calibration_truth.shape
    ((500,), (1000,))
    """
    rng = np.random.default_rng(random_state)
    mu = 0.5 * ate

    def predict(y):
        return mu + shrinkage * (y - mu) + noise * rng.normal(size=y.shape[0])

    c, e, t, y = _population(rng, int(n), ate)
    pred = predict(y)
    _, _, _, yc = _population(rng, int(n_calibration), ate)
    pc = predict(yc)
    cl, el, tl, yl = _population(rng, int(n_labeled), ate)
    pl = predict(yl)
    return Dataset(
        X=c[:, None], y=y, treatment=t, propensity=e, predictions=pred,
        calibration_predictions=pc, calibration_truth=yc,
        labeled_X=cl[:, None], labeled_predictions=pl, labeled_truth=yl, labeled_treatment=tl,
        labeled_propensity=el, true_ate=float(ate), true_mean=float(mu),
        description=(f"Shrunken predictions (lambda={shrinkage}, noise={noise}) of Y = {ate}*T + C + N(0,1), "
                     "T ~ Bernoulli(expit(C)); calibration and labelled samples from the same population."),
    )
