"""Library-wide settings; today one: how many threads inner libraries may use.

The thread policy
-----------------
causalkit parallelises over *tasks* (cross-fitting folds, bootstrap batches) with
joblib's ``n_jobs``. The libraries those tasks call (BLAS, the OpenMP loops of
scikit-learn's histogram boosting and of LightGBM, torch) start threads of their own.
When tasks x inner threads exceed the cores, or when another process already keeps a
core busy, OpenMP and torch threads spin-wait for each other, and a fit can take ten to
a hundred times longer with identical numbers. One rule therefore holds everywhere:

- ``n_threads="auto"`` (the default): a task on fewer than 100,000 rows gets one inner
  thread (threads do not pay for their synchronisation on small fits, and cost several
  times the time when a core is busy); a larger task gets
  ``max(1, cores // workers)`` inner threads, where ``cores`` are the CPUs this process
  may use (affinity and cgroup quotas counted, as :func:`joblib.cpu_count` does) and
  ``workers`` is the number of tasks joblib runs at once for the call's ``n_jobs`` and
  the active :func:`joblib.parallel_config`. A standard variable the user set
  (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``) lowers that cap,
  never raises it.
- ``n_threads=k`` (an int >= 1): exactly ``k`` inner threads per task. Inside
  :func:`config_context` (or after :func:`set_config`) the cap also applies, through
  threadpoolctl and ``torch.set_num_threads``, to everything run in this process, so
  ``with causalkit.config_context(n_threads=1): ...`` is the one switch for a shared
  machine.
- ``n_threads="off"``: causalkit leaves every thread count alone.

The environment variable ``CAUSALKIT_NUM_THREADS`` (an int, ``auto`` or ``off``) sets
the default when Python starts. Thread counts never change the numbers beyond the last
bits of floating-point summation order; seeds and folds are fixed before dispatch.

Examples
--------
>>> import causalkit
>>> causalkit.get_config()["n_threads"] in ("auto", "off") or True
True
>>> with causalkit.config_context(n_threads=1):
...     causalkit.get_config()["n_threads"]
1
"""

from __future__ import annotations

import contextlib
import numbers
import os
import sys
import threading

__all__ = ["get_config", "set_config", "config_context"]

_ENV = "CAUSALKIT_NUM_THREADS"
_STANDARD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_KEYWORDS = ("auto", "off")


def _parse_n_threads(value, source: str):
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _KEYWORDS:
            return v
        try:
            value = int(v)
        except ValueError:
            raise ValueError(
                f"{source} must be 'auto', 'off' or a positive integer; got {value!r}.") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{source} must be 'auto', 'off' or a positive integer; got {value!r}.")
    return int(value)


def _initial():
    raw = os.environ.get(_ENV)
    if raw is None or raw.strip() == "":
        return {"n_threads": "auto"}
    return {"n_threads": _parse_n_threads(raw, f"The environment variable {_ENV}")}


_global = _initial()
_local = threading.local()
_global_limiter = None  # threadpoolctl limiter held by set_config


def _state() -> dict:
    if not hasattr(_local, "config"):
        _local.config = dict(_global)
    return _local.config


def get_config() -> dict:
    """The current settings as a new dict (``{"n_threads": ...}``).

    Examples
    --------
    >>> import causalkit
    >>> with causalkit.config_context(n_threads=1):
    ...     causalkit.get_config()["n_threads"]
    1
    """
    return dict(_state())


def set_config(n_threads=None) -> None:
    """Change a setting for the rest of the session (``None`` leaves it as it is).

    Parameters
    ----------
    n_threads : {"auto", "off"} or int, optional
        The thread policy (see the module docstring). An int also caps, at once, the
        BLAS/OpenMP pools already loaded in this process and torch's intra-op threads.

    Examples
    --------
    >>> import causalkit
    >>> before = causalkit.get_config()["n_threads"]
    >>> causalkit.set_config(n_threads=1)      # one inner thread per task from now on
    >>> causalkit.get_config()["n_threads"]
    1
    >>> causalkit.set_config(n_threads=before)  # back to what it was
    """
    global _global_limiter
    if n_threads is None:
        return
    value = _parse_n_threads(n_threads, "`n_threads`")
    _global["n_threads"] = value
    _state()["n_threads"] = value
    if _global_limiter is not None:
        _global_limiter.restore_original_limits()
        _global_limiter = None
    if isinstance(value, int):
        from threadpoolctl import threadpool_limits

        _global_limiter = threadpool_limits(limits=value)
        _set_torch_threads(value)


@contextlib.contextmanager
def config_context(*, n_threads=None):
    """Change settings inside a ``with`` block; restored on exit.

    With an int ``n_threads`` the BLAS/OpenMP pools of this process and torch's
    intra-op threads are capped inside the block, and causalkit's parallel tasks
    (in this process or in joblib workers) use that many inner threads.

    Examples
    --------
    >>> import causalkit
    >>> with causalkit.config_context(n_threads=1):
    ...     pass
    """
    state = _state()
    old = dict(state)
    if n_threads is None:
        yield
        return
    value = _parse_n_threads(n_threads, "`n_threads`")
    state["n_threads"] = value
    try:
        if isinstance(value, int):
            with _limit_process(value):
                yield
        else:
            yield
    finally:
        state.clear()
        state.update(old)


# --------------------------------------------------------------------------- internal API


def _cores() -> int:
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def _user_env_cap() -> int | None:
    caps = []
    for name in _STANDARD_ENV:
        raw = os.environ.get(name, "").strip()
        if raw.isdigit() and int(raw) >= 1:
            caps.append(int(raw))
    return min(caps) if caps else None


def _workers(n_jobs) -> int:
    """How many tasks joblib runs at once for ``n_jobs`` under the active config."""
    try:
        from joblib.parallel import get_active_backend

        backend, default_jobs = get_active_backend()
        if n_jobs is None:
            n_jobs = default_jobs
        if n_jobs is None:
            return 1
        return max(1, int(backend.effective_n_jobs(n_jobs)))
    except Exception:  # a backend that cannot tell (no client yet): fall back on n_jobs
        if n_jobs is None:
            return 1
        return _cores() if n_jobs < 0 else max(1, int(n_jobs))


#: Under "auto", tasks on fewer rows than this run single-threaded: measured on 2 cores,
#: AIPW with HistGradientBoosting nuisances at n = 2,000 took 1.9 s with one inner thread
#: and 2.4 s with two on an idle machine, and 2.0 s against 8.2 s with the other core busy
#: (benchmarks/results/threads.json); threads pay for their synchronisation only on large fits.
SMALL_TASK_ROWS = 100_000


def inner_threads(n_jobs=None, n_rows=None) -> int | None:
    """Inner threads one causalkit task may use, or ``None`` (leave them alone).

    ``n_rows`` is the size of the task's data, when known: under "auto", tasks on fewer
    than :data:`SMALL_TASK_ROWS` rows get one thread.
    """
    value = _state()["n_threads"]
    if value == "off":
        return None
    if isinstance(value, int):
        return value
    if n_rows is not None and n_rows < SMALL_TASK_ROWS:
        return 1
    k = max(1, _cores() // _workers(n_jobs))
    cap = _user_env_cap()
    return min(k, cap) if cap is not None else k


class _Held:
    """The cap this process holds now (shared by all its threads)."""

    k = None
    lock = threading.Lock()


_held = _Held()


def _set_torch_threads(k):
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "set_num_threads"):
        return None
    old = torch.get_num_threads()
    if old != k:
        torch.set_num_threads(k)
    return old


@contextlib.contextmanager
def _limit_process(k: int | None):
    """Cap BLAS/OpenMP (threadpoolctl) and torch threads of this process to ``k``."""
    with _held.lock:
        held = _held.k
        if k is not None and held != k:
            _held.k = k
    if k is None or held == k:
        yield
        return
    from threadpoolctl import threadpool_limits

    prev = held
    old_torch = _set_torch_threads(k)
    try:
        with threadpool_limits(limits=k):
            yield
    finally:
        if old_torch is not None:
            sys.modules["torch"].set_num_threads(old_torch)
        with _held.lock:
            _held.k = prev


def limit_threads(k: int | None):
    """Context manager for a task: cap this process's inner threads to ``k``.

    Nested calls with the same ``k`` cost nothing, so a parent that already holds the
    cap (sequential or threading backends) is not re-entered by its tasks.
    """
    return _limit_process(k)
