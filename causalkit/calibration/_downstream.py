"""Downstream means and treatment effects on corrected predictions, and a PPI baseline."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ..inference import Estimate
from ..utils.validation import (
    check_binary,
    check_bool,
    check_integer,
    check_model,
    check_n_jobs,
    check_propensity,
    check_vector,
    check_weights,
    warn_positivity,
)
from ._ppi import check_lam, tuned_lambda

__all__ = ["corrected_mean", "corrected_ate", "ppi_mean", "ppi_ate"]



def _arm_propensity(p, name, **kw):
    """A known P(T = 1 | X) of a binary treatment: in (0, 1], and below 1, since a unit
    treated with certainty has no control weight (1 / (1 - e) is infinite)."""
    e = check_propensity(p, name, **kw)
    if (e >= 1).any():
        raise ValueError(
            f"`{name}` equals 1 for {int((e >= 1).sum())} unit(s): they could not have been "
            "controls, so the ATE's control-arm weight 1 / (1 - propensity) is infinite. Drop "
            "those units or estimate the effect on the treated instead.")
    return e

def _mean_if(v, w):
    """Weighted mean, its influence values (scaled so that var = sum(if^2)/n^2)."""
    ww = np.ones_like(v) if w is None else w
    theta = float(np.sum(ww * v) / np.sum(ww))
    return theta, ww * (v - theta) / np.mean(ww)


def _hajek(v, t, e, w):
    """Hajek (normalised IPW) ATE and its influence values (propensities held fixed)."""
    ww = np.ones_like(v) if w is None else w
    w1 = ww * t / e
    w0 = ww * (1 - t) / (1 - e)
    mu1 = np.sum(w1 * v) / np.sum(w1)
    mu0 = np.sum(w0 * v) / np.sum(w0)
    infl = w1 * (v - mu1) / np.mean(w1) - w0 * (v - mu0) / np.mean(w0)
    return float(mu1 - mu0), infl


def _aipw(v, t, X, propensity, model_y, model_t, cv, n_jobs, random_state):
    """Cross-fitted AIPW of ``v`` (Robins, Rotnitzky and Zhao 1994): value, IF SE, propensities."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from .._crossfit import Nuisance, crossfit
    from ..utils.validation import check_X, warn_positivity

    Xa, _ = check_X(X, "X")
    n = v.shape[0]
    if Xa.shape[0] != n:
        raise ValueError(f"`X` has {Xa.shape[0]} rows but `predictions` has {n}; pass one row per unit.")
    my = HistGradientBoostingRegressor() if model_y is None else model_y
    nuis = {"mu0": Nuisance(my, v, fit_mask=t == 0), "mu1": Nuisance(my, v, fit_mask=t == 1)}
    if propensity is None:
        mt = (HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=40, learning_rate=0.05,
                                             max_iter=100) if model_t is None else model_t)
        nuis["e"] = Nuisance(mt, t, method="predict_proba")
    res = crossfit(nuis, Xa, cv=cv, stratify=t, n_jobs=n_jobs, random_state=random_state, keep_models=False)
    if propensity is None:
        e = res["e"]
        warn_positivity(e, 0.01)
        e = np.clip(e, 0.01, 0.99)
    else:
        e = _arm_propensity(propensity, "propensity", n=n, n_name="predictions", ndim=(1,))
        warn_positivity(e, 0.01, name="known propensity")
    mu0, mu1 = res["mu0"], res["mu1"]
    psi = mu1 - mu0 + t * (v - mu1) / e - (1 - t) * (v - mu0) / (1 - e)
    theta = float(psi.mean())
    return theta, float(psi.std(ddof=1) / np.sqrt(n)), e


def _se(infl):
    n = infl.shape[0]
    return float(np.sqrt(np.sum(infl**2)) / n)


def _score_on_downstream(correction):
    if correction is None:
        return False
    return getattr(correction, "score_fit_on", "calibration") == "downstream"


def _correction_bootstrap(correction, predictions, statistic, n_boot, random_state, n_jobs):
    """Two-sample bootstrap replicates over refits of the correction.

    Each replicate resamples the calibration rows and refits the correction. When
    the correction also depends on the downstream sample (Tweedie's score fitted on
    the downstream predictions), the downstream rows are resampled in the same
    replicate (a joint bootstrap over both samples), otherwise they are held fixed.
    ``statistic(v_b, idx)`` receives the corrected outcomes of the (resampled)
    downstream rows and their row indices (``None`` when held fixed).
    """
    from joblib import Parallel, delayed

    from ..config import inner_threads, limit_threads
    from ..inference import seed_sequence

    xc = correction.calibration_predictions_
    tc = correction.calibration_truth_
    wc = correction.calibration_weights_
    nc, n = xc.shape[0], predictions.shape[0]
    joint = _score_on_downstream(correction)

    def one(seed):
        rng = np.random.default_rng(seed)
        ic = rng.integers(0, nc, size=nc)
        idx = rng.integers(0, n, size=n) if joint else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                c = clone(correction).fit(xc[ic], tc[ic], sample_weight=None if wc is None else wc[ic])
            except ValueError:  # a degenerate resample (e.g. a slope that is not positive)
                return np.nan
            xb = predictions if idx is None else predictions[idx]
            return float(statistic(np.asarray(c.transform(xb), dtype=float).ravel(), idx))

    seeds = seed_sequence(random_state).spawn(n_boot)
    with limit_threads(inner_threads(n_jobs)):
        reps = np.asarray(Parallel(n_jobs=n_jobs)(delayed(one)(sd) for sd in seeds), dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size < max(2, n_boot // 2):
        raise ValueError(
            f"The calibration bootstrap failed on {n_boot - reps.size} of {n_boot} replicates (the "
            "correction could not be refitted on resampled calibration rows); the calibration set is "
            "too small or degenerate. Use more calibration units or `calibration_uncertainty=False`.")
    return float(np.var(reps, ddof=1))


def _check_correction(correction):
    if correction is None:
        return
    if not hasattr(correction, "transform"):
        raise TypeError("`correction` must be a fitted LinearCalibration or TweedieCorrection.")
    check_is_fitted(correction, "calibration_truth_")


def _check_nboot(n_boot):
    if not isinstance(n_boot, numbers.Integral) or n_boot < 2:
        raise ValueError(f"`n_boot` must be an integer >= 2; got {n_boot!r}.")


def _check_options(calibration_uncertainty, n_boot, n_jobs):
    """The options ``corrected_mean`` and ``corrected_ate`` share."""
    check_bool(calibration_uncertainty, "calibration_uncertainty")
    _check_nboot(n_boot)
    check_n_jobs(n_jobs)


def _transform(correction, x):
    """Corrected outcomes; the raw predictions when ``correction`` is None (naive)."""
    if correction is None:
        return x
    return np.asarray(correction.transform(x), dtype=float).ravel()


def _describe(correction, calibration_uncertainty, n_boot):
    if correction is None:
        return "raw predictions (no correction); SE: downstream influence function"
    kind = type(correction).__name__
    if not calibration_uncertainty:
        return f"{kind}; SE: downstream influence function (calibration held fixed)"
    if _score_on_downstream(correction):
        return f"{kind}; SE: joint bootstrap over calibration and downstream rows ({n_boot} replicates)"
    return f"{kind}; SE: downstream influence function + calibration bootstrap ({n_boot} refits)"


def corrected_mean(correction, predictions, *, sample_weight=None, calibration_uncertainty=True,
                   n_boot=200, random_state=None, n_jobs=None) -> Estimate:
    r"""Mean of corrected predictions, with a standard error that includes the calibration.

    The estimate is the (weighted) mean of ``correction.transform(predictions)``.
    Calibration and downstream samples are independent, so the variance is the sum
    of the downstream influence-function variance (correction held fixed) and the
    calibration contribution: the bootstrap variance of the estimate over refits of
    the correction on resampled calibration rows, the downstream sample held fixed
    (a two-sample bootstrap decomposition; first-order equivalent to the joint
    bootstrap over both samples at a fraction of its cost). When the correction
    itself depends on the downstream sample (``TweedieCorrection(score_fit_on=
    "downstream")``, whose density is refitted on the downstream predictions), the
    influence function misses the density's variability, so the variance is the
    joint bootstrap over calibration and downstream rows instead.

    Parameters
    ----------
    correction : fitted LinearCalibration or TweedieCorrection, or None
        ``None`` gives the naive estimate on the raw predictions, for comparison.
    predictions : array-like or Dask array of shape (n,)
        Downstream predictions. A Dask array is reduced in one chunked pass (the
        correction must be None, a LinearCalibration, or a TweedieCorrection with
        ``score_fit_on="calibration"`` and ``calibration_uncertainty=False``); the
        calibration bootstrap of a LinearCalibration then refits on the calibration
        rows only, since its corrected mean is that of the mean prediction.
    sample_weight : array-like or Dask array of shape (n,), optional
        Survey weights of the downstream units.
    calibration_uncertainty : bool, default True
        ``False`` holds the calibration fixed (as in the original method).
    n_boot : int, default 200
        Calibration refits.
    random_state : int, Generator or None
    n_jobs : int or None

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import LinearCalibration, corrected_mean
    >>> rng = np.random.default_rng(0)
    >>> y_cal = rng.normal(2.0, 1.0, 500)
    >>> lcc = LinearCalibration().fit(1 + 0.5 * y_cal + 0.3 * rng.normal(size=500), y_cal)
    >>> pred = 1 + 0.5 * rng.normal(2.0, 1.0, 5000) + 0.3 * rng.normal(size=5000)
    >>> est = corrected_mean(lcc, pred, random_state=0)
    >>> lo, hi = est.conf_int()
    >>> bool(lo < 2.0 < hi)
    True
    """
    _check_correction(correction)
    _check_options(calibration_uncertainty, n_boot, n_jobs)
    from ._dask import check_rows_kept

    check_rows_kept(correction, calibration_uncertainty)
    from ..utils._chunked import any_dask

    if any_dask(predictions, sample_weight):
        from ._dask import corrected_mean_dask

        return corrected_mean_dask(correction, predictions, sample_weight, calibration_uncertainty,
                                   n_boot, random_state, n_jobs)
    x = check_vector(predictions, "predictions")
    w = check_weights(sample_weight, n=x.shape[0])
    v = _transform(correction, x)
    theta, infl = _mean_if(v, w)
    var = _se(infl) ** 2
    if calibration_uncertainty and correction is not None:
        def stat(vb, idx):
            return _mean_if(vb, w if (w is None or idx is None) else w[idx])[0]
        boot = _correction_bootstrap(correction, x, stat, n_boot, random_state, n_jobs)
        var = boot if _score_on_downstream(correction) else var + boot
    return Estimate(theta, np.sqrt(var), n=x.shape[0], name="mean",
                    method=_describe(correction, calibration_uncertainty, n_boot))


def corrected_ate(correction, predictions, treatment, *, X=None, propensity=None, estimator="hajek",
                  model_y=None, model_t=None, cv=5, calibration_uncertainty=True, n_boot=200,
                  random_state=None, n_jobs=None) -> Estimate:
    r"""Average treatment effect on corrected predictions.

    ``estimator="hajek"``: the difference of inverse-propensity weighted means
    (Hajek) of the corrected outcomes :math:`\tilde Y`,

    .. math::

        \hat\tau = \frac{\sum_i T_i \tilde Y_i / e_i}{\sum_i T_i / e_i}
                 - \frac{\sum_i (1-T_i) \tilde Y_i / (1-e_i)}{\sum_i (1-T_i)/(1-e_i)},

    with known ``propensity`` or propensities cross-fitted on ``X`` (the
    standard error then holds them fixed, which is conservative for IPW). With
    neither, ``e = 1/2`` (a randomised trial: difference in means).
    ``estimator="aipw"``: the cross-fitted augmented IPW estimator on
    :math:`\tilde Y` with covariates ``X`` (Robins, Rotnitzky and Zhao 1994),
    outcome models per arm and the propensity cross-fitted (or the known
    ``propensity``), propensities clipped to [0.01, 0.99].

    The standard error adds to the downstream influence-function variance the
    calibration contribution, estimated by refitting the correction on resampled
    calibration rows and recomputing the effect on the fixed downstream sample
    (with AIPW the perturbation of the outcome is propagated through the Hajek
    form with the same propensities: the first-order effect, without refitting
    the outcome models). With a downstream-fitted Tweedie score and Hajek, the
    variance is a joint bootstrap over calibration and downstream rows (the
    density is refitted on each downstream resample); with AIPW the same joint
    perturbation is added to the AIPW influence-function variance (their
    covariance is neglected). ``calibration_uncertainty=False`` holds the
    calibration fixed, as the original method does (Pettersson, Jerzak and Daoud
    2025); its confidence intervals under-cover when the calibration set is small
    (see the calibration user guide for the coverage study).

    Parameters
    ----------
    correction : fitted LinearCalibration or TweedieCorrection, or None
        ``None`` gives the naive estimate on the raw predictions, for comparison.
    predictions : array-like of shape (n,)
    treatment : array-like of shape (n,), binary
    X : array-like of shape (n, p), optional
        Covariates (required for ``"aipw"`` or for estimated propensities).
    propensity : array-like of shape (n,), optional
        Known propensities (used by both estimators).
    estimator : {"hajek", "aipw"}, default "hajek"
    model_y, model_t : estimators, optional
        Outcome regressor and propensity classifier. Defaults: histogram gradient
        boosting for AIPW (a regularised classifier for the propensity), logistic
        regression for Hajek propensities.
    cv : int, default 5
    calibration_uncertainty : bool, default True
    n_boot : int, default 200
    random_state : int, Generator or None
    n_jobs : int or None

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from causalkit.datasets import make_calibration_data
    >>> from causalkit.calibration import LinearCalibration, corrected_ate
    >>> d = make_calibration_data(n=4000, ate=1.0, random_state=0)
    >>> lcc = LinearCalibration().fit(d.calibration_predictions, d.calibration_truth)
    >>> est = corrected_ate(lcc, d.predictions, d.treatment, propensity=d.propensity, random_state=0)
    >>> bool(abs(est.value - d.true_ate) < 3 * est.stderr)
    True
    """
    _check_correction(correction)
    _check_options(calibration_uncertainty, n_boot, n_jobs)
    if estimator not in ("hajek", "aipw"):
        raise ValueError(f"`estimator` must be 'hajek' or 'aipw'; got {estimator!r}.")
    check_model(model_y, "model_y", ("fit", "predict"))
    check_model(model_t, "model_t", ("fit", "predict_proba"))
    if isinstance(cv, (numbers.Integral, bool, np.bool_, str)):
        check_integer(cv, "cv", low=2)
    from ._dask import check_rows_kept

    check_rows_kept(correction, calibration_uncertainty)
    x = check_vector(predictions, "predictions")
    n = x.shape[0]
    t = check_binary(treatment, "treatment", n=n, n_name="predictions")
    v = _transform(correction, x)
    if estimator == "aipw":
        if X is None:
            raise ValueError("`X` (covariates) is required with estimator='aipw'; pass the covariates "
                             "or use estimator='hajek'.")
        theta, se_down, e = _aipw(v, t, X, propensity, model_y, model_t, cv, n_jobs, random_state)
        label = "AIPW"
    else:
        if propensity is not None:
            e = _arm_propensity(propensity, "propensity", n=n, n_name="predictions", ndim=(1,))
            warn_positivity(e, 0.01, name="known propensity")
        elif X is not None:
            from sklearn.linear_model import LogisticRegression

            from .._crossfit import Nuisance, crossfit
            from ..utils.validation import check_X

            Xa, _ = check_X(X, "X")
            if Xa.shape[0] != n:
                raise ValueError(f"`X` has {Xa.shape[0]} rows but `predictions` has {n}; pass one row per unit.")
            model = LogisticRegression() if model_t is None else model_t
            e = crossfit({"e": Nuisance(model, t)}, Xa, cv=cv, stratify=t, n_jobs=n_jobs,
                         random_state=random_state)["e"]
            warn_positivity(e, 0.01)
            e = np.clip(e, 0.01, 0.99)
        else:
            e = np.full(n, 0.5)
        theta, infl = _hajek(v, t, e, None)
        se_down = _se(infl)
        label = "Hajek IPW"
    var = se_down**2
    if calibration_uncertainty and correction is not None:
        joint = _score_on_downstream(correction)
        if estimator == "hajek":
            def stat(vb, idx):
                return _hajek(vb, t, e, None)[0] if idx is None else _hajek(vb, t[idx], e[idx], None)[0]
            boot = _correction_bootstrap(correction, x, stat, n_boot, random_state, n_jobs)
            var = boot if joint else var + boot
        else:
            def stat(vb, idx):
                if idx is None:
                    return _hajek(vb - v, t, e, None)[0]
                return _hajek(vb - v[idx], t[idx], e[idx], None)[0]
            var += _correction_bootstrap(correction, x, stat, n_boot, random_state, n_jobs)
    return Estimate(theta, np.sqrt(var), n=n, name="ATE",
                    method=f"{label} on corrected outcomes; " + _describe(correction, calibration_uncertainty, n_boot))


def ppi_mean(predictions, labeled_predictions, labeled_truth, *, lam=1.0) -> Estimate:
    r"""Prediction-powered mean (Angelopoulos et al. 2023): a baseline needing fresh labels.

    ``predictions``, ``labeled_predictions`` and ``labeled_truth`` (array-like or
    Dask arrays of shape (N,), (n,) and (n,)) may be Dask collections (the ``dask``
    extra); the means and variances are then one chunked pass, with the same numbers.

    .. math::

        \hat\theta = \frac1N \sum_{unlabelled} \lambda\hat Y
                     + \frac1n \sum_{labelled} (Y - \lambda\hat Y),
        \qquad \widehat{SE}^2 = \frac{\widehat{\mathrm{var}}(\lambda\hat Y)}{N}
                              + \frac{\widehat{\mathrm{var}}(Y - \lambda\hat Y)}{n}.

    ``lam=1`` (the default) is the original PPI; ``lam=0`` the labelled mean alone;
    ``lam="auto"`` is PPI++'s power tuning (Angelopoulos, Duchi and Zrnic, 2023), the
    variance-minimising :math:`\hat\lambda = \widehat{\mathrm{Cov}}(Y, \hat Y) /
    ((1 + n/N)\widehat{\mathrm{Var}}(\hat Y))` (covariance over the labelled units,
    variance pooled over all), clipped to [0, 1]: never asymptotically worse than
    either end, and ppi_py's default. The chosen value is in the method text.

    References
    ----------
    Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I. and Zrnic, T. (2023).
    Prediction-powered inference. Science 382(6671), 669-674.
    Angelopoulos, A. N., Duchi, J. C. and Zrnic, T. (2023). PPI++: Efficient
    prediction-powered inference. arXiv:2311.01453.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import ppi_mean
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(1.0, 1.0, 200)
    >>> est = ppi_mean(0.5 * rng.normal(1.0, 1.0, 5000), 0.5 * y, y)
    >>> bool(abs(est.value - 1.0) < 3 * est.stderr)
    True
    """
    from ..utils._chunked import any_dask

    if any_dask(predictions, labeled_predictions, labeled_truth):
        from ._dask import ppi_mean_dask

        return ppi_mean_dask(predictions, labeled_predictions, labeled_truth)
    xu = check_vector(predictions, "predictions")
    xl = check_vector(labeled_predictions, "labeled_predictions", min_length=2)
    yl = check_vector(labeled_truth, "labeled_truth", n=xl.shape[0], n_name="labeled_predictions")
    lam = check_lam(lam)
    how = "" if lam in (1.0, "auto") else f", lambda = {lam:g}"
    if lam == "auto":
        n, N = xl.size, xu.size
        cov = float(np.mean((yl - yl.mean()) * (xl - xl.mean())))
        lam = tuned_lambda(cov, float(np.var(np.r_[xl, xu], ddof=1)), n, N)
        how = f" with power tuning (PPI++), lambda = {lam:.4g}"
    rect = yl - lam * xl
    theta = lam * xu.mean() + rect.mean()
    se = np.sqrt((lam * xu).var() / xu.size + rect.var() / rect.size)
    return Estimate(theta, se, n=xu.size + xl.size, name="mean",
                    method=f"prediction-powered inference (PPI){how}, influence-function SE")


def ppi_ate(predictions, treatment, labeled_predictions, labeled_truth, labeled_treatment, *,
            propensity=None, labeled_propensity=None, lam=1.0) -> Estimate:
    r"""Prediction-powered ATE: per arm, a Hajek mean of predictions plus a labelled rectifier.

    .. math::

        \hat\mu_a = \frac{\sum_{unl,\,T=a} w \hat Y}{\sum_{unl,\,T=a} w}
                  + \frac{\sum_{lab,\,T=a} w (Y - \hat Y)}{\sum_{lab,\,T=a} w},
        \qquad \hat\tau = \hat\mu_1 - \hat\mu_0,

    with ``w = 1/e`` for treated and ``1/(1-e)`` for control units (``e = 1/2``
    when no propensities are given). The SE adds the influence-function
    variances of the two independent samples (propensities held fixed).

    ``lam`` scales the predictions as in :func:`ppi_mean` (:math:`\lambda\hat Y` in the
    unlabelled term, :math:`Y - \lambda\hat Y` in the rectifier): ``1`` is PPI, ``0``
    the labelled Hajek estimate alone, ``"auto"`` PPI++'s power tuning with the
    influence values of the Hajek contrast in place of the outcomes,
    :math:`\hat\lambda = \widehat{\mathrm{Cov}}(\phi_Y, \phi_{\hat Y}) /
    ((1 + n/N)\widehat{\mathrm{Var}}(\phi_{\hat Y}))` clipped to [0, 1]
    (Angelopoulos, Duchi and Zrnic, 2023; ppi_py has no ATE to compare with).

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.calibration import ppi_ate
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     t = rng.integers(0, 2, n); y = t + rng.normal(size=n)
    ...     return t, y, 0.5 * y + 0.3 * rng.normal(size=n)
    >>> t, _, p = draw(5000); tl, yl, pl = draw(300)
    >>> est = ppi_ate(p, t, pl, yl, tl)
    >>> bool(abs(est.value - 1.0) < 3 * est.stderr)
    True
    """
    xu = check_vector(predictions, "predictions")
    tu = check_binary(treatment, "treatment", n=xu.shape[0], n_name="predictions")
    xl = check_vector(labeled_predictions, "labeled_predictions", min_length=4)
    yl = check_vector(labeled_truth, "labeled_truth", n=xl.shape[0], n_name="labeled_predictions")
    tl = check_binary(labeled_treatment, "labeled_treatment", n=xl.shape[0],
                      n_name="labeled_predictions")
    eu = np.full(xu.size, 0.5) if propensity is None else _arm_propensity(
        propensity, "propensity", n=xu.size, n_name="predictions", ndim=(1,))
    el = (np.full(xl.size, 0.5) if labeled_propensity is None
          else _arm_propensity(labeled_propensity, "labeled_propensity", n=xl.size,
                                n_name="labeled_predictions", ndim=(1,)))
    warn_positivity(eu, 0.01, name="propensity")
    warn_positivity(el, 0.01, name="labeled_propensity")
    lam = check_lam(lam)
    how = "" if lam in (1.0, "auto") else f", lambda = {lam:g}"
    if lam == "auto":
        _, phi_y = _hajek(yl, tl, el, None)
        _, phi_f = _hajek(xl, tl, el, None)
        _, phi_u = _hajek(xu, tu, eu, None)
        n, N = xl.size, xu.size
        pooled = float((np.sum(phi_f**2) + np.sum(phi_u**2)) / (n + N))
        lam = tuned_lambda(float(np.mean(phi_y * phi_f)), pooled, n, N)
        how = f" with power tuning (PPI++), lambda = {lam:.4g}"
    tau_u, if_u = _hajek(lam * xu, tu, eu, None)
    tau_l, if_l = _hajek(yl - lam * xl, tl, el, None)
    se = np.sqrt(_se(if_u) ** 2 + _se(if_l) ** 2)
    return Estimate(tau_u + tau_l, se, n=xu.size + xl.size, name="ATE",
                    method=f"prediction-powered inference (PPI){how}, Hajek IPW per arm, "
                           "influence-function SE")
