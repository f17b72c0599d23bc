"""A simple observational study with a known average treatment effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from ._base import FINITE, FLAG, INT, SIZE, Dataset, checked

__all__ = ["make_ate_data", "make_multiarm_data"]


@checked(n=SIZE, n_features=INT, effect=FINITE, overlap=FINITE, as_frame=FLAG)
def make_ate_data(n: int = 2000, n_features: int = 5, *, effect: float = 1.0,
                  overlap: float = 1.0, as_frame: bool = False, random_state=None) -> Dataset:
    """Confounded binary treatment with a heterogeneous effect whose mean is known.

    ``X ~ N(0, I_p)``; ``P(T=1|X) = expit(overlap * (0.8 X1 - 0.5 X2))``;
    ``Y = sin(X1) + X2^2/2 + X3 + T * (effect + 0.5 X1) + N(0, 1)``. The ATE is
    ``effect`` exactly (``E[X1] = 0``); the naive difference in means is biased
    upward because ``X1`` raises both treatment and outcome.

    Parameters
    ----------
    n : int
        Number of units.
    n_features : int
        Number of covariates (at least 3).
    effect : float
        The average treatment effect.
    overlap : float
        Larger values push propensities toward 0 and 1 (weaker overlap).
    as_frame : bool
        Return ``X`` as a DataFrame with columns ``x0, x1, ...``.
    random_state : int or None
        Seed.

    Returns
    -------
    Dataset
        ``X``, ``y``, ``treatment``, ``propensity`` (true), ``true_cate``,
        ``true_ate`` and ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_ate_data
    >>> d = make_ate_data(500, random_state=0)
    >>> d.X.shape, d.true_ate
    ((500, 5), 1.0)
    """
    if n_features < 3:
        raise ValueError(f"`n_features` must be at least 3; got {n_features}.")
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, n_features))
    e = expit(overlap * (0.8 * X[:, 0] - 0.5 * X[:, 1]))
    t = (rng.random(n) < e).astype(np.int64)
    cate = effect + 0.5 * X[:, 0]
    y = np.sin(X[:, 0]) + X[:, 1] ** 2 / 2 + X[:, 2] + t * cate + rng.normal(size=n)
    if as_frame:
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(n_features)])
    return Dataset(X=X, y=y, treatment=t, propensity=e, true_cate=cate, true_ate=float(effect),
                   description="Confounded binary treatment; ATE known (make_ate_data).")


@checked(n=SIZE, n_features=INT, n_arms=INT, as_frame=FLAG)
def make_multiarm_data(n: int = 3000, n_features: int = 4, *, n_arms: int = 3,
                       as_frame: bool = False, random_state=None) -> Dataset:
    """Confounded multi-valued treatment with known average potential outcomes.

    ``X ~ N(0, I_p)``; the treatment ``T`` in ``{0, ..., K-1}`` is drawn from a
    multinomial logit with scores ``s_k = 0.5 k X1 - 0.3 k X2 / (K - 1)``;
    ``Y = X1 + X2^2/2 + k (1 + 0.5 X1) + N(0, 1)`` at level ``k``. So
    ``E[Y(k)] = 0.5 + k`` and the contrast of level ``k`` against 0 is ``k``; the
    naive differences in means are biased because ``X1`` raises both the level and
    the outcome.

    Parameters
    ----------
    n : int
    n_features : int
        At least 2.
    n_arms : int
        Number of treatment levels ``K`` (at least 2).
    as_frame : bool
    random_state : int or None

    Returns
    -------
    Dataset
        ``X``, ``y``, ``treatment``, ``propensity`` (n, K), ``true_apo`` (dict
        level -> E[Y(k)]), ``true_contrasts`` (dict level -> E[Y(k)] - E[Y(0)]),
        ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_multiarm_data
    >>> d = make_multiarm_data(500, random_state=0)
    >>> sorted(set(d.treatment.tolist())), d.true_contrasts[2]
    ([0, 1, 2], 2.0)
    """
    if n_features < 2:
        raise ValueError(f"`n_features` must be at least 2; got {n_features}.")
    if n_arms < 2:
        raise ValueError(f"`n_arms` must be at least 2; got {n_arms}.")
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, n_features))
    k = np.arange(n_arms)
    s = 0.5 * k[None, :] * X[:, [0]] - 0.3 * k[None, :] * X[:, [1]] / (n_arms - 1)
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    t = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1).astype(np.int64)
    t = np.minimum(t, n_arms - 1)
    y = X[:, 0] + X[:, 1] ** 2 / 2 + t * (1 + 0.5 * X[:, 0]) + rng.normal(size=n)
    if as_frame:
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(n_features)])
    apo = {int(j): 0.5 + float(j) for j in k}
    return Dataset(X=X, y=y, treatment=t, propensity=p, true_apo=apo,
                   true_contrasts={int(j): float(j) for j in k},
                   description="Confounded multi-valued treatment; E[Y(k)] known (make_multiarm_data).")
