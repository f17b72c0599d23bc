r"""Anderson-Rubin tests and confidence sets, robust to weak instruments.

The AR statistic of a value :math:`b` of the treatments' coefficients is the Wald
statistic of the instruments' coefficients in the regression of :math:`Y - A b` on
:math:`(1, X, Z)` (Anderson and Rubin, 1949). With :math:`\hat a` and :math:`\hat\Pi`
the reduced-form coefficients of :math:`Y` and :math:`A` on the instruments, that
regression's instrument coefficients are :math:`x(b) = \hat a - \hat\Pi b = C v`,
:math:`C = (\hat a, \hat\Pi)`, :math:`v = (1, -b)`, and

- ``cov_type="robust"`` (HC0): :math:`AR(b) = x^\top \Sigma(b)^{-1} x` with
  :math:`\Sigma(b) = (v^\top \otimes I_k)\,\hat V\,(v \otimes I_k)`, :math:`\hat V` the
  joint HC0 covariance of :math:`\mathrm{vec}\,C` (Andrews, Stock and Sun, 2019,
  Section 5);
- ``cov_type="unadjusted"``: :math:`AR(b) = x^\top \tilde Z^\top\tilde Z x /
  (v^\top \hat\Omega v)` with :math:`\hat\Omega` the covariance of the reduced-form
  residuals (divisor :math:`n`) and :math:`\tilde Z` the partialled instruments.

Both are :math:`\chi^2_k` at the true :math:`b` whatever the strength of the
instruments. Along a line :math:`b(t) = b_0 + t e` both :math:`x` and :math:`\Sigma`
are polynomials in :math:`t` (degree 1 and 2), and :math:`AR \le c` if and only if
:math:`\det(c\Sigma(t) - x(t)x(t)^\top) \ge 0` (the matrix determinant lemma;
:math:`\Sigma` is positive definite): the boundary points are the real roots of a
quadratic eigenvalue problem of size :math:`k` (a polynomial of degree :math:`2k`;
of degree 2 for the unadjusted statistic, the closed form of Dufour and Taamouti,
2005), found from its companion linearisation. Between consecutive roots the set is
decided by evaluating the statistic.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize, stats

COV_TYPES = ("robust", "unadjusted")


def check_ar_args(alpha, cov_type):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) \
            or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must lie in (0, 1); got {alpha!r}.")
    if cov_type not in COV_TYPES:
        raise ValueError(f"`cov_type` must be one of {COV_TYPES}; got {cov_type!r}.")


def _sigma(ar, u, w):
    """The bilinear form (u' kron I) V (w kron I) of the HC0 reduced-form covariance."""
    k = ar["k"]
    V = ar["V"].reshape(len(u), k, len(w), k)
    return np.einsum("r,risj,s->ij", u, V, w)


def statistic(ar, v, cov_type):
    """AR statistic at ``v = (1, -b)`` (any scaling of v gives the same value)."""
    C = np.c_[ar["a"], ar["Pi"]]
    x = C @ v
    if cov_type == "unadjusted":
        den = float(v @ ar["Omega"] @ v)
        return float(x @ ar["Gzz"] @ x / den) if den > 0 else np.inf
    S = _sigma(ar, v, v)
    try:
        return float(x @ np.linalg.solve(S, x))
    except np.linalg.LinAlgError:
        return np.inf


def ar_test(ar, b, cov_type):
    """``(statistic, pvalue, df)`` of the joint AR test of ``b`` (length m)."""
    stat = statistic(ar, np.r_[1.0, -np.asarray(b, dtype=float)], cov_type)
    return stat, float(stats.chi2.sf(stat, ar["k"])), ar["k"]


def _coefficients(ar, v0, v1, c, cov_type):
    """M0, M1, M2 with c*Sigma(t) - x(t)x(t)' = M0 + t M1 + t^2 M2 along v(t) = v0 + t v1
    (1 x 1 for the unadjusted statistic: c v'Omega v - x'Z'Z x)."""
    C = np.c_[ar["a"], ar["Pi"]]
    x0, x1 = C @ v0, C @ v1
    if cov_type == "unadjusted":
        Om, Q = ar["Omega"], ar["Gzz"]
        M0 = c * v0 @ Om @ v0 - x0 @ Q @ x0
        M1 = 2 * (c * v0 @ Om @ v1 - x0 @ Q @ x1)
        M2 = c * v1 @ Om @ v1 - x1 @ Q @ x1
        return np.atleast_2d(M0), np.atleast_2d(M1), np.atleast_2d(M2)
    S00, S01, S11 = _sigma(ar, v0, v0), _sigma(ar, v0, v1), _sigma(ar, v1, v1)
    M0 = c * S00 - np.outer(x0, x0)
    M1 = c * (S01 + S01.T) - (np.outer(x0, x1) + np.outer(x1, x0))
    M2 = c * S11 - np.outer(x1, x1)
    return M0, M1, M2


def _real_roots(M0, M1, M2):
    """Real finite t with det(M0 + t M1 + t^2 M2) = 0 (companion linearisation)."""
    q = M0.shape[0]
    scale = max(np.abs(M0).max(), np.abs(M1).max(), np.abs(M2).max(), 1e-300)
    M0, M1, M2 = M0 / scale, M1 / scale, M2 / scale
    A = np.block([[np.zeros((q, q)), np.eye(q)], [-M0, -M1]])
    B = np.block([[np.eye(q), np.zeros((q, q))], [np.zeros((q, q)), M2]])
    with np.errstate(all="ignore"):
        ev = linalg.eig(A, B, right=False)
    ok = np.isfinite(ev) & (np.abs(ev.imag) <= 1e-7 * np.maximum(1.0, np.abs(ev.real)))
    return np.unique(ev.real[ok])


def line_set(ar, v0, v1, c, cov_type, polish=True):
    """Intervals of t with AR(v0 + t v1) <= c, exactly (roots plus a check between them)."""
    def accept(t):
        return statistic(ar, v0 + t * v1, cov_type) <= c

    def g(t):
        return c - statistic(ar, v0 + t * v1, cov_type)

    roots = _real_roots(*_coefficients(ar, v0, v1, c, cov_type))
    if not polish:
        polished = roots
    else:
        polished = []
    for r in roots if polish else ():  # polish each root on the statistic where it changes sign
        h = 1e-6 * max(1.0, abs(r))
        ga, gb = g(r - h), g(r + h)
        if np.isfinite(ga) and np.isfinite(gb) and ga * gb < 0:
            r = optimize.brentq(g, r - h, r + h, xtol=1e-14 * max(1.0, abs(r)), rtol=1e-15)
        polished.append(r)
    roots = np.unique(polished)
    if roots.size == 0:
        return [(-np.inf, np.inf)] if accept(0.0) else []
    pts = np.r_[-np.inf, roots, np.inf]
    out = []
    for lo, hi in zip(pts[:-1], pts[1:]):
        if np.isinf(lo):
            mid = hi - (1.0 + abs(hi))
        elif np.isinf(hi):
            mid = lo + (1.0 + abs(lo))
        else:
            mid = (lo + hi) / 2
        if accept(mid):
            if out and out[-1][1] == lo:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
    return out


def _inner_min(ar, j, bj, cov_type, start, c=-np.inf):
    """min over the other coefficients of AR(b) with b_j = bj (projection)."""
    m = ar["m"]
    v0 = np.zeros(m + 1)
    v0[0], v0[1 + j] = 1.0, -bj
    others = [i for i in range(m) if i != j]
    N = np.zeros((m + 1, m - 1))
    for col, i in enumerate(others):
        N[1 + i, col] = -1.0
    if cov_type == "unadjusted":
        # a ratio of quadratic forms on span(v0, N): its infimum over the affine set
        # v0 + N w is the smallest generalised eigenvalue on the subspace
        P = np.c_[v0, N]
        C = np.c_[ar["a"], ar["Pi"]]
        A = P.T @ C.T @ ar["Gzz"] @ C @ P
        Bm = P.T @ ar["Omega"] @ P
        return float(linalg.eigh((A + A.T) / 2, (Bm + Bm.T) / 2, eigvals_only=True).min())

    k, R = ar["k"], m + 1
    Vr = ar["V"].reshape(R, k, R, k)
    Cm = np.c_[ar["a"], ar["Pi"]]

    def f(w):
        return statistic(ar, v0 + N @ w, cov_type)

    def fg(w):
        # f = x' S^-1 x, x = C v, S = sum_rs v_r v_s V_rs; df/dv_r = 2 (C'q)_r
        # - 2 sum_s v_s q' V_rs q with q = S^-1 x
        v = v0 + N @ w
        S = np.einsum("r,risj,s->ij", v, Vr, v)
        x = Cm @ v
        try:
            q = np.linalg.solve(S, x)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(w)
        Q = np.einsum("i,risj,j->rs", q, Vr, q)
        grad_v = 2 * Cm.T @ q - 2 * Q @ v
        return float(x @ q), N.T @ grad_v

    # start from the estimate and from the exact minimiser of the unadjusted statistic
    P = np.c_[v0, N]
    C = np.c_[ar["a"], ar["Pi"]]
    A = P.T @ C.T @ ar["Gzz"] @ C @ P
    Bm = P.T @ ar["Omega"] @ P
    _, vec = linalg.eigh((A + A.T) / 2, (Bm + Bm.T) / 2)
    starts = list(start)
    if abs(vec[0, 0]) > 1e-12:
        starts.append(vec[1:, 0] / vec[0, 0])
    best = min(f(w0) for w0 in starts)
    if best <= c:
        return best
    for w0 in starts:
        res = optimize.minimize(fg, w0, method="BFGS", jac=True)
        best = min(best, float(res.fun))
        if best <= c:
            break
    return best


def projection_set(ar, j, c, cov_type):
    """Projection of the joint AR set on coefficient j, and how it was found."""
    m = ar["m"]
    est, se = float(ar["beta"][j]), float(ar["se"][j])
    se = se if np.isfinite(se) and se > 0 else max(1.0, abs(est))
    if m == 2 and cov_type == "robust":
        other = 1 - j

        def accept(bj):
            v0 = np.zeros(3)
            v0[0], v0[1 + j] = 1.0, -bj
            v1 = np.zeros(3)
            v1[1 + other] = -1.0
            return len(line_set(ar, v0, v1, c, cov_type, polish=False)) > 0
        inner = "the other coefficient's AR set, exact"
    else:
        beta = np.asarray(ar["beta"], dtype=float)
        others = [i for i in range(m) if i != j]

        def accept(bj):
            start = [beta[others]]
            return _inner_min(ar, j, bj, cov_type, start, c) <= c
        inner = ("exact minimum over the other coefficients (a generalised eigenvalue)"
                 if cov_type == "unadjusted" else
                 "minimum over the other coefficients by BFGS from the estimate and the unadjusted minimiser")
    tails = np.logspace(2, 12, 11)
    core = np.tan(np.linspace(-np.pi / 2, np.pi / 2, 203)[1:-1])
    grid = est + se * np.unique(np.r_[-tails[::-1], core, 0.0, tails])
    flags = np.array([accept(b) for b in grid])
    edges = []
    for i in range(grid.size - 1):
        if flags[i] != flags[i + 1]:
            lo, hi = grid[i], grid[i + 1]
            inside_lo = flags[i]
            for _ in range(200):
                mid = (lo + hi) / 2
                if mid in (lo, hi) or hi - lo <= 1e-11 * max(1.0, abs(mid)):
                    break
                if accept(mid) == inside_lo:
                    lo = mid
                else:
                    hi = mid
            edges.append(lo if inside_lo else hi)
    out, start = [], (-np.inf if flags[0] else None)
    e = iter(edges)
    for i in range(grid.size - 1):
        if flags[i] != flags[i + 1]:
            x = next(e)
            if flags[i]:
                out.append((start, x))
                start = None
            else:
                start = x
    if start is not None:
        out.append((start, np.inf))
    how = (f"projection of the joint AR set (chi2_{ar['k']} critical value): grid of "
           f"{grid.size} values around the estimate (out to 1e12 SE), ends refined by "
           f"bisection; inner step: {inner}")
    return out, how
