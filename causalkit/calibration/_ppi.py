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
from ..utils.validation import check_aligned, check_vector, check_X, feature_names

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
            fit_intercept=True) -> EstimateTable:
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

    Parameters
    ----------
    X : array-like of shape (N, p)
        Covariates of the units without the truth.
    predictions : array-like of shape (N,)
        Their predicted outcomes.
    labeled_X : array-like of shape (n, p)
    labeled_predictions : array-like of shape (n,)
    labeled_truth : array-like of shape (n,)
    lam : "auto" or float in [0, 1], default "auto"
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
    """
    check_aligned(X=X, predictions=predictions)
    check_aligned(labeled_X=labeled_X, labeled_predictions=labeled_predictions,
                  labeled_truth=labeled_truth)
    lam = check_lam(lam)
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"`fit_intercept` must be True or False; got {fit_intercept!r}.")
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

    H = (Xu.T @ Xu + Xl.T @ Xl) / (N + n)
    Hinv = np.linalg.inv(H)

    def grads(theta):
        return (Xl * (Xl @ theta - yl)[:, None], Xl * (Xl @ theta - fl)[:, None],
                Xu * (Xu @ theta - fu)[:, None])

    how = "" if lam == "auto" else f"lambda = {lam:g}"
    if lam == "auto":
        g, gh, ghu = grads(estimate(1.0))
        gc, ghc = g - g.mean(0), gh - gh.mean(0)
        C = (gc.T @ ghc + ghc.T @ gc) / n
        Vh = np.atleast_2d(np.cov(np.r_[gh, ghu].T))
        den = 2 * (1 + n / N) * np.trace(Hinv @ Vh @ Hinv)
        lam = float(np.clip(np.trace(Hinv @ C @ Hinv) / den, 0.0, 1.0)) if den > 0 else 0.0
        how = f"power-tuned lambda = {lam:.4g}"
    theta = estimate(lam)
    if lam == 0:
        H = Xl.T @ Xl / n  # classical OLS: the labelled units alone
        Hinv = np.linalg.inv(H)
    g, gh, ghu = grads(theta)
    var_u = np.atleast_2d(np.cov((lam * ghu).T))
    var_l = np.atleast_2d(np.cov((g - lam * gh).T))
    Sigma = Hinv @ (n / N * var_u + var_l) @ Hinv / n
    se = np.sqrt(np.diag(Sigma))
    method = f"prediction-powered OLS (PPI++), {how}, sandwich SE"
    rows = [Estimate(float(t), float(s), n=n + N, name=lab, method=method)
            for t, s, lab in zip(theta, se, labels)]
    return EstimateTable(rows, title="Prediction-powered least-squares coefficients")
