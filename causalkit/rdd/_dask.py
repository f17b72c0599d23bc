"""The Dask path of the scalar :class:`RDD` with a given bandwidth.

With ``bandwidth`` given and heteroskedasticity-robust variances (``vce="hc0"`` or
``"hc1"``), every number of the local polynomial estimate is a kernel-weighted moment
inside the window, so one chunked pass suffices. Per side it accumulates the Gram
matrices ``sum k_i r_i r_i'`` of the order-``p`` (bandwidth ``h``) and order-``q``
(bandwidth ``b``) fits, their cross-products with the outcome (and treatment), and
the fourth-moment matrix ``sum (z_i (x) v_i)(z_i (x) v_i)'`` with
``z_i = (r_{p,i} k_{h,i}, r_{q,i} k_{b,i})`` and ``v_i = (D_i, r_i)``: the robust
variance ``sum_i (w_i e_i's)^2`` of Calonico, Cattaneo and Titiunik (2014, eq. 11)
is a quadratic form in it, because both the equivalent-kernel weight ``w_i`` and the
residual ``e_i's`` are linear in those vectors once the fits are known.

Steps that need the sorted rows (bandwidth selection, nearest-neighbour variances,
HC2/HC3 leverages, mass-point counts, clusters, covariates) raise an error that names
the argument to give.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..inference import Estimate, EstimateTable
from ..utils._chunked import (
    FiniteStats,
    align_rows,
    as_dask_all,
    column_names,
    combine,
    finite_stats,
    merge_values,
    raise_finite,
    raise_weights,
    reduce_blocks,
    vector_stats,
)
from ..utils.validation import FewObservationsWarning, WeakInstrumentWarning, store_feature_names
from ._core import kernel_function


def _basis(u, order):
    R = np.empty((u.shape[0], order + 1))
    R[:, 0] = 1.0
    for j in range(1, order + 1):
        R[:, j] = R[:, j - 1] * u
    return R


def _check(est, covariates, groups):
    if est.bandwidth is None:
        raise ValueError(
            "Bandwidth selection sorts the running variable and fits pilot regressions over "
            "all rows, which the Dask path never gathers. Pass `bandwidth=` (e.g. selected by "
            "rd_bandwidth on a sample, or on the data near the cutoff).")
    if est.vce not in ("hc0", "hc1"):
        raise ValueError(
            f"`vce`={est.vce!r} needs the sorted rows (nearest neighbours for 'nn', leverages "
            "for 'hc2'/'hc3'), which the Dask path never gathers. Pass `vce='hc1'` (or 'hc0').")
    if est.masspoints != "off":
        raise ValueError(
            "The mass-points check counts the distinct values of `X`, which needs all rows in "
            "one process. With Dask input pass `masspoints='off'` (check for mass points on a "
            "sample first).")
    if covariates is not None:
        raise ValueError("`covariates` are not supported with Dask input (their coefficients "
                         "need a second pass); pass numpy arrays or drop `covariates`.")
    if groups is not None:
        raise ValueError("`groups` (cluster-robust SEs) are not supported with Dask input; "
                         "pass numpy arrays or drop `groups`.")


def fit_dask(est, X, y, treatment, covariates, groups, sample_weight):
    """``RDD.fit`` for Dask collections; returns ``est``."""
    from ._scalar import _Combo, _fmt_pair

    p, q, nu = est._resolve_params()
    _check(est, covariates, groups)
    cutoff = est.cutoff
    if not isinstance(cutoff, (int, float, np.floating, np.integer)) or isinstance(cutoff, bool) \
            or not np.isfinite(cutoff):
        raise TypeError(f"`cutoff` must be a finite number; got {cutoff!r}.")
    c = as_dask_all(("X", X, (1, 2)), ("y", y, (1,)), ("treatment", treatment, (1,)),
                    ("sample_weight", sample_weight, (1,)))
    xd, yd, td, wd = c["X"], c["y"], c["treatment"], c["sample_weight"]
    if xd.ndim == 2:
        if xd.shape[1] != 1:
            raise ValueError(
                f"`X` must be the running variable alone (one column); got {xd.shape[1]} "
                "columns. Pass the score that assigns treatment at the cutoff.")
        xd = xd[:, 0]
    if yd.shape[0] != xd.shape[0]:
        raise ValueError(f"`y` has {yd.shape[0]} values but `X` has {xd.shape[0]}; pass one "
                         "value per row of `X`.")
    arrs = align_rows(xd, X=xd, y=yd, treatment=td, sample_weight=wd)
    hl, hr, bl, br = (float(v) for v in est._given_bandwidths())
    kern = est._kernel
    K = kernel_function(kern)
    closed = kern == "uniform"
    fuzzy = td is not None
    c0 = float(cutoff)

    def side_stats(xc, D, w, h, b):
        H = max(h, b)
        inwin = (np.abs(xc) <= H) if closed else (np.abs(xc) < H)
        x, D, w = xc[inwin], D[inwin], w[inwin]
        kh = K(x / h) * (w / h)
        kb = K(x / b) * (w / b)
        Rp, Rq = _basis(x / h, p), _basis(x / b, q)
        zp = Rp * kh[:, None]
        zq = Rq * kb[:, None]
        vh = np.column_stack([D, Rp])
        vb = np.column_stack([D, Rq])
        Th = np.einsum("ni,nj->nij", zp, vh).reshape(x.shape[0], zp.shape[1] * vh.shape[1])
        zb = np.column_stack([zp, zq])
        Tb = np.einsum("ni,nj->nij", zb, vb).reshape(x.shape[0], zb.shape[1] * vb.shape[1])
        return {"n_win": int(x.shape[0]), "n_h": int(np.count_nonzero(kh)),
                "n_b": int(np.count_nonzero(kb)),
                "Gp": zp.T @ Rp, "SpD": zp.T @ D, "Lp": zp.T @ ((x / h) ** (p + 1)),
                "Gq": zq.T @ Rq, "SqD": zq.T @ D, "Th": Th.T @ Th, "Tb": Tb.T @ Tb}

    def block(off, xb, yb, tb, wb):
        xb = np.asarray(xb, dtype=np.float64)
        yv = np.asarray(yb, dtype=np.float64)
        out = {"x": vector_stats(xb, off), "y": finite_stats(yv, off),
               "t": FiniteStats() if tb is None else finite_stats(tb, off),
               "tv": None if tb is None else np.unique(np.asarray(tb))[:3],
               "w": None if wb is None else vector_stats(wb, off)}
        D = yv[:, None] if tb is None else np.column_stack([yv, np.asarray(tb, dtype=np.float64)])
        w = np.ones_like(xb) if wb is None else np.asarray(wb, dtype=np.float64)
        xc = xb - c0
        left = xc < 0
        out["n_left"] = int(left.sum())
        out["n_right"] = int((~left).sum())
        with np.errstate(all="ignore"):
            out["L"] = side_stats(xc[left], D[left], w[left], hl, bl)
            out["R"] = side_stats(xc[~left], D[~left], w[~left], hr, br)
        return out

    def comb(a, b):
        tv = None if a["tv"] is None else merge_values(a["tv"], b["tv"])[:3]
        a = dict(a, tv=None)
        b = dict(b, tv=None)
        out = combine(a, b)
        out["tv"] = tv
        return out

    st = reduce_blocks(block, [arrs["X"], arrs["y"], arrs["treatment"], arrs["sample_weight"]],
                       comb)
    xs = st["x"]
    raise_finite(xs.fin, "X")
    if not (xs.lo < cutoff <= xs.hi):
        raise ValueError(
            f"`cutoff` = {cutoff:g} lies outside the support of `X` "
            f"[{xs.lo:.4g}, {xs.hi:.4g}]: no units on one side. Set `cutoff` to the threshold "
            "that assigns treatment, inside the range of the running variable.")
    raise_finite(st["y"], "y")
    if fuzzy:
        raise_finite(st["t"], "treatment")
        values = np.asarray(st["tv"], dtype=float)
        if values.size == 2 and not np.array_equal(values, [0.0, 1.0]):
            raise ValueError(
                f"`treatment` takes exactly two values {values.tolist()}; causalkit reads a binary "
                f"treatment only when it is coded 0/1. Recode it, e.g. `(treatment == {values[1]:g})."
                "astype(int)`; for a dose with two levels, divide the effect by their difference.")
    if st["w"] is not None:
        raise_weights(st["w"])

    parts = []
    for side, h, b in ((st["L"], hl, bl), (st["R"], hr, br)):
        for G, order, n_k, bw in ((side["Gp"], p, side["n_h"], h), (side["Gq"], q, side["n_b"], b)):
            if n_k < order + 1 or not np.all(np.isfinite(G)) or np.linalg.cond(G) > 1e14:
                raise ValueError(
                    f"Cannot estimate at h = {h:.4g}, b = {b:.4g}: only {n_k} unit(s) lie within "
                    f"{bw:.4g} of the cutoff on one side, and a polynomial of order {order} needs "
                    f"at least {order + 1} distinct values. Use a larger `bandwidth`/`bias_bandwidth` "
                    "or a lower `p`/`q`.")
        Gp_inv = np.linalg.inv(side["Gp"])
        Gq_inv = np.linalg.inv(side["Gq"])
        beta_p = Gp_inv @ side["SpD"]
        beta_q = Gq_inv @ side["SqD"]
        scale = math.factorial(nu) / h ** nu
        a_p = Gp_inv[nu]
        Lc = float(a_p @ side["Lp"])
        a = scale * a_p
        c = -scale * Lc * (h / b) ** (p + 1) * Gq_inv[p + 1]
        cl = scale * beta_p[nu]
        bc = scale * (beta_p[nu] - Lc * (h / b) ** (p + 1) * beta_q[p + 1])
        n_win = side["n_win"]
        fac_h = n_win / (n_win - (p + 1)) if est.vce == "hc1" else 1.0
        fac_b = n_win / (n_win - (q + 1)) if est.vce == "hc1" else 1.0

        def var_cl(s, side=side, a=a, beta_p=beta_p, fac_h=fac_h):
            g = np.kron(a, np.r_[s, -beta_p @ s])
            return fac_h * float(g @ side["Th"] @ g)

        def var_bc(s, side=side, a=a, c=c, beta_q=beta_q, fac_b=fac_b):
            g = np.kron(np.r_[a, c], np.r_[s, -beta_q @ s])
            return fac_b * float(g @ side["Tb"] @ g)

        parts.append({"cl": cl, "bc": bc, "var_cl": var_cl, "var_bc": var_bc, "n_h": side["n_h"]})
    left, right = parts
    k = 2 if fuzzy else 1
    tau_cl = right["cl"] - left["cl"]
    tau_bc = right["bc"] - left["bc"]
    combo = _Combo(fuzzy, 0, k)
    if fuzzy:
        tt = tau_cl[1]
        if abs(tt) < 1e-12:
            raise ValueError("The treatment does not jump at the cutoff (first-stage jump "
                             f"{tt:.3g}): the fuzzy effect is not identified. Check "
                             "`treatment` and `cutoff`.")
    s = combo.from_jumps(tau_cl, None)
    est_cl = float(tau_cl[0] / tau_cl[1]) if fuzzy else float(tau_cl[0])
    est_bc = est_cl - float(s @ (tau_cl - tau_bc))

    def var(kind, s):
        return sum(part["var_" + kind](s) for part in (left, right))

    se_cl = math.sqrt(var("cl", s))
    se_rb = math.sqrt(var("bc", s))
    n_eff = left["n_h"] + right["n_h"]
    name = {0: "RD effect", 1: "RD kink"}.get(nu, f"RD derivative {nu}")
    if fuzzy:
        name = "fuzzy " + name
    base = (f"local polynomial RD (p={p}, q={q}, {kern}, h={_fmt_pair(hl, hr)}, "
            f"b={_fmt_pair(bl, br)}, bwselect=manual, {est.vce})")
    est.conventional_ = Estimate(est_cl, se_cl, n=n_eff, method="conventional " + base, name=name)
    est.bias_corrected_ = Estimate(est_bc, se_cl, n=n_eff,
                                   method="bias-corrected, conventional SE, " + base, name=name)
    est.effect_ = Estimate(est_bc, se_rb, n=n_eff, method="robust bias-corrected " + base,
                           name=name)
    est.first_stage_ = None
    if fuzzy:
        sf = np.array([0.0, 1.0])
        fs_cl, fs_bc = float(tau_cl @ sf), float(tau_bc @ sf)
        fse_cl, fse_rb = math.sqrt(var("cl", sf)), math.sqrt(var("bc", sf))
        est.first_stage_ = EstimateTable((
            Estimate(fs_cl, fse_cl, n=n_eff, method="conventional", name="conventional"),
            Estimate(fs_bc, fse_cl, n=n_eff, method="bias-corrected", name="bias-corrected"),
            Estimate(fs_bc, fse_rb, n=n_eff, method="robust", name="robust"),
        ), title="first stage")
        if fse_cl > 0 and abs(fs_cl) / fse_cl < math.sqrt(10):
            warnings.warn(f"Weak first stage: the treatment jumps by {fs_cl:.3g} "
                          f"(t = {abs(fs_cl) / fse_cl:.2f}).", WeakInstrumentWarning, stacklevel=3)
    if min(left["n_h"], right["n_h"]) < 10:
        warnings.warn(f"Only {min(left['n_h'], right['n_h'])} unit(s) inside the bandwidth on "
                      "one side of the cutoff.", FewObservationsWarning, stacklevel=3)
    est.bandwidth_ = (hl, hr)
    est.bias_bandwidth_ = (bl, br)
    est.n_effective_ = (left["n_h"], right["n_h"])
    est.n_unique_ = None
    est.n_ = (st["n_left"], st["n_right"])
    est.gamma_ = None
    est.n_clusters_ = None
    est.n_features_in_ = 1
    names = column_names(X)
    store_feature_names(est, names)
    return est
