"""The Dask path of :class:`LinearCalibration`, :func:`corrected_mean` and :func:`ppi_mean`.

Each is one chunked pass of weighted moments (:class:`causalkit.utils._chunked.Moments`):
the calibration line and its HC0 sandwich come from the moments of
``(t, x, x t, t^2)``, the downstream means and their influence-function standard
errors from the moments of the (corrected) predictions.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..inference import Estimate
from ..utils._chunked import (
    Moments,
    align_rows,
    as_dask,
    as_dask_all,
    column_names,
    combine,
    is_dask,
    raise_finite,
    raise_weights,
    reduce_blocks,
    vector_stats,
)
from ..utils.validation import CausalkitWarning, FewObservationsWarning, store_feature_names


def _one_column(arr, name):
    if arr.ndim == 2:
        if arr.shape[1] != 1:
            raise ValueError(
                f"`{name}` must hold one column of predictions; got shape {arr.shape}. "
                "Pass the upstream model's predictions as a 1-D array or one column.")
        arr = arr[:, 0]
    return arr


def fit_linear_dask(est, X, y, sample_weight):
    """``LinearCalibration.fit`` for Dask collections; keeps only sums."""
    from ._corrections import _MIN_N, _WARN_N

    c = as_dask_all(("X", X, (1, 2)), ("y", y, (1,)), ("sample_weight", sample_weight, (1,)))
    x, t, w = _one_column(c["X"], "X"), c["y"], c["sample_weight"]
    arrs = align_rows(x, X=x, y=t, sample_weight=w)
    n = int(x.shape[0])

    def block(off, xb, tb, wb):
        xb = np.asarray(xb, dtype=np.float64)
        tb = np.asarray(tb, dtype=np.float64)
        u = None if wb is None else np.asarray(wb, dtype=np.float64)
        F = np.column_stack([tb, xb, xb * tb, tb * tb])
        return {"x": vector_stats(xb, off), "t": vector_stats(tb, off),
                "w": None if wb is None else vector_stats(wb, off),
                "m1": Moments.of(F[:, :2], u),
                "m2": Moments.of(F, None if u is None else u * u)}

    st = reduce_blocks(block, [arrs["X"], arrs["y"], arrs["sample_weight"]], combine)
    raise_finite(st["x"].fin, "X")
    raise_finite(st["t"].fin, "y")
    if n < _MIN_N:
        raise ValueError(
            f"The calibration set is too small: `X` and `y` have {n} rows, at least {_MIN_N} "
            f"are needed (and {_WARN_N} or more are advised). Hold out more labelled units.")
    if st["w"] is not None:
        raise_weights(st["w"])
    if st["x"].hi - st["x"].lo == 0:
        raise ValueError(
            "`X` (the calibration predictions) is constant: the upstream model carries no "
            "information to correct. Check the predictions passed to fit.")
    if st["t"].hi - st["t"].lo == 0:
        raise ValueError("`y` (the calibration truth) is constant; the calibration cannot be estimated.")
    if n < _WARN_N:
        warnings.warn(
            f"Only {n} calibration units in `X`, `y`: the correction is noisy "
            f"(at least {_WARN_N} are advised).", FewObservationsWarning, stacklevel=3)
    m1, m2 = st["m1"], st["m2"]
    tm, xm = m1.mean
    k = float(m1.C[0, 1] / m1.C[0, 0])
    if not k > est.min_slope:
        raise ValueError(
            f"The calibration slope of `X` (predictions) on `y` (truth) is {k:.4g}, not positive "
            f"(at most `min_slope`={est.min_slope}): the predictions cannot be inverted. "
            "Check that predictions and truth are aligned and on the same scale.")
    if k < 0.2:
        warnings.warn(
            f"The calibration slope is {k:.3f} (< 0.2): predictions carry little signal and "
            "the corrected values are very noisy.", CausalkitWarning, stacklevel=3)
    m = float(xm - k * tm)
    W = m1.W
    stt = float(m1.C[0, 0] + W * tm * tm)
    bread = np.linalg.inv(np.array([[W, W * tm], [W * tm, stt]]))
    # r z = A f with f = (1, t, x, x t, t^2): r = x - m - k t and r t = x t - m t - k t^2
    a = (-m, np.array([-k, 1.0, 0.0, 0.0]))
    b = (0.0, np.array([-m, 0.0, 1.0, -k]))
    meat = np.array([[m2.bilinear(*a, *a), m2.bilinear(*a, *b)],
                     [m2.bilinear(*b, *a), m2.bilinear(*b, *b)]])
    est.intercept_, est.slope_ = m, k
    est.coef_cov_ = bread @ meat @ bread
    est.n_features_in_ = 1
    names = column_names(X)
    store_feature_names(est, names)
    est.n_calibration_ = n
    est.support_ = (float(st["x"].lo), float(st["x"].hi))
    # only sums are kept: no calibration rows (the calibration bootstrap needs them)
    est.calibration_predictions_ = None
    est.calibration_truth_ = None
    est.calibration_weights_ = None
    return est


def _correction_kind(correction):
    from ._corrections import LinearCalibration, TweedieCorrection

    if correction is None:
        return "none"
    if isinstance(correction, LinearCalibration):
        return "linear"
    if isinstance(correction, TweedieCorrection) and correction.kde_ is not None:
        return "tweedie"
    if isinstance(correction, TweedieCorrection):
        raise ValueError(
            "TweedieCorrection(score_fit_on='downstream') fits a density on all downstream "
            "predictions, which the Dask path never gathers. Fit the correction with "
            "score_fit_on='calibration', or pass numpy predictions.")
    raise TypeError("With Dask predictions, `correction` must be None, a fitted LinearCalibration "
                    "or a TweedieCorrection(score_fit_on='calibration').")


def corrected_mean_dask(correction, predictions, sample_weight, calibration_uncertainty, n_boot,
                        random_state, n_jobs):
    """:func:`corrected_mean` for Dask predictions: one chunked pass."""
    from ._downstream import _correction_bootstrap, _describe

    kind = _correction_kind(correction)
    if calibration_uncertainty and kind == "tweedie":
        raise ValueError(
            "The calibration bootstrap of a TweedieCorrection recomputes the corrected mean of "
            "every downstream row for each refit, which would be one pass over the Dask data "
            "per replicate. Pass `calibration_uncertainty=False` (calibration held fixed), use "
            "LinearCalibration, or pass numpy predictions.")
    c = as_dask_all(("predictions", predictions, (1,)), ("sample_weight", sample_weight, (1,)))
    x, w = c["predictions"], c["sample_weight"]
    arrs = align_rows(x, predictions=x, sample_weight=w)
    n = int(x.shape[0])
    lo, hi = correction.support_ if correction is not None else (-np.inf, np.inf)

    def block(off, xb, wb):
        xb = np.asarray(xb, dtype=np.float64)
        if kind == "linear":
            v = (xb - correction.intercept_) / correction.slope_
        elif kind == "tweedie":
            v = xb - correction.sigma_ ** 2 * correction.score(xb) if correction.sigma_ else xb
        else:
            v = xb
        u = None if wb is None else np.asarray(wb, dtype=np.float64)
        Z = np.column_stack([v, xb])
        return {"x": vector_stats(xb, off), "w": None if wb is None else vector_stats(wb, off),
                "out": int(np.count_nonzero((xb < lo) | (xb > hi))),
                "m1": Moments.of(Z, u), "m2": None if u is None else Moments.of(v, u * u)}

    st = reduce_blocks(block, [arrs["predictions"], arrs["sample_weight"]], combine)
    raise_finite(st["x"].fin, "predictions")
    if st["w"] is not None:
        raise_weights(st["w"])
    if kind != "none" and st["out"] > 0.01 * n:
        from ._corrections import OutOfSupportWarning

        warnings.warn(
            f"{st['out']} of {n} predictions ({100 * st['out'] / n:.1f}%) in `X` lie outside the "
            f"calibration range [{lo:.4g}, {hi:.4g}]; the correction extrapolates there. "
            "Use a calibration set that covers the downstream population.",
            OutOfSupportWarning, stacklevel=3)
    m1 = st["m1"]
    m2 = st["m2"] if st["m2"] is not None else m1
    theta = float(m1.mean[0])
    var = (m2.ssq([1.0] if st["m2"] is not None else [1.0, 0.0], theta) ** 0.5 / m1.W) ** 2
    if calibration_uncertainty and kind == "linear":
        # the statistic is linear in the predictions: each refit's corrected mean is that
        # of the weighted mean prediction, so the replicates need no pass over the data
        proxy = np.array([m1.mean[1]])
        var = var + _correction_bootstrap(correction, proxy, lambda vb, idx: float(vb[0]), n_boot,
                                          random_state, n_jobs)
    return Estimate(theta, np.sqrt(var), n=n, name="mean",
                    method=_describe(correction, calibration_uncertainty, n_boot))


def ppi_mean_dask(predictions, labeled_predictions, labeled_truth):
    """:func:`ppi_mean` when any argument is a Dask collection (one chunked pass)."""
    import dask

    from ..utils.validation import check_vector

    def moments_of(name, arr, like=None):
        a = as_dask(arr, name, like=like, ndim=(1,))

        def block(off, b):
            b = np.asarray(b, dtype=np.float64)
            return {"s": vector_stats(b, off), "m": Moments.of(b)}
        return a, reduce_blocks(block, [a], combine, lazy=True)

    xu_lazy = xl_lazy = None
    if is_dask(predictions):
        _, xu_lazy = moments_of("predictions", predictions)
    if is_dask(labeled_predictions) or is_dask(labeled_truth):
        c = as_dask_all(("labeled_predictions", labeled_predictions, (1,)),
                        ("labeled_truth", labeled_truth, (1,)))
        xl, yl = c["labeled_predictions"], c["labeled_truth"]
        if xl.shape[0] < 2:
            raise ValueError(f"`labeled_predictions` needs at least 2 value(s); got {xl.shape[0]}.")
        if yl.shape[0] != xl.shape[0]:
            raise ValueError(
                f"`labeled_truth` has {yl.shape[0]} values but `labeled_predictions` has "
                f"{xl.shape[0]}; pass one value per row of `labeled_predictions`.")
        yl = align_rows(xl, y=yl)["y"]

        def lblock(off, xb, yb):
            xb = np.asarray(xb, dtype=np.float64)
            yb = np.asarray(yb, dtype=np.float64)
            return {"x": vector_stats(xb, off), "y": vector_stats(yb, off), "m": Moments.of(yb - xb)}
        xl_lazy = reduce_blocks(lblock, [xl, yl], combine, lazy=True)
    todo = [t for t in (xu_lazy, xl_lazy) if t is not None]
    done = list(dask.compute(*todo))
    if xu_lazy is not None:
        su = done.pop(0)
        raise_finite(su["s"].fin, "predictions")
        mu = su["m"]
    else:
        xu = check_vector(predictions, "predictions")
        mu = Moments.of(xu)
    if xl_lazy is not None:
        sl = done.pop(0)
        raise_finite(sl["x"].fin, "labeled_predictions")
        raise_finite(sl["y"].fin, "labeled_truth")
        ml = sl["m"]
    else:
        xl = check_vector(labeled_predictions, "labeled_predictions", min_length=2)
        yl = check_vector(labeled_truth, "labeled_truth", n=xl.shape[0], n_name="labeled_predictions")
        ml = Moments.of(yl - xl)
    theta = float(mu.mean[0] + ml.mean[0])
    se = float(np.sqrt(mu.C[0, 0] / mu.W / mu.W + ml.C[0, 0] / ml.W / ml.W))
    return Estimate(theta, se, n=mu.n + ml.n, name="mean",
                    method="prediction-powered inference (PPI), influence-function SE")


def check_rows_kept(correction, calibration_uncertainty):
    """A correction fitted on Dask data keeps no calibration rows to bootstrap."""
    if (calibration_uncertainty and correction is not None
            and getattr(correction, "calibration_truth_", 0) is None):
        raise ValueError(
            "`correction` was fitted on Dask collections and keeps only sums, not the "
            "calibration rows its bootstrap resamples. Pass `calibration_uncertainty=False` "
            "(calibration held fixed; its HC0 covariance is in `coef_cov_`), or fit the "
            "correction on numpy arrays.")
