"""Manipulation test: a discontinuity in the density of the running variable at the cutoff.

Local polynomial density estimation of Cattaneo, Jansson and Ma (2020, JASA): on each
side of the cutoff, the empirical distribution function ``F_n`` is regressed on a
polynomial of order ``p`` in ``x - c`` with kernel weights; the slope at ``c`` estimates
the one-sided density. The test compares the two one-sided densities, robust to the
smoothing bias by estimating them with order ``q = p + 1`` at the bandwidth selected for
order ``p`` (Cattaneo, Jansson and Ma 2020, sec. 3; the same construction as the
``rddensity`` software of Cattaneo, Jansson and Ma 2018, Stata Journal 18(1)).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..inference import Estimate, EstimateTable
from ..utils._param_validation import (
    NONNEG_INT,
    POS_INT,
    POS_REAL,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import store_feature_names
from ._core import kernel_function
from ._r3d import check_running_variable
from ._scalar import _check_passed_params, _pair

__all__ = ["RDDensity", "rd_density_test"]

_KERNELS = {"triangular": "triangular", "tri": "triangular", "epanechnikov": "epanechnikov",
            "epa": "epanechnikov", "uniform": "uniform", "uni": "uniform"}
_BWSELECT = ("comb", "each", "diff", "sum")
_VCE = ("jackknife", "plugin")


# ----------------------------------------------------------------------------- constants
def _kernel_poly(kernel, right):
    """Coefficients (increasing powers of u) of the kernel on one side of 0."""
    if kernel == "triangular":
        return np.array([1.0, -1.0 if right else 1.0])
    if kernel == "epanechnikov":
        return np.array([0.75, 0.0, -0.75])
    return np.array([0.5])


def _integrate(coef, a, b):
    """Integral over [a, b] of the polynomial with increasing coefficients ``coef``."""
    P = np.polynomial.polynomial
    anti = P.polyint(coef)
    return float(P.polyval(b, anti) - P.polyval(a, anti))


@cache
def kernel_constants(order, nu, kernel, right=True):
    r"""Bias and variance constants of the one-sided local polynomial distribution estimator.

    For basis :math:`r(u) = (1, u, \ldots, u^{o})` on the side's half of
    :math:`[-1, 1]` with kernel :math:`K`: :math:`S = \int r r' K`,
    :math:`\Lambda = \int r\, u^{o+1} K` and
    :math:`\Gamma = \iint r(u) r(v)' K(u) K(v) \min(u, v)`; returns
    :math:`(e_\nu' S^{-1} \Lambda,\ e_\nu' S^{-1} \Gamma S^{-1} e_\nu)`, the constants
    of the leading bias (per unit of the coefficient of order ``o + 1`` of ``F``) and
    of the variance (per unit of the density) of coefficient ``nu``
    (Cattaneo, Jansson and Ma 2020, Theorem 1). Exact polynomial integration.
    """
    P = np.polynomial.polynomial
    k = _kernel_poly(kernel, right)
    a, b = (0.0, 1.0) if right else (-1.0, 0.0)
    mono = [np.r_[np.zeros(i), 1.0] for i in range(2 * order + 3)]
    S = np.array([[_integrate(P.polymul(mono[i + j], k), a, b) for j in range(order + 1)]
                  for i in range(order + 1)])
    Lam = np.array([_integrate(P.polymul(mono[i + order + 1], k), a, b)
                    for i in range(order + 1)])
    G = np.empty((order + 1, order + 1))
    for i in range(order + 1):
        for j in range(order + 1):
            kv = P.polymul(mono[j], k)
            # inner(u) = int_a^u v^(j+1) K(v) dv + u int_u^b v^j K(v) dv (a polynomial in u)
            anti1 = P.polyint(P.polymul(mono[1], kv))
            anti0 = P.polyint(kv)
            inner = P.polysub(P.polysub(anti1, [P.polyval(a, anti1)]),
                              P.polymul(mono[1], P.polysub(anti0, [P.polyval(b, anti0)])))
            G[i, j] = _integrate(P.polymul(P.polymul(mono[i], k), inner), a, b)
    Si = np.linalg.inv(S)
    return float((Si @ Lam)[nu]), float((Si @ G @ Si)[nu, nu])


def _normal_derivative(k, z):
    """``k``-th derivative of the standard normal density at ``z`` (Hermite polynomials)."""
    from numpy.polynomial.hermite_e import hermeval

    c = np.zeros(k + 1)
    c[k] = 1.0
    return (-1) ** k * float(hermeval(z, c)) * float(norm.pdf(z))


def _reference_bandwidth(order, nu, f, deriv, n):
    r"""MSE-optimal bandwidth for coefficient ``nu`` of an order-``order`` fit of ``F``
    under a normal reference, with the uniform kernel's constants:
    :math:`h^{2o+1} = (2\nu - 1) V f / (2 (o + 1 - \nu) (B\, F^{(o+1)} / (o+1)!)^2 n)`."""
    B, V = kernel_constants(order, nu, "uniform", True)
    num = (2 * nu - 1) * V * f
    den = 2 * (order + 1 - nu) * (B * deriv / math.factorial(order + 1)) ** 2 * n
    return (num / den) ** (1 / (2 * order + 1))


# ----------------------------------------------------------------------------- estimation
class _Sample:
    """Sorted running variable with its empirical distribution function."""

    def __init__(self, x, cutoff, masspoints):
        xs = np.sort(x)
        n = xs.shape[0]
        self.x, self.n, self.c, self.masspoints = xs, n, float(cutoff), masspoints
        if masspoints:
            # leave-one-out ecdf: the share of the other units at or below x_i (ties together)
            self.F = (np.searchsorted(xs, xs, "right") - 1) / (n - 1)
        else:
            self.F = np.arange(n) / (n - 1)
        self.n_left = int(np.searchsorted(xs, cutoff, "left"))

    def window(self, h, right, kernel):
        """Index range of the units of one side with positive kernel weight."""
        c, xs = self.c, self.x
        closed = kernel == "uniform"
        if right:
            lo = self.n_left
            hi = int(np.searchsorted(xs, c + h, "right" if closed else "left"))
            return lo, max(hi, lo)
        hi = self.n_left
        lo = int(np.searchsorted(xs, c - h, "left" if closed else "right"))
        return min(lo, hi), hi


def _side_fit(sam, h, order, kernel, right, nu=1):
    """Coefficient ``nu`` of the one-sided fit of ``F_n`` and its jackknife variance.

    The jackknife variance is :math:`\\sum_j \\psi_j^2` with
    :math:`\\psi_j = (n-1)^{-1} \\sum_{i \\ne j} w_i 1(x_j \\le x_i)`, ``w`` the
    linear weights of the coefficient (Cattaneo, Jansson and Ma 2020, sec. 2.2):
    the leave-one-out influence of unit ``j`` on the empirical distribution function.
    """
    lo, hi = sam.window(h, right, kernel)
    xw = sam.x[lo:hi]
    m = hi - lo
    distinct = int(np.count_nonzero(np.diff(xw))) + 1 if m else 0
    if distinct < order + 1:
        raise _Singular(m, distinct, order, h, right)
    u = (xw - sam.c) / h  # scaled basis, for conditioning; coefficient nu is / h**nu
    k = kernel_function(kernel)(u) / h
    R = np.empty((m, order + 1))
    R[:, 0] = 1.0
    for j in range(1, order + 1):
        R[:, j] = R[:, j - 1] * u
    Rk = R.T * k
    G = Rk @ R
    if not np.all(np.isfinite(G)) or np.linalg.cond(G) > 1e14:
        raise _Singular(m, distinct, order, h, right)
    w = np.linalg.solve(G, Rk)[nu] / h**nu
    coef = float(w @ sam.F[lo:hi])
    # psi_j for units in the window: suffix sums of w over x_i >= x_j, less w_j itself;
    # every other unit has psi_j = 0 (all or none of the window lies above it, and the
    # weights of a coefficient nu >= 1 sum to zero)
    csum = np.r_[np.cumsum(w[::-1])[::-1], 0.0]
    if sam.masspoints:
        first = np.searchsorted(xw, xw, "left")
        psi = csum[first] - w
    else:
        psi = csum[1:]
    var = float(psi @ psi) / (sam.n - 1) ** 2
    return coef, var, int(np.count_nonzero(k))


def _distinct(v):
    """Distinct values of a sorted array."""
    return int(np.count_nonzero(np.diff(v))) + 1 if v.shape[0] else 0


def _restricted_basis(u, order):
    """Columns ``(1, u 1(u<0), u 1(u>=0), u^2, ..., u^order)``: one intercept (``F`` is
    continuous), a slope (density) on each side and common higher coefficients."""
    cols = [np.ones_like(u), np.where(u < 0, u, 0.0), np.where(u >= 0, u, 0.0)]
    cols += [u**j for j in range(2, order + 1)]
    return np.column_stack(cols)


def _jackknife(w, xw, n, masspoints):
    """Jackknife variance of the linear statistic ``w @ F_n`` (see :func:`_side_fit`)."""
    csum = np.r_[np.cumsum(w[::-1])[::-1], 0.0]
    psi = csum[np.searchsorted(xw, xw, "left")] - w if masspoints else csum[1:]
    return float(psi @ psi) / (n - 1) ** 2


def _restricted_fit(sam, hl, hr, order, kernel, coef=None):
    """The restricted fit of ``F_n`` on both sides at once (Cattaneo, Jansson and Ma
    2018, sec. 2): units within ``hl`` below and ``hr`` above the cutoff, kernel
    weights :math:`K(u)/h` and basis :math:`r(u)` of :func:`_restricted_basis` in
    :math:`u = (x - c)/h`, ``h`` the bandwidth of the unit's side.

    Returns the two one-sided densities and the jackknife variances of the left,
    right, difference and sum, with the units of positive weight per side; or, with
    ``coef`` = j >= 2, the coefficient of :math:`(x - c)^j` (the common
    :math:`F^{(j)}(c)/j!`).
    """
    lo, _ = sam.window(hl, False, kernel)
    _, hi = sam.window(hr, True, kernel)
    xw = sam.x[lo:hi]
    d = xw - sam.c
    below = d < 0
    m = hi - lo
    # a slope on each side needs two distinct values there; the order + 2
    # coefficients need as many distinct values in the window
    for side_h, side_m, right in ((hl, below, False), (hr, ~below, True)):
        if _distinct(xw[side_m]) < 2:
            raise _Singular(int(side_m.sum()), _distinct(xw[side_m]), order, side_h, right,
                            need=2)
    if _distinct(xw) < order + 2:
        raise _Singular(m, _distinct(xw), order, max(hl, hr), None, need=order + 2)
    hs = np.where(below, hl, hr)
    u = d / hs
    k = kernel_function(kernel)(u) / hs
    R = _restricted_basis(u, order)
    Rk = R.T * k
    G = Rk @ R
    if not np.all(np.isfinite(G)) or np.linalg.cond(G) > 1e14:
        raise _Singular(m, _distinct(xw), order, max(hl, hr), None, need=order + 2)
    W = np.linalg.solve(G, Rk)
    F = sam.F[lo:hi]
    if coef is not None:  # (selection only, where hl == hr)
        return float(W[coef + 1] @ F) / hl**coef
    wl, wr = W[1] / hl, W[2] / hr
    var = {nm: _jackknife(w, xw, sam.n, sam.masspoints)
           for nm, w in (("left", wl), ("right", wr), ("diff", wr - wl), ("sum", wr + wl))}
    pos = k > 0
    return (float(wl @ F), float(wr @ F), var, int(np.count_nonzero(pos & below)),
            int(np.count_nonzero(pos & ~below)))


def _halves(n_nodes):
    """Gauss-Legendre nodes and weights on [-1, 0] and on [0, 1]."""
    t, wt = np.polynomial.legendre.leggauss(n_nodes)
    return (((t - 1) / 2, wt / 2), ((t + 1) / 2, wt / 2))


def restricted_design(order, kernel, f_left, f_right):
    r"""Asymptotic design of the restricted fit: :math:`S = \int r r' K f` and
    :math:`\Lambda = \int r\, u^{o+1} K f` over :math:`[-1, 1]`, ``f`` the density of
    each side (constant on each half), and
    :math:`\Gamma = \sum_\pm f_\pm^3 \iint r(u) r(v)' K(u) K(v) \min(|u|, |v|)` over
    pairs on the same side (the covariance of the increments of the empirical
    distribution function away from the cutoff; Cattaneo, Jansson and Ma 2020,
    Theorem 1). Exact Gauss-Legendre quadrature (on each half, and on the two
    triangles of each square for :math:`\Gamma`)."""
    K = kernel_function(kernel)
    k = order + 2
    S, L, Gam = np.zeros((k, k)), np.zeros(k), np.zeros((k, k))
    for (u, w), f in zip(_halves(order + 4), (f_left, f_right)):
        wk = w * K(u) * f
        R = _restricted_basis(u, order)
        S += (R.T * wk) @ R
        L += (R.T * wk) @ u ** (order + 1)
        # region |u| <= |v| of the half: |u| = s|v|-scaled pairs, min(|u|, |v|) = |u|
        sign = np.sign(u.mean())
        t, wt = _halves(order + 4)[1]
        A = np.zeros((k, k))
        for s_i, ws in zip(t, wt):
            v = sign * (s_i + (1 - s_i) * t)      # |v| from |u| = s_i to 1
            uu = sign * s_i
            ru = _restricted_basis(np.array([uu]), order)[0]
            rv = _restricted_basis(v, order)
            inner = (rv.T * (wt * (1 - s_i) * K(v))) @ np.ones_like(v)
            A += ws * K(np.array([uu]))[0] * s_i * np.outer(ru, inner)
        Gam += f**3 * (A + A.T)
    return S, L, Gam


def restricted_constants(order, kernel, ratio=1.0):
    r"""Bias constants :math:`e_\pm' S^{-1} \Lambda` of the two slopes of the restricted
    fit (per unit of the coefficient of order ``o + 1`` of ``F``), the right side's
    density ``ratio`` times the left's (:func:`restricted_design`)."""
    S, L, _ = restricted_design(order, kernel, 1.0, float(ratio))
    B = np.linalg.solve(S, L)
    return float(B[1]), float(B[2])


def _restricted_plugin(f_left, f_right, order, kernel):
    """Plug-in variance constants (left, right, diff, sum) of the restricted slopes:
    the variance of each is the constant over ``n h``."""
    S, _, Gam = restricted_design(order, kernel, f_left, f_right)
    Si = np.linalg.inv(S)
    V = Si @ Gam @ Si
    return {"left": V[1, 1], "right": V[2, 2], "diff": V[1, 1] + V[2, 2] - 2 * V[1, 2],
            "sum": V[1, 1] + V[2, 2] + 2 * V[1, 2]}


class _Singular(ValueError):
    def __init__(self, m, distinct, order, h, right, need=None):
        side = {True: "at or above", False: "below", None: "on either side of"}[right]
        need = order + 1 if need is None else need
        super().__init__(
            f"only {distinct} distinct value(s) of `X` ({m} unit(s)) lie within {h:.4g} "
            f"{side} the cutoff, and a density fit of order {order} needs at least {need}")


def _regularise(sam, h, right, n_local, n_unique):
    """Smallest bandwidth ``>= h`` whose window on one side holds ``n_local`` units and
    ``n_unique`` distinct values (the farthest of them just inside)."""
    if right:
        d = sam.x[sam.n_left:] - sam.c
    else:
        d = (sam.c - sam.x[:sam.n_left])[::-1]
    if d.shape[0] == 0:
        return h
    if n_local > 0:
        h = max(h, float(d[min(n_local, d.shape[0]) - 1]))
    if n_unique > 0:
        du = d[np.r_[True, np.diff(d) != 0]]
        h = max(h, float(du[min(n_unique, du.shape[0]) - 1]))
    return h


def _regularise_both(sam, h, n_local, n_unique):
    return max(_regularise(sam, h, False, n_local, n_unique),
               _regularise(sam, h, True, n_local, n_unique))


def density_bandwidths(sam, *, p, kernel, vce, regularize, n_local, n_unique,
                       restricted=False):
    """The four bandwidths (each left, each right, diff, sum) and their constants.

    Steps: (1) a normal-reference bandwidth (mean and standard deviation of ``X``) for
    the order-``p`` density fit and one for the order-``p + 2`` fit of the
    ``(p + 1)``-th derivative of ``F``, both with uniform-kernel constants; (2) on
    each side, the density and its variance (jackknife or plug-in) from the first,
    the derivative from the second; (3) the MSE-optimal bandwidths
    :math:`h = (V / (2p B^2 n))^{1/(2p+1)}` for each side, for the difference
    (variances summed, biases subtracted) and for the sum (Cattaneo, Jansson and Ma
    2020, sec. 4).
    """
    n, c = sam.n, sam.c
    mu, sd = float(np.mean(sam.x)), float(np.std(sam.x, ddof=1))
    z = (c - mu) / sd
    f_ref = float(norm.pdf(z)) / sd
    h_v = _reference_bandwidth(p, 1, f_ref, _normal_derivative(p, z) / sd ** (p + 1), n)
    h_b = _reference_bandwidth(p + 2, p + 1, f_ref,
                               _normal_derivative(p + 2, z) / sd ** (p + 3), n)
    # pilots never exceed the farther end of the support from the cutoff
    h_range = max(c - float(sam.x[0]), float(sam.x[-1]) - c)
    h_v, h_b = min(h_v, h_range), min(h_b, h_range)
    if regularize:
        # the pilot windows hold the minimum counts on both sides; the derivative's
        # pilot (order p + 2) two more of each than the density's
        h_v = _regularise_both(sam, h_v, n_local, n_unique)
        h_b = _regularise_both(sam, h_b, n_local and n_local + 2, n_unique and n_unique + 2)
    if restricted:
        fl, fr, var, _, _ = _restricted_fit(sam, h_v, h_v, p, kernel)
        if vce == "jackknife":
            V = {k: n * h_v * v for k, v in var.items()}
        else:
            V = _restricted_plugin(fl, fr, p, kernel)
        deriv = _restricted_fit(sam, h_b, h_b, p + 2, kernel, coef=p + 1)
        Bl, Br = (b * deriv for b in restricted_constants(p, kernel, fr / fl))
    else:
        V, B = {}, {}
        for right, nm in ((False, "left"), (True, "right")):
            f_hat, var, _ = _side_fit(sam, h_v, p, kernel, right)
            if vce == "jackknife":
                V[nm] = n * h_v * var
            else:
                V[nm] = f_hat * kernel_constants(p, 1, kernel, right)[1]
            deriv, _, _ = _side_fit(sam, h_b, p + 2, kernel, right, nu=p + 1)
            B[nm] = kernel_constants(p, 1, kernel, right)[0] * deriv
        Bl, Br = B["left"], B["right"]
        # independent sides: the difference and the sum have the same variance
        V["diff"] = V["sum"] = V["left"] + V["right"]
    B2 = {"left": Bl**2, "right": Br**2, "diff": (Br - Bl) ** 2, "sum": (Br + Bl) ** 2}
    # a combination whose constants cancel (up to rounding) has no leading bias
    tiny = (64 * np.finfo(float).eps * (abs(Bl) + abs(Br))) ** 2
    B2 = {k: 0.0 if v <= tiny else v for k, v in B2.items()}
    rate = 1 / (2 * p + 1)
    with np.errstate(divide="ignore", over="ignore"):
        hs = {k: float((V[k] / (2 * p * B2[k] * n)) ** rate) if B2[k] > 0 else math.inf
              for k in V}
    # capped at the range of the data: each side at its own, the common ones at the larger
    hs["left"] = min(hs["left"], c - float(sam.x[0]))
    hs["right"] = min(hs["right"], float(sam.x[-1]) - c)
    hs["diff"], hs["sum"] = min(hs["diff"], h_range), min(hs["sum"], h_range)
    if regularize:
        hs["left"] = _regularise(sam, hs["left"], False, n_local, n_unique)
        hs["right"] = _regularise(sam, hs["right"], True, n_local, n_unique)
        for k in ("diff", "sum"):
            hs[k] = _regularise_both(sam, hs[k], n_local, n_unique)
    return {k: (hs[k], V[k], B2[k]) for k in ("left", "right", "diff", "sum")}


class RDDensity(BaseEstimator):
    r"""Manipulation test: is the density of the running variable continuous at the cutoff?

    On each side of the cutoff ``c``, the leave-one-out empirical distribution
    function :math:`F_n(x_i) = (n-1)^{-1}\#\{j \ne i: x_j \le x_i\}` is regressed on
    :math:`(1, x - c, \ldots, (x - c)^{q})` with kernel weights
    :math:`K((x_i - c)/h)/h`, using the units of that side only; the slope is the
    one-sided density :math:`\hat f_\pm(c)` (Cattaneo, Jansson and Ma 2020, eq. 2).
    The test statistic is

    .. math:: T = \frac{\hat f_+(c) - \hat f_-(c)}{\sqrt{\hat V_+ + \hat V_-}},

    with the jackknife variances (or the plug-in ones) of the two sides and a
    standard normal reference. The densities in the test use order ``q = p + 1`` at
    the bandwidth selected for order ``p``, so the smoothing bias of the
    MSE-optimal bandwidth does not distort the test (robust bias correction,
    Cattaneo, Jansson and Ma 2020, sec. 3).

    With ``fitselect="restricted"`` one regression on both sides at once, with
    basis :math:`(1, (x-c)1(x<c), (x-c)1(x \ge c), (x-c)^2, \ldots, (x-c)^q)`,
    imposes what holds under the null hypothesis of no manipulation: a continuous
    distribution function and equal derivatives of the density on both sides,
    leaving a slope (density) per side (Cattaneo, Jansson and Ma 2018, sec. 2). The
    two densities are then correlated, and the variance of their difference (in
    :math:`T`) is that of the difference, not the sum of the two variances. The
    bandwidth is one for both sides: "diff", "sum" or "comb" (the smaller of the
    two); its bias constants integrate over both sides with each side's estimated
    density. The numbers agree with the ``rddensity`` software (Cattaneo, Jansson
    and Ma 2018) in both modes.

    Parameters
    ----------
    cutoff : float, default 0.0
        Units with ``X >= cutoff`` form the right side.
    p : int, default 2
        Order of the density fits the bandwidth is selected for (at least 1).
    q : int, optional
        Order of the fits in the test (default ``p + 1``; ``q = p`` gives the
        conventional test, invalid at an MSE-optimal bandwidth).
    kernel : {"triangular", "epanechnikov", "uniform"}, default "triangular"
    bandwidth : float, pair of floats or None, default None
        ``h`` (or ``(h_left, h_right)``, unrestricted fits only); None selects it by
        ``bwselect``.
    bwselect : {"comb", "each", "diff", "sum"}, default "comb"
        "each": MSE-optimal for each one-sided density (unrestricted fits only);
        "diff": one bandwidth, MSE-optimal for the difference; "sum": for the sum;
        "comb": per side, the median of (each, diff, sum), or with restricted fits
        the smaller of (diff, sum).
    vce : {"jackknife", "plugin"}, default "jackknife"
        Variance estimator (in the test and in bandwidth selection).
    fitselect : {"unrestricted", "restricted"}, default "unrestricted"
        "unrestricted": a separate fit on each side; "restricted": one fit on both
        sides with the distribution function and the derivatives of the density
        beyond the first shared (see above). rddensity also accepts two bandwidths
        in restricted mode, but then divides the right side's slope by the left
        bandwidth; here a restricted fit takes one bandwidth.
    masspoints : bool, default True
        Tied values of ``X`` share one value of the empirical distribution function
        and enter the jackknife together. With False, ties are broken by order.
    regularize : bool, default True
        Enlarge each bandwidth (also the pilots of the selection) until the window of
        each side holds ``n_local_min`` units and ``n_unique_min`` distinct values.
    n_local_min, n_unique_min : int, optional
        Default ``20 + p + 1``; 0 switches that check off.
    level : float, default 95
        Confidence level (percent) of the intervals of the one-sided densities.

    Attributes
    ----------
    test_ : Estimate
        ``value`` the density difference :math:`\hat f_+ - \hat f_-` (order ``q``),
        ``stderr`` its standard error; ``zstat`` is :math:`T` and ``pvalue`` its
        two-sided p-value.
    density_left_, density_right_ : Estimate
        One-sided densities of order ``q`` at the cutoff.
    conventional_ : EstimateTable
        The same three numbers from order ``p`` (``left``, ``right``, ``diff``).
    bandwidth_ : tuple of float
        ``(h_left, h_right)`` used.
    bandwidths_ : pandas.DataFrame or None
        Selected bandwidths "left", "right", "diff" and "sum" with their variance and
        squared-bias constants (None when ``bandwidth`` is given).
    n_ : tuple of int
        Units below and at or above the cutoff.
    n_effective_ : tuple of int
        Units with positive kernel weight on each side.

    References
    ----------
    Cattaneo, M. D., Jansson, M. and Ma, X. (2020). Simple local polynomial density
    estimators. Journal of the American Statistical Association 115(531).
    Cattaneo, M. D., Jansson, M. and Ma, X. (2018). Manipulation testing based on
    density discontinuity. The Stata Journal 18(1).
    McCrary, J. (2008). Manipulation of the running variable in the regression
    discontinuity design: a density test. Journal of Econometrics 142(2).

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.rdd import RDDensity
    >>> x = np.random.default_rng(0).normal(size=2000)
    >>> t = RDDensity(cutoff=0.2).fit(x).test_
    >>> round(t.zstat, 3), t.pvalue > 0.05   # no manipulation in a normal sample
    (1.682, True)
    """

    def __init__(self, *, cutoff=0.0, p=2, q=None, kernel="triangular", bandwidth=None,
                 bwselect="comb", vce="jackknife", fitselect="unrestricted", masspoints=True,
                 regularize=True, n_local_min=None, n_unique_min=None, level=95.0):
        self.cutoff = cutoff
        self.p = p
        self.q = q
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.bwselect = bwselect
        self.vce = vce
        self.fitselect = fitselect
        self.masspoints = masspoints
        self.regularize = regularize
        self.n_local_min = n_local_min
        self.n_unique_min = n_unique_min
        self.level = level

    _parameter_constraints: dict = {
        "cutoff": [Interval(Real, None, None, closed="neither")],
        "p": [POS_INT],
        "q": [POS_INT, None],
        "kernel": [StrOptions(set(_KERNELS))],
        "bandwidth": [POS_REAL, "array-like", None],
        "bwselect": [StrOptions(set(_BWSELECT))],
        "vce": [StrOptions(set(_VCE))],
        "fitselect": [StrOptions({"unrestricted", "restricted"})],
        "masspoints": ["boolean"],
        "regularize": ["boolean"],
        "n_local_min": [NONNEG_INT, None],
        "n_unique_min": [NONNEG_INT, None],
        "level": [Interval(Real, 1, 100, closed="neither")],
    }

    def _resolve_params(self):
        """What ``_parameter_constraints`` cannot say: rules across hyperparameters."""
        p = int(self.p)
        q = p + 1 if self.q is None else int(self.q)
        if q < p:
            raise ValueError(f"`q` must be at least `p` = {p}; got {self.q!r}.")
        nl = 20 + p + 1 if self.n_local_min is None else int(self.n_local_min)
        nu = 20 + p + 1 if self.n_unique_min is None else int(self.n_unique_min)
        if self.bandwidth is not None:
            hl, hr = _pair(self.bandwidth, "bandwidth")
            if self.fitselect == "restricted" and hl != hr:
                raise ValueError(
                    "`bandwidth` must be one number with fitselect='restricted' (its "
                    "coefficients are shared across the cutoff, so both sides use one "
                    f"bandwidth); got {self.bandwidth!r}. Give one `bandwidth`, or use "
                    "fitselect='unrestricted'.")
        if self.fitselect == "restricted" and self.bwselect == "each":
            raise ValueError(
                "`bwselect`='each' selects a bandwidth per side, which fitselect='restricted' "
                "cannot use (it takes one bandwidth for both sides); use 'comb' (the smaller "
                "of 'diff' and 'sum'), 'diff' or 'sum', or fitselect='unrestricted'.")
        return p, q, nl, nu

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate both one-sided densities at the cutoff and test their equality.

        Parameters
        ----------
        X : array-like of shape (n,) or (n, 1)
            Running variable.
        y : None
            Ignored (the test uses the running variable alone).

        Returns
        -------
        self
        """
        p, q, n_local, n_unique = self._resolve_params()
        kernel = _KERNELS[self.kernel]
        restricted = self.fitselect == "restricted"
        x, names = check_running_variable(X, self.cutoff)
        sam = _Sample(x, self.cutoff, bool(self.masspoints))
        n_l, n_r = sam.n_left, sam.n - sam.n_left
        need = max(q, p + 2 if self.bandwidth is None else q) + 1
        for cnt_d, side in ((np.unique(sam.x[:n_l]).shape[0], "below"),
                            (np.unique(sam.x[n_l:]).shape[0], "at or above")):
            if cnt_d < need:
                raise ValueError(
                    f"`X` has {cnt_d} distinct value(s) {side} the cutoff {self.cutoff:g}; the "
                    f"density test needs at least {need} on each side (its fits have order up "
                    f"to {need - 1}). The test cannot be run on so discrete a running variable; "
                    "lower `p`, or compare the counts in the bins next to the cutoff instead.")
        self.bandwidths_ = None
        try:
            if self.bandwidth is None:
                table = density_bandwidths(sam, p=p, kernel=kernel, vce=self.vce,
                                           regularize=bool(self.regularize), n_local=n_local,
                                           n_unique=n_unique, restricted=restricted)
                import pandas as pd

                self.bandwidths_ = pd.DataFrame(table, index=["bandwidth", "variance",
                                                              "bias_squared"]).T
                each_l, each_r = table["left"][0], table["right"][0]
                hd, hs = table["diff"][0], table["sum"][0]
                sel = {"each": (each_l, each_r), "diff": (hd, hd), "sum": (hs, hs),
                       "comb": (float(np.median([each_l, hd, hs])),
                                float(np.median([each_r, hd, hs])))}
                if restricted:
                    sel["comb"] = (min(hd, hs), min(hd, hs))
                sel = sel[self.bwselect]
                hl, hr = sel
            else:
                hl, hr = _pair(self.bandwidth, "bandwidth")
            rows = {}
            for order in sorted({p, q}):
                if restricted:
                    fl, fr, var, nel, ner = _restricted_fit(sam, hl, hr, order, kernel)
                    if self.vce == "plugin":
                        var = {k: v / (sam.n * hl) for k, v in
                               _restricted_plugin(fl, fr, order, kernel).items()}
                    rows[order] = (fl, var["left"], fr, var["right"], nel, ner, var["diff"])
                    continue
                fl, vl, nel = _side_fit(sam, hl, order, kernel, False)
                fr, vr, ner = _side_fit(sam, hr, order, kernel, True)
                if self.vce == "plugin":
                    vl = fl * kernel_constants(order, 1, kernel, False)[1] / (sam.n * hl)
                    vr = fr * kernel_constants(order, 1, kernel, True)[1] / (sam.n * hr)
                rows[order] = (fl, vl, fr, vr, nel, ner, vl + vr)
        except _Singular as err:
            raise ValueError(f"Cannot run the density test: {err}. Give a larger `bandwidth`, "
                             "lower `p`, or keep `regularize=True`.") from None
        if self.vce == "plugin" and any(r[0] < 0 or r[2] < 0 for r in rows.values()):
            raise ValueError("A one-sided density estimate is negative, so the plug-in "
                             "variance is undefined; use vce='jackknife'.")
        lvl = float(self.level)
        meth = (f"local polynomial density (p={p}, q={q}, {kernel}, h=({hl:.4g}, {hr:.4g}), "
                f"{self.vce})")

        def ests(order, tag):
            fl, vl, fr, vr, nel, ner, vd = rows[order]
            return (Estimate(fl, math.sqrt(vl), n=nel, method=f"{tag} {meth}", name="left"),
                    Estimate(fr, math.sqrt(vr), n=ner, method=f"{tag} {meth}", name="right"),
                    Estimate(fr - fl, math.sqrt(vd), n=nel + ner,
                             method=f"{tag} {meth}", name="density difference"))

        self.density_left_, self.density_right_, self.test_ = ests(q, "robust")
        cl, cr, cd = ests(p, "conventional")
        self.conventional_ = EstimateTable((cl, cr, cd), title="density at the cutoff, order p")
        self.bandwidth_ = (float(hl), float(hr))
        self.n_ = (n_l, n_r)
        self.n_effective_ = (rows[q][4], rows[q][5])
        self.level_ = lvl
        self._sample = sam
        self._orders = (p, q)
        self._kernel = kernel
        self.n_features_in_ = 1
        store_feature_names(self, names)
        return self

    def summary(self, alpha=None):
        """Left, right and difference rows (order ``q``) as a :class:`pandas.DataFrame`."""
        check_is_fitted(self, "test_")
        alpha = 1 - self.level_ / 100 if alpha is None else alpha
        t = self.test_._replace(name="difference")
        return EstimateTable((self.density_left_, self.density_right_, t),
                             title="density test").summary(alpha)

    def density_curve(self, grid=None, n_points=30):
        """One-sided density estimates on a grid, for the plot.

        Each point uses the units of its own side, order ``p``, the bandwidth of its
        side and the point's own local polynomial (Cattaneo, Jansson and Ma 2020,
        sec. 2), also after a restricted fit (whose estimates at the cutoff then
        differ from the curve's end points). Returns a :class:`pandas.DataFrame` with ``x``, ``side``,
        ``density`` and ``stderr`` (jackknife).
        """
        import pandas as pd

        check_is_fitted(self, "test_")
        sam = self._sample
        p, _ = self._orders
        out = []
        for right, h in ((False, self.bandwidth_[0]), (True, self.bandwidth_[1])):
            lo, hi = (sam.n_left, sam.n) if right else (0, sam.n_left)
            xs = sam.x[lo:hi]
            pts = (np.linspace(sam.c, min(sam.c + 2 * h, xs[-1]), n_points) if right else
                   np.linspace(max(sam.c - 2 * h, xs[0]), sam.c, n_points))
            if grid is not None:
                g = np.asarray(grid, dtype=float).ravel()
                pts = g[(g >= sam.c) if right else (g < sam.c)]
            for x0 in pts:
                out.append((x0, "right" if right else "left",
                            *_point_density(sam, lo, hi, x0, h, p, self._kernel)))
        return pd.DataFrame(out, columns=["x", "side", "density", "stderr"])

    def plot(self, ax=None, n_points=30, alpha=None, hist=True):
        """Density estimates on each side with pointwise intervals, over a histogram.

        Returns the matplotlib axes.
        """
        from .._lazy import require

        plt = require("matplotlib.pyplot", extra="plot")
        check_is_fitted(self, "test_")
        alpha = 1 - self.level_ / 100 if alpha is None else alpha
        z = float(norm.ppf(1 - alpha / 2))
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        sam = self._sample
        cur = self.density_curve(n_points=n_points)
        if hist:
            lo = min(cur.x.min(), sam.c)
            hi = max(cur.x.max(), sam.c)
            inside = sam.x[(sam.x >= lo) & (sam.x <= hi)]
            bins = np.r_[np.linspace(lo, sam.c, 11)[:-1], np.linspace(sam.c, hi, 11)]
            cnt, edges = np.histogram(inside, bins=bins)
            ax.bar(edges[:-1], cnt / (sam.n * np.diff(edges)), width=np.diff(edges),
                   align="edge", color="0.85", edgecolor="white")
        for side, color in (("left", "C0"), ("right", "C1")):
            d = cur[cur.side == side]
            ax.plot(d.x, d.density, color=color)
            ax.fill_between(d.x, d.density - z * d.stderr, d.density + z * d.stderr,
                            color=color, alpha=0.2)
        ax.axvline(sam.c, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel("running variable")
        ax.set_ylabel("density")
        ax.set_title(f"density test: T = {self.test_.zstat:.2f}, p = {self.test_.pvalue:.3f}")
        return ax


def _point_density(sam, lo, hi, x0, h, p, kernel):
    """Density at ``x0`` from the units ``lo:hi`` of one side (order ``p``, jackknife SE)."""
    xs = sam.x[lo:hi]
    a = int(np.searchsorted(xs, x0 - h, "right"))
    b = int(np.searchsorted(xs, x0 + h, "left"))
    xw = xs[a:b]
    u = (xw - x0) / h
    k = kernel_function(kernel)(u) / h
    if np.count_nonzero(np.diff(xw[k > 0])) + 1 < p + 1:
        return np.nan, np.nan
    R = np.vander(u, p + 1, increasing=True)
    Rk = R.T * k
    G = Rk @ R
    if np.linalg.cond(G) > 1e14:
        return np.nan, np.nan
    w = np.linalg.solve(G, Rk)[1] / h
    est = float(w @ sam.F[lo + a:lo + b])
    csum = np.r_[np.cumsum(w[::-1])[::-1], 0.0]
    psi = csum[np.searchsorted(xw, xw, "left")] - w
    return est, math.sqrt(float(psi @ psi)) / (sam.n - 1)


def rd_density_test(X, *, cutoff=0.0, **kwargs):
    """The manipulation test of :class:`RDDensity` as one call; returns its ``test_``.

    ``test_.zstat`` is the T statistic and ``test_.pvalue`` its p-value; keyword
    arguments are those of :class:`RDDensity`.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.rdd import rd_density_test
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=2000)
    >>> moved = (x > -0.2) & (x < 0) & (rng.uniform(size=2000) < 0.5)
    >>> x = np.where(moved, -x, x)   # half the units just below 0 moved above it
    >>> t = rd_density_test(x)
    >>> round(t.zstat, 2), t.pvalue < 0.001
    (5.75, True)
    """
    _check_passed_params(RDDensity, kwargs, "rd_density_test")
    return RDDensity(cutoff=cutoff, **kwargs).fit(X).test_
