"""The Dask path of :class:`ControlVariates` and :func:`cuped`: chunked Gram matrices.

One pass over the row blocks gives, per stratum (or per arm), the count, the means
and the centred Gram matrix of ``[Z, Y]`` (merged exactly between blocks, see
:class:`causalkit.utils._chunked.Moments`), plus the checks of the numpy path. The
slopes, the estimate, its residual standard error and the per-stratum diagnostics are
closed-form functions of those sums, so the numbers equal the in-memory ones.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from ..utils._chunked import (
    FiniteStats,
    Moments,
    align_rows,
    as_dask_all,
    column_names,
    finite_stats,
    is_dask,
    merge_values,
    raise_binary,
    raise_finite,
    reduce_blocks,
    require_dask,
    vector_stats,
)
from ..utils.validation import FewObservationsWarning
from ._cuped import _cuped_estimate
from ._cv import _store_results, _stratum_row


def _combine(a, b):
    out = {}
    for key, x in a.items():
        y = b[key]
        if x is None:
            out[key] = None
        elif key == "strata":
            merged = dict(x)
            for lab, m in y.items():
                merged[lab] = merged[lab] + m if lab in merged else m
            out[key] = merged
        elif key == "values":
            out[key] = merge_values(x, y)
        else:
            out[key] = x + y
    return out


def _labels_dask(strata, like, name="strata"):
    """Stratum labels as a Dask array (any dtype) aligned with ``like``."""
    da = require_dask()
    if hasattr(strata, "to_dask_array"):
        arr = strata.to_dask_array(lengths=True)
    elif is_dask(strata):
        arr = strata
    else:
        a = np.asarray(strata.to_numpy() if hasattr(strata, "to_numpy") else strata)
        if a.ndim != 1 or a.shape[0] != like.shape[0]:
            raise ValueError(f"`{name}` must be 1-D with one label per row of X ({like.shape[0]}); "
                             f"got shape {a.shape}.")
        arr = da.from_array(a, chunks=(like.chunks[0],))
    if arr.ndim != 1 or arr.shape[0] != like.shape[0]:
        raise ValueError(f"`{name}` must be 1-D with one label per row of X ({like.shape[0]}); "
                         f"got shape {arr.shape}.")
    return align_rows(like, s=arr)["s"]


def _pass(Z, y, w=None, strata=None, *, binary=False):
    """One chunked pass: checks and per-label moments of ``[Z, y * w]``."""
    p = Z.shape[1]

    def block(off, Zb, yb, wb, sb):
        Zb = np.asarray(Zb, dtype=np.float64)
        yv = np.asarray(yb, dtype=np.float64)
        out = {"X": finite_stats(Zb, off), "y": finite_stats(yv, off),
               "w": None if wb is None else vector_stats(wb, off)}
        Y = yv if wb is None else yv * np.asarray(wb, dtype=np.float64)
        out["wsum"] = 0.0 if wb is None else float(np.sum(wb))
        out["wsq"] = 0.0 if wb is None else float(np.dot(wb, wb))
        A = np.column_stack([Zb, Y])
        groups = {}
        out["s_nan"] = 0
        out["s_fin"] = FiniteStats()
        out["values"] = None
        if sb is None:
            groups["all"] = Moments.of(A)
        else:
            sv = np.asarray(sb)
            if binary:
                out["s_fin"] = finite_stats(sv, off) if sv.dtype.kind == "f" else FiniteStats()
                vals = np.unique(sv)
                out["values"] = vals[:1000]
                labs = [v for v in vals if v in (0, 1)]
            else:
                if sv.dtype.kind == "f" and np.isnan(sv).any():
                    out["s_nan"] = int(np.isnan(sv).sum())
                    sv = np.where(np.isnan(sv), 0, sv)
                labs = np.unique(sv)
            for lab in labs:
                key = lab.item() if hasattr(lab, "item") else lab
                if binary:
                    key = int(key)
                groups[key] = Moments.of(A[sv == lab])
        if not groups:
            groups = {}
        out["strata"] = groups
        return out

    def empty_safe(a, b):
        return _combine(a, b)

    del p
    return reduce_blocks(block, [Z, y, w, strata], empty_safe)


def _solve_moments(M, p, alpha):
    """Slopes of ``Y`` on ``Z`` from the centred Gram matrix (the Cholesky route of
    ``_cv._solve``); collinear controls raise (the numpy path falls back to a QR of
    the rows, which the Dask path does not hold)."""
    G, c = M.C[:p, :p], M.C[:p, p]
    A = G + alpha * np.eye(p)
    try:
        cf = linalg.cho_factor(A, check_finite=False)
        d = np.diag(cf[0])
        if d.min() <= 1e-7 * max(d.max(), 1e-300):
            raise linalg.LinAlgError("ill conditioned")
        return linalg.cho_solve(cf, c, check_finite=False)
    except linalg.LinAlgError:
        raise ValueError(
            "The controls in `X` are collinear (or constant) within a stratum: their slopes are "
            "not identified from the Gram matrix, and the Dask path holds no rows for the QR "
            "fallback of the numpy path. Drop the redundant controls or set `alpha` > 0."
        ) from None


def _strata_pool(est, labels, moms, n, p):
    """``ControlVariates._strata``'s pooling of small strata, on merged moments."""
    est._n_pooled = 0
    folds = 1
    need = est.min_stratum_size if est.min_stratum_size is not None else p + 2
    need_total = int(np.ceil(need * folds / max(folds - 1, 1)))
    counts = np.array([moms[i].n for i in range(len(labels))])
    small = counts < need_total
    if not small.any():
        return labels, moms
    warnings.warn(
        f"{int(small.sum())} stratum/strata of `strata` have fewer than {need_total} draws "
        f"(needed to fit {p} control slope(s)); they are pooled into one stratum "
        "'pooled'. Their controls must have the known mean in the pooled stratum too.",
        FewObservationsWarning, stacklevel=4)
    est._n_pooled = int(counts[small].sum())
    keep = np.flatnonzero(~small)
    pooled = Moments.empty(p + 1)
    for j in np.flatnonzero(small):
        pooled = pooled + moms[j]
    new_labels = list(labels[keep]) + ["pooled"]
    new_moms = [moms[j] for j in keep] + [pooled]
    if counts[small].sum() < need_total:
        if len(keep) == 0:
            raise ValueError(
                f"`X` has only {n} rows; fitting {p} control slope(s) needs at least "
                f"{need_total}. Simulate more draws or use fewer controls.")
        big = int(np.argmax(counts[keep]))
        new_moms[big] = new_moms[big] + pooled
        new_moms = new_moms[:-1]
        new_labels = new_labels[:-1]
        new_labels[big] = f"{new_labels[big]}+pooled"
    return np.array(new_labels, dtype=object), new_moms


def _cv_results(moms, mu, p, alpha):
    """Per-stratum slopes and the estimate's pieces from the stratum moments."""
    S = len(moms)
    n = sum(m.n for m in moms)
    coef = np.zeros((S, p))
    psibar = np.zeros(S)
    rss = np.zeros(S)
    for s, M in enumerate(moms):
        b = _solve_moments(M, p, alpha)
        coef[s] = b
        psibar[s] = M.mean[p] - b @ (M.mean[:p] - mu)
        u = np.r_[-b, 1.0]
        rss[s] = float(u @ M.C @ u)
    ns = np.array([m.n for m in moms], dtype=float)
    value = float(ns @ psibar / n)
    ss = float(rss.sum() + ns @ (psibar - value) ** 2)
    return coef, psibar, rss, ns, value, ss


def fit_dask(est, X, y, weights, strata):
    """``ControlVariates.fit`` for Dask collections; returns ``est``."""

    if est.cv is not None:
        raise ValueError(
            "Cross-fitted slopes (`cv`) need the rows of every fold in one process, which the "
            "Dask path never gathers. Use `cv=None` (in-sample slopes from the chunked Gram "
            "matrix; the O(1/n) bias of in-sample slopes is negligible at Dask sizes), or pass "
            "numpy arrays.")
    c = as_dask_all(("y", y, (1,)), ("X", X, (1, 2)), ("weights", weights, (1,)))
    yd, Zd, wd = c["y"], c["X"], c["weights"]
    if Zd.ndim == 1:
        Zd = Zd[:, None]
    n, p = int(Zd.shape[0]), int(Zd.shape[1])
    if p == 0:
        raise ValueError(f"`X` has no columns: 0 feature(s) (shape={Zd.shape}) while a "
                         "minimum of 1 is required. Pass at least one feature.")
    if n < 2:
        raise ValueError(f"`X` has n_samples={n} (1 sample); a mean with a standard "
                         "error needs at least 2 draws.")
    arrs = align_rows(yd, X=Zd, y=yd, weights=wd)
    mu = est._control_means(p)
    sd = None if strata is None else _labels_dask(strata, yd)
    st = _pass(arrs["X"], arrs["y"], arrs["weights"], sd)
    raise_finite(st["X"], "X")
    raise_finite(st["y"], "y")
    if st["w"] is not None:
        ws = st["w"]
        raise_finite(ws.fin, "weights")
        if ws.neg:
            raise ValueError(
                f"`weights` must be non-negative importance ratios; {ws.neg} "
                f"value(s) are negative (min {ws.lo:.4g}). Pass p(x)/q(x) for each draw.")
        ess = float(st["wsum"] ** 2 / st["wsq"]) if ws.pos else 0.0
    else:
        ess = float(n)
    if st["s_nan"]:
        raise ValueError("`strata` contains NaN; give every draw a stratum label.")
    groups = st["strata"]
    est._n_pooled = 0
    if strata is None:
        labels = np.array(["all"], dtype=object)
        moms = [groups["all"]]
    else:
        keys = list(groups)
        labels = np.unique(np.array(keys, dtype=object if any(isinstance(k, str) for k in keys)
                                    else None))
        moms = [groups[lab.item() if hasattr(lab, "item") else lab] for lab in labels]
        labels = labels.astype(object)
        labels, moms = _strata_pool(est, labels, moms, n, p)
    S = len(labels)
    alpha = float(est.alpha)
    coef, psibar, rss, ns, value, ss = _cv_results(moms, mu, p, alpha)
    n_coef = S * (p + 1)
    method = "regression control variates, in-sample slopes"
    if alpha > 0:
        method += f", ridge alpha={alpha:g}"
    if S > 1:
        method += f", {S} strata"
    dof = max(n - n_coef, 1)
    se = float(np.sqrt(ss / (n * dof)))
    total = moms[0]
    for M in moms[1:]:
        total = total + M
    vy_n = float(total.C[p, p])
    plain_value = float(total.mean[p])
    plain_se = float(np.sqrt(vy_n / (n - 1)) / np.sqrt(n))
    rows = []
    for s in range(S):
        M = moms[s]
        m = M.n
        rows.append(_stratum_row(labels[s], m, n, float(psibar[s]), float(M.mean[p]),
                                 M.C[p, p] / (m - 1) if m > 1 else np.nan,
                                 rss[s] / (m - 1) if m > 1 else np.nan))
    vy_all = vy_n / n
    r2 = float(1 - (ss / n) / vy_all) if vy_all > 0 else np.nan
    return _store_results(est, value=value, se=se, plain_value=plain_value, plain_se=plain_se,
                          method=method, weighted=weights is not None, coef=coef, labels=labels,
                          scores=None, rows=rows, r2=r2, ess=ess, n=n, p=p,
                          names=column_names(X))


def cuped_dask(y, treatment, covariates, alpha):
    """:func:`cuped` for Dask collections: one chunked pass of per-arm Gram matrices."""
    c = as_dask_all(("y", y, (1,)), ("covariates", covariates, (1, 2)),
                    ("treatment", treatment, (1,)))
    yd, Xd, td = c["y"], c["covariates"], c["treatment"]
    if Xd.ndim == 1:
        Xd = Xd[:, None]
    arrs = align_rows(yd, covariates=Xd, y=yd, treatment=td)
    n, p = int(Xd.shape[0]), int(Xd.shape[1])
    if p == 0:
        raise ValueError(f"`covariates` has no columns: 0 feature(s) (shape={Xd.shape}) while a "
                         "minimum of 1 is required. Pass at least one feature.")
    st = _pass(arrs["covariates"], arrs["y"], None, arrs["treatment"], binary=True)
    raise_finite(st["X"], "covariates")
    raise_finite(st["y"], "y")
    raise_finite(st["s_fin"], "treatment")
    raise_binary(st["values"], "treatment")
    arms = st["strata"]
    for arm in (0, 1):
        m = arms[arm].n if arm in arms else 0
        if m < p + 2:
            raise ValueError(
                f"`treatment` arm {arm} has {m} unit(s); adjusting for {p} "
                f"covariate(s) needs at least {p + 2} per arm.")
    pooled = arms[0] + arms[1]
    xbar = pooled.mean[:p]
    fits = {}
    for arm in (0, 1):
        M = arms[arm]
        coef, psibar, rss, ns, value, ss = _cv_results([M], xbar, p, float(alpha))
        m = M.n
        dof = max(m - (p + 1), 1)
        se = float(np.sqrt(ss / (m * dof)))
        plain_se = float(np.sqrt(M.C[p, p] / (m - 1)) / np.sqrt(m))
        fits[arm] = (coef[0], value, se, float(M.mean[p]), plain_se)
    b1, b0 = fits[1][0], fits[0][0]
    tau = fits[1][1] - fits[0][1]
    d = b1 - b0
    cov = pooled.C[:p, :p] / (n - 1)
    var = fits[1][2] ** 2 + fits[0][2] ** 2 + float(d @ cov @ d) / n
    raw = fits[1][3] - fits[0][3]
    raw_var = fits[1][4] ** 2 + fits[0][4] ** 2
    return _cuped_estimate(tau, var, raw, raw_var, p, n)
