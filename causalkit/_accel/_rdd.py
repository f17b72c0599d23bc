"""Compiled kernels for regression discontinuity: distribution-valued outcomes (R3D) and
the scalar design (nearest-neighbour residuals, window moments).

Every kernel loops over units and quantile levels without building ``(n, m, p)``
temporaries, so memory stays linear in units x quantiles. numba compiles a kernel on
its first call only, so a fit compiles just the kernels it calls.
Kernel codes: 0 triangular, 1 epanechnikov, 2 uniform.
"""

from __future__ import annotations

import numba
import numpy as np

# This module is imported lazily (on the first fit), so numba's import cost is paid
# only by users of the design; kernels are cached to disk after the first compile.
_njit = numba.njit(cache=True)

__all__ = ["locpoly_columns", "nn_residuals", "pava", "pava_rows", "residual_products",
           "sorted_row_quantiles", "window_moments"]


@_njit
def _kern(u, code):
    a = abs(u)
    if a > 1.0:
        return 0.0
    if code == 0:
        return 1.0 - a
    if code == 1:
        return 0.75 * (1.0 - u * u)
    return 0.5


@_njit
def _solve(G, b):
    """Solve ``G z = b`` by Gaussian elimination with partial pivoting; status 1 if singular."""
    P = G.shape[0]
    A = G.copy()
    z = b.copy()
    scale = 0.0
    for a in range(P):
        for c in range(P):
            scale = max(scale, abs(A[a, c]))
    if scale == 0.0:
        return z, 1
    for k in range(P):
        piv = k
        for r in range(k + 1, P):
            if abs(A[r, k]) > abs(A[piv, k]):
                piv = r
        if abs(A[piv, k]) <= 1e-13 * scale:
            return z, 1
        if piv != k:
            for c in range(P):
                tmp = A[k, c]
                A[k, c] = A[piv, c]
                A[piv, c] = tmp
            tmp = z[k]
            z[k] = z[piv]
            z[piv] = tmp
        for r in range(k + 1, P):
            f = A[r, k] / A[k, k]
            for c in range(k, P):
                A[r, c] -= f * A[k, c]
            z[r] -= f * z[k]
    for k in range(P - 1, -1, -1):
        s = z[k]
        for c in range(k + 1, P):
            s -= A[k, c] * z[c]
        z[k] = s / A[k, k]
    return z, 0


@_njit
def locpoly_columns(xc, Q, h, p, code, plus, sw):
    """One-sided local polynomial fits of every column of ``Q``, one bandwidth per column.

    Returns ``alpha`` (p+1, m) on the basis ``((X-c)/h)^r``, intercept weights
    ``W`` (n, m) with ``alpha[0, j] = sum_i W[i, j] Q[i, j]``, the number of units
    in each window, and a status per column (1 = singular design). Loops run
    unit-major so that ``Q`` and ``W`` are read and written row by row.
    """
    n, m = Q.shape
    P = p + 1
    alpha = np.zeros((P, m))
    W = np.zeros((n, m))
    count = np.zeros(m, dtype=np.int64)
    status = np.zeros(m, dtype=np.int64)
    S = np.zeros((m, 2 * P - 1))
    T = np.zeros((m, P))
    hmax = 0.0
    for j in range(m):
        hmax = max(hmax, h[j])
    for i in range(n):
        x = xc[i]
        if plus:
            if x < 0.0:
                continue
        elif x >= 0.0:
            continue
        if abs(x) > hmax or sw[i] == 0.0:
            continue
        for j in range(m):
            u = x / h[j]
            k = _kern(u, code) * sw[i]
            if k == 0.0:
                continue
            count[j] += 1
            y = Q[i, j]
            up = 1.0
            for a in range(2 * P - 1):
                S[j, a] += k * up
                if a < P:
                    T[j, a] += k * up * y
                up *= u
    Z = np.zeros((m, P))
    G = np.zeros((P, P))
    e0 = np.zeros(P)
    e0[0] = 1.0
    for j in range(m):
        for a in range(P):
            for b in range(P):
                G[a, b] = S[j, a + b]
        coef, st1 = _solve(G, T[j].copy())
        z, st2 = _solve(G, e0)
        if st1 or st2 or count[j] < P:
            status[j] = 1
            continue
        for a in range(P):
            alpha[a, j] = coef[a]
            Z[j, a] = z[a]
    for i in range(n):
        x = xc[i]
        if plus:
            if x < 0.0:
                continue
        elif x >= 0.0:
            continue
        if abs(x) > hmax or sw[i] == 0.0:
            continue
        for j in range(m):
            if status[j]:
                continue
            u = x / h[j]
            k = _kern(u, code) * sw[i]
            if k == 0.0:
                continue
            up = 1.0
            s = 0.0
            for a in range(P):
                s += Z[j, a] * up
                up *= u
            W[i, j] = k * s
    return alpha, W, count, status


@_njit
def _pava_into(y, w, out, val, wt, size):
    """:func:`pava` of ``y`` written to ``out``, with work arrays ``val``, ``wt``, ``size``."""
    m = y.shape[0]
    nb = 0
    for j in range(m):
        val[nb] = y[j]
        wt[nb] = w[j]
        size[nb] = 1
        nb += 1
        while nb > 1 and val[nb - 2] > val[nb - 1]:
            ww = wt[nb - 2] + wt[nb - 1]
            val[nb - 2] = (wt[nb - 2] * val[nb - 2] + wt[nb - 1] * val[nb - 1]) / ww
            wt[nb - 2] = ww
            size[nb - 2] += size[nb - 1]
            nb -= 1
    pos = 0
    for b in range(nb):
        for _ in range(size[b]):
            out[pos] = val[b]
            pos += 1


@_njit
def pava(y, w):
    """Weighted least-squares non-decreasing fit (pool-adjacent-violators)."""
    m = y.shape[0]
    out = np.empty(m)
    _pava_into(y, w, out, np.empty(m), np.empty(m), np.empty(m, dtype=np.int64))
    return out


@_njit
def pava_rows(Y, w):
    """:func:`pava` applied to every row of ``Y``."""
    out = np.empty_like(Y)
    for i in range(Y.shape[0]):
        out[i] = pava(Y[i], w)
    return out


@_njit
def residual_products(xc, Q, h, alpha_plus, alpha_minus, Wp, Wm, iso, qw, positive_only,
                      scale, group):
    """``E[i, j] = (Q[i, j] - m_i(q_j)) * W[i, j] * scale[i, group[j]]`` for every unit with a
    non-zero weight.

    ``m_i(q_j)`` is unit i's fitted value from its own side's polynomial at
    bandwidth ``h[j]``; with ``iso`` each unit's fitted row is first projected on
    non-decreasing curves (weights ``qw``; a row already non-decreasing is its own
    projection). ``W = Wp - Wm`` (disjoint supports). With ``positive_only`` only
    units whose own-side weight is positive contribute. ``scale`` holds row factors
    (one column per group of quantile levels).
    """
    n, m = Q.shape
    P = alpha_plus.shape[0]
    E = np.zeros((n, m))
    fit = np.empty(m)
    proj = np.empty(m)
    val = np.empty(m)
    wt = np.empty(m)
    size = np.empty(m, dtype=np.int64)
    for i in range(n):
        plus = xc[i] >= 0.0
        W = Wp if plus else Wm
        any_w = False
        for j in range(m):
            if W[i, j] != 0.0:
                any_w = True
                break
        if not any_w:
            continue
        alpha = alpha_plus if plus else alpha_minus
        mono = True
        for j in range(m):
            u = xc[i] / h[j]
            up = 1.0
            s = 0.0
            for a in range(P):
                s += alpha[a, j] * up
                up *= u
            fit[j] = s
            if j > 0 and s < fit[j - 1]:
                mono = False
        row = fit
        if iso and not mono:
            _pava_into(fit, qw, proj, val, wt, size)
            row = proj
        sign = 1.0 if plus else -1.0
        for j in range(m):
            wij = W[i, j]
            if positive_only and wij <= 0.0:
                continue
            E[i, j] = (Q[i, j] - row[j]) * wij * sign * scale[i, group[j]]
    return E


@_njit
def nn_residuals(x, y, J):
    """Nearest-neighbour residuals for sorted ``x`` (Calonico, Cattaneo and Titiunik 2014).

    For unit i, its neighbours are the other units with the same ``x`` plus
    whole blocks of tied values, nearest first (both blocks when equidistant),
    until at least ``J`` are included; the residual is
    ``sqrt(J_i / (J_i + 1)) (y_i - mean of the neighbours' y)``.
    ``y`` may have several columns.
    """
    n = x.shape[0]
    k = y.shape[1]
    start = np.empty(n, dtype=np.int64)
    stop = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and x[j + 1] == x[i]:
            j += 1
        for t in range(i, j + 1):
            start[t] = i
            stop[t] = j + 1
        i = j + 1
    out = np.zeros((n, k))
    tol = np.sqrt(np.finfo(np.float64).eps)
    cap = min(n - 1, J)
    for pos in range(n):
        lo = start[pos]
        hi = stop[pos]
        while (hi - lo - 1) < cap:
            if lo == 0:
                hi = stop[hi]
            elif hi >= n:
                lo = start[lo - 1]
            else:
                dl = x[pos] - x[lo - 1]
                dr = x[hi] - x[pos]
                t = max(dl, dr) * tol
                if dl - dr > t:
                    hi = stop[hi]
                elif dr - dl > t:
                    lo = start[lo - 1]
                else:
                    hi = stop[hi]
                    lo = start[lo - 1]
        Ji = hi - lo - 1
        if Ji < 1:
            continue
        sf = np.sqrt(Ji / (Ji + 1.0))
        for c in range(k):
            s = 0.0
            for t in range(lo, hi):
                s += y[t, c]
            s -= y[pos, c]
            out[pos, c] = sf * (y[pos, c] - s / Ji)
    return out


@_njit
def sorted_row_quantiles(S, q):
    """Type-7 quantiles of each row of the row-sorted matrix ``S``."""
    n, k = S.shape
    m = q.shape[0]
    out = np.empty((n, m))
    los = np.empty(m, dtype=np.int64)
    his = np.empty(m, dtype=np.int64)
    fracs = np.empty(m)
    for j in range(m):
        hq = (k - 1) * q[j]
        lo = int(np.floor(hq))
        lo = min(k - 1, lo)
        fracs[j] = hq - lo
        los[j] = lo
        his[j] = lo + 1 if lo + 1 < k else k - 1
    for i in range(n):  # row by row: S and out are read and written contiguously
        for j in range(m):
            a = S[i, los[j]]
            out[i, j] = a + fracs[j] * (S[i, his[j]] - a)
    return out


@_njit
def window_moments(x, D, w, lo, hi, h, P, code):
    """Kernel-weighted moments of one window for an order ``P - 1`` fit at bandwidth ``h``.

    With ``u = x / h`` and ``k = K(u) w / h``: ``S[a] = sum k u^a`` for ``a < 2P``,
    ``T[a, c] = sum k u^a D[:, c]`` for ``a < P``, the number of units with ``k != 0``
    and the number of distinct ``x`` among them (``x`` sorted).
    """
    kc = D.shape[1]
    S = np.zeros(2 * P)
    T = np.zeros((P, kc))
    nz = 0
    distinct = 0
    last = 0.0
    for i in range(lo, hi):
        u = x[i] / h
        k = _kern(u, code) * (w[i] / h)
        if k == 0.0:
            continue
        if nz == 0 or x[i] != last:
            distinct += 1
        last = x[i]
        nz += 1
        up = k
        for a in range(2 * P):
            S[a] += up
            if a < P:
                for c in range(kc):
                    T[a, c] += up * D[i, c]
            up *= u
    return S, T, nz, distinct
