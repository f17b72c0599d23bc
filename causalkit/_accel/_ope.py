"""Compiled one-pass kernels for bandit off-policy evaluation and learning (``causalkit.ope``).

At 10^6 rounds x 20 actions a policy matrix is 160 MB, so each extra numpy pass
over it (row sums, minimum, the gather ``P[i, a_i]``, the reward model averaged
over the policy) costs about as much as the estimator's formula. These kernels read
each row once and do all of it while the row is in cache. They only *detect* bad
input; the callers re-run their numpy checks to raise the library's messages.

The policy learners' pass (``gaussian_rows``, ``softmax_rows``) evaluates the Gibbs
policy, the bound's linear terms and their gradients row by row, with each row's
(actions x nodes) arrays in cache, instead of numpy's (block x actions x nodes) tensors.

Sums use ``fastmath={"reassoc"}`` only (so the row loops vectorise); NaN and
infinity keep their IEEE meaning, which the checks rely on.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# imported lazily (on the first ``value``), so numba's import cost is paid by OPE users
# only; kernels are cached to disk after the first compile
_njit = numba.njit(cache=True, nogil=True, fastmath={"reassoc"})

__all__ = ["copy_finite", "copy_rows_gather", "gaussian_rows", "prob_rows", "prob_rows_dot",
           "prob_rows_dot_check", "softmax_rows"]


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
def prob_rows_dot_check(P, Q, at, picked, dots, q_at, tol):
    """:func:`prob_rows_dot` that also checks ``Q`` as it reads it and gathers
    ``q_at[i] = Q[i, at[i]]``. Returns ``(n_bad, low, z, big)``: ``z`` is NaN when ``Q``
    holds a NaN or infinite value (else 0) and ``big`` is ``Q``'s largest magnitude, as
    in :func:`copy_finite`. One read of each matrix, nothing written but n-vectors."""
    n, k = P.shape
    bad = 0
    low = np.inf
    z = 0.0
    big = 0.0
    for i in range(n):
        s = 0.0
        d = 0.0
        for j in range(k):
            v = P[i, j]
            qv = Q[i, j]
            s += v
            d += v * qv
            low = min(low, v)
            z += qv * 0.0
            aq = abs(qv)
            big = aq if aq > big else big
        if not abs(s - 1.0) <= tol:
            bad += 1
        picked[i] = P[i, at[i]]
        q_at[i] = Q[i, at[i]]
        dots[i] = d
    return bad, low, z, big


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


# --------------------------------------------------------------------------- policy learning
#
# One pass of the PAC-Bayes learners (``causalkit.ope._learning._policy_pass``) over a
# block of rows: the Gibbs policy pi_Q, the linear functionals T[m] = sum G[m, i, a] pi_Q(a|x_i)
# and their exact gradients, row by row with every per-row array (K x nodes) in cache. The
# numpy path (``_gaussian_block`` / ``_softmax_block`` and their VJPs) computes the same
# formulas over (block, K, nodes) tensors; the two agree to rounding (tests/ope).

_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
#: Phi(u) rounds to 1.0 for u above this (1 - Phi(8.5) < 1e-17 < half an ulp of 1).
_PHI_ONE = 8.5


#: Phi on [-_PHI_LO, _PHI_ONE] from a table: Taylor polynomial of degree ``_PHI_DEG`` about
#: the nearest of the nodes ``-_PHI_LO + i / _PHI_PER`` (so |e| <= 1 / (2 _PHI_PER)), with
#: the derivatives Phi^(n+1)(x) = (-1)^n He_n(x) phi(x) (He_n the probabilists' Hermite
#: polynomials, from Rodrigues' formula; Abramowitz and Stegun, 1964, Sec. 26.2 and ch. 22).
#: The tables' values come from math.erfc; the result is within 1e-13 relative (2e-16
#: absolute) of scipy's ndtr over the whole range (tests/ope).
_PHI_LO = 9.0
_PHI_PER = 64
_PHI_DEG = 8


def _phi_table():
    x = -_PHI_LO + np.arange(int((_PHI_LO + _PHI_ONE) * _PHI_PER) + 2) / _PHI_PER
    base = np.array([0.5 * math.erfc(-v * _SQRT1_2) for v in x])
    dens = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    coef = np.empty((x.size, _PHI_DEG))
    he_prev, he = np.zeros_like(x), np.ones_like(x)  # He_{-1}, He_0
    fact = 1.0
    for j in range(_PHI_DEG):
        fact *= j + 1  # (j + 1)!
        coef[:, j] = (-1) ** j * he * dens / fact
        he_prev, he = he, x * he - j * he_prev
    return base, np.ascontiguousarray(coef)


_PHI_BASE, _PHI_COEF = _phi_table()


@_njit
def _ndtr_table(u, base, coef):
    """Phi(u) for -_PHI_LO <= u <= _PHI_ONE from the tables of :func:`_phi_table`."""
    t = (u + _PHI_LO) * _PHI_PER
    i = int(t + 0.5)
    if i < 0:
        i = 0
    e = u - (-_PHI_LO + i / _PHI_PER)
    acc = coef[i, _PHI_DEG - 1]
    for j in range(_PHI_DEG - 2, -1, -1):
        acc = coef[i, j] + e * acc
    return base[i] + e * acc


@_njit
def _linear_terms(G, i, P, T, gp, nf, k, need_grad, div):
    """Row ``i``'s share of the bound's linear terms ``T[m] += sum_c G[m, i, c] P[c]``
    and, with ``need_grad``, their centred coefficients ``(G[m, i, c] - that sum) / div``
    (``div`` is the Gaussian policy's normaliser; 1 for the softmax policy)."""
    for mm in range(nf):
        gsum = 0.0
        for c in range(k):
            gsum += G[mm, i, c] * P[c]
        T[mm] += gsum
        if need_grad:
            for c in range(k):
                gp[mm, c] = (G[mm, i, c] - gsum) / div


def gaussian_rows(Xt, M, sr, tau, h, G, T, gM, glog, need_grad, out_P, want_P):
    """:func:`_gaussian_rows` with the normal cdf tables of this module."""
    _gaussian_rows(Xt, M, sr, tau, h, G, T, gM, glog, need_grad, out_P, want_P, _PHI_BASE, _PHI_COEF)


@_njit
def _gaussian_rows(Xt, M, sr, tau, h, G, T, gM, glog, need_grad, out_P, want_P, base, coef):
    """The Gaussian (probit argmax) policy on the rows of ``Xt``: writes ``out_P`` (when
    ``want_P``), adds ``sum_{i,a} G[m, i, a] P[i, a]`` to ``T[m]`` and, with ``need_grad``,
    the gradients with respect to ``M`` and ``log sigma`` to ``gM[m]`` and ``glog[m]``.
    ``sr[i] = sigma |x_i|``; ``tau``, ``h``: the quadrature grid and its step."""
    B, d = Xt.shape
    k = M.shape[1]
    J = tau.shape[0]
    nf = G.shape[0]
    m = np.empty(k)
    U = np.empty((k, J))
    F = np.empty((k, J))
    f = np.empty((k, J))
    fR = np.empty((k, J))
    prodF = np.empty(J)
    p = np.empty(k)
    P = np.empty(k)
    gp = np.empty((nf, k))
    A = np.empty((nf, J))
    diag = np.empty(k)
    v = np.empty((nf, k))
    step = math.exp(-h * h)
    for i in range(B):
        s_i = sr[i]
        top = 0
        for c in range(k):
            s = 0.0
            for e in range(d):
                s += Xt[i, e] * M[e, c]
            m[c] = s / s_i
            if m[c] > m[top]:
                top = c
        mt = m[top]
        for j in range(J):
            prodF[j] = 1.0
        for c in range(k):
            dc = m[c] - mt
            # the grid is uniform, u_j = u_0 + j h, so phi(u_{j+1}) = phi(u_j) g_j with
            # g_j = exp(-u_j h - h^2 / 2) and g_{j+1} = g_j exp(-h^2): two exponentials per
            # action instead of one per node (u_0 >= tau_0 = -_TAU_MAX: nothing overflows)
            u0 = tau[0] - dc
            phi = math.exp(-0.5 * u0 * u0) * _INV_SQRT_2PI
            g = math.exp(-u0 * h - 0.5 * h * h)
            for j in range(J):
                u = tau[j] - dc
                U[c, j] = u
                if u > _PHI_ONE:
                    Fv = 1.0
                elif u >= -_PHI_LO:
                    Fv = _ndtr_table(u, base, coef)
                else:  # not reached from the learner's grid (u >= tau_0 = -9), kept exact
                    Fv = 0.5 * math.erfc(-u * _SQRT1_2)
                F[c, j] = Fv
                f[c, j] = phi
                phi *= g
                g *= step
                prodF[j] *= Fv
        tot = 0.0
        for c in range(k):
            acc = 0.0
            for j in range(J):
                qv = f[c, j] / F[c, j]  # one division per cell: f now holds q = f / F
                f[c, j] = qv
                r = qv * prodF[j]
                fR[c, j] = r
                acc += r
            p[c] = h * acc
            tot += p[c]
        for c in range(k):
            P[c] = p[c] / tot
            if want_P:
                out_P[i, c] = P[c]
        if nf == 0:
            continue
        _linear_terms(G, i, P, T, gp, nf, k, need_grad, tot)
        if not need_grad:
            continue
        for c in range(k):
            acc = 0.0
            for j in range(J):
                acc += (U[c, j] + f[c, j]) * fR[c, j]
            diag[c] = acc
        for mm in range(nf):
            for j in range(J):
                A[mm, j] = 0.0
            for c in range(k):
                g = gp[mm, c]
                for j in range(J):
                    A[mm, j] += g * fR[c, j]
            vs = 0.0
            for c in range(k):
                acc = 0.0
                for j in range(J):
                    acc += f[c, j] * A[mm, j]
                v[mm, c] = h * (gp[mm, c] * diag[c] - acc)
                vs += v[mm, c]
            v[mm, top] -= vs
            gl = 0.0
            for c in range(k):
                gl += v[mm, c] * m[c]
            glog[mm] -= gl
            for c in range(k):
                gs = v[mm, c] / s_i
                for e in range(d):
                    gM[mm, e, c] += Xt[i, e] * gs


@_njit
def softmax_rows(Xt, M, sr, eps, G, T, gM, glog, need_grad, out_P, want_P):
    """:func:`gaussian_rows` for the mixed-logit policy
    ``E_eps softmax(M' x + sigma |x| eps)`` over the fixed draws ``eps`` (S, K)."""
    B, d = Xt.shape
    k = M.shape[1]
    S = eps.shape[0]
    nf = G.shape[0]
    s0 = np.empty(k)
    Z = np.empty((S, k))
    P = np.empty(k)
    gp = np.empty((nf, k))
    zrow = np.empty(S)
    for i in range(B):
        s_i = sr[i]
        for c in range(k):
            s = 0.0
            for e in range(d):
                s += Xt[i, e] * M[e, c]
            s0[c] = s
            P[c] = 0.0
        for t in range(S):
            mx = -np.inf
            for c in range(k):
                z = s0[c] + s_i * eps[t, c]
                Z[t, c] = z
                mx = max(mx, z)
            tot = 0.0
            for c in range(k):
                z = math.exp(Z[t, c] - mx)
                Z[t, c] = z
                tot += z
            for c in range(k):
                Z[t, c] /= tot
                P[c] += Z[t, c]
        for c in range(k):
            P[c] /= S
            if want_P:
                out_P[i, c] = P[c]
        if nf == 0:
            continue
        _linear_terms(G, i, P, T, gp, nf, k, need_grad, 1.0)
        if not need_grad:
            continue
        for mm in range(nf):
            gl = 0.0
            for t in range(S):
                inner = 0.0
                for c in range(k):
                    inner += gp[mm, c] * Z[t, c]
                zrow[t] = inner
            for c in range(k):
                acc = 0.0
                for t in range(S):
                    z = Z[t, c]
                    acc += (gp[mm, c] - zrow[t]) * z
                    gl += (gp[mm, c] - zrow[t]) * z * eps[t, c]
                gs = acc / S
                for e in range(d):
                    gM[mm, e, c] += Xt[i, e] * gs
            glog[mm] += gl * s_i / S
