"""Progress bars for long fits, shown behind an estimator's ``verbose``.

One library for the whole project: tqdm (a dependency of causalkit; small, pure Python).
A bar goes to ``sys.stderr`` as resolved at the time it starts (so the demo's redirection
catches it). With ``verbose`` false nothing is imported or printed: :func:`progress`
returns a silent stand-in with the same methods.
"""

from __future__ import annotations

import sys

__all__ = ["progress", "parallel"]


class _Silent:
    """What :func:`progress` returns when ``verbose`` is false: the tqdm methods we use,
    doing nothing."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        return None

    def set_postfix_str(self, s="", refresh=True):
        return None

    def close(self):
        return None


def progress(iterable=None, *, total=None, desc=None, unit="it", verbose=False, leave=True):
    """A tqdm bar over ``iterable`` (or one updated by hand) when ``verbose``; else silent.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over; omit it and call ``update()`` by hand.
    total : int, optional
        Number of steps (taken from ``len(iterable)`` when it has one).
    desc : str, optional
        The bar's label, e.g. ``"CFDiVAE epochs"``.
    unit : str, default "it"
        What one step is (``"epoch"``, ``"draw"``...).
    verbose : bool or int, default False
        Show the bar; when false the stand-in prints nothing.
    leave : bool, default True
        Keep the finished bar on screen.

    Returns
    -------
    tqdm.tqdm or a silent stand-in with ``update``, ``set_postfix_str`` and ``close``.

    Examples
    --------
    >>> from causalkit._progress import progress
    >>> sum(progress(range(5), desc="quiet"))          # verbose=False: no bar, no import
    10
    >>> import io, contextlib
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     with progress(total=3, desc="fits", unit="fit", verbose=True) as bar:
    ...         for _ in range(3):
    ...             bar.update(1)
    >>> "fits: 100%" in err.getvalue() and "3/3" in err.getvalue()
    True
    """
    if not verbose:
        return _Silent(iterable)
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.2)


def parallel(n_jobs=None, verbose=False):
    """``joblib.Parallel`` that hands results back as they finish when ``verbose`` (so a
    bar moves during the work); a backend that cannot (multiprocessing) returns them all
    at the end, as does any call without ``verbose``.

    Examples
    --------
    >>> from joblib import delayed
    >>> from causalkit._progress import parallel
    >>> list(parallel(n_jobs=1, verbose=True)(delayed(abs)(v) for v in (-1, -2)))
    [1, 2]
    """
    from joblib import Parallel

    if verbose:
        try:
            return Parallel(n_jobs=n_jobs, return_as="generator")
        except ValueError:  # this backend has no generator output
            pass
    return Parallel(n_jobs=n_jobs)
