"""Compiled one-pass kernels for bandit off-policy evaluation (``causalkit.ope``).

At 10^6 rounds x 20 actions a policy matrix is 160 MB, so each extra numpy pass
over it (row sums, minimum, the gather ``P[i, a_i]``, the reward model averaged
over the policy) costs about as much as the estimator's formula. These kernels read
each row once and do all of it while the row is in cache. They only *detect* bad
input; the callers re-run their numpy checks to raise the library's messages.

Sums use ``fastmath={"reassoc"}`` only (so the row loops vectorise); NaN and
infinity keep their IEEE meaning, which the checks rely on.
"""

from __future__ import annotations

import numba
import numpy as np

# imported lazily (on the first ``value``), so numba's import cost is paid by OPE users
# only; kernels are cached to disk after the first compile
_njit = numba.njit(cache=True, nogil=True, fastmath={"reassoc"})

__all__ = ["copy_finite", "copy_rows_gather", "prob_rows", "prob_rows_dot"]


@_njit
def prob_rows(P, at, picked, gather, tol):
    """One pass over the rows of a C-contiguous (n, k) float64 matrix ``P``.

    Returns ``(n_bad, low)``: the number of rows whose sum is not within ``tol`` of 1
    (a NaN or infinite entry makes its row bad) and the smallest entry. With
    ``gather`` it writes ``picked[i] = P[i, at[i]]`` (``at`` already checked to lie
    in ``[0, k)``).
    """
    n, k = P.shape
    bad = 0
    low = np.inf
    for i in range(n):
        s = 0.0
        for j in range(k):
            v = P[i, j]
            s += v
            low = min(low, v)
        if not abs(s - 1.0) <= tol:
            bad += 1
        if gather:
            picked[i] = P[i, at[i]]
    return bad, low


@_njit
def prob_rows_dot(P, Q, at, picked, dots, tol):
    """:func:`prob_rows` with the gather, plus ``dots[i] = sum_j P[i, j] Q[i, j]``
    (``Q`` C-contiguous, same shape)."""
    n, k = P.shape
    bad = 0
    low = np.inf
    for i in range(n):
        s = 0.0
        d = 0.0
        for j in range(k):
            v = P[i, j]
            s += v
            d += v * Q[i, j]
            low = min(low, v)
        if not abs(s - 1.0) <= tol:
            bad += 1
        picked[i] = P[i, at[i]]
        dots[i] = d
    return bad, low


@_njit
def copy_finite(src, dst):
    """Copy the flat float64 ``src`` into ``dst`` and return ``(z, big)``: ``z`` is NaN
    when any value is NaN or infinite (else 0) and ``big`` the largest magnitude."""
    z = 0.0
    big = 0.0
    for i in range(src.size):
        v = src[i]
        dst[i] = v
        z += v * 0.0
        av = abs(v)
        big = av if av > big else big
    return z, big


@_njit
def copy_rows_gather(src, dst, at, picked):
    """:func:`copy_finite` for a C-contiguous (n, k) matrix, also writing
    ``picked[i] = src[i, at[i]]``."""
    n, k = src.shape
    z = 0.0
    big = 0.0
    for i in range(n):
        for j in range(k):
            v = src[i, j]
            dst[i, j] = v
            z += v * 0.0
            av = abs(v)
            big = av if av > big else big
        picked[i] = src[i, at[i]]
    return z, big
