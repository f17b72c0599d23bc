"""Chunked reductions over Dask collections: the machinery of the Dask path.

The moment-based estimators (IPS, SNIPS and the DR family with given reward
predictions, CUPED, control variates, linear calibration, PPI means, RDD with a
given bandwidth) are functions of a few sums. With Dask input they run one
map-reduce over row blocks: a function maps each block (of every argument, aligned
by rows) to small numpy summaries (weighted moments, Gram matrices, validation
statistics); the summaries are merged pairwise in a tree and computed once. Nothing
of length ``n`` is ever gathered into one process.

Dask is imported lazily, only when a Dask collection is passed (``is_dask`` reads the
type's module name and imports nothing).

Moments are merged with the pairwise update of Chan, Golub and LeVeque (1983,
eq. 2.1): per block the weighted mean and the centred co-moment matrix, combined
without forming raw sums of squares, so the result does not lose accuracy when the
columns have large means.
"""

from __future__ import annotations

import numpy as np

from .._lazy import require

__all__ = ["is_dask", "any_dask", "require_dask", "as_dask", "align_rows", "reduce_blocks",
           "Moments", "FiniteStats", "finite_stats", "raise_finite", "merge_tree",
           "vector_stats", "column_names", "as_dask_all"]


def is_dask(obj) -> bool:
    """Whether ``obj`` is a Dask collection (array, DataFrame or Series); imports nothing."""
    mod = type(obj).__module__
    return (mod == "dask" or mod.startswith("dask.")) and hasattr(obj, "__dask_graph__")


def any_dask(*objs) -> bool:
    """Whether any of ``objs`` is a Dask collection."""
    return any(o is not None and is_dask(o) for o in objs)


def require_dask():
    """``dask.array``, or an ImportError naming the ``dask`` extra."""
    require("dask", extra="dask")
    return require("dask.array", extra="dask")


def _is_dask_frame(obj) -> bool:
    return is_dask(obj) and hasattr(obj, "to_dask_array")


def as_dask(obj, name: str, *, like=None, ndim=(1, 2)):
    """``obj`` as a float-able Dask array with known row chunks.

    A Dask DataFrame or Series is converted with ``to_dask_array(lengths=True)``
    (which computes the partition lengths: a cheap pass, no data gathered); a numpy
    or pandas object given beside Dask data is wrapped with the row chunks of
    ``like``. Dtype errors use the messages of the numpy path.
    """
    da = require_dask()
    if obj is None:
        return None
    if isinstance(obj, (str, bytes)):
        raise TypeError(f"`{name}` must be array-like of numbers; got a string.")
    if _is_dask_frame(obj):
        dtypes = list(obj.dtypes) if getattr(obj, "ndim", 1) == 2 else [obj.dtype]
        for dt in dtypes:
            if str(dt) == "category":
                raise TypeError(
                    f"`{name}` has a categorical column; causalkit needs numbers here. "
                    "Encode it first (e.g. pandas.get_dummies or OneHotEncoder).")
        arr = obj.to_dask_array(lengths=True)
    elif is_dask(obj):
        arr = obj
    else:
        if hasattr(obj, "tocsr") and hasattr(obj, "nnz"):
            raise TypeError(
                f"`{name}` is a scipy sparse matrix; causalkit needs a dense array here. Pass "
                f"`{name}.toarray()` (or select fewer columns first if it does not fit in memory).")
        a = np.asarray(obj.to_numpy() if hasattr(obj, "to_numpy") else obj)
        chunks = None if like is None else (like.chunks[0],) + tuple((s,) for s in a.shape[1:])
        if like is not None and a.ndim >= 1 and a.shape[0] != like.shape[0]:
            raise ValueError(f"Inputs have inconsistent numbers of rows: `{name}` has "
                             f"{a.shape[0]}, the Dask data {like.shape[0]}. Pass one row per unit.")
        arr = da.from_array(a, chunks=chunks if chunks is not None else "auto")
    if arr.dtype == object or arr.dtype.kind in "USVO":
        raise TypeError(f"`{name}` must hold numbers; found dtype {arr.dtype}. Encode "
                        "categories as numbers (e.g. with OneHotEncoder) before fitting.")
    if arr.dtype.kind == "c":
        raise ValueError(f"`{name}` must be real-valued (Complex data not supported); pass the "
                         "real part or the modulus.")
    if arr.ndim == 2 and 1 in ndim and 2 not in ndim and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in ndim:
        want = "1-D with one value per unit" if tuple(ndim) == (1,) else "2-D (n_samples, n_features)"
        raise ValueError(f"`{name}` must be {want}; got shape {arr.shape}.")
    if any(np.isnan(c) for c in arr.chunks[0]):
        arr = arr.compute_chunk_sizes()
    return arr


def as_dask_all(*specs):
    """Convert ``(name, obj, ndim)`` arguments to Dask arrays chunked like the first Dask one.

    ``None`` stays ``None``; numpy or pandas arguments beside Dask ones get the row chunks
    of the first Dask argument (so a large Dask array is never rechunked to fit a small
    in-memory one). Returns ``{name: array}``.
    """
    first = next(k for k, (_, obj, _) in enumerate(specs) if obj is not None and is_dask(obj))
    rname, robj, rnd = specs[first]
    ref = as_dask(robj, rname, ndim=rnd)
    return {name: ref if k == first else (None if obj is None else as_dask(obj, name, like=ref, ndim=nd))
            for k, (name, obj, nd) in enumerate(specs)}


def column_names(X):
    """Column names of a (pandas or Dask) DataFrame as an object array, else ``None``."""
    if getattr(X, "ndim", 0) == 2 and hasattr(X, "columns"):
        return np.asarray([str(c) for c in X.columns], dtype=object)
    return None


def align_rows(ref, **arrays):
    """Rechunk every array to the row chunks of ``ref`` and one chunk across columns.

    Raises the numpy path's message when the numbers of rows differ.
    """
    lengths = {k: v.shape[0] for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"`{k}` has {v}" for k, v in lengths.items())
        raise ValueError(f"Inputs have inconsistent numbers of rows: {desc}. Pass one row per unit.")
    out = {}
    for k, v in arrays.items():
        if v is None:
            out[k] = None
            continue
        chunks = (ref.chunks[0],) + tuple((s,) for s in v.shape[1:])
        out[k] = v if v.chunks == chunks else v.rechunk(chunks)
    return out


#: summaries merged per task of the merge tree (a wide tree: few tasks, short depth)
_FAN_IN = 8


def merge_tree(parts, combine, fan_in=_FAN_IN):
    """Merge a list of (delayed) parts in a balanced tree, ``fan_in`` at a time, in order."""
    import dask

    def merge_many(*xs):
        out = xs[0]
        for x in xs[1:]:
            out = combine(out, x)
        return out

    comb = dask.delayed(merge_many, pure=True)
    while len(parts) > 1:
        parts = [comb(*parts[i:i + fan_in]) if len(parts[i:i + fan_in]) > 1 else parts[i]
                 for i in range(0, len(parts), fan_in)]
    return parts[0]


def reduce_blocks(fn, arrays, combine, *, lazy=False):
    """Map ``fn(offset, *blocks)`` over aligned row blocks and merge with ``combine``.

    ``arrays`` is a list of Dask arrays with the same row chunks and one chunk across
    columns (``None`` entries are passed as ``None``); ``offset`` is the global index of
    the block's first row. The block function is one task per block that depends on
    that block of every array and nothing else (so the scheduler runs it where the
    blocks are, and each block is produced once per pass); blocks are handed over as
    they are (no copy). ``fn`` itself is one node of the graph that the block tasks
    read, so it is pickled once and reaches each worker once per pass (inside every
    task, a closure holding, say, a fitted classifier would be unpickled once per
    block). The per-block summaries are merged ``_FAN_IN`` at a time in a
    balanced tree. One ``compute``: one pass over the data. Returns the merged summary
    (or the delayed one with ``lazy=True``).

    The layer is named with a fresh random key instead of a hash of ``fn``: hashing a
    closure pickles everything it refers to, which costs time on every call and buys
    nothing here (the result is never shared between calls).
    """
    import uuid

    import dask
    from dask.highlevelgraph import HighLevelGraph

    da = require_dask()
    ref = next(a for a in arrays if a is not None)
    nblocks = len(ref.chunks[0])
    offsets = np.r_[0, np.cumsum(ref.chunks[0])[:-1]].astype(np.int64)
    arrays = [a if a is None or all(len(c) == 1 for c in a.chunks[1:])
              else a.rechunk((a.chunks[0],) + tuple((s,) for s in a.shape[1:])) for a in arrays]

    def apply(off, *blocks):
        out = np.empty(1, dtype=object)
        out[0] = fn(off, *blocks)
        return out

    # one task per row block, whose only dependencies are that block of every array
    # (the block's global offset is a constant of the task): the scheduler runs it where
    # its blocks are, and nothing is moved between workers but the small summaries. The
    # block function (a closure that may hold a user's classifier or callable) is one
    # node of the graph that every block task reads: it travels to each worker once per
    # pass, not once inside every task
    token = uuid.uuid4().hex
    name, fn_key = f"causalkit-block-{token}", f"causalkit-fn-{token}"
    layer = {(name, i): (_call, fn_key, int(offsets[i]), *[
        None if a is None else (a.name, i) + (0,) * (a.ndim - 1) for a in arrays])
        for i in range(nblocks)}
    layer[fn_key] = apply
    deps = [a for a in arrays if a is not None]
    graph = HighLevelGraph.from_collections(name, layer, dependencies=deps)
    per_block = da.Array(graph, name, chunks=((1,) * nblocks,), dtype=object,
                         meta=np.empty(0, object))
    parts = _fused_blocks(per_block)
    assert len(parts) == nblocks
    tree = merge_tree(parts, lambda x, y: _wrap(combine(_unwrap(x), _unwrap(y))))
    if lazy:  # the caller computes several reductions together (one pass)
        return dask.delayed(_unwrap, pure=True)(tree)
    (out,) = dask.compute(tree)
    return _unwrap(out)


def _fused_blocks(per_block):
    """One delayed object per block of ``per_block``, each block's task fused with every
    task that only it needs (reading or generating its blocks).

    Dask fuses linear chains only; a source that makes several arrays in one task per
    block (columns of one file, one generated table) leaves small getter tasks beside
    the block task, and distributed's work stealing may then run them on another worker
    and ship the block's data over. One task per block leaves nothing to steal but the
    whole block. Dask versions without ``dask._task_spec`` get the plain optimised graph.
    """
    from dask.delayed import Delayed
    from dask.highlevelgraph import HighLevelGraph

    keys = [k[0] if isinstance(k, list) else k for k in per_block.__dask_keys__()]
    try:
        from dask._task_spec import GraphNode, Task, convert_legacy_graph
        from dask.core import reverse_dict

        dsk = dict(per_block.__dask_optimize__(per_block.__dask_graph__(), keys))
        if not all(isinstance(v, GraphNode) for v in dsk.values()):
            dsk = convert_legacy_graph(dsk)
        deps = {k: set(v.dependencies) for k, v in dsk.items()}
        dependents = reverse_dict(deps)
        out = dict(dsk)
        for key in keys:
            group, grew = {key}, True
            while grew:
                grew = False
                for node in list(group):
                    for d in deps.get(node, ()):
                        if d not in group and d in dsk and dependents[d] <= group:
                            group.add(d)
                            grew = True
            if len(group) > 1:
                for k in group:
                    out.pop(k, None)
                out[key] = Task.fuse(*(dsk[k] for k in group), key=key)
        layer = f"fused-{per_block.name}"
        graph = HighLevelGraph.from_collections(layer, out, dependencies=())
        return [Delayed(k, graph, layer=layer) for k in keys]
    except Exception:  # pragma: no cover - older Dask: the plain optimised graph
        return list(per_block.to_delayed(optimize_graph=True))


def _call(f, off, *blocks):
    return f(off, *blocks)


def _unwrap(x):
    return x[0] if isinstance(x, np.ndarray) and x.dtype == object else x


def _wrap(x):
    out = np.empty(1, dtype=object)
    out[0] = x
    return out


def combine(a, b):
    """Merge two block summaries: dicts of mergeable objects or tagged tuples
    (``("min", v)``, ``("max", v)``, ``("first", count, row, value)``, ``("counts", array)``)."""
    out = {}
    for key, x in a.items():
        y = b[key]
        if x is None:
            out[key] = None
        elif isinstance(x, dict):
            out[key] = combine(x, y)
        elif isinstance(x, tuple):
            tag = x[0]
            if tag == "min":
                out[key] = ("min", min(x[1], y[1]))
            elif tag == "max":
                out[key] = ("max", max(x[1], y[1]))
            elif tag == "first":  # (tag, count, first row, value at it)
                first = x if x[2] <= y[2] else y
                out[key] = ("first", x[1] + y[1], first[2], first[3])
            elif tag == "counts":
                k = max(x[1].shape[0], y[1].shape[0])
                out[key] = ("counts", np.pad(x[1], (0, k - x[1].shape[0]))
                            + np.pad(y[1], (0, k - y[1].shape[0])))
            else:  # pragma: no cover
                raise AssertionError(tag)
        else:
            out[key] = x + y
    return out


# --------------------------------------------------------------------------- moments


class Moments:
    """Weighted count, mean vector and centred co-moment matrix of a set of rows.

    ``W = sum u_i``, ``mean = sum u_i z_i / W``, ``C = sum u_i (z_i - mean)(z_i - mean)'``.
    Merging two sets is exact (Chan, Golub and LeVeque 1983).
    """

    __slots__ = ("W", "mean", "C", "n")

    def __init__(self, W, mean, C, n):
        self.W, self.mean, self.C, self.n = float(W), mean, C, int(n)

    @classmethod
    def empty(cls, p):
        return cls(0.0, np.zeros(p), np.zeros((p, p)), 0)

    @classmethod
    def of(cls, Z, u=None):
        """Moments of the rows of ``Z`` (``(m, p)``) with weights ``u`` (``None``: ones)."""
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim == 1:
            Z = Z[:, None]
        m, p = Z.shape
        if m == 0:
            return cls.empty(p)
        with np.errstate(all="ignore"):  # non-finite rows are reported by the checks
            return cls._of(Z, u, m, p)

    @classmethod
    def _of(cls, Z, u, m, p):
        if u is None:
            mean = Z.mean(axis=0)
            D = Z - mean
            return cls(m, mean, D.T @ D, m)
        W = float(u.sum())
        if W == 0:
            out = cls.empty(p)
            out.n = m
            return out
        mean = (u @ Z) / W
        D = Z - mean
        return cls(W, mean, (D * u[:, None]).T @ D, m)

    def __add__(self, other):
        with np.errstate(all="ignore"):
            return self._add(other)

    def _add(self, other):
        if other.W == 0:
            return Moments(self.W, self.mean, self.C, self.n + other.n)
        if self.W == 0:
            return Moments(other.W, other.mean, other.C, self.n + other.n)
        W = self.W + other.W
        d = other.mean - self.mean
        mean = self.mean + d * (other.W / W)
        C = self.C + other.C + np.outer(d, d) * (self.W * other.W / W)
        return Moments(W, mean, C, self.n + other.n)

    def bilinear(self, a0, a, b0, b):
        """``sum_i u_i (a0 + a' z_i)(b0 + b' z_i)`` for the merged rows."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return float(a @ self.C @ b + self.W * (a0 + a @ self.mean) * (b0 + b @ self.mean))

    def ssq(self, u, c=0.0):
        """The weighted sum of ``(u' z_i - c)^2`` over the merged rows."""
        u = np.asarray(u, dtype=np.float64)
        return float(u @ self.C @ u + self.W * (u @ self.mean - c) ** 2)


# --------------------------------------------------------------------------- validation


class FiniteStats:
    """Per-argument summary that reproduces ``validation._check_finite``'s messages."""

    __slots__ = ("bad_rows", "first_bad", "has_nan", "big", "size")

    def __init__(self, bad_rows=0, first_bad=np.iinfo(np.int64).max, has_nan=False, big=0.0, size=0):
        self.bad_rows, self.first_bad, self.has_nan, self.big, self.size = (
            bad_rows, first_bad, has_nan, big, size)

    def __add__(self, o):
        return FiniteStats(self.bad_rows + o.bad_rows, min(self.first_bad, o.first_bad),
                           self.has_nan or o.has_nan, max(self.big, o.big), self.size + o.size)


def finite_stats(arr, offset=0) -> FiniteStats:
    """Non-finite rows (count, first global row, whether NaN) and the largest magnitude."""
    arr = np.asarray(arr)
    if arr.size == 0 or arr.dtype.kind not in "fc":
        big = float(np.abs(arr).max()) if arr.size and arr.dtype.kind in "iu" else 0.0
        return FiniteStats(big=big, size=arr.size)
    with np.errstate(all="ignore"):
        total = arr.sum()
    if np.isfinite(total):
        return FiniteStats(big=max(abs(float(arr.max())), abs(float(arr.min()))), size=arr.size)
    bad = ~np.isfinite(arr)
    rows = np.flatnonzero(bad.reshape(arr.shape[0], -1).any(axis=1)) if arr.ndim else np.array([0])
    return FiniteStats(int(rows.size), int(rows[0]) + offset if rows.size else np.iinfo(np.int64).max,
                       bool(np.isnan(arr[bad]).any()), 0.0, arr.size)


def raise_finite(st: FiniteStats, name: str) -> None:
    """Raise what ``validation._check_finite`` raises for the same data."""
    from .validation import _check_magnitude

    if st.size == 0:
        return
    if st.bad_rows:
        kind = "NaN" if st.has_nan else "infinite values"
        raise ValueError(
            f"`{name}` contains {kind} in {st.bad_rows} row(s) (first at row {st.first_bad}). "
            "Drop or impute those rows before fitting.")
    _check_magnitude(st.big, name)


class VectorStats:
    """Finite stats plus min, max, count of negatives and of positives of one vector."""

    __slots__ = ("fin", "lo", "hi", "neg", "pos", "n")

    def __init__(self, fin, lo, hi, neg, pos, n):
        self.fin, self.lo, self.hi, self.neg, self.pos, self.n = fin, lo, hi, neg, pos, n

    def __add__(self, o):
        return VectorStats(self.fin + o.fin, min(self.lo, o.lo), max(self.hi, o.hi),
                           self.neg + o.neg, self.pos + o.pos, self.n + o.n)


def vector_stats(v, offset=0) -> VectorStats:
    v = np.asarray(v)
    fin = finite_stats(v, offset)
    if v.size == 0:
        return VectorStats(fin, np.inf, -np.inf, 0, 0, 0)
    with np.errstate(invalid="ignore"):
        return VectorStats(fin, float(np.nanmin(v)) if not fin.bad_rows else float(np.min(v)),
                           float(np.nanmax(v)) if not fin.bad_rows else float(np.max(v)),
                           int(np.count_nonzero(v < 0)), int(np.count_nonzero(v > 0)), v.shape[0])


def raise_weights(st: VectorStats, name: str = "sample_weight") -> None:
    """Raise what ``validation.check_weights`` raises (values are checked, not normalised)."""
    raise_finite(st.fin, name)
    if st.neg:
        raise ValueError(f"`{name}` must be non-negative; {st.neg} value(s) are negative "
                         f"(min {st.lo:.4g}).")
    if not st.pos:
        raise ValueError(f"`{name}` are all zero; at least one unit needs positive weight.")


def raise_propensity(st: VectorStats, name: str = "propensity", bad: int = 0) -> None:
    """Raise what ``validation.check_propensity`` raises, from the stats of ``p`` and the
    count ``bad`` of values outside (0, 1]."""
    from .validation import MAX_MAGNITUDE

    raise_finite(st.fin, name)
    if not bad and st.n and st.lo < 1.0 / MAX_MAGNITUDE:
        raise ValueError(
            f"`{name}` has values as small as {st.lo:.3g}: their inverse weights "
            "overflow double precision. Such a unit was (almost) never going to receive its "
            "logged treatment or action; check the logging, or drop or trim those units.")
    if bad:
        raise ValueError(
            f"`{name}` must lie in (0, 1]; {bad} value(s) fall outside "
            f"(min {st.lo:.4g}, max {st.hi:.4g}). A zero propensity means the "
            "logged/observed choice was impossible: fix the logging or drop those units.")


#: Distinct values kept per block for the 0/1 check (the count in the message is exact below it).
_MAX_DISTINCT = 1000


def binary_values(v):
    """Distinct values of a block (for the 0/1 check of a binary vector), at most ``_MAX_DISTINCT``."""
    u = np.unique(np.asarray(v))
    return u[:_MAX_DISTINCT]


def merge_values(a, b):
    return np.union1d(a, b)[:_MAX_DISTINCT]


def raise_binary(values, name: str = "treatment") -> None:
    """Raise what ``validation.check_binary`` raises, from the distinct values seen."""
    values = np.unique(values)
    if values.dtype == bool:
        values = values.astype(np.int8)
    if not np.all(np.isin(values, (0, 1))):
        shown = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
        raise ValueError(
            f"`{name}` must be binary, coded 0/1; got {len(values)} distinct values "
            f"[{shown}]. Recode it (e.g. `({name} == level).astype(int)`).")
    if len(values) < 2:
        raise ValueError(
            f"`{name}` takes only the value {values[0]}; both arms (0 and 1) must be present.")


def need_argument(what: str, argument: str, extra: str = "") -> ValueError:
    """The error for a step that needs all rows in one process."""
    return ValueError(
        f"{what} needs all rows in one process, which the Dask path never gathers. "
        f"Pass `{argument}` (computed beforehand, e.g. on a sample or another split){extra}, "
        "or pass numpy arrays.")
