"""Prediction-powered inference: the power-tuning parameter and regression coefficients.

PPI++ (Angelopoulos, Duchi and Zrnic, 2023) scales the predictions by a parameter
:math:`\\lambda`: :math:`\\lambda = 1` is the original PPI, :math:`\\lambda = 0` the
classical estimate on the labelled data alone, and the variance-minimising
:math:`\\hat\\lambda` (clipped to [0, 1]) is never asymptotically worse than either.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..inference import Estimate, EstimateTable
from ..utils.validation import check_aligned, check_bool, check_vector, check_X, feature_names

__all__ = ["ppi_ols"]


def check_lam(lam, name: str = "lam"):
    """``"auto"`` or a finite number in [0, 1]."""
    if isinstance(lam, str):
        if lam != "auto":
            raise ValueError(f"`{name}` must be 'auto' (power tuning) or a number in [0, 1]; "
                             f"got {lam!r}.")
        return lam
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not np.isfinite(lam) \
            or not 0.0 <= float(lam) <= 1.0:
        raise ValueError(f"`{name}` must be 'auto' (power tuning) or a number in [0, 1]; "
                         f"got {lam!r}.")
    return float(lam)


def tuned_lambda(cov_lab, var_pooled, n, N):
    r"""PPI++'s power-tuning parameter for a scalar estimand, clipped to [0, 1].

    :math:`\hat\lambda = \widehat{\mathrm{Cov}}(g, \hat g) / ((1 + n/N)\,
    \widehat{\mathrm{Var}}(\hat g))`, with :math:`g` and :math:`\hat g` the labelled
    units' influence values computed from the truth and from the predictions, and the
    variance of :math:`\hat g` pooled over the labelled and unlabelled units
    (Angelopoulos, Duchi and Zrnic, 2023, Section 2.2, the minimiser of the plug-in
    variance).
    """
    if var_pooled <= 0:
        return 0.0
    return float(np.clip(cov_lab / ((1.0 + n / N) * var_pooled), 0.0, 1.0))


def _add_intercept(M):
    return np.c_[np.ones(M.shape[0]), M]


def ppi_ols(X, predictions, labeled_X, labeled_predictions, labeled_truth, *, lam="auto",
            per_coefficient=False, fit_intercept=True) -> EstimateTable:
    r"""Prediction-powered least-squares coefficients (PPI++; Angelopoulos et al. 2023).

    The coefficients of the linear regression of :math:`Y` on :math:`X`, from many
    units with predictions :math:`\hat Y` only and a few with the truth as well:

    .. math::

        \hat\theta_\lambda = \mathrm{OLS}(X^u, \lambda \hat Y^u)
                           + \mathrm{OLS}(X^l, Y^l - \lambda \hat Y^l),

    with the sandwich covariance :math:`H^{-1}(\frac nN \widehat V_u + \widehat V_l)
    H^{-1} / n`, :math:`H` the mean of :math:`xx^\top` over all :math:`n + N` units,
    :math:`\widehat V_u` the covariance of :math:`\lambda x(x^\top\hat\theta - \hat Y)`
    over the unlabelled units and :math:`\widehat V_l` that of
    :math:`x(x^\top\hat\theta - Y) - \lambda x(x^\top\hat\theta - \hat Y)` over the
    labelled ones (Angelopoulos, Duchi and Zrnic, 2023, Section 3; the same
    computation as ppi_py's ``ppi_ols_ci`` at the same :math:`\lambda`).

    ``lam="auto"`` (power tuning) takes the :math:`\lambda` that minimises the trace
    of the plug-in covariance, computed at the :math:`\lambda = 1` estimate and
    clipped to [0, 1] (ppi_py's ``ppi_ols_pointestimate``; its ``ppi_ols_ci`` tunes
    once more at the tuned estimate, which moves :math:`\lambda` slightly). The
    chosen value is in the table's method text and its uncertainty is ignored, as in
    the paper. ``lam=1`` is the original PPI, ``lam=0`` OLS on the labelled units.

    With ``per_coefficient=True`` each coefficient gets its own :math:`\lambda_j`, the
    one that minimises its own plug-in variance,
    :math:`\hat\lambda_j = h_j^\top \hat C h_j / (2(1 + n/N)\, h_j^\top \widehat V_{\hat g}
    h_j)` with :math:`h_j` the j-th row of :math:`H^{-1}`, :math:`\hat C` the symmetrised
    covariance of the labelled gradients from the truth and from the predictions, and
    :math:`\widehat V_{\hat g}` the covariance of the prediction gradients pooled over
    all units (Angelopoulos, Duchi and Zrnic, 2023: the power-tuning parameter that
    minimises the variance of one coordinate; ppi_py's ``coord=j``), clipped to [0, 1]. Row :math:`j` is then the j-th coordinate of
    :math:`\hat\theta_{\lambda_j}` with its own variance: each row is never
    asymptotically worse than the labelled OLS or plain PPI for that coefficient, but
    the rows come from different estimators, so their joint covariance is not
    reported. ``lam`` may also be a sequence of one value in [0, 1] per coefficient
    (intercept first).

    Parameters
    ----------
    X : array-like of shape (N, p)
        Covariates of the units without the truth.
    predictions : array-like of shape (N,)
        Their predicted outcomes.
    labeled_X : array-like of shape (n, p)
    labeled_predictions : array-like of shape (n,)
    labeled_truth : array-like of shape (n,)
    lam : "auto", float in [0, 1], or sequence of floats in [0, 1], default "auto"
        A sequence gives one :math:`\lambda` per coefficient.
    per_coefficient : bool, default False
        With ``lam="auto"``, tune one :math:`\lambda` per coefficient instead of one
        that minimises the trace of the covariance.
    fit_intercept : bool, default True
        Prepend a column of ones (the first row of the table, ``intercept``).

    Returns
    -------
    EstimateTable
        One row per coefficient (named after ``X``'s columns when it is a DataFrame).

    References
    ----------
    Angelopoulos, A. N., Duchi, J. C. and Zrnic, T. (2023). PPI++: Efficient
    prediction-powered inference. arXiv:2311.01453.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import ppi_ols
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     x = rng.normal(size=(n, 1)); y = 1.0 + 2.0 * x[:, 0] + rng.normal(size=n)
    ...     return x, y, y + 0.5 * rng.normal(size=n)
    >>> X, _, p = draw(5000); Xl, yl, pl = draw(300)
    >>> table = ppi_ols(X, p, Xl, pl, yl)
    >>> slope = table["x1"]
    >>> bool(abs(slope.value - 2.0) < 3 * slope.stderr)
    True
    >>> per = ppi_ols(X, p, Xl, pl, yl, per_coefficient=True)   # one lambda per row
    >>> "lambda per coefficient" in per["x1"].method
    True
    """
    check_aligned(X=X, predictions=predictions)
    check_aligned(labeled_X=labeled_X, labeled_predictions=labeled_predictions,
                  labeled_truth=labeled_truth)
    lam_seq = None
    if not isinstance(lam, (str, numbers.Real)) and np.ndim(lam) == 1:
        lam_seq = [check_lam(v) for v in lam]
    else:
        lam = check_lam(lam)
    check_bool(fit_intercept, "fit_intercept")
    check_bool(per_coefficient, "per_coefficient")
    Xu, names = check_X(X, "X", min_samples=2)
    fu = check_vector(predictions, "predictions", n=Xu.shape[0], n_name="X")
    Xl, _ = check_X(labeled_X, "labeled_X", min_samples=2)
    fl = check_vector(labeled_predictions, "labeled_predictions", n=Xl.shape[0],
                      n_name="labeled_X")
    yl = check_vector(labeled_truth, "labeled_truth", n=Xl.shape[0], n_name="labeled_X")
    if Xl.shape[1] != Xu.shape[1]:
        raise ValueError(f"`labeled_X` has {Xl.shape[1]} columns but `X` has {Xu.shape[1]}; "
                         "pass the same covariates for both.")
    lnames = feature_names(labeled_X)
    if names is not None and lnames is not None and list(names) != list(lnames):
        raise ValueError("`labeled_X` and `X` have different column names or order; pass the "
                         "same covariates for both.")
    labels = [str(c) for c in names] if names is not None else [
        f"x{j + 1}" for j in range(Xu.shape[1])]
    if fit_intercept:
        icpt = "intercept" if "intercept" not in labels else "(intercept)"
        Xu, Xl, labels = _add_intercept(Xu), _add_intercept(Xl), [icpt] + labels
    n, N, d = Xl.shape[0], Xu.shape[0], Xu.shape[1]
    if lam_seq is not None and len(lam_seq) != d:
        raise ValueError(f"`lam` has {len(lam_seq)} values but there are {d} coefficients "
                         "(with the intercept when fit_intercept=True); pass one per "
                         "coefficient, or one number.")
    if per_coefficient and lam_seq is None and lam != "auto":
        raise ValueError("`per_coefficient=True` tunes lambda ('auto'); with a fixed lambda "
                         "pass a sequence of one value per coefficient instead.")
    if n <= d:
        raise ValueError(f"`labeled_X` has {n} rows for {d} coefficients; PPI needs more "
                         "labelled units than coefficients.")
    for M, nm in ((Xu, "X"), (Xl, "labeled_X")):
        if np.linalg.matrix_rank(M) < d:
            raise ValueError(f"`{nm}` (with the intercept when fit_intercept=True) does not "
                             "have full column rank: a column is constant or a combination of "
                             "others. Drop it.")

    def ols(M, v):
        return np.linalg.lstsq(M, v, rcond=None)[0]

    def estimate(lmb):
        return ols(Xu, lmb * fu) + ols(Xl, yl - lmb * fl)

    how = ""

    H = (Xu.T @ Xu + Xl.T @ Xl) / (N + n)
    Hinv = np.linalg.inv(H)

    def grads(theta):
        return (Xl * (Xl @ theta - yl)[:, None], Xl * (Xl @ theta - fl)[:, None],
                Xu * (Xu @ theta - fu)[:, None])

    def fit(lmb):
        theta = estimate(lmb)
        Hi = np.linalg.inv(Xl.T @ Xl / n) if lmb == 0 else Hinv  # lambda = 0: labelled OLS
        g, gh, ghu = grads(theta)
        var_u = np.atleast_2d(np.cov((lmb * ghu).T))
        var_l = np.atleast_2d(np.cov((g - lmb * gh).T))
        return theta, Hi @ (n / N * var_u + var_l) @ Hi / n

    if lam == "auto" and lam_seq is None:
        g, gh, ghu = grads(estimate(1.0))
        gc, ghc = g - g.mean(0), gh - gh.mean(0)
        C = (gc.T @ ghc + ghc.T @ gc) / n
        Vh = np.atleast_2d(np.cov(np.r_[gh, ghu].T))
        if per_coefficient:
            num = np.einsum("ji,ik,jk->j", Hinv, C, Hinv)
            den = 2 * (1 + n / N) * np.einsum("ji,ik,jk->j", Hinv, Vh, Hinv)
            lam_seq = [float(np.clip(a / b, 0.0, 1.0)) if b > 0 else 0.0
                       for a, b in zip(num, den)]
        else:
            den = 2 * (1 + n / N) * np.trace(Hinv @ Vh @ Hinv)
            lam = float(np.clip(np.trace(Hinv @ C @ Hinv) / den, 0.0, 1.0)) if den > 0 else 0.0
            how = f"power-tuned lambda = {lam:.4g}"
    if lam_seq is not None:
        theta, se = np.empty(d), np.empty(d)
        fits = {}
        for j, lmb in enumerate(lam_seq):
            if lmb not in fits:
                fits[lmb] = fit(lmb)
            theta[j], se[j] = fits[lmb][0][j], np.sqrt(fits[lmb][1][j, j])
        kind = "power-tuned" if lam == "auto" else "fixed"
        how = (f"{kind} lambda per coefficient = ("
               + ", ".join(f"{v:.4g}" for v in lam_seq) + ")")
    else:
        if lam != "auto" and not how:
            how = f"lambda = {lam:g}"
        theta, Sigma = fit(lam)
        se = np.sqrt(np.diag(Sigma))
    method = f"prediction-powered OLS (PPI++), {how}, sandwich SE"
    rows = [Estimate(float(t), float(s), n=n + N, name=lab, method=method)
            for t, s, lab in zip(theta, se, labels)]
    return EstimateTable(rows, title="Prediction-powered least-squares coefficients")
