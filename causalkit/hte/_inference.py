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


def crossfit_wls_predict(Z, target, weights, folds, *, fit_intercept=True, block: int = _BLOCK,
                         max_condition: float = 1e10):
    """Out-of-fold predictions of a weighted least-squares fit, from per-fold normal equations.

    For each fold ``k`` the coefficients solve ``(G - G_k) b = c - c_k`` with
    ``G_k = sum_{i in k} w_i z_i z_i'`` and ``c_k = sum_{i in k} w_i z_i y_i``: the same
    fit as refitting on the other folds, in one pass over ``Z`` instead of one pass per
    fold. ``Z`` is centred and scaled first (a model with an intercept predicts the same
    under an affine change of its inputs), which keeps the Gram matrices well
    conditioned. Returns ``None`` when a training Gram matrix is singular or its
    condition number exceeds ``max_condition``, so the caller can refit instead.
    """
    Z = np.asarray(Z, dtype=float)
    y = np.asarray(target, dtype=float)
    w = np.asarray(weights, dtype=float)
    n, p = Z.shape
    fold_of = np.empty(n, dtype=np.intp)
    for k, (_, test) in enumerate(folds):
        fold_of[test] = k
    n_folds = len(folds)
    loc = np.average(Z, axis=0, weights=w) if fit_intercept else np.zeros(p)
    scale = Z.std(axis=0)
    scale[scale == 0] = 1.0
    q = p + int(fit_intercept)
    G = np.zeros((n_folds, q, q))
    c = np.zeros((n_folds, q))
    for start in range(0, n, block):
        sl = slice(start, min(start + block, n))
        D = (Z[sl] - loc) / scale
        if fit_intercept:
            D = np.column_stack([np.ones(D.shape[0]), D])
        f = fold_of[sl]
        wd = D * w[sl, None]
        for k in range(n_folds):
            m = f == k
            if m.any():
                G[k] += wd[m].T @ D[m]
                c[k] += wd[m].T @ y[sl][m]
    G_all, c_all = G.sum(axis=0), c.sum(axis=0)
    coefs = np.empty((n_folds, q))
    for k in range(n_folds):
        Gk = G_all - G[k]
        if not np.all(np.isfinite(Gk)) or np.linalg.cond(Gk) > max_condition:
            return None
        coefs[k] = np.linalg.solve(Gk, c_all - c[k])
    out = np.empty(n)
    for start in range(0, n, block):
        sl = slice(start, min(start + block, n))
        D = (Z[sl] - loc) / scale
        b = coefs[fold_of[sl]]
        out[sl] = np.einsum("ij,ij->i", D, b[:, int(fit_intercept):])
        if fit_intercept:
            out[sl] += b[:, 0]
    return out
