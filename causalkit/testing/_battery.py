"""The shared bad-input battery: one table of hostile inputs for every estimator.

Every :class:`~causalkit.testing.ConformanceCase` (and every registered public function,
:class:`FunctionCase`) is fitted on the cases :func:`battery_cases` derives from its example
data: NaN and infinite values in every array argument, empty input, one and two rows,
mismatched lengths, 1-D/2-D/3-D confusions, strings, categorical, nullable (``pd.NA``) and
sparse ``X``, misaligned pandas indexes, values near 1e+-300 and a huge outlier, the
treatment codings, leaky and incomplete folds, extreme propensities, constant rescaling of
weights, reordered columns at predict time and mutation of every input after ``fit``.

Each run gets one outcome code (the categories of the reliability campaign):

========================  =====================================================  =========
code                      meaning                                                 accepted
========================  =====================================================  =========
``clear_error``           ValueError/TypeError raised by causalkit that names     yes
                          the argument (in backticks)
``ok``                    a finite answer                                         when allowed
``same``                  the same numbers as the equivalent, well-formed input   yes
``warned``                a finite answer with a causalkit warning                yes
``documented``            a behaviour left on purpose, with the reason            yes
``deep_crash``            an exception from inside a dependency, or an            no
                          unexpected exception type
``unclear_error``         causalkit's error names no argument                     no
``misleading``            the error names another argument than the bad one       no
``nonfinite``             NaN or inf from finite input                            no
``silent_accept``         an invalid input gave an answer                         no
``hang``                  over the time limit                                     no
``misaligned``            pandas rows paired by position, numbers changed         no
``reinterpreted``         an equivalent input (coding, scale) changed the         no
                          numbers
``aliasing``              changing an input after ``fit`` changed a result        no
``unwarned``              a statistical hazard gave no warning                    no
========================  =====================================================  =========
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import signal
import threading
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BatteryCase", "FunctionCase", "Outcome", "ACCEPTED", "FAILURES", "battery_cases",
           "run_battery_case", "run_battery"]

#: Outcome codes that pass.
ACCEPTED = ("clear_error", "ok", "same", "warned", "documented")
#: Outcome codes that are defects.
FAILURES = ("deep_crash", "unclear_error", "misleading", "nonfinite", "silent_accept", "hang",
            "misaligned", "reinterpreted", "aliasing", "unwarned")

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TESTING_DIR = os.path.join(_PKG_DIR, "testing")

# What each expectation accepts.
_EXPECT = {
    "error": ("clear_error",),
    "error_or_finite": ("clear_error", "ok", "warned"),
    "same_or_error": ("clear_error", "same"),
    "warn_or_error": ("clear_error", "warned"),
    "same": ("same",),
}

#: Roles of design variables, by the library's fixed names (a case may override them).
DEFAULT_ROLES = {
    "treatment": "binary", "instrument": "binary", "propensity": "propensity",
    "action": "labels", "groups": "labels", "strata": "labels", "episode": "labels",
    "sample_weight": "weights", "weights": "weights",
    "mediator": "matrix", "proxies": "matrix", "covariates": "matrix", "next_state": "matrix",
}


@dataclass
class FunctionCase:
    """A public function registered into the battery.

    ``func(**data(seed))`` must return something ``result`` turns into numbers. ``rows``
    names the array arguments with one entry per unit (default: those as long as ``X`` or
    ``y``); each gets the per-argument cases (NaN, inf, short, wrong dimension, strings...).

    Examples
    --------
    >>> from causalkit.testing import registered_function_cases
    >>> case = next(c for c in registered_function_cases() if c.name == "montecarlo.cuped")
    >>> out = case.func(**case.data(0))
    >>> len(case.result(out)) > 0
    True
    """

    name: str
    func: Callable
    data: Callable[[int], dict]
    result: Callable[[Any], Any]
    roles: dict = field(default_factory=dict)
    nan_ok: tuple = ()
    documented: dict = field(default_factory=dict)
    rtol: float = 1e-9
    rows: tuple = ()

    def __repr__(self):
        return self.name


@dataclass
class BatteryCase:
    """One hostile input derived from a case's example data.

    ``build(args) -> (params, args)`` returns hyperparameters to set and the new fit
    arguments, or ``None`` when the case does not apply. ``arg`` is the argument made
    bad (``None`` for whole-input cases); ``expect`` is one of ``"error"``,
    ``"error_or_finite"``, ``"same_or_error"``, ``"warn_or_error"``, ``"same"``;
    ``reference(args)`` gives the equivalent well-formed input for the ``same`` checks.

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> case = next(c for c in registered_cases() if c.name == "montecarlo.ControlVariates")
    >>> from causalkit.testing import battery_cases
    >>> bc = battery_cases(case)[0]                        # a BatteryCase
    >>> bc.id, bc.arg, bc.expect
    ('nan-X', 'X', 'error')
    """

    id: str
    arg: str | None
    expect: str
    build: Callable[[dict], Any]
    reference: Callable[[dict], Any] | None = None
    kind: str = "fit"
    fail_code: str | None = None


@dataclass
class Outcome:
    """The result of one battery case: its code, whether it passes, and a detail line.

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> case = next(c for c in registered_cases() if c.name == "montecarlo.ControlVariates")
    >>> from causalkit.testing import battery_cases, run_battery_case
    >>> out = run_battery_case(case, battery_cases(case)[0])     # an Outcome
    >>> out.code, out.passed
    ('clear_error', True)
    """

    estimator: str
    case: str
    code: str
    passed: bool
    detail: str = ""


# --------------------------------------------------------------------------- data helpers


def _n_rows(args):
    for key in ("X", "y"):
        v = args.get(key)
        if v is not None and hasattr(v, "__len__"):
            return len(v)
    for v in args.values():
        if isinstance(v, np.ndarray) and v.ndim >= 1:
            return len(v)
    return None


def _rowwise(args, n):
    """Names of the ndarray arguments with one entry per unit."""
    out = []
    for k, v in args.items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
            out.append(k)
    return out


def _ragged(args, n):
    return [k for k, v in args.items() if isinstance(v, list) and len(v) == n]


def _roles(case, args):
    roles = {k: DEFAULT_ROLES.get(k, "values") for k in args}
    roles.update(getattr(case, "roles", {}) or {})
    for k, v in args.items():  # a "binary" slot holding a continuous variable is continuous
        if roles.get(k) == "binary" and isinstance(v, np.ndarray):
            if np.unique(v[np.isfinite(v)] if v.dtype.kind == "f" else v).size > 2:
                roles[k] = "continuous"
    return roles


def _slice(args, idx, n, rows=()):
    out = {}
    for k, v in args.items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and (v.shape[0] == n or k in rows):
            out[k] = v[idx].copy()
        elif isinstance(v, list) and len(v) == n:
            out[k] = [copy.deepcopy(v[i]) for i in np.arange(n)[idx]]
        else:
            out[k] = copy.deepcopy(v)
    return out


def _with(args, key, value):
    return {**args, key: value}


def _nan_row(v, row=3):
    v = np.array(v, dtype=float)
    v[(row,) + (0,) * (v.ndim - 1)] = np.nan
    return v


def _inf_row(v, row=0):
    v = np.array(v, dtype=float)
    v[(row,) + (0,) * (v.ndim - 1)] = np.inf
    return v


def _is_float(v):
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


# --------------------------------------------------------------------------- the cases


def battery_cases(case) -> list[BatteryCase]:
    """Derive the battery's cases from ``case.data(0)``.

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> case = next(c for c in registered_cases() if c.name == "montecarlo.ControlVariates")
    >>> from causalkit.testing import battery_cases
    >>> cases = battery_cases(case)
    >>> [c.id for c in cases][:3]
    ['nan-X', 'inf-X', 'short-X']
    """
    args0 = case.data(0)
    n = _n_rows(args0)
    rows = list(getattr(case, "rows", ()) or ()) or _rowwise(args0, n)
    roles = _roles(case, args0)
    nan_ok = set(getattr(case, "nan_ok", ()) or ())
    cases: list[BatteryCase] = []
    add = cases.append

    for k in rows:
        v0 = args0[k]
        role = roles.get(k, "values")
        add(BatteryCase(f"nan-{k}", k, "error_or_finite" if k in nan_ok else "error",
                        lambda a, k=k: ({}, _with(a, k, _nan_row(a[k])))))
        if _is_float(v0) or role in ("values", "weights", "propensity", "continuous"):
            add(BatteryCase(f"inf-{k}", k, "error", lambda a, k=k: ({}, _with(a, k, _inf_row(a[k])))))
        if any(j != k and len(args0[j]) == len(v0) for j in rows):  # a partner of its length
            add(BatteryCase(f"short-{k}", k, "error",
                            lambda a, k=k: ({}, _with(a, k, a[k][:-1].copy()))))
        if v0.ndim == 1 and role != "matrix":
            add(BatteryCase(f"2d-{k}", k, "error",
                            lambda a, k=k: ({}, _with(a, k, np.c_[a[k], a[k]]))))
        elif v0.ndim == 2:
            add(BatteryCase(f"3d-{k}", k, "error",
                            lambda a, k=k: ({}, _with(a, k, a[k][..., None].copy()))))
        # strings are valid labels (strata, clusters): then one label for all is an answer
        add(BatteryCase(f"string-{k}", k, "error_or_finite" if role == "labels" else "error",
                        lambda a, k=k: ({}, _with(a, k, np.full(a[k].shape, "a", dtype=object)))))
        if role in ("values", "continuous", "matrix") and _is_float(v0):
            add(BatteryCase(f"huge-{k}", k, "error_or_finite",
                            lambda a, k=k: ({}, _with(a, k, a[k] * 1e300))))
            add(BatteryCase(f"tiny-{k}", k, "error_or_finite",
                            lambda a, k=k: ({}, _with(a, k, a[k] * 1e-300))))
        if k != "X" and isinstance(args0.get("X"), np.ndarray) and len(args0["X"]) == len(v0):
            add(BatteryCase(f"misaligned-{k}", k, "same_or_error", _misaligned(k),
                            reference=lambda a: ({}, a)))
        if role == "binary":
            add(BatteryCase(f"coding-pm1-{k}", k, "same_or_error",
                            lambda a, k=k: ({}, _with(a, k, 2.0 * a[k] - 1.0)),
                            reference=lambda a: ({}, a)))
            add(BatteryCase(f"coding-12-{k}", k, "same_or_error",
                            lambda a, k=k: ({}, _with(a, k, a[k] + 1)), reference=lambda a: ({}, a)))
            add(BatteryCase(f"coding-bool-{k}", k, "same_or_error",
                            lambda a, k=k: ({}, _with(a, k, a[k].astype(bool))),
                            reference=lambda a: ({}, a)))
            add(BatteryCase(f"coding-float-{k}", k, "same_or_error",
                            lambda a, k=k: ({}, _with(a, k, a[k].astype(float))),
                            reference=lambda a: ({}, a)))
        if role == "propensity":
            add(BatteryCase(f"zero-{k}", k, "error", lambda a, k=k: ({}, _with(a, k, _set0(a[k], 0.0)))))
            add(BatteryCase(f"above-one-{k}", k, "error",
                            lambda a, k=k: ({}, _with(a, k, _set0(a[k], 1.5)))))
            add(BatteryCase(f"extreme-{k}", k, "warn_or_error",
                            lambda a, k=k: ({}, _with(a, k, _set0(a[k], 1e-200)))))
    if "y" in rows and _is_float(args0["y"]):
        add(BatteryCase("outlier-y", "y", "error_or_finite",
                        lambda a: ({}, _with(a, "y", _set0(a["y"], 1e12)))))
    for k in _ragged(args0, n):
        add(BatteryCase(f"nan-{k}", k, "error_or_finite" if k in nan_ok else "error",
                        lambda a, k=k: ({}, _with(a, k, _ragged_set(a[k], np.nan)))))
        add(BatteryCase(f"inf-{k}", k, "error",
                        lambda a, k=k: ({}, _with(a, k, _ragged_set(a[k], np.inf)))))
        add(BatteryCase(f"short-{k}", k, "error", lambda a, k=k: ({}, _with(a, k, a[k][:-1]))))

    add(BatteryCase("empty", None, "error", lambda a: ({}, _slice(a, slice(0, 0), n, rows))))
    add(BatteryCase("one-row", None, "error_or_finite",
                    lambda a: ({}, _slice(a, slice(0, 1), n, rows))))
    add(BatteryCase("two-rows", None, "error_or_finite",
                    lambda a: ({}, _slice(a, slice(0, 2), n, rows))))

    X0 = args0.get("X")
    if isinstance(X0, np.ndarray) and X0.ndim == 2:
        add(BatteryCase("pdNA-X", "X", "error_or_finite" if "X" in nan_ok else "error", _pd_na))
        add(BatteryCase("categorical-X", "X", "error_or_finite", _categorical))
        add(BatteryCase("object-X", "X", "same_or_error",
                        lambda a: ({}, _with(a, "X", a["X"].astype(object))),
                        reference=lambda a: ({}, a)))
        add(BatteryCase("sparse-X", "X", "error_or_finite", _sparse))

    est = case.estimator() if hasattr(case, "estimator") else None
    if isinstance(X0, np.ndarray) and X0.ndim == 2 and est is not None and (
            hasattr(est, "predict") or hasattr(est, "cate")):
        add(BatteryCase("columns-reordered", "X", "same_or_error", _as_frame,
                        reference=_as_frame, kind="predict_reordered"))
    params = est.get_params(deep=False) if est is not None else {}
    if "cv" in params:
        # an estimator whose method does not cross-fit may ignore `cv`: the same numbers pass
        for cid, folds in (("leaky-cv", _leaky_folds), ("incomplete-cv", _incomplete_folds),
                           ("overlapping-cv", _overlapping_folds)):
            add(BatteryCase(cid, "cv", "same_or_error", lambda a, f=folds: ({"cv": f(n)}, a),
                            reference=lambda a: ({}, a), fail_code="silent_accept"))
    if est is not None and "sample_weight" in _fit_params(est) and "sample_weight" not in args0:
        add(BatteryCase("weights-scaled", "sample_weight", "same_or_error",
                        lambda a: ({}, _with(a, "sample_weight", np.full(n, 7.0))),
                        reference=lambda a: ({}, _with(a, "sample_weight", np.ones(n)))))
    if rows:
        add(BatteryCase("mutate-after-fit", None, "same", lambda a: ({}, a),
                        reference=lambda a: ({}, a), kind="aliasing"))
    return cases


def _fit_params(est):
    import inspect

    try:
        return set(inspect.signature(est.fit).parameters)
    except (TypeError, ValueError):
        return set()


def _ragged_set(v, value):
    out = [np.array(u, dtype=float, copy=True) for u in v]
    unit = next(i for i, u in enumerate(out) if u.size)
    out[unit].reshape(-1)[0] = value
    return out


def _set0(v, value):
    v = np.array(v, dtype=float)
    v[(0,) + (0,) * (v.ndim - 1)] = value
    return v


def _misaligned(k):
    """X as a DataFrame with index 0..n-1, ``k`` as pandas with a reversed index.

    Aligned on the index, the data are exactly the original ones.
    """
    def build(a):
        import pandas as pd

        n = len(a[k])
        rev = np.arange(n)[::-1]
        X = a["X"]
        Xf = pd.DataFrame(np.asarray(X)) if isinstance(X, np.ndarray) and X.ndim == 2 else (
            pd.Series(np.asarray(X)) if isinstance(X, np.ndarray) else X)
        v = a[k][rev]
        vk = pd.Series(v, index=rev) if v.ndim == 1 else pd.DataFrame(v, index=rev)
        return {}, {**a, "X": Xf, k: vk}
    return build


def _as_frame(a):
    import pandas as pd

    cols = [f"c{j}" for j in range(a["X"].shape[1])]
    return {}, _with(a, "X", pd.DataFrame(a["X"], columns=cols))


def _pd_na(a):
    import pandas as pd

    X = pd.DataFrame(a["X"], columns=[f"c{j}" for j in range(a["X"].shape[1])]).astype("Float64")
    X.iloc[3, 0] = pd.NA
    return {}, _with(a, "X", X)


def _categorical(a):
    import pandas as pd

    X = pd.DataFrame(a["X"], columns=[f"c{j}" for j in range(a["X"].shape[1])])
    X["c0"] = pd.Categorical(np.where(X["c0"] > X["c0"].median(), "high", "low"))
    return {}, _with(a, "X", X)


def _sparse(a):
    from scipy import sparse

    return {}, _with(a, "X", sparse.csr_matrix(a["X"]))


def _leaky_folds(n):
    idx = np.arange(n)
    return [(idx, idx[i::3]) for i in range(3)]


def _incomplete_folds(n):
    idx = np.arange(n)
    test = [idx[i:n - 5:3] for i in range(3)]
    return [(np.setdiff1d(idx, t), t) for t in test]


def _overlapping_folds(n):
    idx = np.arange(n)
    test = [idx[: n // 2 + 5], idx[n // 2 - 5:]]
    return [(np.setdiff1d(idx, t), t) for t in test]


# --------------------------------------------------------------------------- running


class _Timeout(BaseException):
    pass


@contextlib.contextmanager
def _time_limit(seconds):
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(
            signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _call(case, params, args):
    """Fit (or call) and return ``(fitted, numbers)``."""
    if isinstance(case, FunctionCase):
        out = case.func(**args)
        return out, np.atleast_1d(np.asarray(case.result(out), dtype=float))
    est = case.estimator()
    if params:
        est.set_params(**params)
    a = dict(args)
    X, y = a.pop("X"), a.pop("y")
    est.fit(X, y, **a)
    return est, np.atleast_1d(np.asarray(case.result(est), dtype=float))


def _raised_in_causalkit(exc) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    last = os.path.abspath(frames[-1].filename)
    return last.startswith(_PKG_DIR + os.sep) and not last.startswith(_TESTING_DIR + os.sep)


_BACKTICK = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)")


def _param_error_name(exc):
    """The hyperparameter a scikit-learn ``InvalidParameterError`` names, else ``None``.

    Hyperparameters are checked by ``_parameter_constraints`` (scikit-learn's wording:
    "The 'alpha' parameter of X must be ..."), raised from scikit-learn's module: that
    is causalkit's declared check, not a crash inside a dependency.
    """
    from ..utils._param_validation import PARAM_ERROR, InvalidParameterError

    if not isinstance(exc, InvalidParameterError):
        return None
    m = re.search(PARAM_ERROR, str(exc))
    return m.group(1) if m else None


def _classify_error(exc, arg, arg_names, bc_id=None):
    if isinstance(exc, _Timeout):
        return "hang", "over the time limit"
    msg = str(exc)
    first = msg.splitlines()[0][:160] if msg else type(exc).__name__
    detail = f"{type(exc).__name__}: {first}"
    param = _param_error_name(exc)
    if param is not None:
        if arg is None or arg == param:
            return "clear_error", detail
        return ("misleading" if param in set(arg_names) else "unclear_error"), detail
    if not _raised_in_causalkit(exc):
        return "deep_crash", detail
    if not isinstance(exc, (ValueError, TypeError)):
        return "unclear_error", detail
    named = set(_BACKTICK.findall(msg))
    if arg is None or (bc_id or "").startswith("short-"):  # a length mismatch has two sides
        return ("clear_error" if named else "unclear_error"), detail
    if arg in named:
        return "clear_error", detail
    if named & (set(arg_names) - {arg}):
        return "misleading", detail
    return "unclear_error", detail


def _same(a, b, rtol):
    return a.shape == b.shape and np.allclose(a, b, rtol=max(rtol, 1e-7), atol=1e-10, equal_nan=False)


def _mutate_in_place(args):
    """Change every stored input in place: floats move (0.5 v + 0.25, which keeps
    probabilities in (0, 1]), labels and lists reverse."""
    for v in args.values():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.size and v.flags.writeable:
            if v.dtype.kind == "f":
                v *= 0.5
                v += 0.25
            else:
                v[...] = v[::-1].copy()
        elif isinstance(v, list):
            v.reverse()
        elif hasattr(v, "iloc") and hasattr(v, "columns"):
            for c in v.columns:
                if v[c].dtype.kind == "f":
                    v[c] = v[c] * 0.5 + 0.25


def _predict_numbers(est, X):
    for name in ("predict", "cate"):
        if hasattr(est, name):
            return np.asarray(getattr(est, name)(X), dtype=float).ravel()
    return None


# --------------------------------------------------------------------------- ownership

#: Public methods never called by the ownership check (they refit, configure or plot).
_NOT_RESULTS = {"fit", "fit_transform", "fit_predict", "partial_fit", "get_params", "score",
                "get_metadata_routing"}


def _result_calls(obj, X):
    """Every public method of ``obj`` callable with no argument, or with ``X`` alone."""
    import inspect

    calls = []
    if not (hasattr(obj, "get_params") or type(obj).__module__.startswith("causalkit")):
        return calls  # arrays, tuples: no result methods to call
    for name in sorted(dir(type(obj))):
        if name.startswith(("_", "set_", "plot")) or name in _NOT_RESULTS:
            continue
        attr = inspect.getattr_static(obj, name, None)
        if isinstance(attr, property) or not callable(getattr(obj, name, None)):
            continue
        try:
            sig = inspect.signature(getattr(obj, name))
        except (TypeError, ValueError):
            continue
        for call_args in ((), (X,)):
            if call_args and X is None:
                continue
            try:
                sig.bind(*call_args)
            except TypeError:
                continue
            calls.append((name, call_args))
            break
    return calls


def _fingerprint(obj, depth=0):
    """What a result says, as a list of float arrays and strings (no object identities)."""
    import numbers

    if depth > 4 or obj is None:
        return []
    if isinstance(obj, (str, bytes)):
        return [str(obj)]
    if isinstance(obj, (bool, np.bool_, numbers.Number)):
        return [np.array([float(obj)])]
    if isinstance(obj, np.ndarray):
        return [obj.astype(float).ravel() if obj.dtype.kind in "biuf" else obj.astype(str).ravel()]
    if hasattr(obj, "iloc"):  # pandas
        frame = obj.to_frame() if hasattr(obj, "to_frame") and not hasattr(obj, "columns") else obj
        out = [np.asarray(frame.index).astype(str).ravel()]
        for c in frame.columns:
            col = frame[c].to_numpy()
            out.append(col.astype(float) if col.dtype.kind in "biuf" else col.astype(str))
        return out
    if isinstance(obj, dict):
        return [x for k in sorted(obj, key=str) for x in [str(k), *_fingerprint(obj[k], depth + 1)]]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in _fingerprint(v, depth + 1)]
    if hasattr(obj, "summary") and not hasattr(obj, "get_params"):  # causalkit results
        try:
            return _fingerprint(obj.summary(), depth + 1)
        except Exception:  # noqa: BLE001
            pass
    if hasattr(obj, "__dataclass_fields__"):
        return [x for f in obj.__dataclass_fields__ for x in _fingerprint(getattr(obj, f), depth + 1)]
    return [type(obj).__name__]  # a model or other object: its type, not its identity


def _same_fingerprint(a, b, rtol):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                return False
        elif x.dtype.kind == "f" and y.dtype.kind == "f":
            if x.shape != y.shape or not np.allclose(x, y, rtol=max(rtol, 1e-7), atol=1e-10,
                                                     equal_nan=True):
                return False
        elif not np.array_equal(x, y):
            return False
    return True


def _outputs(obj, calls):
    """Each call's fingerprint, or the error it raised."""
    out = {}
    for name, call_args in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out[name] = _fingerprint(getattr(obj, name)(*call_args))
            except _Timeout:
                raise
            except Exception as exc:  # noqa: BLE001 - the error is part of the answer
                out[name] = [f"raised {type(exc).__name__}: {exc}"]
    for name in sorted(vars(obj)) if hasattr(obj, "__dict__") else ():
        if name.endswith("_") and not name.startswith("_"):  # fitted attributes
            out[f"attribute {name}"] = _fingerprint(getattr(obj, name))
    return out


def _check_ownership(case, params, args, rtol):
    """Fit twice on private copies; change every input of the second fit in place, then
    compare the case's result, every public result method (called with no argument or with
    the case's unchanged ``X``) and every fitted attribute against the first fit."""
    ref_args = copy.deepcopy(args)
    X = copy.deepcopy(args.get("X"))
    ref, ref_nums = _call(case, params, ref_args)
    calls = _result_calls(ref, X)
    before = _outputs(ref, calls)
    stable = {k for k, v in _outputs(ref, calls).items() if _same_fingerprint(v, before[k], rtol)}
    fitted, nums = _call(case, params, args)
    _mutate_in_place(args)
    try:
        again = np.atleast_1d(np.asarray(case.result(fitted), dtype=float))
    except Exception as exc:  # noqa: BLE001
        return "aliasing", f"the result failed after the inputs changed: {exc}"
    if not (_same(again, nums, rtol) and _same(nums, ref_nums, rtol)):
        return "aliasing", "changing the inputs after fit changed the result"
    after = _outputs(fitted, calls)
    changed = sorted(k for k in stable if not _same_fingerprint(after.get(k, []), before[k], rtol))
    if changed:
        return "aliasing", "changing the inputs after fit changed " + ", ".join(changed[:4])
    return "same", (f"{', '.join(n for n, _ in calls) or 'no result method'} and the fitted "
                    "attributes unchanged")


def run_battery_case(case, bc: BatteryCase, *, timeout: float = 60.0) -> Outcome:
    """Run one battery case and classify its outcome.

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> case = next(c for c in registered_cases() if c.name == "montecarlo.ControlVariates")
    >>> from causalkit.testing import battery_cases, run_battery_case
    >>> out = run_battery_case(case, battery_cases(case)[0])
    >>> out.case, out.code, out.detail.startswith("ValueError: `X` contains NaN")
    ('nan-X', 'clear_error', True)
    """
    name = case.name
    if bc.id in (getattr(case, "documented", {}) or {}):
        return Outcome(name, bc.id, "documented", True, case.documented[bc.id])
    args0 = case.data(0)
    built = bc.build(copy.deepcopy(args0))
    if built is None:
        return Outcome(name, bc.id, "ok", True, "not applicable")
    params, args = built
    arg_names = set(args0) | {"cv", "sample_weight"}
    code, detail = _run_case(case, bc, params, args, arg_names, timeout)
    return Outcome(name, bc.id, code, code in _EXPECT[bc.expect], detail)


def _run_case(case, bc, params, args, arg_names, timeout):
    rtol = getattr(case, "rtol", 1e-9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _time_limit(timeout):
                if bc.kind == "predict_reordered":
                    if isinstance(case, FunctionCase):
                        return "ok", "not applicable"
                    est, _ = _call(case, params, args)
                    X = args["X"]
                    ref = _predict_numbers(est, X)
                    if ref is None:
                        return "ok", "no predict/cate"
                    got = _predict_numbers(est, X[X.columns[::-1]])
                    return ("same", "") if _same(got, ref, rtol) else (
                        "reinterpreted", "reordered columns changed the predictions")
                if bc.kind == "aliasing":
                    return _check_ownership(case, params, args, rtol)
                fitted, nums = _call(case, params, args)
        except _Timeout as exc:
            return _classify_error(exc, bc.arg, arg_names, bc.id)
        except Exception as exc:  # noqa: BLE001 - classifying is the point
            return _classify_error(exc, bc.arg, arg_names, bc.id)
    warned = any(issubclass(w.category, _causalkit_warning()) for w in caught)
    if bc.expect == "error":
        return "silent_accept", f"no error; result {nums[:3]}"
    if not np.all(np.isfinite(nums)):
        return "nonfinite", f"result {nums[:3]}"
    if bc.reference is not None:
        rparams, rargs = bc.reference(copy.deepcopy(case.data(0)))
        try:
            _, ref = _call(case, rparams, rargs)
        except Exception as exc:  # noqa: BLE001
            return "deep_crash", f"reference fit failed: {exc}"
        if _same(nums, ref, rtol):
            return "same", ""
        kind = bc.fail_code or ("misaligned" if bc.id.startswith("misaligned") else "reinterpreted")
        return kind, f"{nums[:2]} instead of {ref[:2]}"
    if bc.expect == "warn_or_error":
        return ("warned", "") if warned else ("unwarned", "no causalkit warning")
    return ("warned" if warned else "ok"), ""


def _causalkit_warning():
    from ..utils.validation import CausalkitWarning

    return CausalkitWarning


def run_battery(cases=None, *, timeout: float = 60.0, progress=None):
    """Run the battery on ``cases`` (default: every registered case); return a DataFrame.

    Columns: ``estimator``, ``case``, ``code``, ``passed``, ``detail``.

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> case = next(c for c in registered_cases() if c.name == "montecarlo.ControlVariates")
    >>> from causalkit.testing import run_battery
    >>> table = run_battery([case])
    >>> list(table.columns), bool(table["passed"].all())
    (['estimator', 'case', 'code', 'passed', 'detail'], True)
    """
    import pandas as pd

    from ._conformance import registered_cases, registered_function_cases

    if cases is None:
        cases = registered_cases() + registered_function_cases()
    rows = []
    for case in cases:
        for bc in battery_cases(case):
            out = run_battery_case(case, bc, timeout=timeout)
            rows.append(out.__dict__)
            if progress is not None:
                progress(out)
    return pd.DataFrame(rows)
