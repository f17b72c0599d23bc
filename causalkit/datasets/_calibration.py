"""Shrunken predictions used as outcomes, with calibration and labelled samples."""

from __future__ import annotations

import numpy as np

from ._base import COUNT, FINITE, SCALE, SIZE, Dataset, checked

__all__ = ["make_calibration_data", "make_proxy_outcome_data"]


def _population(rng, n, ate):
    c = rng.normal(size=n)
    e = 1.0 / (1.0 + np.exp(-c))
    t = (rng.random(n) < e).astype(np.int8)
    y = ate * t + c + rng.normal(size=n)
    return c, e, t, y


@checked(n=SIZE, n_calibration=SIZE, n_labeled=SIZE, ate=FINITE, shrinkage=FINITE, noise=SCALE)
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


def _frozen_map(map_seed, n_features, width=50):
    """Weights of a random 1 -> 50 -> 50 -> 50 -> ``n_features`` ReLU network."""
    rng = np.random.default_rng(map_seed)
    sizes = [1, width, width, width, n_features]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(a)          # the usual uniform(-1/sqrt(fan_in), ...) initialisation
        layers.append((rng.uniform(-bound, bound, size=(a, b)), rng.uniform(-bound, bound, size=b)))
    return layers


@checked(n=SIZE, ate=FINITE, n_features=SIZE, proxy_noise=SCALE, dropout=FINITE, map_seed=COUNT)
def make_proxy_outcome_data(n=10000, *, ate=1.0, n_features=100, proxy_noise=0.3, dropout=0.2,
                            map_seed=0, random_state=None) -> Dataset:
    r"""Units whose outcome is seen only through high-dimensional proxies ("one map, many trials").

    The simulation design of Pettersson, Jerzak and Daoud (2025): a confounder
    :math:`C \sim N(0, 1)`, treatment :math:`T \sim \mathrm{Bernoulli}(\mathrm{expit}(C))`,
    outcome :math:`Y = \tau T + C + N(0, 1)`, and proxies (the "image")

    .. math::

        X = g(Y) + N(0, s^2 I),

    where :math:`g` is a random ReLU network 1 -> 50 -> 50 -> 50 -> ``n_features``
    whose weights are fixed by ``map_seed`` (the same "map" for every population
    drawn with that seed) and whose hidden layers apply dropout with rate
    ``dropout`` at generation time (the authors' network runs in training mode, so
    :math:`g` is itself noisy). An upstream model trained to predict :math:`Y` from
    :math:`X` shrinks toward the mean; the downstream question is :math:`\tau`.

    Parameters
    ----------
    n : int
        Units.
    ate : float
        The true average treatment effect :math:`\tau`.
    n_features : int
        Proxy dimension.
    proxy_noise : float
        :math:`s`.
    dropout : float in [0, 1)
        Dropout rate of the map's hidden layers (0: a deterministic map).
    map_seed : int
        Seed of the map's weights.
    random_state : int, Generator or None
        Seeds the units, the proxy noise and the dropout masks.

    Returns
    -------
    Dataset
        ``X`` (proxies, (n, n_features)), ``y``, ``treatment``, ``propensity``,
        ``covariate`` (C), ``true_ate``, ``sample_ate`` (the difference in mean
        potential outcomes of these units), ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_proxy_outcome_data
    >>> d = make_proxy_outcome_data(1000, ate=2.0, random_state=0)
    >>> d.X.shape
    (1000, 100)
    """
    if not 0 <= dropout < 1:
        raise ValueError(f"`dropout` must be in [0, 1); got {dropout}.")
    rng = np.random.default_rng(random_state)
    n = int(n)
    c, e, t, y = _population(rng, n, ate)
    h = y[:, None]
    layers = _frozen_map(map_seed, int(n_features))
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
            if dropout > 0:
                h = h * (rng.random(h.shape) >= dropout) / (1.0 - dropout)
    X = h + proxy_noise * rng.normal(size=h.shape)
    return Dataset(
        X=X, y=y, treatment=t, propensity=e, covariate=c, true_ate=float(ate),
        sample_ate=float(ate),
        description=(f"Y = {ate}*T + C + N(0,1), T ~ Bernoulli(expit(C)); {n_features} proxies "
                     f"X = g(Y) + N(0, {proxy_noise}^2) from a random ReLU map (seed {map_seed}, "
                     f"dropout {dropout})."),
    )
