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
    ``Z`` is centred at its weighted mean as it is read, and the accumulated Gram
    matrices are rescaled to unit column spread before solving, which keeps them well
    conditioned; a model with an intercept predicts the same under that affine change
    of its inputs.

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
    # rows grouped by fold, so each block of a fold is one contiguous gather
    groups = [np.arange(n)] if folds is None else [np.asarray(test) for _, test in folds]
    loc = np.average(Z, axis=0, weights=w) if fit_intercept else np.zeros(p)
    # per fold: S_k = sum w d d', g_k = sum w d, c_k = sum w d y, a_k = sum w, b_k = sum w y,
    # with d = z - loc; the intercept's rows and columns are (a, g) and (b)
    S = np.zeros((n_folds, p, p))
    g = np.zeros((n_folds, p))
    cz = np.zeros((n_folds, p))
    a = np.zeros(n_folds)
    b = np.zeros(n_folds)
    for k, rows in enumerate(groups):
        for start in range(0, rows.size, block):
            idx = rows[start:start + block]
            D = Z[idx] - loc
            wb, yb = w[idx], y[idx]
            wd = D * wb[:, None]
            S[k] += wd.T @ D
            g[k] += wd.sum(axis=0)
            cz[k] += wd.T @ yb
            a[k] += wb.sum()
            b[k] += wb @ yb
    # scale columns to unit (weighted) spread: exact, and it keeps the systems well conditioned
    diag = np.diagonal(S.sum(axis=0)).copy()
    scale = np.sqrt(diag / max(a.sum(), np.finfo(float).tiny))
    scale[~(scale > 0)] = 1.0
    j0 = int(fit_intercept)
    q = p + j0

    def system(sel):
        """Scaled normal equations of the folds in ``sel`` (a boolean mask over folds)."""
        G = np.empty((q, q))
        c = np.empty(q)
        G[j0:, j0:] = S[sel].sum(axis=0) / np.outer(scale, scale)
        c[j0:] = cz[sel].sum(axis=0) / scale
        if fit_intercept:
            G[0, 0] = a[sel].sum()
            G[0, 1:] = G[1:, 0] = g[sel].sum(axis=0) / scale
            c[0] = b[sel].sum()
        return G, c

    def solve(G, c):
        if not np.all(np.isfinite(G)) or np.linalg.cond(G) > max_condition:
            return None
        return np.linalg.solve(G, c)

    everything = np.ones(n_folds, dtype=bool)
    G_all, c_all = system(everything)
    beta = solve(G_all, c_all)
    if beta is None:
        return None
    oof = None
    if folds is not None:
        oof = np.empty(n)
        for k, rows in enumerate(groups):
            sel = everything.copy()
            sel[k] = False
            bk = solve(*system(sel))
            if bk is None:
                return None
            slope_k = bk[j0:] / scale
            shift = bk[0] - loc @ slope_k if fit_intercept else 0.0
            for start in range(0, rows.size, block):
                idx = rows[start:start + block]
                oof[idx] = Z[idx] @ slope_k + shift
    coef = beta[j0:] / scale
    intercept = float(beta[0] - loc @ coef) if fit_intercept else 0.0
    if fit_intercept:
        # centred at the weighted mean: S - g g' / a (g = 0 up to rounding for all rows)
        gs, at = g.sum(axis=0), a.sum()
        gram = S.sum(axis=0) - np.outer(gs, gs) / at
    else:
        gram = S.sum(axis=0)
    singular = np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))[::-1]
    return {"coef": coef, "intercept": intercept, "singular": singular, "oof": oof}
