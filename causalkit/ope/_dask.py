"""The Dask path of the contextual-bandit estimators (IPS, SNIPS, DM and the DR family).

``fit`` runs one pass of cheap reductions over the row blocks (the checks of the numpy
path, the propensity range and the action counts) and keeps the lazy collections
(task graphs, never their computed blocks). Each ``value(policy)`` is one more pass:
per block the importance weights and the estimator's score columns, reduced to their
weighted means and centred co-moments (:class:`causalkit.utils._chunked.Moments`),
from which the value and its standard error follow with the numpy path's formulas.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np

from ..inference import Diagnostics, Estimate
from ..utils._chunked import (
    FiniteStats,
    Moments,
    align_rows,
    as_dask,
    as_dask_all,
    column_names,
    combine,
    finite_stats,
    need_argument,
    raise_finite,
    raise_propensity,
    raise_weights,
    reduce_blocks,
    vector_stats,
)
from ..utils.validation import PositivityWarning, store_feature_names

_ROW_SUM_TOL = 1e-6
_BIG = np.iinfo(np.int64).max


# --------------------------------------------------------------------------- merging


def _at(M, a):
    """``M[i, a[i]]`` for every row (one gather from the flat buffer)."""
    M = np.ascontiguousarray(M)
    return M.reshape(-1)[np.arange(M.shape[0], dtype=np.int64) * M.shape[1] + a]


def _first(mask, values, offset):
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return ("first", 0, _BIG, np.nan)
    return ("first", int(idx.size), int(idx[0]) + offset, float(values[idx[0]]))


def _prob_stats(P, offset):
    """Finiteness, minimum and rows not summing to one of a block of probabilities.

    The row sums double as the finiteness check (a NaN or inf makes its row sum
    non-finite), as in ``_bandit._check_prob_matrix``: a finite block costs two
    reductions, the row sums and the minimum.
    """
    s = P @ np.ones(P.shape[1]) if P.ndim == 2 else P.sum(axis=1)  # a BLAS row sum
    if not P.size:
        return {"fin": FiniteStats(), "min": ("min", np.inf), "rows": _first(s > 0, s, offset)}
    lo = float(P.min())
    fin = FiniteStats(size=P.size) if np.isfinite(s).all() else finite_stats(P, offset)
    return {"fin": fin, "min": ("min", lo), "rows": _first(np.abs(s - 1.0) > _ROW_SUM_TOL, s, offset)}


def _raise_prob(st, name):
    """The checks of ``_bandit._check_prob_matrix`` (shape checked before)."""
    raise_finite(st["fin"], name)
    if st["min"][1] < 0:
        raise ValueError(f"`{name}` holds negative probabilities (min {st['min'][1]:.4g}); "
                         "action probabilities must be non-negative.")
    _, count, row, val = st["rows"]
    if count:
        raise ValueError(f"`{name}` rows must sum to 1; {count} row(s) do not "
                         f"(row {row} sums to {val:.6g}). Normalise each row.")


# --------------------------------------------------------------------------- fit


#: The fitted collections, in the order of the block functions' arguments after ``off``.
_DATA_KEYS = ("X", "y", "action", "propensity", "estimated_rewards", "sample_weight")


def fit_dask(est, X, y, action, propensity, estimated_rewards, sample_weight):
    """``_BanditOPE.fit`` for Dask collections; returns ``est``."""
    ctx = _fit_setup(est, X, y, action, propensity, estimated_rewards, sample_weight)
    st = reduce_blocks(ctx.block, ctx.arrays, combine)
    return _fit_finish(est, st, ctx, X)


def _fit_setup(est, X, y, action, propensity, estimated_rewards, sample_weight):
    """The argument checks that need no pass, the aligned arrays and the block function
    of ``fit``'s pass (a namespace)."""
    if propensity is None:
        raise need_argument("Estimating the logging propensities (a classifier fitted on all "
                            "rounds)", "propensity=")
    if est._needs_reward_model and estimated_rewards is None:
        raise need_argument("Fitting the reward model (cross-fitted over all rounds)",
                            "estimated_rewards=", " of shape (n, n_actions)")
    c = as_dask_all(("y", y, (1,)), ("X", X, (1, 2)), ("action", action, (1,)),
                    ("propensity", propensity, (1, 2)),
                    ("estimated_rewards", estimated_rewards if est._needs_reward_model else None,
                     (2,)), ("sample_weight", sample_weight, (1,)))
    yd, Xd, ad, pdk, qd, swd = (c[k] for k in ("y", "X", "action", "propensity",
                                               "estimated_rewards", "sample_weight"))
    if Xd.ndim == 1:
        Xd = Xd[:, None]
    if pdk.ndim == 2 and pdk.shape[1] == 1:
        pdk = pdk[:, 0]
    if Xd.shape[1] == 0:
        raise ValueError(f"`X` has no columns: 0 feature(s) (shape={Xd.shape}) while a "
                         "minimum of 1 is required. Pass at least one feature.")
    arrs = align_rows(yd, X=Xd, y=yd, action=ad, propensity=pdk, estimated_rewards=qd,
                      sample_weight=swd)
    n = int(yd.shape[0])
    if n < 2:
        raise ValueError(f"`y` has {n} logged round(s); a standard error needs at least 2.")
    akind = ad.dtype.kind
    if akind not in "iubf":
        raise TypeError(f"`action` must hold integer action indices; got dtype {ad.dtype}.")
    n_actions = getattr(est, "n_actions", None)
    if n_actions is not None and (not isinstance(n_actions, (int, np.integer))
                                  or isinstance(n_actions, bool) or n_actions < 2):
        raise ValueError(f"`n_actions` must be an integer >= 2; got {n_actions!r}.")
    two_d = pdk.ndim == 2

    def block(off, Xb, yb, ab, pb, qb, sb):
        out = {"X": finite_stats(Xb, off), "y": finite_stats(yb, off),
               "a_fin": finite_stats(ab, off) if akind == "f" else FiniteStats(),
               "a_min": ("min", float(ab.min()) if ab.size else np.inf),
               "a_max": ("max", float(ab.max()) if ab.size else -np.inf)}
        if akind == "f":
            with np.errstate(invalid="ignore"):
                out["a_nonint"] = int(np.count_nonzero(~np.isfinite(ab) | (ab != np.round(ab))))
        else:
            out["a_nonint"] = 0
        ai = np.nan_to_num(np.asarray(ab, dtype=np.float64)).astype(np.int64)
        out["counts"] = ("counts", np.bincount(np.clip(ai, 0, None)))
        if two_d:
            P = np.asarray(pb, dtype=np.float64)
            out["P0"] = _prob_stats(P, off)
            p = P[np.arange(P.shape[0]), np.clip(ai, 0, P.shape[1] - 1)]
            out["p0"] = _first(p <= 0, p, off)
        else:
            p = np.asarray(pb, dtype=np.float64)
            out["P0"] = None
            out["p0"] = None
        out["p"] = vector_stats(p, off)
        with np.errstate(invalid="ignore"):
            out["p_bad"] = int(np.count_nonzero((p <= 0) | (p > 1)))
        out["q"] = None if qb is None else finite_stats(qb, off)
        out["sw"] = None if sb is None else vector_stats(sb, off)
        return out

    data = {**{key: arrs[key] for key in _DATA_KEYS}, "n": n}
    return SimpleNamespace(block=block, arrays=[data[key] for key in _DATA_KEYS], data=data,
                           n=n, two_d=two_d, n_actions=n_actions, pdk=pdk, qd=qd, Xd=Xd)


def _fit_finish(est, st, ctx, X):
    """Raise what the numpy ``fit`` raises, from the merged stats, and set the fitted
    attributes; returns ``est``."""
    n, two_d, n_actions, pdk, qd, Xd = ctx.n, ctx.two_d, ctx.n_actions, ctx.pdk, ctx.qd, ctx.Xd
    # the numpy path's checks, in its order
    raise_finite(st["X"], "X")
    raise_finite(st["y"], "y")
    raise_finite(st["a_fin"], "action")
    if st["a_nonint"]:
        raise ValueError("`action` must hold integer action indices 0..n_actions-1; "
                         "found non-integer values. Encode actions as integers.")
    amin, amax = st["a_min"][1], st["a_max"][1]
    if amin < 0:
        raise ValueError(f"`action` must lie in [0, n_actions); found {int(amin)}. "
                         "Encode actions as 0..n_actions-1.")
    k = int(amax) + 1 if n_actions is None else int(n_actions)
    if amax >= k:
        raise ValueError(f"`action` must lie in [0, n_actions) = [0, {k}); found {int(amax)}. "
                         "Raise `n_actions` or re-encode the actions.")
    k = max(k, 2)
    if st["sw"] is not None:
        raise_weights(st["sw"])
    if two_d:
        if pdk.shape[1] != k:
            raise ValueError(f"`propensity` must have shape (n, n_actions) = ({n}, {k}); "
                             f"got {pdk.shape}.")
        _raise_prob(st["P0"], "propensity")
        _, zeros, row, _ = st["p0"]
        if zeros:
            raise ValueError(
                f"`propensity` gives probability 0 to the logged action in {zeros} round(s) "
                f"(first row {row}); a logged action must have positive logging probability.")
    raise_propensity(st["p"], "propensity", st["p_bad"])
    if qd is not None:
        if qd.shape != (n, k):
            raise ValueError(f"`estimated_rewards` must have shape (n, n_actions) = ({n}, {k}); "
                             f"got {qd.shape}.")
        raise_finite(st["q"], "estimated_rewards")
    counts = st["counts"][1]
    counts = np.pad(counts, (0, max(0, k - counts.shape[0])))[:k]
    est.n_actions_ = k
    est.propensity_estimated_ = False
    if est._needs_reward_model:
        est.reward_model_ = "given"
    # lazy collections only (task graphs); nothing of length n is kept in memory
    est._dask_data_ = dict(ctx.data)
    for attr in ("X_", "y_", "action_", "logging_policy_", "estimated_rewards_", "sample_weight_"):
        setattr(est, attr, None)
    est.propensity_ = None
    est.diagnostics_ = Diagnostics({
        "propensity_min": float(st["p"].lo),
        "propensity_max": float(st["p"].hi),
        "propensity_estimated": False,
        "action_counts": counts,
    })
    est.n_features_in_ = int(Xd.shape[1])
    names = column_names(X)
    store_feature_names(est, names)
    return est


# --------------------------------------------------------------------------- policies


def _policy_fn(est, policy, k, data=None):
    """``(dask array or None, function of an X block or None)`` for ``policy``; ``data``
    are the fitted collections (default: the estimator's)."""
    from ..utils._chunked import is_dask

    if isinstance(policy, (str, bytes)):
        raise TypeError(
            f"`policy` must be an (n, n_actions) array of action probabilities, a classifier "
            f"with predict_proba or a callable; got the string {policy!r}. For the uniform "
            "policy pass `np.full((n, n_actions), 1 / n_actions)`.")
    if hasattr(policy, "predict_proba"):
        classes = [int(c) if int(c) == c else c for c in np.asarray(
            getattr(policy, "classes_", []))]

        def f(Xb):
            P = np.asarray(policy.predict_proba(Xb), dtype=np.float64)
            cls = classes if classes else list(range(P.shape[1]))
            full = np.zeros((P.shape[0], k))
            for col, c in enumerate(cls):
                if not (0 <= int(c) < k) or int(c) != c:
                    raise ValueError(f"`policy` predicts class {c!r}, which is not an action in "
                                     f"[0, {k}). Train it on integer action labels.")
                full[:, int(c)] = P[:, col]
            return full
        return None, f
    if callable(policy) and not is_dask(policy):
        return None, lambda Xb: np.asarray(policy(Xb), dtype=np.float64)
    data = est._dask_data_ if data is None else data
    ref = data["y"]
    P = as_dask(policy, "policy", like=ref, ndim=(1, 2))
    if P.ndim != 2 or P.shape[0] != data["n"] or P.shape[1] != k:
        raise ValueError(f"`policy` must have shape (n, n_actions) = ({data['n']}, {k}); "
                         f"got {P.shape}.")
    return align_rows(ref, policy=P)["policy"], None


def _score_options(est):
    """The hyperparameters the score columns read, apart from the estimator (a block
    function that referred to the estimator would ship its task graphs with every task)."""
    return SimpleNamespace(clip=getattr(est, "clip", None), beta=getattr(est, "beta", None),
                           tau=getattr(est, "tau", None), name=type(est).__name__)


def _columns(label, est, P, pa, p, y, q, a):
    """The score columns of one block (the numpy path's ``_scores``, per row); ``est``
    holds the options of :func:`_score_options`."""
    clip = est.clip

    def clipped(w):
        return w if clip is None else np.minimum(w, clip)

    if label in ("IPS",):
        w = clipped(pa / p)
        return (w * y)[:, None], {}
    if label == "ES-IPS":
        w = clipped(pa / p ** est.beta)
        return (w * y)[:, None], {}
    if label == "SNIPS":
        w = clipped(pa / p)
        return np.column_stack([w * y, w]), {}
    dm = np.einsum("ij,ij->i", P, q)
    qa = _at(q, a)
    if label == "DM":
        return dm[:, None], {}
    if label == "DR":
        w = clipped(pa / p)
        return (dm + w * (y - qa))[:, None], {}
    if label == "SNDR":
        w = clipped(pa / p)
        return np.column_stack([dm, w * (y - qa), w]), {}
    if label == "Switch-DR":
        w = pa / p
        keep = w <= est.tau
        return (dm + np.where(keep, w, 0.0) * (y - qa))[:, None], {"switched": int((~keep).sum())}
    raise TypeError(f"{est.name} does not accept Dask input.")  # pragma: no cover


def _finish(label, est, m1, m2, extra):
    """Value, SE and method string from the merged moments (the numpy path's formulas)."""
    clip = getattr(est, "clip", None)
    cl = f" (weights clipped at {clip:g})" if clip is not None else ""
    W = m1.W
    if label in ("IPS", "DM", "DR", "Switch-DR", "ES-IPS"):
        theta = float(m1.mean[0])
        se = float(np.sqrt(m2.ssq([1.0], theta)) / W)
        if label == "IPS":
            return theta, se, "IPS" + cl + ", influence-function SE"
        if label == "ES-IPS":
            return theta, se, (f"Exponentially smoothed IPS (beta={est.beta:g}), "
                               "influence-function SE")
        if label == "DM":
            return theta, se, f"Direct method (reward model: {est.reward_model_}), SE given the model"
        if label == "DR":
            return theta, se, "DR" + cl + f" (reward model: {est.reward_model_}), influence-function SE"
        return theta, se, (f"DR with switch at weight {est.tau:g} ({extra['switched']} rounds "
                           f"use the model only; reward model: {est.reward_model_}), "
                           "influence-function SE")
    if label == "SNIPS":
        theta = float(m1.mean[0] / m1.mean[1])
        dbar = m1.mean[1]
        se = float(np.sqrt(m2.ssq([1.0 / dbar, -theta / dbar], 0.0)) / W)
        return theta, se, "SNIPS" + cl + ", delta-method SE"
    # SNDR
    dm_mean, wbar = float(m1.mean[0]), float(m1.mean[2])
    c = float(m1.mean[1] / m1.mean[2])
    theta = dm_mean + c
    se = float(np.sqrt(m2.ssq([1.0, 1.0 / wbar, -c / wbar], dm_mean)) / W)
    return theta, se, "SNDR" + cl + f" (reward model: {est.reward_model_}), delta-method SE"


def _policy_prep(est, policy, k, *, scores=True, data=None):
    """The checks of ``policy`` that need no pass: ``(dask array or None, function of an
    X block or None)`` as :func:`_policy_fn` returns."""
    label = type(est)._label
    if scores and label not in ("IPS", "SNIPS", "DM", "DR", "SNDR", "Switch-DR", "ES-IPS"):
        raise TypeError(f"{type(est).__name__} does not accept Dask input.")
    if label == "ES-IPS" and getattr(est, "bound", False):
        raise ValueError("`bound=True` needs the full logging distribution in memory; with Dask "
                         "input use bound=False.")
    return _policy_fn(est, policy, k, data)


def _policy_block(est, fn, k, n, unlogged, sw_given, *, scores=True):
    """The block function of one policy's pass: checks, weight diagnostics and score
    moments. ``unlogged`` (the actions never logged) is ``None`` when the action counts
    are not known yet: the probability mass of every action is summed then."""
    label = type(est)._label
    opts = _score_options(est)

    def block(off, Xb, Pb, yb, ab, pb, qb, sb):
        P = fn(Xb) if fn is not None else np.asarray(Pb, dtype=np.float64)
        m = yb.shape[0]
        if P.ndim != 2 or P.shape != (m, k):
            raise ValueError(f"`policy` must have shape (n, n_actions) = ({n}, {k}); "
                             f"got {(n,) + tuple(P.shape[1:])}.")
        a = np.asarray(ab, dtype=np.int64)
        p = np.asarray(pb, dtype=np.float64)
        if p.ndim == 2:
            p = _at(p, a)
        yv = np.asarray(yb, dtype=np.float64)
        out = _prob_stats(P, off)
        # probability mass on actions never logged (usually none: no pass over P then)
        if unlogged is None:
            out["colsum"] = ("counts", P.sum(axis=0))
        else:
            out["colsum"] = ("counts", P[:, unlogged].sum(axis=0) if unlogged.size else np.zeros(0))
        pa = _at(P, a)
        w = pa / p
        out["w"] = Moments.of(w[:, None]) if w.size else Moments.empty(1)
        out["wmax"] = ("max", float(w.max()) if w.size else -np.inf)
        out["wsq"] = float(np.dot(w, w))
        out["zero"] = int(np.count_nonzero(pa == 0))
        if scores:
            q = None if qb is None else np.asarray(qb, dtype=np.float64)
            Z, extra = _columns(label, opts, P, pa, p, yv, q, a)
            s = None if sb is None else np.asarray(sb, dtype=np.float64)
            out["m1"] = Moments.of(Z, s)
            out["m2"] = Moments.of(Z, s * s) if sw_given else None
            out["switched"] = extra.get("switched", 0)
        return out

    return block


def _unlogged(est):
    return np.flatnonzero(est.diagnostics_["action_counts"] == 0)


def _policy_checks(est, st, unlogged, *, all_columns=False, stacklevel=6):
    """Raise (or warn) what ``value`` does about the policy itself, from its merged stats."""
    _raise_prob(st, "policy")
    colsum = st["colsum"][1]
    if all_columns:
        colsum = colsum[unlogged[unlogged < colsum.shape[0]]]
    if unlogged.size and colsum.sum() > 0:
        est._policy_on_unlogged(unlogged, stacklevel=stacklevel)


def _policy_pass(est, policy, *, scores=True):
    """One pass over the data for ``policy``: checks, weight diagnostics and score moments."""
    d = est._dask_data_
    k = est.n_actions_
    Pd, fn = _policy_prep(est, policy, k, scores=scores)
    unlogged = _unlogged(est)
    block = _policy_block(est, fn, k, d["n"], unlogged, d["sample_weight"] is not None,
                          scores=scores)
    arrays = [d["X"] if fn is not None else None, Pd, d["y"], d["action"], d["propensity"],
              d["estimated_rewards"] if scores else None, d["sample_weight"] if scores else None]
    st = reduce_blocks(block, arrays, combine)
    _policy_checks(est, st, unlogged)
    return st


def value_dask(est, policy, name):
    """``_BanditOPE.value`` for an estimator fitted on Dask collections."""
    return _value_from(est, _policy_pass(est, policy), name)


def _value_from(est, st, name, stacklevel=4):
    """The Estimate of ``value`` from one policy's merged stats (checked already)."""
    from ..ope._bandit import _ESS_WARN

    n = est._dask_data_["n"]
    wsum = st["w"].mean[0] * n
    s2 = st["wsq"]
    ess = float(wsum ** 2 / s2) if s2 > 0 else 0.0
    if ess < _ESS_WARN * n:
        warnings.warn(
            f"`policy` {name!r}: the importance weights have an effective sample size of "
            f"{ess:.1f} out of {n} logged rounds (max weight {st['wmax'][1]:.3g}); overlap with "
            "the logging policy is poor and weighting estimates lean on few rounds.",
            PositivityWarning, stacklevel=stacklevel)
    m1 = st["m1"]
    m2 = st["m2"] if st["m2"] is not None else m1
    theta, se, method = _finish(type(est)._label, est, m1, m2, {"switched": st["switched"]})
    out = Estimate(theta, se, n=n, method=method, name=name)
    if type(est)._label == "SNIPS":
        # the score interval's sums (A, B, C, D, E) of [w y, w]: raw moments from the merged
        # means and centred co-moments
        S = m2.C + m2.W * np.outer(m2.mean, m2.mean)
        moments = (m1.W * m1.mean[0], m1.W * m1.mean[1], S[0, 0], S[0, 1], S[1, 1])
        return est._ratio_estimate(out, moments)
    return out


# --------------------------------------------------------------------------- one pass, many policies


def _clean(fit_st, k, check_X):
    """Whether a block's ``fit`` stats let the policy sums run on it: actions integer
    indices in [0, k), propensities finite in (0, 1] (and X finite when a policy reads it).
    On any other block the policy part is skipped, ``fit`` raises from the merged stats
    and nothing of the policies' sums is used."""
    return (not fit_st["a_fin"].bad_rows and not fit_st["a_nonint"]
            and fit_st["a_min"][1] >= 0 and fit_st["a_max"][1] < k and not fit_st["p_bad"]
            and not fit_st["p"].fin.bad_rows
            and (fit_st["P0"] is None or not fit_st["P0"]["fin"].bad_rows)
            and not (check_X and fit_st["X"].bad_rows))


def _merge_parts(a, b):
    """Merge the summaries of :func:`_policies_reduce` (a skipped policy part stays skipped)."""
    out = {"pol": [None if x is None or y is None else combine(x, y)
                   for x, y in zip(a["pol"], b["pol"])]}
    if "fit" in a:
        out["fit"] = combine(a["fit"], b["fit"])
    return out


def _policies_reduce(est, preps, k, n, unlogged, sw_given, d, fit_ctx=None):
    """One pass: the policy sums of every ``(array, function)`` in ``preps`` (and the
    checks of ``fit`` when ``fit_ctx`` is given). A policy whose block function fails
    on some block is returned as ``None`` (its own pass then raises the error in turn)."""
    blocks = [_policy_block(est, fn, k, n, unlogged, sw_given) for _, fn in preps]
    need_X = any(fn is not None for _, fn in preps)
    slots, arrays = [], [d[key] for key in _DATA_KEYS]
    for Pd, _ in preps:
        slots.append(None if Pd is None else len(arrays))
        if Pd is not None:
            arrays.append(Pd)
    if not need_X and fit_ctx is None:
        arrays[0] = None
    fit_block = None if fit_ctx is None else fit_ctx.block

    def block(off, Xb, yb, ab, pb, qb, sb, *Pbs):
        out = {}
        run = True
        if fit_block is not None:
            out["fit"] = fit_block(off, Xb, yb, ab, pb, qb, sb)
            run = _clean(out["fit"], k, need_X)
        pol = []
        for f, slot in zip(blocks, slots):
            st = None
            if run:
                try:
                    st = f(off, Xb, None if slot is None else Pbs[slot - len(_DATA_KEYS)], yb, ab, pb, qb, sb)
                except Exception:  # the policy's own pass raises it, in its turn
                    st = None
            pol.append(st)
        out["pol"] = pol
        return out

    return reduce_blocks(block, arrays, _merge_parts)


def _values(est, items, parts, unlogged, all_columns, depth=0):
    """The Estimates of ``items`` (``(name, policy)``) from their merged stats, in order; a
    policy without stats (skipped or failed somewhere) gets its own pass. ``depth``: the
    frames between the public method and :func:`_values`' caller (for warnings)."""
    out = []
    for (name, policy), st in zip(items, parts):
        if st is None:
            out.append(value_dask(est, policy, name))
            continue
        _policy_checks(est, st, unlogged, all_columns=all_columns, stacklevel=6 + depth)
        out.append(_value_from(est, st, name, stacklevel=5 + depth))
    return out


def _preps_or_none(est, items, k, data=None):
    """``_policy_prep`` of every policy, or ``None`` when one fails (the caller then
    evaluates the policies one by one, so the error comes where the numpy path raises it)."""
    try:
        return [_policy_prep(est, policy, k, data=data) for _, policy in items]
    except Exception:
        return None


def compare_dask(est, policies):
    """``_BanditOPE.compare`` for an estimator fitted on Dask collections: the values of
    every policy from one pass over the data."""
    items = [(str(name), policy) for name, policy in policies.items()]
    preps = _preps_or_none(est, items, est.n_actions_)
    if preps is None or len(items) == 1:
        return [value_dask(est, policy, name) for name, policy in items]
    d = est._dask_data_
    unlogged = _unlogged(est)
    st = _policies_reduce(est, preps, est.n_actions_, d["n"], unlogged,
                          d["sample_weight"] is not None, d)
    return _values(est, items, st["pol"], unlogged, all_columns=False)


def _known_k(est, ctx, items):
    """The number of actions as far as it is known before the pass (``n_actions``, or the
    width of the propensity / reward / first policy matrix), else ``None``."""
    widths = [int(a.shape[1]) for a in (ctx.pdk if ctx.two_d else None, ctx.qd) if a is not None]
    if ctx.n_actions is not None:
        k = int(ctx.n_actions)
    elif widths:
        k = widths[0]
    else:
        shapes = [getattr(p, "shape", None) for _, p in items]
        k = next((int(s[1]) for s in shapes if s is not None and len(s) == 2), None)
    # a matrix of another width fails fit's checks: fit and compare then run apart
    return None if k is None or k < 2 or any(w != k for w in widths) else k


def fit_compare_dask(est, X, y, action, propensity, estimated_rewards, sample_weight, policies):
    """``fit`` then ``compare(policies)`` in one pass over the Dask collections.

    The policy sums need the number of actions before the pass; it is taken from
    ``n_actions`` or the width of a given matrix. When that guess proves wrong (or a
    policy cannot be evaluated on some block) the affected policies get their own pass
    afterwards, so numbers, errors and warnings are those of ``fit`` + ``compare``.
    """
    items = [(str(name), policy) for name, policy in policies.items()]
    ctx = _fit_setup(est, X, y, action, propensity, estimated_rewards, sample_weight)
    k = _known_k(est, ctx, items)
    d = ctx.data
    preps = None if k is None else _preps_or_none(est, items, k, d)
    if preps is None:
        fit_dask(est, X, y, action, propensity, estimated_rewards, sample_weight)
        return compare_dask(est, policies)
    st = _policies_reduce(est, preps, k, ctx.n, None, d["sample_weight"] is not None, d,
                          fit_ctx=ctx)
    _fit_finish(est, st["fit"], ctx, X)
    parts = st["pol"] if est.n_actions_ == k else [None] * len(items)
    # fit_compare is wrapped by _fit_context: one frame more than compare
    return _values(est, items, parts, _unlogged(est), all_columns=True, depth=1)


def diagnostics_dask(est, policy):
    """``_BanditOPE.diagnostics`` for an estimator fitted on Dask collections."""
    st = _policy_pass(est, policy, scores=False)
    n = est._dask_data_["n"]
    wsum = st["w"].mean[0] * n
    s2 = st["wsq"]
    return {
        "effective_sample_size": float(wsum ** 2 / s2) if s2 > 0 else 0.0,
        "max_weight": float(st["wmax"][1]),
        "mean_weight": float(st["w"].mean[0]),
        "share_zero_target_probability": float(st["zero"] / n),
        "propensity_min": est.diagnostics_["propensity_min"],
        "propensity_max": est.diagnostics_["propensity_max"],
        "propensity_estimated": False,
    }
