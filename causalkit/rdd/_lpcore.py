"""Numerical core of scalar local polynomial RD: one-sided fits, residuals, variances, bandwidths.

Pure functions on arrays sorted by the centred running variable. The notation follows
Calonico, Cattaneo and Titiunik (2014, CCT): for a side with units ``x_i`` (centred),
bandwidth ``h`` and order ``p``, ``u_i = x_i / h``, basis ``r_p(u) = (1, u, ..., u^p)``,
kernel weights ``k_i = K(u_i) / h * w_i`` and ``Gamma = sum_i k_i r_i r_i'``. The rows
``Gamma^{-1} r_i k_i`` are the linear weights of the scaled coefficients
(coefficient ``j`` is ``h^j m^{(j)}(0) / j!``).
"""

from __future__ import annotations

import math

import numpy as np

from ._core import kernel_function

__all__ = ["Side", "WindowFit", "residuals", "quad_form", "select_bandwidth",
           "window_residuals"]

#: Pilot-bandwidth constants of Calonico, Cattaneo and Titiunik (2014) per kernel.
PILOT = {"triangular": 2.576, "epanechnikov": 2.34, "uniform": 1.843}


class Side:
    """Units of one side of the cutoff, sorted by the centred running variable.

    ``x`` centred running variable, ``D`` ``(n, k)`` columns (outcome, treatment,
    covariates), ``w`` sample weights, ``g`` integer cluster codes or None.
    ``left`` is True below the cutoff. The moments and the nearest-neighbour
    residuals of each window are computed once and kept; a side made by
    :meth:`with_columns` with ``share=True`` asks its parent for those of the windows
    that every outcome uses (the parent computes them for all its columns at once).
    """

    __slots__ = ("x", "D", "w", "g", "left", "n_unique", "_nn", "_moments", "_parent", "_keep")

    def __init__(self, x, D, w, g, left, n_unique=None):
        self.x = np.ascontiguousarray(x, dtype=float)
        self.D = np.ascontiguousarray(D, dtype=float)
        self.w = np.ascontiguousarray(w, dtype=float)
        self.g, self.left = g, left
        if n_unique is None:
            n_unique = int(np.count_nonzero(np.diff(self.x))) + 1 if self.x.shape[0] else 0
        self.n_unique = n_unique
        self._nn = {}
        self._moments = {}
        self._parent = self._keep = None

    def with_columns(self, keep, share=False):
        """The same units with the columns ``keep`` of ``D`` (``share``: see the class)."""
        new = Side(self.x, self.D[:, keep], self.w, self.g, self.left, self.n_unique)
        if share:
            new._parent, new._keep = self, list(keep)
        return new

    def moments(self, sl, h, P, kernel, shared=False):
        """:func:`window_moments` of the window ``sl`` at ``h``: kept, and those of a higher
        order serve a lower one (its moments are the leading entries)."""
        if shared and self._parent is not None:
            S, T, nz, distinct = self._parent.moments(sl, h, P, kernel)
            return S, T[:, self._keep], nz, distinct
        key = (sl.start, sl.stop, float(h), kernel)
        got = self._moments.get(key)
        if got is None or got[0].shape[0] < 2 * P:
            if self.x.shape[0] >= COMPILED_MOMENTS_MIN:
                from .._accel import _rdd

                got = _rdd.window_moments(self.x, self.D, self.w, sl.start, sl.stop, float(h),
                                          P, _KCODE[kernel])
            else:
                got = _window_moments(self.x[sl], self.D[sl], self.w[sl], float(h), P, kernel)
            self._moments[key] = got
        S, T, nz, distinct = got
        return S[:2 * P], T[:P], nz, distinct

    def window(self, h, closed):
        """Slice of the units with ``|x| < h`` (``|x| <= h`` when ``closed``)."""
        if self.left:
            return slice(int(np.searchsorted(self.x, -h, "left" if closed else "right")),
                         self.x.shape[0])
        return slice(0, int(np.searchsorted(self.x, h, "right" if closed else "left")))

    def unique_distance(self, k):
        """Distance to the cutoff of the ``k``-th nearest distinct value (the farthest if fewer)."""
        n = self.x.shape[0]
        # the k nearest distinct values lie among the k nearest blocks of ties: walk outwards
        step = max(4 * k, 64)
        m = min(n, step)
        while True:
            ax = np.abs(self.x[n - m:][::-1] if self.left else self.x[:m])
            u = ax[np.r_[True, np.diff(ax) != 0]]
            if u.shape[0] >= k or m == n:
                return float(u[min(k, u.shape[0]) - 1])
            m = min(n, 4 * m)

    def nn_residuals(self, sl, nnmatch, shared=False):
        """Nearest-neighbour residuals of all columns of ``D`` in the window ``sl``
        (computed within the window, ties grouped; kept for reuse)."""
        if shared and self._parent is not None:
            return self._parent.nn_residuals(sl, nnmatch)[:, self._keep]
        key = (sl.start, sl.stop, int(nnmatch))
        res = self._nn.get(key)
        if res is None:
            from .._accel import _rdd

            res = _rdd.nn_residuals(self.x[sl], self.D[sl], int(nnmatch))
            self._nn[key] = res
        return res


_KCODE = {"triangular": 0, "epanechnikov": 1, "uniform": 2}

#: Sides with at least this many units take their window moments from a compiled
#: kernel; smaller ones from numpy, so that a small fit compiles one kernel only.
COMPILED_MOMENTS_MIN = 40_000


def _window_moments(x, D, w, h, P, kernel):
    """numpy version of the compiled ``window_moments``: ``S[a] = sum k u^a`` (``a < 2P``),
    ``T[a] = sum k u^a D`` (``a < P``), the units with ``k != 0`` and their distinct values."""
    u = x / h
    k = kernel_function(kernel)(u) * (w / h)
    on = k != 0
    if not on.all():
        u, k, D, x = u[on], k[on], D[on], x[on]
    nz = int(k.shape[0])
    distinct = int(np.count_nonzero(np.diff(x))) + 1 if nz else 0
    S = np.empty(2 * P)
    T = np.empty((P, D.shape[1]))
    up = k.copy()
    for a in range(2 * P):
        S[a] = up.sum()
        if a < P:
            T[a] = np.einsum("i,ij->j", up, D)
        up *= u
    return S, T, nz, distinct


class WindowFit:
    """Kernel-weighted least squares of ``D`` on ``r_order(x / h)`` over a window of a side
    (CCT 2014, eq. 4), from the window's moments.

    ``beta = Gamma^{-1} sum_i k_i r_i D_i`` are the scaled coefficients;
    :meth:`row` gives the linear weights ``e_j' Gamma^{-1} r_i k_i`` of one
    coefficient without forming all of them. Indexing by "rows" (``Gamma^{-1} (R k)'``,
    shape ``(order + 1, n)``), "R" (the basis), "k" (the kernel weights) and "beta" gives
    the window's arrays (the first three built on demand).
    """

    def __init__(self, side, sl, h, order, kernel, shared=False):
        self.side, self.sl, self.h, self.order, self.kernel = side, sl, float(h), order, kernel
        P = order + 1
        S, T, nz, distinct = side.moments(sl, self.h, P, kernel, shared)
        idx = np.arange(P)
        G = S[idx[:, None] + idx[None, :]]
        if distinct < P or not np.all(np.isfinite(G)) or np.linalg.cond(G) > 1e14:
            raise SingularFit(
                f"only {distinct} distinct running-variable value(s) ({nz} unit(s)) lie within "
                f"{h:.4g} of the cutoff on one side, and a polynomial of order {order} needs at "
                f"least {order + 1}")
        self.S, self.nz = S, int(nz)
        self.Ginv = np.linalg.inv(G)
        self.beta = self.Ginv @ T
        self._cache = {}

    def row(self, j):
        """Linear weights of coefficient ``j`` over the window (``self["rows"][j]``)."""
        z = self.Ginv[j]
        u = self.side.x[self.sl] / self.h
        s = np.full(u.shape[0], z[0])
        up = u.copy()
        for a in range(1, z.shape[0]):
            s += z[a] * up
            up *= u
        k = kernel_function(self.kernel)(u)
        k *= self.side.w[self.sl] / self.h
        return k * s

    def moment(self, j, power):
        """``rows[j] @ (x / h) ** power`` for ``power`` up to ``order + 1``."""
        P = self.order + 1
        return float(self.Ginv[j] @ self.S[power:power + P])

    def __getitem__(self, name):
        if name == "beta":
            return self.beta
        if name not in self._cache:
            x = self.side.x[self.sl]
            u = x / self.h
            k = kernel_function(self.kernel)(u) * (self.side.w[self.sl] / self.h)
            R = np.empty((u.shape[0], self.order + 1))
            R[:, 0] = 1.0
            for j in range(1, self.order + 1):
                R[:, j] = R[:, j - 1] * u
            self._cache.update(R=R, k=k, rows=self.Ginv @ (R.T * k))
        return self._cache[name]


class SingularFit(ValueError):
    """Too few (distinct) units in a window for a polynomial of the order asked."""


def _cluster_adjusted(res, fit, g, power):
    """Residuals of each cluster times ``(I - H_gg)^{-power}`` (``power`` 1/2: CR2,
    Bell and McCaffrey 2002; 1: CR3, Pustejovsky and Tipton 2018), with
    ``H_gg = R_g (R'KR)^{-1} R_g' K_g`` the cluster's block of the weighted hat matrix.
    The power is taken through the symmetric form ``K^{1/2} R (R'KR)^{-1} R' K^{1/2}``."""
    out = res.copy()
    order = np.argsort(g, kind="stable")
    gs = g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    ends = np.r_[starts[1:], gs.shape[0]]
    R, rows, k = fit["R"], fit["rows"], fit["k"]
    for a, b in zip(starts, ends):
        idx = order[a:b]
        kg = k[idx]
        if np.all(kg > 0):
            sk = np.sqrt(kg)
            Hs = (R[idx] @ rows[:, idx]) * (sk[:, None] / sk[None, :])  # symmetric
            val, vec = np.linalg.eigh(np.eye(idx.shape[0]) - (Hs + Hs.T) / 2)
            val = np.maximum(val, 1e-12)
            M = (vec * val**-power) @ vec.T
            out[idx] = (M @ (res[idx] * sk[:, None])) / sk[:, None]
        else:
            from scipy.linalg import fractional_matrix_power

            M = np.real(fractional_matrix_power(np.eye(idx.shape[0]) - R[idx] @ rows[:, idx],
                                                -power))
            out[idx] = M @ res[idx]
    return out


def residuals(x, D, fit, vce, nnmatch, g=None):
    """Residuals whose squares estimate the conditional variance (CCT 2014, sec. 3.2).

    ``nn``: nearest-neighbour residuals with ties grouped (``x`` sorted);
    ``hc0``..``hc3``: least-squares residuals of ``fit`` scaled as in MacKinnon and
    White (1985), with ``n`` the units and ``order + 1`` the parameters of the fit.
    """
    if vce == "nn":
        from .._accel import _rdd

        return _rdd.nn_residuals(np.ascontiguousarray(x, float), np.ascontiguousarray(D, float),
                                 int(nnmatch))
    res = D - fit["R"] @ fit["beta"]
    n, d = x.shape[0], fit["R"].shape[1]
    if vce in ("cr2", "cr3"):
        return _cluster_adjusted(res, fit, g, 0.5 if vce == "cr2" else 1.0)
    if vce == "hc0":
        return res
    if vce == "hc1":
        return res * math.sqrt(n / (n - d))
    hii = np.einsum("ij,ji->i", fit["R"], fit["rows"])
    f = 1 / np.maximum(1 - hii, 1e-12)
    return res * (np.sqrt(f) if vce == "hc2" else f)[:, None]


def quad_form(row, res, s, g):
    """``sum_i (row_i res_i's)^2``; with clusters ``g``, the sum over clusters of the
    squared sums times the CR1 factor ``G/(G-1) (n-1)/(n-k)`` (``G`` clusters and ``n``
    units in the window, ``k`` the parameters of the fit that gave ``res``)."""
    # elementwise products and numpy's pairwise sums: a threaded BLAS call on one long
    # vector costs more in thread wake-ups than it saves, most of all on a busy machine
    e = row * (res[:, 0] * s[0] if s.shape[0] == 1 else np.einsum("ij,j->i", res, s))
    if g is None:
        return float(np.sum(e * e))
    _, inv = np.unique(g, return_inverse=True)
    c = np.bincount(inv, weights=e)
    return float(c @ c)


def cluster_factor(g, n, k, vce=None):
    """CR1 small-sample factor ``G/(G-1) (n-1)/(n-k)`` of one side (1 without clusters
    and for CR2/CR3, whose residuals carry their own correction)."""
    if g is None or vce in ("cr2", "cr3"):
        return 1.0
    G = int(np.unique(g).shape[0])
    if G < 2 or n <= k:
        return float("nan")
    return (G / (G - 1)) * ((n - 1) / (n - k))


def window_residuals(side, sl, fit, vce, nnmatch, shared=False):
    """:func:`residuals` of the window ``sl`` of ``side`` (nearest-neighbour ones are kept
    on the side and shared by every fit on that window)."""
    if vce == "nn":
        return side.nn_residuals(sl, nnmatch, shared)
    g = None if side.g is None else side.g[sl]
    return residuals(side.x[sl], side.D[sl], fit, vce, nnmatch, g)


def _terms(side, o, nu, o_B, h_V, h_B, scale, kernel, vce, nnmatch, combo, shared_B=False,
           last=None):
    """Variance, bias and regularisation constants of one side for an order-``o`` fit of
    derivative ``nu`` (CCT 2014, sec. 4; Calonico, Cattaneo and Farrell 2020).

    The bias (and its variance in the regularisation) comes from the coefficient of
    order ``o + 1`` of the order-``o_B`` fit, or, when ``last`` is a number, from its
    last one (order ``o_B``) computed on the running variable divided by ``last``: the
    coefficient times ``last ** (o_B - o - 1)`` (and its variance times the square).
    Both are the same when ``o_B == o + 1``.

    The variance window (the pilot ``h_V``) is the same for every outcome on one
    running variable, and so is the bias window when ``shared_B``: their moments and
    residuals may come from a parent side (:meth:`Side.with_columns`)."""
    closed = kernel == "uniform"
    sV = side.window(h_V, closed)
    fV = WindowFit(side, sV, h_V, o, kernel, shared=True)
    s = combo(fV, h_V, nu, side.D[sV])
    gV = None if side.g is None else side.g[sV]
    resV = window_residuals(side, sV, fV, vce, nnmatch, shared=True)
    nV = sV.stop - sV.start
    V_V = quad_form(fV.row(nu), resV, s, gV) * cluster_factor(gV, nV, o + 1, vce)
    bconst = fV.moment(nu, o + 1)
    sB = side.window(h_B, closed)
    fB = WindowFit(side, sB, h_B, o_B, kernel, shared=shared_B)
    j = o + 1 if last is None else o_B  # the derivative the bias depends on
    unit = 1.0 if last is None else last ** (j - o - 1)
    bB = fB.beta[j] / h_B**j * unit
    B = math.sqrt(2 * (o + 1 - nu)) * bconst * float(bB @ s)
    R = 0.0
    if scale > 0:
        gB = None if side.g is None else side.g[sB]
        resB = window_residuals(side, sB, fB, vce, nnmatch)
        V_B = (quad_form(fB.row(j), resB, s, gB)
               * cluster_factor(gB, sB.stop - sB.start, o_B + 1, vce) / h_B ** (2 * j)) * unit**2
        R = scale * 2 * (o + 1 - nu) * 3 * bconst**2 * V_B
    V = (2 * nu + 1) * h_V * V_V
    return V, B, R


def _combine(kind, Vl, Bl, Rl, Vr, Br, Rr, rate, bw_max):
    """Bandwidths (left, right) from the constants of both sides, one selector."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "rd":
            h = ((Vl + Vr) / ((Br - Bl) ** 2 + Rl + Rr)) ** rate
            out = (h, h)
        elif kind == "sum":
            h = ((Vl + Vr) / ((Br + Bl) ** 2 + Rl + Rr)) ** rate
            out = (h, h)
        else:  # "two"
            out = ((Vl / (Bl**2 + Rl)) ** rate, (Vr / (Br**2 + Rr)) ** rate)
    if bw_max is None:
        return tuple(float(v) for v in out)
    if kind == "two":  # each side is capped at its own range
        return tuple(min(float(v), m) for v, m in zip(out, bw_max[1:]))
    return tuple(min(float(v), bw_max[0]) for v in out)


def select_bandwidth(left, right, *, p, q, deriv, kernel, vce, nnmatch, bwselect, scaleregul,
                     c_bw, bw_max, combo, n_rate, bw_min=0.0, bias_coefficient="p+1",
                     x_scale=1.0):
    """Bandwidths ``(h_left, h_right, b_left, b_right)`` of one selector.

    The three steps of CCT (2014, sec. 4.2): a bandwidth ``d`` for the derivative of
    order ``q + 1`` (bias bandwidth the full range, no regularisation); ``b`` for the
    bias of the order-``p`` fit from order-``q`` constants; ``h`` for derivative
    ``deriv`` of the order-``p`` fit. ``kind`` "rd" targets the jump, "sum" the sum of
    the two limits and "two" each side alone; variances use ``vce`` with the pilot
    ``c_bw``. CER selectors rescale the MSE ones by
    ``n^{-(p / ((3 + p)(3 + 2p)))}`` (Calonico, Cattaneo and Farrell 2020, rule of
    thumb; ``n_rate`` the sample size it uses). ``bias_coefficient`` "q" takes the
    bias in the step for ``h`` from the last coefficient (order ``q``) of the
    order-``q`` fit, on the running variable divided by ``x_scale``, instead of that
    of order ``p + 1``.
    """
    sides = (left, right)
    eps = 1 + math.sqrt(np.finfo(float).eps)
    ranges = (abs(float(left.x[0])) * eps, abs(float(right.x[-1])) * eps)
    target = bwselect[3:]
    caps = None if bw_max is None else (bw_max, abs(float(left.x[0])), abs(float(right.x[-1])))

    def run(kind):
        def step(o, nu, o_B, h_B, scale, shared_B=False, last=None):
            (Vl, Bl, Rl), (Vr, Br, Rr) = (
                _terms(sd, o, nu, o_B, c_bw, hb, scale, kernel, vce, nnmatch, combo, shared_B,
                       last)
                for sd, hb in zip(sides, h_B))
            return _combine(kind, Vl, Bl, Rl, Vr, Br, Rr, 1 / (2 * o + 3), caps)

        # the preliminary bandwidth d also holds at least the distinct values asked for
        d = tuple(max(v, bw_min) for v in step(q + 1, q + 1, q + 2, ranges, 0, True))
        b = step(q, p + 1, q + 1, d, scaleregul)
        h = step(p, deriv, q, b, scaleregul, last=x_scale if bias_coefficient == "q" else None)
        return np.array([h[0], h[1], b[0], b[1]])

    if target == "rd":
        out = run("rd")
    elif target == "two":
        out = run("two")
    elif target == "sum":
        out = run("sum")
    elif target == "comb1":
        out = np.minimum(run("rd"), run("sum"))
    else:  # comb2
        out = np.median(np.stack([run("rd"), run("sum"), run("two")]), axis=0)
    if bwselect.startswith("cer"):
        out[:2] = out[:2] * n_rate ** (-(p / ((3 + p) * (3 + 2 * p))))
    return out
