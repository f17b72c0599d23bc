"""Sharp and fuzzy regression discontinuity with a scalar outcome."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..inference import Estimate
from ..utils.validation import (
    FewObservationsWarning,
    WeakInstrumentWarning,
    check_aligned,
    check_binary,
    check_vector,
    check_weights,
)
from ._core import kernel_function
from ._r3d import check_running_variable

__all__ = ["RDD", "rd_bandwidth", "rd_plot"]

#: Pilot-bandwidth constants of Calonico, Cattaneo and Titiunik (2014) per kernel.
_PILOT = {"triangular": 2.576, "epanechnikov": 2.34, "uniform": 1.843}


def _nn(x, D, J):
    from .._accel import _rdd

    return _rdd.nn_residuals(np.ascontiguousarray(x, float), np.ascontiguousarray(D, float), int(J))


def _fit(xs, D, h, order, kernel, sw):
    """Weighted LS of D on (xs/h)^0..order with weights K(xs/h)/h (scaled basis).

    Returns dict with ``rows`` = G^{-1} (R w)^T (order+1, n) so that
    ``beta = rows @ D`` and ``w`` the kernel weights (zero outside the window).
    """
    u = xs / h
    w = kernel_function(kernel)(u) / h * sw
    R = u[:, None] ** np.arange(order + 1)
    G = R.T @ (R * w[:, None])
    if np.count_nonzero(w) < order + 1 or np.linalg.cond(G) > 1e14:
        raise ValueError(
            f"Too few units inside the bandwidth window: {int(np.count_nonzero(w))} unit(s) "
            f"within h = {h:.4g} of the cutoff on one side, but a polynomial of order {order} "
            f"needs at least {order + 1} distinct values. Use a larger bandwidth or a lower order.")
    rows = np.linalg.solve(G, (R * w[:, None]).T)
    return {"rows": rows, "beta": rows @ D, "R": R, "w": w}


def _residuals(xs, D, fit, vce, J, d):
    if vce == "nn":
        return _nn(xs, D, J)
    res = D - fit["R"] @ fit["beta"]
    n = xs.shape[0]
    if vce == "hc0":
        return res
    if vce == "hc1":
        return res * np.sqrt(n / (n - d))
    hii = np.einsum("ij,ji->i", fit["R"], fit["rows"])
    f = 1 / np.maximum(1 - hii, 1e-8)
    return res * (np.sqrt(f) if vce == "hc2" else f)[:, None]


def _bw_terms(xs, D, o, nu, o_B, h_V, h_B, scale, kernel, J, sw):
    """Variance, bias and regularisation constants of one side (CCT 2014, sec. 4)."""
    inV = kernel_function(kernel)(xs / h_V) > 0
    fV = _fit(xs[inV], D[inV], h_V, o, kernel, sw[inV])
    resV = _residuals(xs[inV], D[inV], fV, "nn", J, o + 1)
    beta_raw = fV["beta"][nu] / h_V**nu
    s = np.array([1.0]) if D.shape[1] == 1 else np.array(
        [1 / beta_raw[1], -beta_raw[0] / beta_raw[1] ** 2])
    r = resV @ s
    V_V = np.sum((fV["rows"][nu] * r) ** 2)  # scaled coefficient nu
    uV = xs[inV] / h_V
    bconst = float(fV["rows"][nu] @ (uV ** (o + 1)))
    inB = kernel_function(kernel)(xs / h_B) > 0
    fB = _fit(xs[inB], D[inB], h_B, o_B, kernel, sw[inB])
    bB = fB["beta"][o_B] / h_B**o_B
    B = math.sqrt(2 * (o + 1 - nu)) * bconst * float(bB @ s)
    R = 0.0
    if scale > 0:
        resB = _residuals(xs[inB], D[inB], fB, "nn", J, o_B + 1) @ s
        V_B = np.sum((fB["rows"][o_B] * resB) ** 2) / h_B ** (2 * o_B)
        R = scale * 2 * (o + 1 - nu) * 3 * bconst**2 * V_B
    V = (2 * nu + 1) * h_V * V_V
    return V, B, R, 1 / (2 * o + 3)


def rd_bandwidth(X, y, *, cutoff=0.0, p=1, q=None, kernel="triangular", treatment=None,
                 nnmatch=3, sample_weight=None):
    r"""MSE-optimal common bandwidths ``(h, b)`` for local polynomial RD.

    The three-step plug-in of Calonico, Cattaneo and Titiunik (2014, sec. 4) and
    Calonico, Cattaneo and Farrell (2020): a pilot
    :math:`c = C_K \min(sd, IQR/1.349) n^{-1/5}` for variances (nearest-neighbour
    residuals); a bandwidth ``d`` for the order-(q+1) derivative from a global
    fit; then ``b`` (order q, bias of the order-p fit) and ``h`` (order p) from

    .. math:: h = \left[\frac{V_- + V_+}{(B_+ - B_-)^2 + R_- + R_+}\right]^{1/(2p+3)},

    with :math:`V` the variance constant, :math:`B` the bias constant and
    :math:`R` the regularisation term (3 x the variance of the bias estimate).
    Fuzzy designs combine outcome and treatment by the delta method.
    """
    x, _ = check_running_variable(X, cutoff)
    yv = check_vector(y, "y", n=x.shape[0])
    q = p + 1 if q is None else q
    xc = x - cutoff
    D = yv[:, None] if treatment is None else np.c_[yv, np.asarray(treatment, float)]
    sw = np.ones_like(xc) if sample_weight is None else np.asarray(sample_weight, float)
    order = np.argsort(xc, kind="stable")
    xc, D, sw = xc[order], D[order], sw[order]
    n = xc.shape[0]
    iqr = np.quantile(xc, 0.75) - np.quantile(xc, 0.25)
    c_bw = _PILOT[kernel] * min(np.std(xc, ddof=1), iqr / 1.349) * n ** (-1 / 5)
    bw_max = max(abs(xc.min()), abs(xc.max()))
    c_bw = min(c_bw, bw_max)
    left, right = xc < 0, xc >= 0
    sides = [(xc[m], D[m], sw[m], rng) for m, rng in
             ((left, abs(xc.min())), (right, abs(xc.max())))]

    def step(o, nu, o_B, h_B, scale):
        out = [_bw_terms(xs, Ds, o, nu, o_B, c_bw, hb, scale, kernel, nnmatch, ws)
               for (xs, Ds, ws, _), hb in zip(sides, h_B)]
        (Vl, Bl, Rl, rate), (Vr, Br, Rr, _) = out
        return min(((Vl + Vr) / ((Br - Bl) ** 2 + Rl + Rr)) ** rate, bw_max)

    eps = 1 + np.sqrt(np.finfo(float).eps)
    d = step(q + 1, q + 1, q + 2, [sides[0][3] * eps, sides[1][3] * eps], 0)
    b = step(q, p + 1, q + 1, [d, d], 1)
    h = step(p, 0, q, [b, b], 1)
    return float(h), float(b)


class RDD(BaseEstimator):
    r"""Sharp or fuzzy regression discontinuity by local polynomials, with robust inference.

    One-sided weighted least squares of order ``p`` with kernel weights
    :math:`K((X_i - c)/h)/h` give the limits :math:`\hat\mu_\pm` of
    :math:`E[Y \mid X]` at the cutoff; :math:`\hat\tau = \hat\mu_+ - \hat\mu_-` (sharp)
    or its ratio to the jump in :math:`E[T \mid X]` (fuzzy). The bias
    :math:`h^{p+1} \mathcal B` is estimated by an order-``q`` fit at bandwidth
    ``b`` and subtracted; the robust standard error accounts for that estimate
    (Calonico, Cattaneo and Titiunik 2014, Theorem 1 and eq. 11). Variances use
    nearest-neighbour residuals (``vce="nn"``) or heteroskedasticity-robust ones.

    Parameters
    ----------
    cutoff : float, default 0.0
    p : int, default 1
        Order of the point estimate.
    q : int, optional
        Order of the bias estimate (default ``p + 1``).
    kernel : {"triangular", "epanechnikov", "uniform"}, default "triangular"
    bandwidth : "mserd" or float, default "mserd"
        Main bandwidth ``h``; "mserd" selects it by :func:`rd_bandwidth`.
    bias_bandwidth : float, optional
        Bandwidth ``b`` of the bias estimate; default the selected one, or ``h``
        when ``bandwidth`` is given (then the robust estimate equals the order-``q``
        fit).
    vce : {"nn", "hc0", "hc1", "hc2", "hc3"}, default "nn"
    nnmatch : int, default 3
        Neighbours for ``vce="nn"``.

    Attributes
    ----------
    effect_ : Estimate
        The conventional estimate with the robust bias-corrected interval
        (``value`` conventional, ``center`` bias-corrected, ``stderr`` robust).
    conventional_ : Estimate
        Conventional estimate and standard error (interval ignores the bias).
    bandwidth_, bias_bandwidth_ : float
    n_effective_ : tuple of int
        Units inside ``h`` left and right of the cutoff.
    first_stage_ : float or None

    References
    ----------
    Calonico, S., Cattaneo, M. D. and Titiunik, R. (2014). Robust nonparametric
    confidence intervals for regression-discontinuity designs. Econometrica 82(6).
    Calonico, S., Cattaneo, M. D. and Farrell, M. H. (2020). Optimal bandwidth choice
    for robust bias-corrected inference in regression discontinuity designs.
    The Econometrics Journal 23(2).

    Examples
    --------
    >>> from causalkit.rdd import RDD
    >>> from causalkit.datasets import make_rdd_data
    >>> d = make_rdd_data(2000, effect=0.5, random_state=0)
    >>> est = RDD().fit(d.X, d.y)
    >>> round(est.bandwidth_, 3), est.n_effective_
    (0.227, (357, 214))
    >>> [round(v, 3) for v in est.effect().conf_int(0.05)]  # robust bias-corrected 95% CI
    [0.515, 0.63]
    """

    def __init__(self, *, cutoff=0.0, p=1, q=None, kernel="triangular", bandwidth="mserd",
                 bias_bandwidth=None, vce="nn", nnmatch=3):
        self.cutoff = cutoff
        self.p = p
        self.q = q
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.bias_bandwidth = bias_bandwidth
        self.vce = vce
        self.nnmatch = nnmatch

    def fit(self, X, y, *, treatment=None, sample_weight=None):
        """Estimate the jump at the cutoff.

        Parameters
        ----------
        X : array-like of shape (n,) or (n, 1)
            Running variable.
        y : array-like of shape (n,)
            Outcome.
        treatment : array-like of shape (n,), optional
            Binary treatment received (fuzzy design).
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, sample_weight=sample_weight)
        if self.kernel not in _PILOT:
            raise ValueError(f"`kernel` must be one of {tuple(_PILOT)}; got {self.kernel!r}.")
        if self.vce not in ("nn", "hc0", "hc1", "hc2", "hc3"):
            raise ValueError(f"`vce` must be 'nn', 'hc0', 'hc1', 'hc2' or 'hc3'; got {self.vce!r}.")
        if not isinstance(self.p, numbers.Integral) or self.p < 0:
            raise ValueError(f"`p` must be a non-negative integer; got {self.p!r}.")
        q = self.p + 1 if self.q is None else self.q
        if not isinstance(q, numbers.Integral) or q <= self.p:
            raise ValueError(f"`q` must be an integer larger than p = {self.p}; got {self.q!r}.")
        x, names = check_running_variable(X, self.cutoff)
        n = x.shape[0]
        yv = check_vector(y, "y", n=n)
        t = None if treatment is None else check_binary(treatment, "treatment", n=n).astype(float)
        sw = check_weights(sample_weight, "sample_weight", n=n)
        sw = np.ones(n) if sw is None else sw
        xc = x - float(self.cutoff)
        for side, cnt in (("below", int((xc < 0).sum())), ("at or above", int((xc >= 0).sum()))):
            if cnt < q + 2:
                raise ValueError(f"Too few units {side} the cutoff: `X` has {cnt} unit(s) {side} "
                                 f"{self.cutoff:g}; an order-{q} fit needs at least {q + 2}.")
        if isinstance(self.bandwidth, str):
            if self.bandwidth != "mserd":
                raise ValueError(f"`bandwidth` must be 'mserd' or a positive number; got "
                                 f"{self.bandwidth!r}.")
            h, b = rd_bandwidth(x[:, None], yv, cutoff=self.cutoff, p=self.p, q=q,
                                kernel=self.kernel, treatment=t, nnmatch=self.nnmatch,
                                sample_weight=sw)
        else:
            h = float(self.bandwidth)
            if not h > 0:
                raise ValueError(f"`bandwidth` must be positive; got {self.bandwidth!r}.")
            b = h
        if self.bias_bandwidth is not None:
            b = float(self.bias_bandwidth)
            if not b > 0:
                raise ValueError(f"`bias_bandwidth` must be positive; got {self.bias_bandwidth!r}.")

        D = yv[:, None] if t is None else np.c_[yv, t]
        parts = []
        for mask in (xc < 0, xc >= 0):
            parts.append(self._side(xc[mask], D[mask], sw[mask], h, b, q))
        (cl_l, bc_l, wl_cl, wl_bc, rl_h, rl_b, nl), (cl_r, bc_r, wr_cl, wr_bc, rr_h, rr_b, nr) = parts
        tau_cl = cl_r - cl_l  # per column of D
        tau_bc = bc_r - bc_l
        if t is None:
            s = np.array([1.0])
            est_cl, est_bc = tau_cl[0], tau_bc[0]
            self.first_stage_ = None
        else:
            ty, tt = tau_cl
            if abs(tt) < 1e-12:
                raise ValueError("The treatment probability does not jump at the cutoff: the "
                                 "fuzzy effect is not identified.")
            s = np.array([1 / tt, -ty / tt**2])
            est_cl = ty / tt
            est_bc = est_cl - s @ (tau_cl - tau_bc)
            self.first_stage_ = float(tt)
        v_cl = np.sum((wl_cl * (rl_h @ s)) ** 2) + np.sum((wr_cl * (rr_h @ s)) ** 2)
        v_rb = np.sum((wl_bc * (rl_b @ s)) ** 2) + np.sum((wr_bc * (rr_b @ s)) ** 2)
        if t is not None:
            t_first = abs(tau_cl[1]) / np.sqrt(np.sum((wl_cl * rl_h[:, 1]) ** 2)
                                               + np.sum((wr_cl * rr_h[:, 1]) ** 2))
            if t_first < np.sqrt(10):
                warnings.warn(f"Weak first stage: the treatment jumps by {tau_cl[1]:.3g} "
                              f"(t = {t_first:.2f}).", WeakInstrumentWarning, stacklevel=2)
        if min(nl, nr) < 10:
            warnings.warn(f"Only {min(nl, nr)} unit(s) inside the bandwidth on one side of the "
                          "cutoff.", FewObservationsWarning, stacklevel=2)
        name = "RD effect" if t is None else "fuzzy RD effect"
        base = f"local polynomial RD (p={self.p}, q={q}, {self.kernel}, h={h:.4g}, b={b:.4g}, {self.vce})"
        self.conventional_ = Estimate(est_cl, np.sqrt(v_cl), n=nl + nr, method="conventional " + base,
                                      name=name)
        self.effect_ = Estimate(est_cl, np.sqrt(v_rb), n=nl + nr, center=est_bc,
                                method="robust bias-corrected " + base, name=name)
        self.bandwidth_, self.bias_bandwidth_ = h, b
        self.n_effective_ = (nl, nr)
        self.n_features_in_ = 1
        if names is not None:
            self.feature_names_in_ = names
        return self

    def _side(self, xs, D, sw, h, b, q):
        p = self.p
        order = np.argsort(xs, kind="stable")
        xs, D, sw = xs[order], D[order], sw[order]
        K = kernel_function(self.kernel)
        eff = (K(xs / h) > 0) | (K(xs / b) > 0)
        xe, De, we = xs[eff], D[eff], sw[eff]
        fp = _fit(xe, De, h, p, self.kernel, we)
        fq = _fit(xe, De, b, q, self.kernel, we)
        L = fp["rows"][0] @ ((xe / h) ** (p + 1))
        corr = L * (h / b) ** (p + 1)
        w_cl = fp["rows"][0]
        w_bc = w_cl - corr * fq["rows"][p + 1]
        cl = fp["beta"][0]
        bc = cl - corr * fq["beta"][p + 1]
        res_h = _residuals(xe, De, fp, self.vce, self.nnmatch, p + 1)
        res_b = _residuals(xe, De, fq, self.vce, self.nnmatch, q + 1)
        n_h = int(np.count_nonzero(fp["w"]))
        return cl, bc, w_cl, w_bc, res_h, res_b, n_h

    def effect(self) -> Estimate:
        """The effect with its robust bias-corrected interval (``conf_int``)."""
        check_is_fitted(self, "effect_")
        return self.effect_


def rd_plot(X, y, *, cutoff=0.0, n_bins=20, p=4, ax=None):
    """Binned means of ``y`` with global polynomial fits on each side (like rdplot).

    ``n_bins`` evenly spaced bins per side; the fits are order-``p`` least squares on
    the raw data of each side.
    """
    from .._lazy import require

    plt = require("matplotlib.pyplot", extra="plot")
    x, _ = check_running_variable(X, cutoff)
    yv = check_vector(y, "y", n=x.shape[0])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for mask, color in ((x < cutoff, "C0"), (x >= cutoff, "C1")):
        xs, ys = x[mask], yv[mask]
        edges = np.linspace(xs.min(), xs.max(), n_bins + 1)
        idx = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, n_bins - 1)
        cnt = np.bincount(idx, minlength=n_bins)
        means = np.bincount(idx, weights=ys, minlength=n_bins) / np.maximum(cnt, 1)
        mids = (edges[1:] + edges[:-1]) / 2
        ax.scatter(mids[cnt > 0], means[cnt > 0], s=14, color=color)
        coef = np.polyfit(xs - cutoff, ys, p)
        grid = np.linspace(xs.min(), xs.max(), 200)
        ax.plot(grid, np.polyval(coef, grid - cutoff), color=color)
    ax.axvline(cutoff, color="0.5", ls="--", lw=0.8)
    ax.set_xlabel("running variable")
    ax.set_ylabel("outcome")
    return ax
