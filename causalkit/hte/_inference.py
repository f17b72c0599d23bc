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



def wls_normal_equations(Z, target, weights, folds=None, *, fit_intercept=True,
                         block: int = _BLOCK, max_condition: float = 1e10):
    """Weighted least squares from normal equations, with exact leave-fold-out fits.

    One pass over ``Z`` accumulates, per fold ``k``, ``G_k = sum_{i in k} w_i z_i z_i'``
    and ``c_k = sum_{i in k} w_i z_i y_i``; the full fit solves ``G b = c`` with
    ``G = sum_k G_k`` and the fit without fold ``k`` solves ``(G - G_k) b = c - c_k``:
    the same coefficients as refitting on the other folds, without one pass per fold.
    ``Z`` is centred (at its weighted mean) and scaled first, which keeps the Gram
    matrices well conditioned; a model with an intercept predicts the same under that
    affine change of its inputs.

    Returns ``None`` when a Gram matrix is not finite or its condition number exceeds
    ``max_condition`` (the caller then fits by a QR/SVD solver instead). Otherwise a
    dict with ``coef`` (p,), ``intercept``, ``singular`` (the singular values of the
    centred, root-weighted design, as scikit-learn's ``LinearRegression`` reports them)
    and ``oof`` (out-of-fold predictions when ``folds`` is given, else ``None``).
    """
    Z = np.asarray(Z, dtype=float)
    y = np.asarray(target, dtype=float)
    w = np.asarray(weights, dtype=float)
    n, p = Z.shape
    n_folds = 1 if folds is None else len(folds)
    fold_of = np.zeros(n, dtype=np.intp)
    if folds is not None:
        for k, (_, test) in enumerate(folds):
            fold_of[test] = k
    loc = np.average(Z, axis=0, weights=w) if fit_intercept else np.zeros(p)
    scale = Z.std(axis=0)
    scale[scale == 0] = 1.0
    j0 = int(fit_intercept)
    q = p + j0
    G = np.zeros((n_folds, q, q))
    c = np.zeros((n_folds, q))

    def design(sl):
        D = (Z[sl] - loc) / scale
        return np.column_stack([np.ones(D.shape[0]), D]) if fit_intercept else D

    for start in range(0, n, block):
        sl = slice(start, min(start + block, n))
        D = design(sl)
        wd = D * w[sl, None]
        if n_folds == 1:
            G[0] += wd.T @ D
            c[0] += wd.T @ y[sl]
            continue
        f = fold_of[sl]
        for k in range(n_folds):
            m = f == k
            if m.any():
                G[k] += wd[m].T @ D[m]
                c[k] += wd[m].T @ y[sl][m]

    def solve(Gk, ck):
        if not np.all(np.isfinite(Gk)) or np.linalg.cond(Gk) > max_condition:
            return None
        return np.linalg.solve(Gk, ck)

    G_all, c_all = G.sum(axis=0), c.sum(axis=0)
    b = solve(G_all, c_all)
    if b is None:
        return None
    oof = None
    if folds is not None:
        coefs = np.empty((n_folds, q))
        for k in range(n_folds):
            bk = solve(G_all - G[k], c_all - c[k])
            if bk is None:
                return None
            coefs[k] = bk
        oof = np.empty(n)
        for start in range(0, n, block):
            sl = slice(start, min(start + block, n))
            oof[sl] = np.einsum("ij,ij->i", design(sl), coefs[fold_of[sl]])
    coef = b[j0:] / scale
    intercept = float(b[0] - loc @ coef) if fit_intercept else 0.0
    gram = G_all[j0:, j0:] * np.outer(scale, scale)      # centred Gram in the original units
    singular = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))[::-1]
    return {"coef": coef, "intercept": intercept, "singular": singular, "oof": oof}
