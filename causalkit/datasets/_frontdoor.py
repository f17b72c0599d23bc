"""Front-door designs with a known average treatment effect.

Both generators follow the conditional front-door graph of Xu et al. (2024, Fig. 2):
``W -> T, W -> M, W -> Y, U -> T, U -> Y, T -> M -> Y`` with ``U`` unobserved and no
direct ``T -> Y`` edge. A back-door adjustment on ``W`` alone is biased through ``U``;
the conditional front-door adjustment on ``(M, W)`` is not.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.special import expit

from ._base import FINITE, FLAG, INT, SIZE, Dataset, checked

__all__ = ["make_frontdoor_data", "make_frontdoor_linear_data"]


def _mediator_prob(t, w):
    return expit(-0.6 + 1.4 * t + 0.8 * w[..., 0] - 0.7 * w[..., 1])


@checked(n=SIZE, confounding=FINITE, as_frame=FLAG)
def make_frontdoor_data(n: int = 2000, *, confounding: float = 1.0, as_frame: bool = False,
                        random_state=None) -> Dataset:
    r"""Discrete conditional front-door data: binary ``T``, ``M`` in {0, 1, 2}, binary ``W``.

    ``W = (W1, W2)`` with independent Bernoulli(1/2) entries; ``U ~ Bernoulli(1/2)``
    unobserved; ``P(T=1 | W, U) = expit(-0.3 + 0.9 W1 - 0.6 W2 + 1.5 c (2U - 1))``;
    ``M | T, W ~ Binomial(2, expit(-0.6 + 1.4 T + 0.8 W1 - 0.7 W2))``;
    ``Y = 1 + M (1 + 0.5 W1) + 0.8 W1 - 0.5 W2 + 2 c U + N(0, 1)``, where ``c`` is
    ``confounding``. Every variable the front-door formula needs is discrete, so the
    plug-in of Theorem 3 (Xu et al., 2024) applies. The ATE is exact:

    .. math:: \tau = \sum_w P(w)\, 2\{p(1, w) - p(0, w)\}(1 + 0.5 w_1),

    with :math:`p(t, w)` the mediator's success probability.

    Parameters
    ----------
    n : int
        Number of units.
    confounding : float
        Strength ``c`` of the unmeasured confounder ``U`` (0: none).
    as_frame : bool
        Return ``X`` as a DataFrame with columns ``w1, w2``.
    random_state : int or None
        Seed.

    Returns
    -------
    Dataset
        ``X`` (the covariates ``W``), ``y``, ``treatment``, ``mediator``, ``confounder``
        (``U``, for diagnostics only), ``true_ate``, ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_frontdoor_data
    >>> d = make_frontdoor_data(500, random_state=0)
    >>> d.X.shape, round(d.true_ate, 4)
    ((500, 2), 0.7849)
    """
    rng = np.random.default_rng(random_state)
    W = rng.integers(0, 2, size=(n, 2)).astype(float)
    U = rng.integers(0, 2, size=n).astype(float)
    t = (rng.random(n) < expit(-0.3 + 0.9 * W[:, 0] - 0.6 * W[:, 1]
                               + 1.5 * confounding * (2 * U - 1))).astype(np.int64)
    m = rng.binomial(2, _mediator_prob(t, W)).astype(float)
    y = (1 + m * (1 + 0.5 * W[:, 0]) + 0.8 * W[:, 0] - 0.5 * W[:, 1] + 2 * confounding * U
         + rng.normal(size=n))
    ate = 0.0
    for w in itertools.product((0.0, 1.0), repeat=2):
        w = np.array(w)
        ate += 0.25 * 2 * (_mediator_prob(1, w) - _mediator_prob(0, w)) * (1 + 0.5 * w[0])
    X = pd.DataFrame(W, columns=["w1", "w2"]) if as_frame else W
    return Dataset(X=X, y=y, treatment=t, mediator=m, confounder=U, true_ate=float(ate),
                   description="Discrete conditional front-door design with an unmeasured "
                               "confounder; ATE known (make_frontdoor_data).")


@checked(n=SIZE, n_mediators=INT, n_covariates=INT, confounding=FINITE, as_frame=FLAG)
def make_frontdoor_linear_data(n: int = 2000, *, n_mediators: int = 2, n_covariates: int = 2,
                               confounding: float = 1.0, as_frame: bool = False,
                               random_state=None) -> Dataset:
    r"""Linear-Gaussian conditional front-door data with an unmeasured confounder.

    The structural form of Xu et al. (2024, Sec. 5): ``W ~ N(0, I_m)``, ``U ~ N(0, 1)``,
    ``T ~ Bernoulli(expit(a'W + U))``, ``M = b_T T + B_W W + e_M`` in
    :math:`R^{d}` with ``e_M ~ N(0, I)``, and
    ``Y = b_M'M + b_Y'W + c U + e_Y``, ``e_Y ~ N(0, 1)``, with ``c`` the confounding
    strength. The true ATE is :math:`b_T' b_M`. The coefficients are fixed
    (``b_T = (1, 0.5, ...)`` cycled, ``b_M = (0.8, -0.4, ...)`` cycled), so only ``c``
    changes with ``confounding``; the back-door bias of adjusting for ``W`` alone grows
    linearly in ``c``.

    Parameters
    ----------
    n : int
        Number of units.
    n_mediators : int
        Dimension ``d`` of the mediator (at least 1).
    n_covariates : int
        Dimension ``m`` of ``W`` (at least 1).
    confounding : float
        Coefficient ``c`` of ``U`` in the outcome (0: no unmeasured confounding).
    as_frame : bool
        Return ``X`` as a DataFrame with columns ``w0, w1, ...``.
    random_state : int or None
        Seed.

    Returns
    -------
    Dataset
        ``X`` (``W``), ``y``, ``treatment``, ``mediator`` (shape (n, d), or (n,) when
        ``d = 1``), ``confounder`` (``U``), ``true_ate``, ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_frontdoor_linear_data
    >>> d = make_frontdoor_linear_data(300, random_state=0)
    >>> d.mediator.shape, round(d.true_ate, 3)
    ((300, 2), 0.6)
    """
    if n_mediators < 1:
        raise ValueError(f"`n_mediators` must be at least 1; got {n_mediators}.")
    if n_covariates < 1:
        raise ValueError(f"`n_covariates` must be at least 1; got {n_covariates}.")
    rng = np.random.default_rng(random_state)
    W = rng.normal(size=(n, n_covariates))
    U = rng.normal(size=n)
    a = np.resize([0.6, -0.4], n_covariates)
    t = (rng.random(n) < expit(W @ a + U)).astype(np.int64)
    b_t = np.resize([1.0, 0.5], n_mediators)
    b_m = np.resize([0.8, -0.4], n_mediators)
    B_w = np.resize([0.5, -0.3, 0.2], (n_covariates, n_mediators))
    M = t[:, None] * b_t + W @ B_w + rng.normal(size=(n, n_mediators))
    b_y = np.resize([0.7, 0.3], n_covariates)
    y = M @ b_m + W @ b_y + confounding * U + rng.normal(size=n)
    X = pd.DataFrame(W, columns=[f"w{j}" for j in range(n_covariates)]) if as_frame else W
    return Dataset(X=X, y=y, treatment=t, mediator=M[:, 0] if n_mediators == 1 else M,
                   confounder=U, true_ate=float(b_t @ b_m),
                   description="Linear-Gaussian conditional front-door design with an "
                               "unmeasured confounder; ATE known (make_frontdoor_linear_data).")
