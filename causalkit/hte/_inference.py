"""Weighted least squares with heteroskedasticity-robust (sandwich) covariance."""

from __future__ import annotations

import numpy as np

__all__ = ["wls_sandwich"]

_BLOCK = 1 << 16


def wls_sandwich(Z, target: np.ndarray, weights=None, groups=None, *, hc1: bool = False,
                 block: int = _BLOCK):
    """Weighted least squares ``argmin_b sum_i w_i (target_i - Z_i b)^2`` and its HC0 covariance.

    The covariance is ``B^{-1} M B^{-1}`` with bread ``B = sum_i w_i Z_i Z_i'`` and
    meat ``M = sum_i w_i^2 e_i^2 Z_i Z_i'`` (White, 1980), the scores summed within
    clusters first when ``groups`` (integer codes 0..G-1) is given, times ``G / (G - 1)``.
With ``hc1`` (and no clusters) the covariance is scaled by ``n / (n - k)`` (HC1,
MacKinnon and White, 1985).

    ``Z`` is an array of shape (n, k) or a callable ``Z(slice) -> ndarray`` giving a
    block of rows, so that a design built from ``X`` (an intercept, a featurizer) is
    never held in memory whole: the work runs over blocks of ``block`` rows.

    Returns
    -------
    coef : ndarray of shape (k,)
    cov : ndarray of shape (k, k)
    """
    n = target.shape[0]
    if callable(Z):
        rows = Z
    else:
        Za = np.asarray(Z, dtype=float)
        if Za.ndim == 1:
            Za = Za[:, None]
        rows = lambda sl: Za[sl]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    slices = [slice(i, min(i + block, n)) for i in range(0, n, block)]
    bread = rhs = None
    for sl in slices:
        Zb = np.asarray(rows(sl), dtype=float)
        Zw = Zb * w[sl, None]
        bread = Zw.T @ Zb if bread is None else bread + Zw.T @ Zb
        rhs = Zw.T @ target[sl] if rhs is None else rhs + Zw.T @ target[sl]
    coef = np.linalg.lstsq(bread, rhs, rcond=None)[0]
    k = coef.shape[0]
    if groups is not None:
        g = int(groups.max()) + 1
        summed = np.zeros((g, k))
    meat = np.zeros((k, k))
    for sl in slices:
        Zb = np.asarray(rows(sl), dtype=float)
        scores = Zb * (w[sl] * (target[sl] - Zb @ coef))[:, None]
        if groups is not None:
            np.add.at(summed, groups[sl], scores)
        else:
            meat += scores.T @ scores
    if groups is not None:
        meat = (g / (g - 1) if g > 1 else 1.0) * (summed.T @ summed)
    elif hc1 and n > k:
        meat *= n / (n - k)
    inv = np.linalg.pinv(bread)
    return coef, inv @ meat @ inv
