r"""Numerical core of regression discontinuity with distribution-valued outcomes (R3D).

Pure functions on arrays; :class:`causalkit.rdd.DistributionalRDD` wires them
together. Formulas follow Van Dijcke (2025); each function says which step it is.

Notation: ``xc = X - cutoff``; the plus side is ``xc >= 0`` (the cutoff counts as
treated), the minus side ``xc < 0``; ``Q`` is the ``(n, m)`` matrix of unit
quantile functions on the grid ``q``; bandwidths ``h`` have one entry per column.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "KERNELS",
    "density_at_cutoff",
    "empirical_quantiles",
    "estimate_curve",
    "gini_from_quantiles",
    "grid_weights",
    "isotonic",
    "kernel_function",
    "kernel_moments",
    "local_polynomial",
    "multiplier_draws",
    "order_statistic_critical_value",
    "rearrange",
    "residual_products",
    "select_bandwidths",
    "sup_test",
]

KERNELS = ("triangular", "epanechnikov", "uniform")
_CODE = {"triangular": 0, "epanechnikov": 1, "uniform": 2}


def kernel_function(kernel: str):
    """The kernel ``K(u)`` with its normalising constant, support ``|u| <= 1``."""
    if kernel == "triangular":
        return lambda u: np.where(np.abs(u) <= 1, 1 - np.abs(u), 0.0)
    if kernel == "epanechnikov":
        return lambda u: np.where(np.abs(u) <= 1, 0.75 * (1 - u * u), 0.0)
    if kernel == "uniform":
        return lambda u: np.where(np.abs(u) <= 1, 0.5, 0.0)
    raise ValueError(f"`kernel` must be one of {KERNELS}; got {kernel!r}.")


def empirical_quantiles(samples, q, overwrite_input=False) -> np.ndarray:
    """Unit quantile functions on ``q`` (Hyndman-Fan type 7, linear interpolation).

    ``samples`` is a sequence of 1-D arrays (one per unit, any lengths) or a 2-D
    array with one unit per row; returns
    the ``(n, m)`` matrix ``Q[i, k] = Q_i(q_k)`` (Van Dijcke 2025, step 0).
    ``overwrite_input`` lets a 2-D float array be sorted in place.
    """
    q = np.asarray(q, dtype=float)
    if isinstance(samples, np.ndarray) and samples.ndim == 2 and samples.dtype != object:
        fresh = overwrite_input and samples.dtype == np.float64 and samples.flags.c_contiguous
        S = samples if fresh else np.array(samples, dtype=float)  # sorted in place
        S.sort(axis=1)
        return _accel().sorted_row_quantiles(S, q)
    samples = [np.asarray(s, dtype=float).ravel() for s in samples]
    out = np.empty((len(samples), q.shape[0]))
    sizes = np.array([s.shape[0] for s in samples])
    for size in np.unique(sizes):  # one vectorised pass per sample size
        rows = np.flatnonzero(sizes == size)
        block = np.sort(np.stack([samples[i] for i in rows]), axis=1)
        out[rows] = _accel().sorted_row_quantiles(block, q)
    return out


def _accel():
    from .._accel import _rdd

    return _rdd


def local_polynomial(xc, Q, h, p, kernel, side, sample_weight=None):
    r"""One-sided local polynomial fits of every column of ``Q``.

    For column j with bandwidth ``h_j``, ``u_i = xc_i / h_j``, basis
    :math:`r(u) = (1, u, \dots, u^p)` and kernel weights ``K(u_i)`` restricted to
    ``side`` ("plus": ``xc >= 0``, "minus": ``xc < 0``):

    .. math:: \hat\alpha = \Gamma^{-1} \sum_i K_i r_i Q_{ij},\quad
              \Gamma = \sum_i K_i r_i r_i^\top,\quad
              w_{ij} = e_1^\top \Gamma^{-1} r_i K_i .

    Returns ``(alpha, W, count)``: coefficients ``(p+1, m)`` on the scaled basis,
    intercept weights ``(n, m)`` (each column sums to one; zero off side or
    outside the window) and the number of units in each window. Raises
    ``ValueError`` when a window holds too few units for a polynomial of order p.
    """
    Q = np.ascontiguousarray(Q, dtype=float)
    n, m = Q.shape
    h = np.ascontiguousarray(np.broadcast_to(np.asarray(h, dtype=float), (m,)))
    sw = np.ones(n) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=float)
    xc = np.ascontiguousarray(xc, dtype=float)
    uniq = np.unique(h)
    if uniq.shape[0] == 1:
        # one bandwidth (``"frechet"``): the weights are the same for every column;
        # W is a read-only broadcast view of one weight vector (no n x m copy)
        on = xc >= 0 if side == "plus" else xc < 0
        u = xc / uniq[0]
        k = kernel_function(kernel)(u) * on * sw
        idx = np.flatnonzero(k != 0)
        R = u[idx, None] ** np.arange(p + 1)
        G = R.T @ (R * k[idx, None])
        count = np.full(m, idx.shape[0], dtype=np.int64)
        status = np.zeros(m, dtype=np.int64)
        alpha = np.zeros((p + 1, m))
        wvec = np.zeros(n)
        if idx.shape[0] < p + 1 or np.linalg.cond(G) > 1e13:
            status[:] = 1
        else:
            L = np.zeros((p + 1, n))
            L[:, idx] = np.linalg.solve(G, (R * k[idx, None]).T)
            alpha = L @ Q
            wvec = L[0]
        W = np.broadcast_to(wvec[:, None], (n, m))
    elif uniq.shape[0] * 4 <= m:
        # few distinct bandwidths (one for "frechet"): weights once per bandwidth,
        # coefficients for all its columns by one matrix product
        alpha = np.zeros((p + 1, m))
        W = np.zeros((n, m))
        count = np.zeros(m, dtype=np.int64)
        status = np.zeros(m, dtype=np.int64)
        on = xc >= 0 if side == "plus" else xc < 0
        K = kernel_function(kernel)
        for hk in uniq:
            cols = np.flatnonzero(h == hk)
            u = xc / hk
            k = K(u) * on * sw
            idx = np.flatnonzero(k != 0)
            count[cols] = idx.shape[0]
            R = u[idx, None] ** np.arange(p + 1)
            G = R.T @ (R * k[idx, None])
            if idx.shape[0] < p + 1 or np.linalg.cond(G) > 1e13:
                status[cols] = 1
                continue
            L = np.linalg.solve(G, (R * k[idx, None]).T)
            if cols.shape[0] == m:
                alpha[:] = L @ Q[idx]
                W[idx] = L[0][:, None]
            else:
                alpha[:, cols] = L @ Q[np.ix_(idx, cols)]
                W[np.ix_(idx, cols)] = L[0][:, None]
    else:
        alpha, W, count, status = _accel().locpoly_columns(xc, Q, h, int(p), _CODE[kernel],
                                                           side == "plus", sw)
    if status.any():
        j = int(np.flatnonzero(status)[0])
        where = "X >= cutoff" if side == "plus" else "X < cutoff"
        raise ValueError(
            f"Too few units with {where} inside the bandwidth window: {int(count[j])} unit(s) "
            f"within h = {h[j]:.4g} of the cutoff, but a local polynomial of order p = {p} needs "
            f"at least {p + 1} distinct running-variable values. Use a larger `bandwidth`, a "
            "smaller `p`, or more units near the cutoff."
        )
    return alpha, W, count


def rearrange(y, q) -> np.ndarray:
    """Monotone rearrangement (Chernozhukov, Fernandez-Val and Galichon, 2010).

    The curve ``y(q)`` is linearly interpolated on a lattice of 1001 points of the
    rescaled grid ``t = (q - min q)/(max q - min q)`` and its rearranged version is
    the type-7 quantile function of those values, read at ``t``.
    """
    y = np.asarray(y, dtype=float)
    q = np.asarray(q, dtype=float)
    if y.shape[0] < 2:
        return y.copy()
    t = (q - q.min()) / (q.max() - q.min())
    lattice = np.interp(np.linspace(0.0, 1.0, 1001), t, y)
    return np.quantile(lattice, t, method="linear")


def grid_weights(q) -> np.ndarray:
    """Cell widths of a grid (midpoint to midpoint); constant on a uniform grid."""
    q = np.asarray(q, dtype=float)
    if q.shape[0] == 1:
        return np.ones(1)
    ext = np.concatenate([[2 * q[0] - q[1]], q, [2 * q[-1] - q[-2]]])
    return (ext[2:] - ext[:-2]) / 2.0


def isotonic(y, weights=None) -> np.ndarray:
    """L2 projection of ``y`` onto non-decreasing sequences (weighted PAVA)."""
    y = np.ascontiguousarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.ascontiguousarray(weights, dtype=float)
    m = y.shape[0]
    out = np.empty(m)
    # the kernel the residual pass uses too: one compile serves both
    _accel()._pava_into(y, w, out, np.empty(m), np.empty(m), np.empty(m, dtype=np.int64))
    return out


def gini_from_quantiles(q, qf) -> float:
    r"""Gini coefficient of the distribution with quantile function ``qf`` on ``q``.

    :math:`G = 1 - 2\int_0^1 L(t)\,dt` with the Lorenz curve
    :math:`L(t) = \int_0^t Q / \int_0^1 Q` (trapezoid rule; the curve is extended
    as a constant to ``q = 0`` and ``q = 1``). NaN when the mean is not positive;
    clipped to [0, 1].
    """
    q = np.asarray(q, dtype=float)
    qf = np.asarray(qf, dtype=float)
    order = np.argsort(q, kind="stable")
    q, qf = q[order], qf[order]
    if q[0] > 0:
        q, qf = np.r_[0.0, q], np.r_[qf[0], qf]
    if q[-1] < 1:
        q, qf = np.r_[q, 1.0], np.r_[qf, qf[-1]]
    dq = np.diff(q)
    cum = np.r_[0.0, np.cumsum(dq * (qf[1:] + qf[:-1]) / 2)]
    mean = cum[-1]
    if not np.isfinite(mean) or mean <= 0:
        return float("nan")
    lor = cum / mean
    g = 1.0 - 2.0 * float(np.sum(dq * (lor[1:] + lor[:-1]) / 2))
    return float(min(max(g, 0.0), 1.0))


def density_at_cutoff(xc, kernel, sample_weight=None) -> float:
    """Kernel density of X at the cutoff, rule-of-thumb bandwidth ``1.06 sd n^(-1/5)``."""
    xc = np.asarray(xc, dtype=float)
    n = xc.shape[0]
    cn = 1.06 * np.std(xc, ddof=1) * n ** (-0.2)
    k = kernel_function(kernel)(xc / cn)
    if sample_weight is None:
        return float(np.mean(k) / cn)
    return float(np.sum(sample_weight * k) / np.sum(sample_weight) / cn)


def kernel_moments(kernel, s):
    r"""One-sided kernel moment matrices for a local polynomial of order ``s``.

    Riemann sums over 1000 points of [-1, 1] (cell width 2/1000):
    :math:`\Gamma_\pm = \int_\pm K r r^\top`, :math:`\Lambda_\pm = \int_\pm u^{s+1} K r`,
    :math:`\Psi_\pm = \int_\pm K^2 r r^\top`. Returns the boundary bias constant
    :math:`e_1^\top\Gamma^{-1}\Lambda` and variance constant
    :math:`e_1^\top\Gamma^{-1}\Psi\Gamma^{-1}e_1` for each side.
    """
    u = np.linspace(-1.0, 1.0, 1000)
    K = kernel_function(kernel)(u)
    R = u[:, None] ** np.arange(s + 1)
    out = {}
    for side, mask in (("plus", u >= 0), ("minus", u < 0)):
        Ru, Ku, uu = R[mask], K[mask], u[mask]
        G = (Ru * Ku[:, None]).T @ Ru * (2 / 1000)
        L = (Ru * (Ku * uu ** (s + 1))[:, None]).sum(axis=0) * (2 / 1000)
        P = (Ru * (Ku**2)[:, None]).T @ Ru * (2 / 1000)
        Gi = np.linalg.inv(G)
        out[side] = (float((Gi @ L)[0]), float((Gi @ P @ Gi)[0, 0]))
    return out


def _side_moments(z, Q, P, w):
    """Per side (0: ``z < 0``, 1: ``z >= 0``) the weighted moments ``sum w r r'``,
    ``sum w r Q`` and ``sum w Q^2`` with ``r = (1, z, ..., z^(P-1))``, and the units.

    Matrix products over all rows with the other side's weights set to zero (no copy
    of ``Q``); numpy only, so that no kernel is compiled for this step."""
    R = np.empty((z.shape[0], P))
    R[:, 0] = 1.0
    for a in range(1, P):
        R[:, a] = R[:, a - 1] * z
    plus = z >= 0
    XtX = np.empty((2, P, P))
    XtQ = np.empty((2, P, Q.shape[1]))
    Q2 = np.empty((2, Q.shape[1]))
    cnt = np.empty(2, dtype=np.int64)
    for k, on in ((0, ~plus), (1, plus)):
        wk = np.where(on, w, 0.0)
        Rw = R.T * wk
        XtX[k] = Rw @ R
        XtQ[k] = Rw @ Q
        Q2[k] = np.einsum("i,ij,ij->j", wk, Q, Q)
        cnt[k] = int(np.count_nonzero(on))
    return XtX, XtQ, Q2, cnt


def _positive_weight_variance(xc, Q, h, alpha, W, plus):
    """Per column ``sum w e^2 / sum w`` over the units on the ``plus`` side with weight
    ``w > 0``, ``e`` the residual of the polynomial ``alpha`` in ``u = xc / h``."""
    W = np.asarray(W)
    h = np.asarray(h, dtype=float)
    on = xc >= 0 if plus else xc < 0
    P = alpha.shape[0]
    if W.strides[1] == 0 and np.all(h == h[0]):  # one weight vector for every column
        wv = W[:, 0]
        rows = np.flatnonzero(on & (wv > 0))
        u = xc[rows] / h[0]
        R = np.empty((rows.shape[0], P))
        R[:, 0] = 1.0
        for a in range(1, P):
            R[:, a] = R[:, a - 1] * u
        E = Q[rows] - R @ alpha
        num = np.einsum("i,ij,ij->j", wv[rows], E, E)
        den = np.full(Q.shape[1], wv[rows].sum())
    else:
        rows = np.flatnonzero(on & (W > 0).any(axis=1))
        Wr = W[rows]
        Wr = np.where(Wr > 0, Wr, 0.0)
        U = xc[rows][:, None] / h[None, :]
        fit = np.broadcast_to(alpha[0], U.shape).copy()
        up = U.copy()
        for a in range(1, P):
            fit += alpha[a] * up
            up *= U
        E = Q[rows] - fit
        num = np.einsum("ij,ij,ij->j", Wr, E, E)
        den = Wr.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _global_pilots(xc, Q, s, sw=None):
    """Per side, OLS of Q on (1, xc, ..., xc^(s+1)): top coefficient and residual variance.

    One pass over ``Q`` accumulates the normal equations of both sides (on the
    running variable scaled by its standard deviation, for conditioning); the
    residual variance (ddof = 1) is the residual sum of squares over ``n - 1``.
    Returns ``{"plus": (coef, var), "minus": (coef, var)}``.
    """
    P = s + 2
    scale = float(np.std(xc)) or 1.0
    w = np.ones_like(xc) if sw is None else np.asarray(sw, dtype=float)
    XtX, XtQ, Q2, cnt = _side_moments(xc / scale, np.ascontiguousarray(Q, dtype=float), P, w)
    out = {}
    for side, k in (("minus", 0), ("plus", 1)):
        coef = np.linalg.lstsq(XtX[k], XtQ[k], rcond=None)[0]
        rss = Q2[k] - np.sum(coef * XtQ[k], axis=0)
        nk = int(cnt[k])
        var = rss / (nk - 1) if nk > 1 else np.full(Q.shape[1], np.nan)
        var = np.where(np.isfinite(var) & (var >= np.finfo(float).eps), var, 1.0)
        out[side] = (coef[s + 1] / scale ** (s + 1), var)
    return out


def _mse_bandwidth(var_term, bias_term, s, n):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return (var_term / (2 * (s + 1) * bias_term**2)) ** (1 / (2 * s + 3)) * n ** (-1 / (2 * s + 3))


def _apply_fallback(h, bias, fallback):
    h = np.asarray(h, dtype=float)
    bad = ~np.isfinite(h) | (h <= 0) | (np.abs(bias) <= 1e-14)
    return np.where(bad, fallback, h)


def select_bandwidths(xc, Q, q, *, method="simple", s=1, kernel="epanechnikov",
                      legacy=False, sample_weight=None):
    r"""MSE-optimal bandwidths for the one-sided intercepts (Van Dijcke 2025, appendix).

    Two-step plug-in for a local polynomial of order ``s``:

    1. global polynomial of order s+1 on each side gives the derivative
       :math:`m^{(s+1)}/(s+1)!` and residual variance :math:`\sigma^2`;
       with the kernel constants of :func:`kernel_moments` this gives a pilot
       :math:`h_0 = [C_V / (2(s+1) C_B^2)]^{1/(2s+3)} n^{-1/(2s+3)}`,
       :math:`C_B = b_+ m_+ - b_- m_-`, :math:`C_V = (v_+\sigma^2_+ + v_-\sigma^2_-)/\hat f(c)`;
    2. local fits at :math:`h_0` re-estimate the bias and variance terms and
       the same formula gives the final bandwidth.

    ``method="simple"`` gives one bandwidth per quantile; ``"frechet"`` one
    integrated (IMSE) bandwidth from the grid sums of :math:`C_B^2` and
    :math:`C_V` (spacing ``(max q - min q)/(m - 1)``). Whenever the bias term
    vanishes or the result is not positive, ``1.06 sd(X) n^{-1/(2s+1)}`` is used.

    Step 2 by default fits a local polynomial of order ``s + 1`` with the chosen
    kernel and uses its top coefficient divided by :math:`h_0^{s+1}` (an estimate of
    :math:`m^{(s+1)}/(s+1)!`) inside the full formula with kernel constants.
    ``legacy=True`` reproduces the R package ``R3D`` (v. 28744db) instead: the step-2
    fits use the triangular kernel whatever ``kernel`` is, have order ``s``, the bias
    term is the coefficient of :math:`u^s` divided by (s+1)! on the scaled basis,
    and the final formula omits the kernel constants.

    Returns a dict with ``h`` (length m), ``pilot``, ``B_plus``, ``B_minus``,
    ``V_plus``, ``V_minus`` and ``f_X``.
    """
    xc = np.asarray(xc, dtype=float)
    Q = np.asarray(Q, dtype=float)
    if Q.ndim == 1:
        Q = Q[:, None]
    n, m = Q.shape
    q = np.asarray(q, dtype=float).ravel()
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    sigma = float(np.std(xc, ddof=1))
    fallback = 1.06 * sigma * n ** (-1 / (2 * s + 1))
    f = density_at_cutoff(xc, kernel, sw)
    consts = kernel_moments(kernel, s)
    (bp, vp), (bm, vm) = consts["plus"], consts["minus"]
    pilots = _global_pilots(xc, Q, s, sw)
    (coef_p, var_p), (coef_m, var_m) = pilots["plus"], pilots["minus"]
    CB = bp * coef_p - bm * coef_m
    CV = (var_p * vp + var_m * vm) / f
    dq = (q.max() - q.min()) / (m - 1) if m > 1 else 1.0

    def combine(cb, cv):
        if method == "simple":
            return _apply_fallback(_mse_bandwidth(cv, cb, s, n), cb, fallback)
        A, B = dq * np.sum(cb**2), dq * np.sum(cv)
        h = _apply_fallback(_mse_bandwidth(B, np.sqrt(A), s, n), np.sqrt(A), fallback)
        return np.full(m, float(h))

    pilot = combine(CB, CV)
    order = s if legacy else s + 1
    pk = "triangular" if legacy else kernel
    res = {}
    for side in ("plus", "minus"):
        alpha, W, _ = local_polynomial(xc, Q, pilot, order, pk, side, sw)
        V = _positive_weight_variance(xc, Q, pilot, alpha, W, side == "plus")
        if legacy:
            Bcoef = alpha[s] / math.factorial(s + 1)
        else:
            Bcoef = alpha[s + 1] / pilot ** (s + 1)
        res[side] = (Bcoef, V)
    (Bp, Vp), (Bm, Vm) = res["plus"], res["minus"]
    if legacy:
        h = combine(Bp - Bm, (Vp + Vm) / f)
    else:
        h = combine(bp * Bp - bm * Bm, (Vp * vp + Vm * vm) / f)
    return {"h": h, "pilot": pilot, "B_plus": Bp, "B_minus": Bm, "V_plus": Vp,
            "V_minus": Vm, "f_X": f}


def estimate_curve(xc, Q, q, h, *, method="frechet", p=2, kernel="epanechnikov",
                   treatment=None, h_treatment=None, sample_weight=None, weighted_iso=True):
    r"""Local polynomial (``"simple"``) or local Frechet (``"frechet"``) R3D estimate.

    Intercepts :math:`\hat\alpha_{\pm,0}(q)` of one-sided local polynomials of
    order ``p`` on the columns of ``Q``; made monotone in q by rearrangement
    (simple) or by the L2 projection onto non-decreasing functions (frechet,
    Petersen and Mueller 2019 local Frechet regression in Wasserstein space);
    :math:`\hat\tau(q) = \hat\alpha_{+,0}(q) - \hat\alpha_{-,0}(q)`. With
    ``treatment``, divided by the jump :math:`\hat\Delta_T` of a local polynomial
    of the treatment at bandwidth ``h_treatment`` (Van Dijcke 2025).

    ``weighted_iso`` weights the projection by the grid's cell widths (the L2 norm
    on [0, 1]); on a uniform grid this equals the unweighted projection.
    """
    xc = np.asarray(xc, dtype=float)
    q = np.asarray(q, dtype=float)
    m = q.shape[0]
    h = np.broadcast_to(np.asarray(h, dtype=float), (m,)).copy()
    ap, Wp, cp = local_polynomial(xc, Q, h, p, kernel, "plus", sample_weight)
    am, Wm, cm = local_polynomial(xc, Q, h, p, kernel, "minus", sample_weight)
    qw = grid_weights(q) if weighted_iso else np.ones(m)
    if method == "simple":
        ip, im = rearrange(ap[0], q), rearrange(am[0], q)
    else:
        ip, im = isotonic(ap[0], qw), isotonic(am[0], qw)
    out = {"alpha_plus": ap, "alpha_minus": am, "w_plus": Wp, "w_minus": Wm, "h": h,
           "int_plus": ip, "int_minus": im, "n_plus": cp, "n_minus": cm, "qw": qw,
           "tau_num": ip - im}
    tau = ip - im
    if treatment is not None:
        t = np.asarray(treatment, dtype=float)[:, None]
        tp, TWp, _ = local_polynomial(xc, t, h_treatment, p, kernel, "plus", sample_weight)
        tm, TWm, _ = local_polynomial(xc, t, h_treatment, p, kernel, "minus", sample_weight)
        denom = float(tp[0, 0] - tm[0, 0])
        out.update(t_alpha_plus=tp[:, 0], t_alpha_minus=tm[:, 0], t_w_plus=TWp[:, 0],
                   t_w_minus=TWm[:, 0], denom=denom, h_treatment=float(h_treatment))
        tau = tau / denom if abs(denom) >= 1e-14 else np.full(m, np.nan)
    out["tau"] = tau
    return out


def residual_products(xc, Q, fit, *, method, positive_only=False, row_scale=None):
    """``E[i, j] = e_i(q_j) (w_plus - w_minus)[i, j]``: the linear influence of unit i.

    ``e_i(q) = Q_i(q) - m_i(q)`` with ``m_i`` unit i's fitted value on its side
    (each row projected on non-decreasing curves for ``"frechet"``). With
    ``positive_only`` units whose own-side weight is not positive get zero (as in
    the R package). ``row_scale`` maps each distinct bandwidth of ``fit["h"]`` to
    factors ``(n,)`` that multiply the rows of the columns fitted at it.
    """
    h = np.ascontiguousarray(fit["h"], dtype=float)
    n = np.shape(xc)[0]
    if row_scale is None:
        scale, group = np.ones((n, 1)), np.zeros(h.shape[0], dtype=np.int64)
    else:
        keys = sorted(row_scale)
        scale = np.ascontiguousarray(np.column_stack([row_scale[k] for k in keys]), dtype=float)
        group = np.searchsorted(np.asarray(keys, dtype=float), h).astype(np.int64)
    return _accel().residual_products(
        np.ascontiguousarray(xc, dtype=float), np.ascontiguousarray(Q, dtype=float),
        h, np.ascontiguousarray(fit["alpha_plus"]),
        np.ascontiguousarray(fit["alpha_minus"]), fit["w_plus"], fit["w_minus"],
        method == "frechet", np.ascontiguousarray(fit["qw"]), bool(positive_only), scale, group)


def treatment_products(xc, treatment, fit, *, legacy=False):
    """First-stage analogue of :func:`residual_products` (one column).

    By default the treatment residuals are weighted by the treatment equation's
    own intercept weights. ``legacy=True`` uses the outcome weights of the first
    quantile and their positive support, as the R package does.
    """
    xc = np.asarray(xc, dtype=float)
    t = np.asarray(treatment, dtype=float)
    plus = xc >= 0
    ht = fit["h_treatment"]
    u = xc / ht
    P = fit["t_alpha_plus"].shape[0]
    powers = u[:, None] ** np.arange(P)
    fitted = np.where(plus, powers @ fit["t_alpha_plus"], powers @ fit["t_alpha_minus"])
    e = t - fitted
    if legacy:
        wp, wm = fit["w_plus"][:, 0], fit["w_minus"][:, 0]
        keep = np.where(plus, wp > 0, wm > 0)
        return np.where(keep, e, 0.0) * (wp - wm)
    return e * (fit["t_w_plus"] - fit["t_w_minus"])


def multiplier_draws(E, xi) -> np.ndarray:
    """Draws ``nu[b, j] = sum_i xi[i, b] E[i, j]`` for multipliers ``xi`` (n, B)."""
    return np.asarray(xi, dtype=float).T @ np.asarray(E, dtype=float)


def order_statistic_critical_value(sup, alpha) -> float:
    """The ``ceil((1 - alpha)(B + 1))``-th smallest of ``sup`` (capped at B)."""
    sup = np.sort(np.asarray(sup, dtype=float))
    B = sup.shape[0]
    k = min(max(math.ceil((1 - alpha) * (B + 1)), 1), B)
    return float(sup[k - 1])


def sup_test(tau, draws, mask, kind="nullity"):
    """Sup-norm tests over the grid points in ``mask``.

    Nullity: statistic ``max |tau|``; homogeneity: ``max |tau - mean tau|`` with each
    draw centred by its own mean. p-value = share of draws at least as large.
    """
    t = np.asarray(tau)[mask]
    d = np.asarray(draws)[:, mask]
    if kind == "nullity":
        stat = float(np.max(np.abs(t)))
        null = np.max(np.abs(d), axis=1)
    elif kind == "homogeneity":
        stat = float(np.max(np.abs(t - t.mean())))
        null = np.max(np.abs(d - d.mean(axis=1, keepdims=True)), axis=1)
    else:
        raise ValueError(f"`kind` must be 'nullity' or 'homogeneity'; got {kind!r}.")
    return stat, float(np.mean(null >= stat))
