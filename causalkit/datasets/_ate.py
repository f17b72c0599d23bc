"""A simple observational study with a known average treatment effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from ._base import Dataset

__all__ = ["make_ate_data"]


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
