r"""Linear IV algebra in time linear in the number of rows.

Every statistic of :class:`~causalkit.iv.TSLS` (2SLS or LIML, the HC0 covariance,
first-stage and Kleibergen-Paap statistics, over-identification tests and the
Anderson-Rubin tests) is computed from

- the centred data (the intercept then decouples, so it is never a column),
- the controls :math:`X` partialled out of the instruments, treatments and outcome
  by the normal equations on the small Gram matrix :math:`X^\top X` (Cholesky), with
  one step of iterative refinement (Frisch-Waugh-Lovell: the treatments'
  coefficients, residuals and HC0 covariance do not change; Davidson and MacKinnon,
  2004, Section 8.3),
- and small Gram matrices of the partialled columns.

The passes over the data are matrix products with the tall matrices
(:math:`O(n q^2)` for :math:`q` columns), never a factorisation of a tall matrix.
A column whose variance is explained to within a share ``RANK_TOL`` by the columns
before it is refused, with its name.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, stats

#: A column whose residual share (1 - R^2 on the columns before it) is below this is collinear.
RANK_TOL = 1e-10


def _first_dependent(G, scale2):
    """Index of the first column of the Gram matrix ``G`` whose residual sum of squares on
    the columns before it is at most ``RANK_TOL`` times ``scale2`` (its own), or None."""
    q = G.shape[0]
    s = np.sqrt(np.where(scale2 > 0, scale2, 1.0))
    Gs = G / np.outer(s, s)
    L = np.zeros_like(Gs)
    for j in range(q):
        r = Gs[j, j] - L[j, :j] @ L[j, :j]
        if not scale2[j] > 0 or not r > RANK_TOL:
            return j
        L[j, j] = np.sqrt(r)
        L[j + 1:, j] = (Gs[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return None


def _collinear_error(label, what):
    return ValueError(
        f"{label} is a linear combination of the columns before it in {what} "
        "(a duplicated column, a constant that the intercept already covers, or dummies "
        "that sum to one). Drop it before fitting.")


def _spd_solve(G, B):
    """Solve ``G x = B`` for a symmetric positive definite ``G``, scaled to unit diagonal."""
    s = np.sqrt(np.diag(G))
    s[s == 0] = 1.0
    c = linalg.cho_factor(G / np.outer(s, s))
    Bs = B / (s[:, None] if B.ndim == 2 else s)
    x = linalg.cho_solve(c, Bs)
    return x / (s[:, None] if x.ndim == 2 else s)


def _partial_out(Xt, W):
    """``W`` minus its least-squares projection on ``Xt`` (normal equations plus one
    refinement step); returns the residuals."""
    if Xt.shape[1] == 0:
        return W
    G = Xt.T @ Xt
    B = _spd_solve(G, Xt.T @ W)
    R = W - Xt @ B
    return R - Xt @ _spd_solve(G, Xt.T @ R)  # refinement: the residual's own projection


def kp_rk(n, Gzz, Gdd, Gzd, S_lm, S_wald, c):
    r"""Kleibergen and Paap (2006) rk statistics for the null rank(Pi) = m - 1.

    ``Gzz``, ``Gdd``, ``Gzd`` are cross products of the instruments :math:`z` and
    treatments :math:`x` with the exogenous regressors partialled out; ``S_lm`` and
    ``S_wald`` the cross products of the scores :math:`v_j z` (stacked by treatment)
    with :math:`v` = the partialled treatments (LM) or the first-stage residuals (Wald).
    With :math:`\Theta = R_{zz}^{-\top} Q_{zx} R_{xx}^{-1}` (:math:`R` upper Cholesky
    factors of the second moments, so that the singular values of :math:`\Theta` are the
    canonical correlations) and :math:`U_\perp`, :math:`V_\perp` the singular vectors of
    its :math:`k - m + 1` and 1 smallest singular values,
    :math:`\hat\lambda = (V_\perp \otimes U_\perp)^\top \mathrm{vec}\,\Theta` and
    :math:`rk = n\hat\lambda^\top \hat\Omega_\lambda^{-1}\hat\lambda`. Both forms are
    :math:`\chi^2_{k - m + 1}`; the Wald F is :math:`rk_W (n - k - c) / (n k)`
    (Kleibergen and Paap, 2006, Section 3; the scaling of Stata's ivreg2, Baum, Schaffer
    and Stillman, 2007). Returns ``(lm, wald, wald_F, df)``.
    """
    k, m = Gzd.shape
    irz = np.linalg.inv(np.linalg.cholesky(Gzz / n).T)
    irx = np.linalg.inv(np.linalg.cholesky(Gdd / n).T)
    theta = irz.T @ (Gzd / n) @ irx
    U, _, Vt = np.linalg.svd(theta, full_matrices=True)
    sel = np.kron(Vt.T[:, m - 1:].T, U[:, m - 1:].T)
    lam = sel @ theta.ravel(order="F")
    T = sel @ np.kron(irx.T, irz.T)

    def chi2(S):
        Om = T @ (S / n) @ T.T
        return float(n * lam @ np.linalg.pinv((Om + Om.T) / 2) @ lam)

    lm, wald = chi2(S_lm), chi2(S_wald)
    return lm, wald, wald * (n - k - c) / (n * k), k - m + 1


def _stack_scores(Z, V):
    """``[Z * V[:, 0], Z * V[:, 1], ...]``: the scores z_i v_ij, stacked by column of V."""
    n, k = Z.shape
    return (V[:, :, None] * Z[:, None, :]).reshape(n, V.shape[1] * k)


def iv_core(Xa, y, D, Z, method="2SLS"):
    """2SLS or LIML of ``y`` on ``D`` (n, m) with instruments ``Z`` (n, k) and controls
    ``Xa`` (n, p) plus an intercept. Returns ``(coef, cov, diagnostics, ar)`` where
    ``ar`` holds what the Anderson-Rubin tests need (small matrices only)."""
    n = y.shape[0]
    p, k, m = Xa.shape[1], Z.shape[1], D.shape[1]
    xlab = [f"`X` column {j}" for j in range(p)]
    zlab = [f"`instrument` column {j}" for j in range(k)] if k > 1 else ["`instrument`"]
    dlab = [f"`treatment` column {j}" for j in range(m)] if m > 1 else ["`treatment`"]
    if k < m:
        raise ValueError(f"`treatment` has {m} columns (endogenous treatments) but "
                         f"`instrument` only {k}; 2SLS needs at least as many instruments as "
                         "treatments. Add instruments or drop treatments.")
    Xt = Xa - Xa.mean(axis=0)
    W = np.empty((n, k + 1 + m))  # [Z, y, D], centred
    np.subtract(Z, Z.mean(axis=0), out=W[:, :k])
    np.subtract(y, y.mean(), out=W[:, k])
    np.subtract(D, D.mean(axis=0), out=W[:, k + 1:])
    ss = np.einsum("ij,ij->j", W, W)  # centred sums of squares
    if p:
        Gxx = Xt.T @ Xt
        j = _first_dependent(Gxx, np.diag(Gxx).copy())
        if j is not None:
            raise _collinear_error(xlab[j], "[1, X]")
    Wb = _partial_out(Xt, W)
    del W
    G = Wb.T @ Wb
    iz, idd, iy = slice(0, k), slice(k + 1, k + 1 + m), k
    Zb, Db, yb = Wb[:, iz], Wb[:, idd], Wb[:, iy]
    Gzz, Gzd, Gzy = G[iz, iz], G[iz, idd], G[iz, iy]
    Gdd, Gdy = G[idd, idd], G[idd, iy]
    j = _first_dependent(Gzz, ss[iz])
    if j is not None:
        raise _collinear_error(zlab[j], "[1, X, instrument]")
    j = _first_dependent(Gdd, ss[idd])
    if j is not None:
        raise _collinear_error(dlab[j], "[1, X, treatment]")
    # reduced forms of y and of each treatment on the partialled instruments
    coefs = _spd_solve(Gzz, np.c_[Gzy, Gzd])  # (k, 1 + m): [a_y, Pi]
    a_y, Pi = coefs[:, 0], coefs[:, 1:]
    E = Wb[:, k:] - Zb @ coefs  # residuals of y and D on [1, X, Z]
    H = Gzd.T @ Pi  # fitted treatments' cross products (D_hat' D_hat, partialled)
    partial_r2 = np.diag(H) / np.diag(Gdd)
    canon = linalg.eigvalsh(H, Gdd) if m > 1 else partial_r2
    if partial_r2.min() < 1e-12 or canon.min() < 1e-12:
        raise ValueError("The instruments do not predict `treatment` once `X` is controlled "
                         "for (first-stage partial R^2 is 0, or the instruments move the "
                         "treatments only together); the effect is not identified.")
    # LIML's kappa: smallest root of |W'M_X W - kappa W'M_Q W| = 0, W = (y, D)
    GW = G[k:, k:]
    EE = E.T @ E
    try:
        kappa_liml = float(linalg.eigh(GW, EE, eigvals_only=True).min())
    except np.linalg.LinAlgError:
        kappa_liml = np.nan
    kappa = 1.0
    if method == "LIML":
        if not np.isfinite(kappa_liml):
            raise ValueError(
                "LIML needs the residuals of `y` and `treatment` on [1, X, instrument] to be "
                "linearly independent, and here they are not (a treatment is an exact function "
                "of the instruments, controls and the other treatments). Use method='2SLS' or "
                "drop that treatment.")
        kappa = kappa_liml
    # k-class on the partialled data: S beta = (1 - kappa) D'y + kappa D_hat'y
    S = (1 - kappa) * Gdd + kappa * H
    beta = np.linalg.solve(S, (1 - kappa) * Gdy + kappa * Pi.T @ Gzy)
    u = yb - Db @ beta
    Zu = Zb * u[:, None]
    Suu = Zu.T @ Zu
    Sinv = np.linalg.inv(S)
    V = Sinv @ Pi.T @ Suu @ Pi @ Sinv.T
    V = (V + V.T) / 2
    # joint HC0 covariance of the reduced-form coefficients [a_y, Pi] (Anderson-Rubin,
    # first-stage Wald statistics)
    Psi = _stack_scores(Zb, E)
    Spsi = Psi.T @ Psi
    del Psi
    Gi = np.linalg.inv(Gzz)
    Bk = np.kron(np.eye(1 + m), Gi)
    V_rf = Bk @ Spsi @ Bk
    V_rf = (V_rf + V_rf.T) / 2
    walds = []
    for j in range(m):
        blk = slice((1 + j) * k, (2 + j) * k)
        walds.append(float(Pi[:, j] @ np.linalg.solve(V_rf[blk, blk], Pi[:, j])))
    Phi = _stack_scores(Zb, Db)
    S_lm = Phi.T @ Phi
    del Phi
    c = 1 + p
    lm, kp_wald, kp_F, kp_df = kp_rk(n, Gzz, Gdd, Gzd, S_lm, Spsi[k:, k:], c)
    F1 = [w / k for w in walds]
    diag = {"first_stage_F": F1[0] if m == 1 else F1,
            "first_stage_F_pvalue": (float(stats.chi2.sf(walds[0], k)) if m == 1 else
                                     [float(stats.chi2.sf(w, k)) for w in walds]),
            "first_stage_partial_r2": float(partial_r2[0]) if m == 1 else
            [float(r) for r in partial_r2],
            "n_instruments": k, "n_treatments": m,
            "kp_rk_lm": lm, "kp_rk_lm_pvalue": float(stats.chi2.sf(lm, kp_df)),
            "kp_rk_wald": kp_wald, "kp_rk_wald_F": kp_F}
    if method == "LIML":
        diag["kappa"] = kappa
    if k > m:
        q = k - m
        Zu_sum = Gzy - Gzd @ beta  # Z'u
        # Wooldridge's (1995) robust score test: q instruments residualised on the fitted
        # treatments (all partialled on [1, X]) are q_res = Zb @ Gam; regress 1 on q_res * u
        gam = np.linalg.solve(H, Pi.T @ Gzz[:, :q])
        Gam = np.eye(k)[:, :q] - Pi @ gam
        f = Gam.T @ Zu_sum
        stat = float(f @ np.linalg.solve(Gam.T @ Suu @ Gam, f))
        diag.update(overid_stat=stat, overid_pvalue=float(stats.chi2.sf(stat, q)))
        # Sargan's homoscedastic statistic n u'P_Q u / u'u on the same residuals
        uu = float(u @ u)
        sargan = float(n * Zu_sum @ Gi @ Zu_sum / uu)
        diag.update(overid_sargan=sargan, overid_sargan_pvalue=float(stats.chi2.sf(sargan, q)))
        if np.isfinite(kappa_liml) and kappa_liml > 0:
            # Anderson and Rubin's (1949) LR test n log(kappa) and Basmann's F
            ar = float(n * np.log(kappa_liml))
            df2 = n - c - k
            bf = float((kappa_liml - 1) * df2 / q)
            diag.update(overid_anderson_rubin=ar,
                        overid_anderson_rubin_pvalue=float(stats.chi2.sf(ar, q)),
                        overid_basmann_F=bf,
                        overid_basmann_F_pvalue=float(stats.f.sf(bf, q, df2)))
    ar = {"n": n, "k": k, "m": m, "a": a_y, "Pi": Pi, "V": V_rf, "Gzz": Gzz,
          "Omega": EE / n, "beta": beta, "se": np.sqrt(np.diag(V))}
    return beta, V, diag, ar
