"""Augmented inverse-propensity weighting (AIPW) for the average treatment effect."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit
from ..inference import Estimate
from ..utils.validation import (
    check_aligned,
    check_binary,
    check_consistent_length,
    check_fraction,
    check_groups,
    check_vector,
    check_weights,
    check_X,
    warn_positivity,
)

__all__ = ["AIPW"]


def influence_mean(psi: np.ndarray, sample_weight=None, groups=None):
    """Weighted mean of scores and its influence-function standard error.

    With weights ``w`` the estimate is ``sum w psi / sum w``; the variance is
    ``sum_i (w_i (psi_i - theta))^2 / (sum w)^2``, summed within clusters first
    when ``groups`` is given (with the ``G / (G - 1)`` small-sample factor).
    """
    w = np.ones_like(psi) if sample_weight is None else sample_weight
    theta = float(np.sum(w * psi) / np.sum(w))
    contrib = w * (psi - theta)
    if groups is not None:
        contrib = np.bincount(groups, weights=contrib)
        g = contrib.shape[0]
        scale = g / (g - 1) if g > 1 else 1.0
    else:
        scale = 1.0
    se = float(np.sqrt(scale * np.sum(contrib**2)) / np.sum(w))
    return theta, se


class AIPW(BaseEstimator):
    r"""Average treatment effect by augmented inverse-propensity weighting.

    The doubly robust score of Robins, Rotnitzky and Zhao (1994), with nuisances
    cross-fitted as in Chernozhukov et al. (2018):

    .. math::

        \psi_i = \hat\mu_1(X_i) - \hat\mu_0(X_i)
               + \frac{T_i (Y_i - \hat\mu_1(X_i))}{\hat e(X_i)}
               - \frac{(1 - T_i)(Y_i - \hat\mu_0(X_i))}{1 - \hat e(X_i)},

    :math:`\hat\tau = \frac1n \sum_i \psi_i` and
    :math:`\widehat{SE} = \mathrm{sd}(\psi) / \sqrt n`, where
    :math:`\hat\mu_t(x)` estimates :math:`E[Y \mid X=x, T=t]` and
    :math:`\hat e(x)` estimates :math:`P(T=1 \mid X=x)`, each predicted for unit
    *i* by models that never saw unit *i*. The estimate is consistent when
    either the outcome or the propensity model is, and the standard error is
    valid when both converge fast enough (product of rates faster than
    :math:`n^{-1/2}`).

    Parameters
    ----------
    model_y : regressor, optional
        Outcome model, fitted separately in each treatment arm. Default
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    model_t : classifier, optional
        Propensity model with ``predict_proba``. Default a regularised
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (8 leaves, at
        least 40 units a leaf, learning rate 0.05, 100 iterations).
    cv : int or splitter, default 5
        Cross-fitting folds (stratified on the treatment when an int).
    trimming_threshold : float in [0, 0.5), default 0.01
        Propensities are kept inside ``[threshold, 1 - threshold]``.
    trimming : {"clip", "drop"}, default "clip"
        ``"clip"`` clips the estimated propensities (the estimand stays the ATE);
        ``"drop"`` removes units outside the band, so the estimand becomes the ATE
        of the overlap population (the result's ``method`` says so).
    n_jobs : int or None, default None
        Parallel jobs over (nuisance, fold) pairs.
    random_state : int or None, default None
        Seeds the folds and any nuisance model left with ``random_state=None``.

    Attributes
    ----------
    effect_ : Estimate
        The ATE (also returned by :meth:`ate`).
    scores_ : ndarray of shape (n,)
        The per-unit scores :math:`\psi_i` (NaN for dropped units).
    nuisances_ : dict of ndarray
        Out-of-fold ``mu0``, ``mu1`` and ``propensity``.
    diagnostics_ : dict
        Propensity range, number of units clipped or dropped, effective sample sizes.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has column names.

    See Also
    --------
    causalkit.hte.RLearner : heterogeneous effects with the same nuisances.

    References
    ----------
    Robins, J., Rotnitzky, A. and Zhao, L. (1994). Estimation of regression coefficients
    when some regressors are not always observed. JASA 89(427).
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. The Econometrics Journal 21(1), C1-C68.

    Examples
    --------
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    >>> lo, hi = est.ate().conf_int()
    >>> bool(lo < d.true_ate < hi)
    True
    """

    def __init__(self, model_y=None, model_t=None, *, cv=5, trimming_threshold=0.01,
                 trimming="clip", n_jobs=None, random_state=None):
        self.model_y = model_y
        self.model_t = model_t
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.trimming = trimming
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _models(self):
        model_y = self.model_y if self.model_y is not None else HistGradientBoostingRegressor()
        model_t = self.model_t
        if model_t is None:
            # Regularised: unconstrained boosting overfits probabilities toward 0 and 1,
            # which inflates inverse weights (the standard error roughly halves with this).
            model_t = HistGradientBoostingClassifier(
                max_leaf_nodes=8, min_samples_leaf=40, learning_rate=0.05, max_iter=100)
        return model_y, model_t

    def fit(self, X, y, *, treatment, sample_weight=None, groups=None):
        """Cross-fit the nuisances and compute the AIPW estimate.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
            Covariates that make the treatment ignorable.
        y : array-like of shape (n,)
            Outcome.
        treatment : array-like of shape (n,)
            Binary 0/1 treatment.
        sample_weight : array-like of shape (n,), optional
            Unit weights (survey or frequency weights).
        groups : array-like of shape (n,), optional
            Cluster labels: folds keep clusters whole and the standard error is
            cluster-robust.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, sample_weight=sample_weight, groups=groups)
        if self.trimming not in ("clip", "drop"):
            raise ValueError(f"`trimming` must be 'clip' or 'drop'; got {self.trimming!r}.")
        thr = check_fraction(self.trimming_threshold, "trimming_threshold", low=0.0, high=0.5)
        Xa, names = check_X(X, "X")
        n = Xa.shape[0]
        yv = check_vector(y, "y")
        t = check_binary(treatment, "treatment")
        check_consistent_length(X=Xa, y=yv, treatment=t)
        sw = check_weights(sample_weight, "sample_weight", n=n)
        codes = check_groups(groups, "groups", n=n)
        model_y, model_t = self._models()
        if not hasattr(model_t, "predict_proba"):
            raise TypeError(
                f"`model_t` must be a classifier with predict_proba; got {type(model_t).__name__}."
            )
        for arm in (0, 1):
            if (t == arm).sum() < 2 * (self.cv if isinstance(self.cv, int) else 2):
                raise ValueError(
                    f"`treatment` has only {(t == arm).sum()} unit(s) in arm {arm}; cross-fitting "
                    f"with cv={self.cv} needs more. Lower `cv` or collect more data."
                )

        res = crossfit(
            {
                "mu0": Nuisance(model_y, yv, fit_mask=t == 0),
                "mu1": Nuisance(model_y, yv, fit_mask=t == 1),
                "propensity": Nuisance(model_t, t, method="predict_proba"),
            },
            Xa,
            cv=self.cv,
            stratify=t if codes is None else None,
            groups=codes,
            sample_weight=sw,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            keep_models=False,
        )
        mu0, mu1, e = res["mu0"], res["mu1"], res["propensity"]
        n_outside = warn_positivity(e, max(thr, 1e-12))
        keep = np.ones(n, dtype=bool)
        if self.trimming == "drop" and thr > 0:
            keep = (e >= thr) & (e <= 1 - thr)
            if keep.sum() < 2:
                raise ValueError("Trimming dropped (almost) every unit; lower `trimming_threshold`.")
        e_used = np.clip(e, thr, 1 - thr) if thr > 0 else e
        psi = mu1 - mu0 + t * (yv - mu1) / e_used - (1 - t) * (yv - mu0) / (1 - e_used)

        w = None if sw is None else sw[keep]
        g = None if codes is None else np.unique(codes[keep], return_inverse=True)[1]
        theta, se = influence_mean(psi[keep], w, g)
        folds = len(res.folds)
        method = f"AIPW, {folds}-fold cross-fitted, influence-function SE"
        if codes is not None:
            method += f" clustered on {int(codes.max()) + 1} groups"
        if self.trimming == "drop" and (~keep).any():
            method += f"; ATE of the overlap population ({int((~keep).sum())} units dropped)"
        self.effect_ = Estimate(theta, se, n=int(keep.sum()), method=method, name="ATE")
        self.scores_ = np.where(keep, psi, np.nan)
        self.nuisances_ = {"mu0": mu0, "mu1": mu1, "propensity": e}
        ipw = np.where(t == 1, 1 / e_used, 1 / (1 - e_used))
        ess = {arm: float(ipw[t == arm].sum() ** 2 / (ipw[t == arm] ** 2).sum()) for arm in (0, 1)}
        self.diagnostics_ = {
            "propensity_min": float(e.min()),
            "propensity_max": float(e.max()),
            "n_outside_threshold": n_outside,
            "n_dropped": int((~keep).sum()),
            "effective_sample_size_treated": ess[1],
            "effective_sample_size_control": ess[0],
        }
        # Private copies for causalkit.sensitivity, which reads them and never refits:
        # outcome, treatment, the propensities as used in the score, the folds.
        fold_id = np.full(n, -1, dtype=np.int32)
        for k, (_, te) in enumerate(res.folds):
            fold_id[te] = k
        self._score_parts_ = {
            "y": yv.copy(), "treatment": t.copy(), "mu0": mu0, "mu1": mu1, "propensity": e_used,
            "keep": keep, "sample_weight": None if sw is None else sw.copy(),
            "groups": None if codes is None else codes.copy(),
            "fold_id": fold_id,
        }
        self.n_features_in_ = Xa.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        return self

    def ate(self) -> Estimate:
        """The average treatment effect as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "effect_")
        return self.effect_
