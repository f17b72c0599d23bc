"""Post-hoc corrections of shrunken predictions: linear calibration and Tweedie's formula."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, RegressorMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit
from ..utils._param_validation import (
    CV,
    N_JOBS,
    NONNEG_REAL,
    POS_REAL,
    SEED,
    HasMethods,
    Integral,
    Interval,
    RealNotInt,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    CausalkitWarning,
    FewObservationsWarning,
    check_aligned,
    check_consistent_length,
    check_feature_names,
    check_vector,
    check_weights,
    check_X,
    feature_names,
    store_feature_names,
)
from ._kde import BinnedKDE, scott_bandwidth, silverman_bandwidth

__all__ = ["LinearCalibration", "TweedieCorrection", "DebiasedRegressor", "OutOfSupportWarning"]

#: Smallest calibration set accepted; below ``_WARN_N`` a warning is raised.
_MIN_N = 5
_WARN_N = 100


class OutOfSupportWarning(CausalkitWarning):
    """Predictions to correct fall outside the range of the calibration predictions.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from causalkit.calibration import LinearCalibration, OutOfSupportWarning
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=500)
    >>> lcc = LinearCalibration().fit(y + rng.normal(size=500), y)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = lcc.transform(np.linspace(10, 20, 50))   # far beyond the calibration range
    >>> [w.category.__name__ for w in caught]
    ['OutOfSupportWarning']
    """


def _predictions(X, name="X"):
    """Validate predictions given as (n,), (n, 1) or a one-column DataFrame."""
    names = feature_names(X)
    arr = np.asarray(X) if not hasattr(X, "to_numpy") else X.to_numpy()
    if arr.ndim == 2 and arr.shape[1] != 1:
        raise ValueError(
            f"`{name}` must hold one column of predictions; got shape {arr.shape}. "
            "Pass the upstream model's predictions as a 1-D array or one column."
        )
    was_2d = arr.ndim == 2
    x = check_vector(X, name)
    return x, was_2d, names


def _check_calibration(self, X, y, sample_weight):
    x, _, names = _predictions(X)
    t = check_vector(y, "y")
    check_consistent_length(X=x, y=t)
    n = x.shape[0]
    if n < _MIN_N:
        raise ValueError(
            f"The calibration set is too small: `X` and `y` have {n} rows, at least {_MIN_N} "
            f"are needed (and {_WARN_N} or more are advised). Hold out more labelled units."
        )
    w = check_weights(sample_weight, n=n)
    if np.ptp(x) == 0:
        raise ValueError(
            "`X` (the calibration predictions) is constant: the upstream model carries no "
            "information to correct. Check the predictions passed to fit."
        )
    if np.ptp(t) == 0:
        raise ValueError("`y` (the calibration truth) is constant; the calibration cannot be estimated.")
    if n < _WARN_N:
        warnings.warn(
            f"Only {n} calibration units in `X`, `y`: the correction is noisy "
            f"(at least {_WARN_N} are advised).", FewObservationsWarning, stacklevel=3)
    self.n_features_in_ = 1
    store_feature_names(self, names)
    self.n_calibration_ = n
    self.support_ = (float(x.min()), float(x.max()))
    # private copies: the corrected_* bootstrap refits on them long after fit
    x, t = np.array(x, dtype=float, copy=True), np.array(t, dtype=float, copy=True)
    w = None if w is None else np.array(w, dtype=float, copy=True)
    self.calibration_predictions_ = x
    self.calibration_truth_ = t
    self.calibration_weights_ = w
    return x, t, w


def _wmean(v, w):
    return float(np.mean(v)) if w is None else float(np.sum(w * v) / np.sum(w))


def _warn_support(self, x):
    lo, hi = self.support_
    out = int(np.count_nonzero((x < lo) | (x > hi)))
    if out > 0.01 * x.size:
        warnings.warn(
            f"{out} of {x.size} predictions ({100 * out / x.size:.1f}%) in `X` lie outside the "
            f"calibration range [{lo:.4g}, {hi:.4g}]; the correction extrapolates there. "
            "Use a calibration set that covers the downstream population.",
            OutOfSupportWarning, stacklevel=3)


def _shape_like(out, was_2d):
    return out[:, None] if was_2d else out


class LinearCalibration(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    r"""Linear calibration correction of shrunken predictions.

    On a labelled calibration split, regress the predictions on the truth by
    (weighted) least squares, :math:`\hat Y = m + k Y + \varepsilon`, and invert
    the fitted line (Pettersson, Jerzak and Daoud 2025, "linear calibration
    correction"):

    .. math::

        \tilde Y = (\hat Y - m) / k .

    The direction matters: predictions are regressed on the truth (an
    errors-in-variables inversion), not the truth on the predictions. When
    :math:`\hat Y = m + kY + \text{noise}` with noise independent of :math:`Y`,
    :math:`E[\tilde Y \mid Y] = Y`, so means and treatment effects of
    :math:`\tilde Y` are unbiased for those of :math:`Y`.

    Parameters
    ----------
    min_slope : float, default 1e-8
        Fitting fails when the slope ``k`` is not above this value (a slope at or
        below zero cannot be inverted). A slope under 0.2 triggers a warning.

    Attributes
    ----------
    intercept_, slope_ : float
        ``m`` and ``k``.
    coef_cov_ : ndarray of shape (2, 2)
        Heteroskedasticity-robust (HC0) covariance of ``(m, k)``.
    n_calibration_ : int
    support_ : tuple of float
        Range of the calibration predictions.
    calibration_predictions_, calibration_truth_, calibration_weights_ : ndarray or None
        The calibration data (kept for the downstream standard errors; ``None``
        after a fit on Dask input, which keeps only sums).

    References
    ----------
    Pettersson, M. B., Jerzak, C. T. and Daoud, A. (2025). Debiasing machine
    learning predictions for causal inference without additional ground truth
    data: "one map, many trials" in satellite-driven poverty analysis. arXiv:2508.01341.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import LinearCalibration
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=2000)
    >>> pred = 1.0 + 0.5 * y + 0.3 * rng.normal(size=2000)
    >>> lcc = LinearCalibration().fit(pred, y)
    >>> round(lcc.slope_, 2)
    0.5
    >>> slope = np.polyfit(y, lcc.transform(pred), 1)[0]  # E[corrected | Y] = Y
    >>> bool(abs(slope - 1.0) < 0.05)
    True
    """

    _parameter_constraints: dict = {"min_slope": [NONNEG_REAL]}

    def __init__(self, *, min_slope=1e-8):
        self.min_slope = min_slope

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the calibration line on predictions ``X`` and truth ``y``; return self.

        Parameters
        ----------
        X : array-like or Dask array of shape (n,) or (n, 1)
            Calibration predictions.
        y : array-like or Dask array of shape (n,)
            Calibration truth.
        sample_weight : array-like or Dask array of shape (n,), optional

        Returns
        -------
        self

        Notes
        -----
        Dask collections (the ``dask`` extra) are reduced in one chunked pass of
        weighted moments; slope, intercept and ``coef_cov_`` equal the numpy path's.
        The fitted object then keeps only sums: ``calibration_predictions_``,
        ``calibration_truth_`` and ``calibration_weights_`` are ``None``, so the
        downstream calibration bootstrap needs ``calibration_uncertainty=False``.
        """
        check_aligned(X=X, y=y, sample_weight=sample_weight)
        from ..utils._chunked import any_dask

        if any_dask(X, y, sample_weight):
            from ._dask import fit_linear_dask

            return fit_linear_dask(self, X, y, sample_weight)
        x, t, w = _check_calibration(self, X, y, sample_weight)
        ww = np.ones_like(x) if w is None else w
        tm, xm = _wmean(t, w), _wmean(x, w)
        k = float(np.sum(ww * (t - tm) * (x - xm)) / np.sum(ww * (t - tm) ** 2))
        if not k > self.min_slope:
            raise ValueError(
                f"The calibration slope of `X` (predictions) on `y` (truth) is {k:.4g}, not positive "
                f"(at most `min_slope`={self.min_slope}): the predictions cannot be inverted. "
                "Check that predictions and truth are aligned and on the same scale."
            )
        if k < 0.2:
            warnings.warn(
                f"The calibration slope is {k:.3f} (< 0.2): predictions carry little signal and "
                "the corrected values are very noisy.", CausalkitWarning, stacklevel=2)
        m = xm - k * tm
        # HC0 sandwich of the weighted OLS coefficients (m, k)
        Z = np.c_[np.ones_like(t), t]
        r = x - m - k * t
        bread = np.linalg.inv((Z * ww[:, None]).T @ Z)
        meat = (Z * (ww * r)[:, None]).T @ (Z * (ww * r)[:, None])
        self.intercept_, self.slope_ = float(m), k
        self.coef_cov_ = bread @ meat @ bread
        return self

    def transform(self, X):
        """Corrected outcomes ``(X - intercept_) / slope_``, shaped like ``X``."""
        check_is_fitted(self, "slope_")
        check_feature_names(self, X)
        x, was_2d, _ = _predictions(X)
        _warn_support(self, x)
        return _shape_like((x - self.intercept_) / self.slope_, was_2d)


#: Ratio of the second bandwidth to the first in the score's Richardson extrapolation.
_WIDE = float(np.sqrt(2.0))


class TweedieCorrection(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    r"""Tweedie's correction of shrunken predictions.

    Reading the shrunken prediction as a noisy Gaussian version of the truth in
    reverse (Pettersson, Jerzak and Daoud 2025, after Efron 2011, eq. 2.8):

    .. math::

        \tilde Y = \hat Y - \hat\sigma^2 \, \hat s(\hat Y), \qquad
        \hat s(y) = \frac{d}{dy} \log \hat p(y),

    where :math:`\hat\sigma^2` is the (weighted, ``ddof=0``) variance of the
    calibration residuals :math:`\hat Y - Y` and :math:`\hat p` a Gaussian kernel
    density of the predictions. The score uses the kernel's analytic derivative
    on a linearly binned grid (see :class:`causalkit.calibration._kde.BinnedKDE`):
    about a quarter of a second for :math:`10^6` points.

    A kernel density with bandwidth :math:`h` estimates :math:`p` convolved with
    the kernel, whose score is flatter than :math:`p`'s: for a Gaussian
    :math:`p` with variance :math:`v` it is :math:`v / (v + h^2)` times the true
    score, so the correction is too weak and the corrected outcomes stay shrunken
    (with 200 calibration units and Scott's rule, :math:`h^2 \approx 0.12 v`, and a
    downstream ATE keeps a bias of about 4% of the effect). With
    ``bias_correction=True`` (the default) the score is extrapolated to
    :math:`h \to 0` from the scores :math:`\hat s_h` and :math:`\hat s_{\sqrt2 h}`
    at two bandwidths. Since :math:`\hat s_h = s + h^2 a + O(h^4)` for a smooth
    density, Richardson extrapolation (the generalized jackknife of Schucany,
    Gray and Owen 1971; Jones and Foster 1993, Sec. 2) removes the :math:`h^2` term:

    .. math::

        \hat s(y) = 2\,\hat s_h(y) - \hat s_{\sqrt 2 h}(y).

    The correction is exact when :math:`Y = \hat Y + \varepsilon` with Gaussian
    :math:`\varepsilon` independent of :math:`\hat Y` and a Gaussian truth; it
    is an approximation otherwise (heteroskedastic or bounded outcomes).

    Parameters
    ----------
    bandwidth : {"scott", "silverman"} or float, default "scott"
        Kernel bandwidth rule (as in :class:`scipy.stats.gaussian_kde`), or an
        absolute bandwidth in the units of the predictions.
    score_fit_on : {"calibration", "downstream"}, default "calibration"
        Density the score is taken from: the calibration predictions (fixed at
        ``fit``; needs no downstream information) or the predictions passed to
        ``transform`` (the authors' simulation).
    grid_size : int, default 4096
        Grid points of the binned density.
    bias_correction : bool, default True
        Extrapolate the kernel score to zero bandwidth (see above); ``False``
        gives the plain kernel score (the original method, which leaves an
        :math:`O(h^2)` bias).

    Attributes
    ----------
    sigma_ : float
        Residual standard deviation on the calibration split.
    bandwidth_ : float
        Kernel bandwidth of the calibration density.
    kde_ : BinnedKDE or None
        The calibration density (``None`` when ``score_fit_on="downstream"``).
    kde_wide_ : BinnedKDE or None
        The calibration density at bandwidth :math:`\sqrt2 h` (``None`` unless
        ``bias_correction=True`` and ``score_fit_on="calibration"``).
    n_calibration_, support_, calibration_predictions_, calibration_truth_, calibration_weights_
        As in :class:`LinearCalibration`.

    References
    ----------
    Efron, B. (2011). Tweedie's formula and selection bias. JASA 106(496), 1602-1614.

    Schucany, W. R., Gray, H. L. and Owen, D. B. (1971). On bias reduction in
    estimation. JASA 66(335), 524-533.

    Jones, M. C. and Foster, P. J. (1993). Generalized jackknifing and higher order
    kernels. Journal of Nonparametric Statistics 3(1), 81-94.

    Pettersson, M. B., Jerzak, C. T. and Daoud, A. (2025). arXiv:2508.01341.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import TweedieCorrection
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=5000)
    >>> pred = 0.6 * y + np.sqrt(0.6 * 0.4) * rng.normal(size=5000)  # E[Y | signal]
    >>> tw = TweedieCorrection().fit(pred, y)
    >>> slope = np.polyfit(y, tw.transform(pred), 1)[0]  # naive slope is 0.6
    >>> bool(abs(slope - 1.0) < 0.05)
    True
    """

    _parameter_constraints: dict = {
        "bandwidth": [StrOptions({"scott", "silverman"}), POS_REAL],
        "score_fit_on": [StrOptions({"calibration", "downstream"})],
        "grid_size": [Interval(Integral, 64, None, closed="left")],
        "bias_correction": ["boolean"],
    }

    def __init__(self, *, bandwidth="scott", score_fit_on="calibration", grid_size=4096,
                 bias_correction=True):
        self.bandwidth = bandwidth
        self.score_fit_on = score_fit_on
        self.grid_size = grid_size
        self.bias_correction = bias_correction

    def _bw(self, x, w):
        if isinstance(self.bandwidth, str):
            rule = {"scott": scott_bandwidth, "silverman": silverman_bandwidth}.get(self.bandwidth)
            if rule is None:
                raise ValueError(f"`bandwidth` must be 'scott', 'silverman' or a positive number; got {self.bandwidth!r}.")
            return rule(x, w)
        if not isinstance(self.bandwidth, numbers.Real) or not self.bandwidth > 0:
            raise ValueError(f"`bandwidth` must be 'scott', 'silverman' or a positive number; got {self.bandwidth!r}.")
        return float(self.bandwidth)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Estimate the residual variance (and the calibration density); return self."""
        check_aligned(X=X, y=y, sample_weight=sample_weight)
        x, t, w = _check_calibration(self, X, y, sample_weight)
        r = x - t
        rm = _wmean(r, w)
        self.sigma_ = float(np.sqrt(_wmean((r - rm) ** 2, w)))
        self.bandwidth_ = self._bw(x, w)
        on_cal = self.score_fit_on == "calibration"
        self.kde_ = BinnedKDE(x, self.bandwidth_, w, self.grid_size) if on_cal else None
        self.kde_wide_ = (BinnedKDE(x, _WIDE * self.bandwidth_, w, self.grid_size)
                          if on_cal and self.bias_correction else None)
        return self

    def score(self, X):
        """The score ``d/dy log p(y)`` of the prediction density at ``X`` (1-D)."""
        check_is_fitted(self, "sigma_")
        check_feature_names(self, X)
        x, _, _ = _predictions(X)
        kde, wide = self.kde_, getattr(self, "kde_wide_", None)
        if kde is None:
            if x.shape[0] < 2 or np.ptp(x) == 0:
                raise ValueError(
                    "`X` (the predictions to correct) is constant or has fewer than 2 values, so its "
                    "density cannot be estimated with score_fit_on='downstream'. Use "
                    "score_fit_on='calibration'.")
            h = self._bw(x, None)
            kde = BinnedKDE(x, h, None, self.grid_size)
            if self.bias_correction:
                wide = BinnedKDE(x, _WIDE * h, None, self.grid_size)
        if not self.bias_correction or wide is None:
            return kde.score(x)
        # Richardson extrapolation in h^2: s_h = s + a h^2 + O(h^4), s_{ch} = s + a c^2 h^2 + ...
        return (_WIDE**2 * kde.score(x) - wide.score(x)) / (_WIDE**2 - 1.0)

    def transform(self, X):
        """Corrected outcomes ``X - sigma_**2 * score(X)``, shaped like ``X``."""
        check_is_fitted(self, "sigma_")
        check_feature_names(self, X)
        x, was_2d, _ = _predictions(X)
        _warn_support(self, x)
        if self.sigma_ == 0:
            return _shape_like(x.copy(), was_2d)
        return _shape_like(x - self.sigma_**2 * self.score(x), was_2d)


_CORRECTIONS = {"tweedie": TweedieCorrection, "linear": LinearCalibration}


def _make_correction(correction):
    if isinstance(correction, str):
        if correction not in _CORRECTIONS:
            raise ValueError(f"`correction` must be 'tweedie', 'linear' or a transformer; got {correction!r}.")
        return _CORRECTIONS[correction]()
    if not (hasattr(correction, "fit") and hasattr(correction, "transform")):
        raise TypeError("`correction` must be 'tweedie', 'linear' or a transformer with fit(X, y) and transform(X).")
    return clone(correction)


class DebiasedRegressor(RegressorMixin, BaseEstimator):
    """An upstream regressor whose predictions are corrected for shrinkage.

    ``fit(X, y)`` cross-fits ``estimator`` to obtain out-of-fold predictions of
    every training unit, fits ``correction`` on those (predictions, truth) pairs
    (so the calibration predictions are out-of-sample, as the correction
    requires), then refits ``estimator`` on all rows. ``predict`` returns the
    corrected predictions of the refitted model.

    The refitted model sees ``cv / (cv - 1)`` times more data than the fold
    models, so it shrinks slightly less than the calibration assumes; with a
    large ``cv`` the difference is small. To calibrate on a separate split
    instead, fit a correction directly on held-out predictions.

    Parameters
    ----------
    estimator : regressor, optional
        Upstream model. Default :class:`~sklearn.linear_model.RidgeCV`.
    correction : {"tweedie", "linear"} or transformer, default "tweedie"
        :class:`TweedieCorrection`, :class:`LinearCalibration` or any transformer
        with ``fit(predictions, truth)`` and ``transform(predictions)``.
    cv : int, splitter or float, default 5
        Cross-fitting folds for the calibration predictions. A float in (0, 1)
        instead holds out that fraction of the rows as a single calibration split
        (the original method's protocol): ``estimator`` is fitted on the other
        rows only and not refitted, so the calibrated model is the one that
        predicts. ``oof_predictions_`` then holds the held-out predictions.
    n_jobs : int or None, default None
    random_state : int, Generator or None, default None
        Seeds the folds and the upstream model.

    Attributes
    ----------
    estimator_ : regressor
        Refitted on all rows.
    correction_ : transformer
        Fitted on the out-of-fold predictions.
    oof_predictions_ : ndarray
        Out-of-fold (or held-out) predictions the correction was fitted on.
    calibration_index_ : ndarray
        Rows of the training data those predictions belong to.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import DebiasedRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 5))
    >>> y = X[:, 0] + rng.normal(size=1000)
    >>> model = DebiasedRegressor(correction="linear", random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "correction": [StrOptions({"tweedie", "linear"}), HasMethods(["fit", "transform"])],
        "cv": [*CV, Interval(RealNotInt, 0, 1, closed="neither")],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def __init__(self, estimator=None, *, correction="tweedie", cv=5, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.correction = correction
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Cross-fit, calibrate and refit; return self."""
        check_aligned(X=X, y=y, sample_weight=sample_weight)
        from sklearn.linear_model import RidgeCV
        from sklearn.utils.validation import validate_data

        # causalkit's checks first (messages that name the argument), then scikit-learn's
        # bookkeeping (n_features_in_, feature_names_in_) on the validated arrays.
        if y is None:
            raise ValueError("`y` is required: DebiasedRegressor requires y to be passed, but the "
                             "target y is None.")
        Xa, _ = check_X(X, "X")
        yv = check_vector(y, "y")
        n = check_consistent_length(X=Xa, y=yv)
        needed = max(_MIN_N, self.cv if isinstance(self.cv, numbers.Integral) else 2)
        if n < needed:
            raise ValueError(f"`X` has {n} row(s) (n_samples = {n}); DebiasedRegressor needs at "
                             f"least {needed} to cross-fit and calibrate. Collect more rows.")
        if isinstance(X, np.ndarray) and X.ndim == 1:
            X = Xa
        X, y = validate_data(self, X, y, y_numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        correction = _make_correction(self.correction)
        est = RidgeCV() if self.estimator is None else self.estimator
        w = check_weights(sample_weight, n=X.shape[0])
        full = clone(est)
        if self.random_state is not None and full.get_params().get("random_state", 0) is None:
            from ..inference import seed_sequence

            full.set_params(random_state=int(seed_sequence(self.random_state).generate_state(1)[0] >> 1))
        if isinstance(self.cv, numbers.Real) and not isinstance(self.cv, numbers.Integral):
            if not 0 < self.cv < 1:
                raise ValueError(f"`cv` must be an integer >= 2, a splitter or a fraction in (0, 1); got {self.cv!r}.")
            n = X.shape[0]
            n_cal = int(round(self.cv * n))
            if n_cal < _MIN_N or n - n_cal < 2:
                raise ValueError(f"`cv`={self.cv} leaves {n_cal} calibration and {n - n_cal} training rows; "
                                 "use a fraction that leaves enough of both.")
            from ..inference import seed_sequence

            perm = np.random.default_rng(seed_sequence(self.random_state)).permutation(n)
            hold, train = np.sort(perm[:n_cal]), np.sort(perm[n_cal:])
            self.estimator_ = (full.fit(X[train], y[train]) if w is None
                               else full.fit(X[train], y[train], sample_weight=w[train]))
            self.oof_predictions_ = np.asarray(self.estimator_.predict(X[hold]), dtype=float).ravel()
            self.calibration_index_ = hold
            self.correction_ = correction.fit(self.oof_predictions_, y[hold],
                                              sample_weight=None if w is None else w[hold])
            return self
        fit_params = None if w is None else {"sample_weight": w}
        cf = crossfit({"f": Nuisance(est, y, method="predict", fit_params=fit_params)}, X,
                      cv=self.cv, n_jobs=self.n_jobs, random_state=self.random_state, keep_models=False)
        self.oof_predictions_ = np.asarray(cf["f"], dtype=float)
        self.correction_ = correction.fit(self.oof_predictions_, y, sample_weight=w)
        self.calibration_index_ = np.arange(X.shape[0])
        self.estimator_ = full.fit(X, y) if w is None else full.fit(X, y, sample_weight=w)
        return self

    def predict(self, X):
        """Corrected predictions of the refitted upstream model.

        Warns (:class:`OutOfSupportWarning`) when more than 1% of the raw
        predictions fall outside the range of the out-of-fold calibration ones."""
        from sklearn.utils.validation import validate_data

        check_is_fitted(self, "estimator_")
        check_feature_names(self, X)
        Xa, _ = check_X(X, "X")
        if isinstance(X, np.ndarray) and X.ndim == 1:
            X = Xa
        X = validate_data(self, X, reset=False)
        raw = np.asarray(self.estimator_.predict(X), dtype=float).ravel()
        return np.asarray(self.correction_.transform(raw), dtype=float).ravel()
