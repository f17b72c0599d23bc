"""Regression control variates for Monte Carlo means (plain, weighted, stratified)."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..inference import Diagnostics, Estimate
from ..utils._param_validation import (
    N_JOBS,
    NONNEG_REAL,
    SEED,
    Integral,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    FewObservationsWarning,
    check_aligned,
    check_consistent_length,
    check_vector,
    check_X,
    store_feature_names,
)

__all__ = ["ControlVariates"]

_CHUNK = 1 << 18


_GRAM_BLOCK = 1 << 15   # rows per block of the fused Gram pass (fits in cache with p ~ 20)


_MAX_MEAN_TO_SD = 1e3   # beyond this, centring a raw Gram matrix loses > ~1e-10


def _raw_gram(Z, y):
    """Centred Gram matrix from the raw one (one syrk over ``Z``), when that is accurate.

    ``sum (z - zbar)(z - zbar)' = Z'Z - m zbar zbar'`` loses about
    ``eps (mean / sd)^2`` in relative accuracy; when some column (or ``y``) has a
    mean above ``_MAX_MEAN_TO_SD`` standard deviations, ``None`` is returned and the
    caller centres block by block instead.
    """
    m = Z.shape[0]
    G = Z.T @ Z                   # numpy calls syrk: no copy of Z, one pass
    zy = Z.T @ y
    zbar = np.ones(m) @ Z / m     # a gemv: faster than a reduction over axis 0
    ybar = float(y.sum()) / m
    var = np.diagonal(G) / m - zbar**2
    vy = float(y @ y) / m - ybar**2
    ratio = np.r_[zbar**2, ybar**2] / np.maximum(np.r_[var, vy], np.finfo(float).tiny)
    if not (np.all(np.isfinite(ratio)) and ratio.max() <= _MAX_MEAN_TO_SD**2):
        return None
    G = G - m * np.outer(zbar, zbar)
    c = zy - m * zbar * ybar
    return zbar, ybar, G, c


def _centered_gram(Z, y, rows=None):
    """Column means, centred Gram matrix and centred cross-products in one pass.

    Over all rows, the raw Gram matrix is centred afterwards when the means are
    moderate (:func:`_raw_gram`). Otherwise each block of rows is shifted by the first block's means (close to the column
    means, so the accumulated Gram matrix is well conditioned when the controls have
    large means; no raw normal equations are formed) into one reused buffer, and the
    exact centring is applied to the small accumulated matrices at the end:
    ``sum (z - zbar)(z - zbar)' = sum d d' - m dbar dbar'`` with ``d = z - shift``.
    """
    full = rows is None or rows.shape[0] == Z.shape[0]  # rows are sorted and unique
    m = Z.shape[0] if full else rows.shape[0]
    if full:
        fast = _raw_gram(Z, y)
        if fast is not None:
            return fast
    step = _GRAM_BLOCK

    def block(A, i):
        return A[i:i + step] if full else A[rows[i:i + step]]

    first = block(Z, 0)
    shift = first.mean(axis=0)
    y0 = float(block(y, 0).mean())
    p = Z.shape[1]
    # each block is written as [z - shift, y - y0, 1]: one syrk per block gives the
    # Gram matrix, the cross-products with y and the column sums together
    buf = np.empty((min(step, m), p + 2))
    buf[:, p + 1] = 1.0
    M = np.zeros((p + 2, p + 2))
    for i in range(0, m, step):
        Zb = block(Z, i)
        b = Zb.shape[0]
        np.subtract(Zb, shift, out=buf[:b, :p])
        np.subtract(block(y, i), y0, out=buf[:b, p])
        D = buf[:b]
        M += D.T @ D            # numpy calls syrk for a matrix times its own transpose
    G, cy, sd, sy = M[:p, :p].copy(), M[:p, p], M[:p, p + 1], float(M[p, p + 1])
    dbar = sd / m
    ybar_d = sy / m
    G -= m * np.outer(dbar, dbar)
    c = cy - m * dbar * ybar_d
    return shift + dbar, y0 + ybar_d, G, c


def _solve(Z, y, rows, alpha, solver):
    """Slopes of the regression of ``y`` on ``[1, Z]`` over ``rows`` (ridge on slopes).

    ``solver="cholesky"``: Cholesky of the centred Gram matrix (plus ``alpha I``);
    ``solver="qr"``: a QR least-squares solve of the centred (augmented) design.
    Returns ``(beta, ybar, zbar)``.
    """
    p = Z.shape[1]
    if solver == "cholesky":
        zbar, ybar, G, c = _centered_gram(Z, y, rows)
        A = G + alpha * np.eye(p)
        try:
            cf = linalg.cho_factor(A, check_finite=False)
            d = np.diag(cf[0])
            if d.min() <= 1e-7 * max(d.max(), 1e-300):
                raise linalg.LinAlgError("ill conditioned")
            return linalg.cho_solve(cf, c, check_finite=False), ybar, zbar
        except linalg.LinAlgError:
            pass  # fall back to QR (collinear controls)
    Zs = Z if rows is None else Z[rows]
    zbar = Zs.mean(axis=0)
    ys = y if rows is None else y[rows]
    ybar = float(ys.mean())
    A = Zs - zbar
    b = ys - ybar
    if alpha > 0:
        A = np.vstack([A, np.sqrt(alpha) * np.eye(p)])
        b = np.concatenate([b, np.zeros(p)])
    Q, R, piv = linalg.qr(A, mode="economic", pivoting=True, check_finite=False)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > diag[0] * max(A.shape) * np.finfo(float).eps)) if diag.size and diag[0] > 0 else 0
    beta = np.zeros(p)
    if rank:
        sol = linalg.solve_triangular(R[:rank, :rank], (Q[:, :rank].T @ b), check_finite=False)
        beta[piv[:rank]] = sol
    return beta, ybar, zbar


class _ControlSlopes(RegressorMixin, BaseEstimator):
    """Fold model for cross-fitting: slopes of ``y`` on the controls, centred at ``center``.

    ``predict(Z)`` returns ``(Z - center) @ beta``, the part subtracted from ``y``.
    """

    def __init__(self, alpha=0.0, solver="cholesky", center=None):
        self.alpha = alpha
        self.solver = solver
        self.center = center

    def fit(self, Z, y):
        Z = np.asarray(Z, dtype=float)
        self.coef_, _, _ = _solve(Z, np.asarray(y, dtype=float), np.arange(Z.shape[0]),
                                  float(self.alpha), self.solver)
        return self

    def predict(self, Z):
        return np.asarray(Z, dtype=float) @ self.coef_ - np.asarray(self.center) @ self.coef_


class ControlVariates(BaseEstimator):
    r"""Mean of a Monte Carlo output with regression control variates.

    Given draws :math:`x_i` from a sampling law :math:`q`, outputs :math:`y_i`,
    optional importance ratios :math:`w_i = p(x_i)/q(x_i)` and controls
    :math:`Z_i` whose mean :math:`\mu_Z` under :math:`q` is known, the target is
    :math:`\mu = E_q[Y]` with :math:`Y_i = w_i y_i` (the importance-sampling
    output; :math:`w_i = 1` without weights). Within each stratum :math:`s`

    .. math::

        \hat\beta_s = \arg\min_b \sum_{i \in s} (Y_i - a - b^\top Z_i)^2
                      + \alpha \lVert b \rVert^2,
        \qquad \psi_i = Y_i - \hat\beta_{s(i)}^\top (Z_i - \mu_Z),

    and :math:`\hat\mu = \frac1n \sum_i \psi_i`; without strata this is the
    intercept of the regression of :math:`Y` on :math:`Z - \mu_Z` (Lavenberg and
    Welch, 1981; Glasserman, 2004, eq. 4.5 and sec. 4.1.3). With strata it equals
    :math:`\sum_s (n_s/n)\,\hat\mu_s`, :math:`\hat\mu_s = \bar Y_s - \hat\beta_s^\top
    (\bar Z_s - \mu_Z)`. The standard error is
    :math:`\widehat{SE}^2 = \sum_i (\psi_i - \hat\mu)^2 / \{n (n - d)\}` with
    :math:`d` the number of fitted coefficients (the strata proportions are
    random, so the between-strata variance is kept). With ``cv`` folds the
    slopes of each fold are fitted on the other folds, which removes the
    :math:`O(1/n)` bias of in-sample coefficients (the estimate is exactly
    unbiased for any fixed slopes).

    Parameters
    ----------
    control_means : float or array-like of shape (p,), default 0.0
        Known mean :math:`\mu_Z` of each control under the sampling law. With
        ``strata`` the controls must have this mean within every stratum.
    alpha : float, default 0.0
        Ridge penalty on the slopes (the intercept is not penalised). Useful
        when a stratum has few draws or the controls are nearly collinear.
    solver : {"cholesky", "qr"}, default "cholesky"
        Cholesky factorisation of the centred Gram matrix (fast, chunked; falls
        back to QR when the controls are collinear) or a pivoted QR
        least-squares solve.
    cv : int or None, default None
        ``None`` fits the slopes in-sample; an integer ``K >= 2`` cross-fits them
        over ``K`` folds.
    min_stratum_size : int or None, default None
        Strata with fewer draws are pooled into one stratum (with a
        :class:`~causalkit.utils.validation.FewObservationsWarning`). ``None``
        means ``p + 2`` draws (``p`` controls) per fold-training set.
    n_jobs : int or None, default None
        joblib jobs for the cross-fitted folds.
    random_state : int, RandomState or None, default None
        Seeds the folds when ``cv`` is an integer.

    Attributes
    ----------
    mean_ : Estimate
        The control-variate estimate of :math:`\mu`.
    plain_ : Estimate
        The plain (importance-sampling) mean of :math:`Y` and its SE.
    coef_ : ndarray of shape (n_strata, p)
        In-sample slopes per stratum (the mean of the fold slopes when
        cross-fitted).
    strata_ : ndarray
        Stratum labels after pooling (``"pooled"`` when small strata merged).
    variance_reduction_ : float
        :math:`\widehat{Var}(\text{plain}) / \widehat{Var}(\hat\mu)`.
    scores_ : ndarray of shape (n,) or None
        The adjusted outputs :math:`\psi_i` (``None`` after a fit on Dask input).
    diagnostics_ : dict
        ``variance_reduction``, ``r2``, ``effective_sample_size`` (Kish, of the
        importance ratios), ``n_pooled`` and ``strata`` (a DataFrame with
        n, estimate, residual SD and R^2 per stratum).

    References
    ----------
    Lavenberg, S. S. and Welch, P. D. (1981). A perspective on the use of control
    variables to increase the efficiency of Monte Carlo simulations. Management
    Science 27(3), 322-335.

    Glasserman, P. (2004). Monte Carlo Methods in Financial Engineering, ch. 4.1.
    Springer.

    Yang, J., Sun, H., He, H., Zhang, Y., Feng, S. and Liu, H. X. (2023).
    Adaptive safety evaluation for connected and automated vehicles with sparse
    control variates. IEEE T-ITS (arXiv:2212.00517).

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.montecarlo import ControlVariates
    >>> u = np.random.default_rng(0).uniform(size=10_000)
    >>> cv = ControlVariates(control_means=0.5).fit(u[:, None], np.exp(u))
    >>> est = cv.mean()
    >>> bool(abs(est.value - (np.e - 1)) < 3 * est.stderr)
    True
    >>> bool(cv.variance_reduction_ > 50)
    True
    """

    _parameter_constraints: dict = {
        "control_means": [Real, "array-like"],
        "alpha": [NONNEG_REAL],
        "solver": [StrOptions({"cholesky", "qr"})],
        "cv": [Interval(Integral, 2, None, closed="left"), None],
        "min_stratum_size": [Interval(Integral, 2, None, closed="left"), None],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def __init__(self, *, control_means=0.0, alpha=0.0, solver="cholesky", cv=None,
                 min_stratum_size=None, n_jobs=None, random_state=None):
        self.control_means = control_means
        self.alpha = alpha
        self.solver = solver
        self.cv = cv
        self.min_stratum_size = min_stratum_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _control_means(self, p):
        """``control_means`` as one value per control (its length depends on the data)."""
        mu = np.asarray(self.control_means, dtype=float)
        if mu.ndim == 0:
            mu = np.full(p, float(mu))
        if mu.ndim != 1 or mu.shape[0] != p:
            raise ValueError(
                f"`control_means` must be a scalar or have one value per control ({p}); "
                f"got shape {np.shape(self.control_means)}.")
        if not np.all(np.isfinite(mu)):
            raise ValueError("`control_means` must be finite; got NaN or infinite values.")
        return mu

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, weights=None, strata=None):
        """Fit the control-variate regression(s) and compute the mean.

        Parameters
        ----------
        X : array-like or Dask array/DataFrame of shape (n, p)
            The control variates (their known means are ``control_means``).
        y : array-like or Dask array of shape (n,)
            The simulation outputs.
        weights : array-like or Dask array of shape (n,), optional
            Importance ratios; the estimated mean is that of ``y * weights``.
        strata : array-like or Dask array of shape (n,), optional
            Stratum labels; slopes are fitted within each stratum.

        Returns
        -------
        self

        Notes
        -----
        With Dask input (the ``dask`` extra) the fit is one chunked pass that
        accumulates each stratum's centred Gram matrix of ``[X, y]``; the estimate
        and its SE equal the numpy path's. Only in-sample slopes (``cv=None``) are
        available, ``scores_`` is ``None`` (nothing of length n is kept) and
        collinear controls raise instead of falling back to QR.
        """
        from ..utils._chunked import any_dask

        if any_dask(X, y, weights, strata):
            from ._dask import fit_dask

            return fit_dask(self, X, y, weights, strata)
        check_aligned(X=X, y=y, weights=weights, strata=strata)
        if sparse.issparse(X):
            raise TypeError("`X` is a sparse matrix; sparse input is not supported. "
                            "Pass a dense array (X.toarray()).")
        Z, names = check_X(X, "X")
        n, p = Z.shape
        if n < 2:
            raise ValueError(f"`X` has n_samples={n} (1 sample); a mean with a standard "
                             "error needs at least 2 draws.")
        yv = check_vector(y, "y")
        check_consistent_length(X=Z, y=yv)
        mu = self._control_means(p)
        if weights is not None:
            w = check_vector(weights, "weights", n=n)
            if (w < 0).any():
                raise ValueError(
                    f"`weights` must be non-negative importance ratios; {int((w < 0).sum())} "
                    f"value(s) are negative (min {w.min():.4g}). Pass p(x)/q(x) for each draw.")
            Y = yv * w
            ess = float(w.sum() ** 2 / (w ** 2).sum()) if (w > 0).any() else 0.0
        else:
            w = None
            Y = yv
            ess = float(n)
        labels, codes = self._strata(strata, n, p)
        S = len(labels)
        alpha = float(self.alpha)
        psi = np.empty(n)
        coef = np.zeros((S, p))
        if self.cv is None:
            for s in range(S):
                rows = np.flatnonzero(codes == s) if S > 1 else None
                beta, _, _ = _solve(Z, Y, rows, alpha, self.solver)
                coef[s] = beta
                if rows is None:  # one stratum: no copy of Z, no temporary of length n
                    np.dot(Z, beta, out=psi)
                    np.subtract(Y, psi, out=psi)
                    psi += mu @ beta
                else:
                    psi[rows] = Y[rows] - (Z[rows] - mu) @ beta
            n_coef = S * (p + 1)
            method = "regression control variates, in-sample slopes"
        else:
            from .._crossfit import Nuisance, crossfit

            res = crossfit(
                {f"s{j}": Nuisance(_ControlSlopes(alpha, self.solver, mu), Y, fit_mask=codes == j)
                 for j in range(S)},
                Z, cv=self.cv, stratify=codes if S > 1 else None, n_jobs=self.n_jobs,
                random_state=self.random_state, keep_models=True)
            folds = res.folds
            for j in range(S):
                m = codes == j
                psi[m] = Y[m] - res.predictions[f"s{j}"][m]
                coef[j] = np.mean([mod.coef_ for mod in res.models[f"s{j}"]], axis=0)
            n_coef = S
            method = f"regression control variates, {len(folds)}-fold cross-fitted slopes"
        if alpha > 0:
            method += f", ridge alpha={alpha:g}"
        if S > 1:
            method += f", {S} strata"
        dof = max(n - n_coef, 1)
        value = float(psi.mean())
        se = float(np.sqrt(np.sum((psi - value) ** 2) / (n * dof)))
        plain_value = float(Y.mean())
        plain_se = float(Y.std(ddof=1) / np.sqrt(n))
        rows = []
        for s in range(S):
            m = codes == s if S > 1 else slice(None)
            ys, ps = Y[m], psi[m]
            big = ys.shape[0] > 1
            rows.append(_stratum_row(labels[s], ys.shape[0], n, float(ps.mean()), float(ys.mean()),
                                     ys.var(ddof=1) if big else np.nan,
                                     ps.var(ddof=1) if big else np.nan))
        vy_all = Y.var()
        r2 = float(1 - psi.var() / vy_all) if vy_all > 0 else np.nan
        return _store_results(self, value=value, se=se, plain_value=plain_value,
                              plain_se=plain_se, method=method, weighted=w is not None,
                              coef=coef, labels=labels, scores=psi, rows=rows, r2=r2, ess=ess,
                              n=n, p=p, names=names)

    def _strata(self, strata, n, p):
        self._n_pooled = 0
        if strata is None:
            return np.array(["all"], dtype=object), np.zeros(n, dtype=np.int64)
        arr = np.asarray(strata.to_numpy() if hasattr(strata, "to_numpy") else strata)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"`strata` must be 1-D with one label per row of X ({n}); got shape {arr.shape}.")
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError("`strata` contains NaN; give every draw a stratum label.")
        labels, codes = np.unique(arr, return_inverse=True)
        labels = labels.astype(object)
        folds = 1 if self.cv is None else int(self.cv)
        need = self.min_stratum_size if self.min_stratum_size is not None else p + 2
        need_total = int(np.ceil(need * folds / max(folds - 1, 1)))
        counts = np.bincount(codes, minlength=len(labels))
        small = counts < need_total
        if small.any():
            warnings.warn(
                f"{int(small.sum())} stratum/strata of `strata` have fewer than {need_total} draws "
                f"(needed to fit {p} control slope(s)); they are pooled into one stratum "
                "'pooled'. Their controls must have the known mean in the pooled stratum too.",
                FewObservationsWarning, stacklevel=3)
            self._n_pooled = int(counts[small].sum())
            keep = np.flatnonzero(~small)
            new_codes = np.full(n, len(keep), dtype=np.int64)
            for j, k in enumerate(keep):
                new_codes[codes == k] = j
            new_labels = list(labels[keep]) + ["pooled"]
            if counts[small].sum() < need_total:
                # still too small: merge the pooled draws into the largest stratum
                if len(keep) == 0:
                    raise ValueError(
                        f"`X` has only {n} rows; fitting {p} control slope(s) needs at least "
                        f"{need_total}. Simulate more draws or use fewer controls.")
                big = int(np.argmax(counts[keep]))
                new_codes[new_codes == len(keep)] = big
                new_labels = new_labels[:-1]
                new_labels[big] = f"{new_labels[big]}+pooled"
            labels, codes = np.array(new_labels, dtype=object), new_codes
        return labels, codes

    # ------------------------------------------------------------------ results
    def mean(self) -> Estimate:
        """The control-variate estimate of the mean as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "mean_")
        return self.mean_

    def plain_mean(self) -> Estimate:
        """The plain (importance-sampling) mean, for comparison."""
        check_is_fitted(self, "mean_")
        return self.plain_


def _stratum_row(label, m, n, estimate, plain, vy, vr):
    """One row of ``diagnostics_["strata"]`` (outcome and residual variances ``vy``, ``vr``)."""
    return {"stratum": label, "n": int(m), "share": m / n, "estimate": estimate, "plain": plain,
            "residual_sd": float(np.sqrt(vr)) if np.isfinite(vr) else np.nan,
            "r2": float(1 - vr / vy) if vy and np.isfinite(vy) and vy > 0 else np.nan}


def _store_results(est, *, value, se, plain_value, plain_se, method, weighted, coef, labels,
                   scores, rows, r2, ess, n, p, names):
    """Set a ControlVariates fit's results; the in-memory and the Dask paths both end here."""
    import pandas as pd

    est.mean_ = Estimate(value, se, n=n, method=method + ", residual SE", name="mean")
    est.plain_ = Estimate(plain_value, plain_se, n=n,
                          method="importance-sampling mean" if weighted else "plain mean",
                          name="mean")
    est.coef_ = coef
    est.strata_ = labels
    est.scores_ = scores
    est.variance_reduction_ = float(plain_se ** 2 / se ** 2) if se > 0 else np.inf
    est.diagnostics_ = Diagnostics({
        "variance_reduction": est.variance_reduction_,
        "r2": r2,
        "effective_sample_size": ess,
        "n_pooled": int(est._n_pooled),
        "strata": pd.DataFrame(rows).set_index("stratum"),
    })
    est.n_features_in_ = p
    store_feature_names(est, names)
    return est

