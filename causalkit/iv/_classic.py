"""Instrumental-variable estimates that assume the exclusion restriction.

Two-stage least squares and the cross-fitted doubly robust Wald ratio (DML-IV,
the local average treatment effect), kept beside :class:`InvalidIV` so that a
user can see how much the exclusion assumption moves the answer.
"""

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
    check_vector,
    check_X,
    warn_positivity,
)

__all__ = ["TSLS", "DMLIV", "tsls"]


def tsls(X, y, treatment, instrument) -> Estimate:
    r"""Two-stage least squares of ``y`` on ``treatment`` with ``X`` as controls.

    Instruments :math:`(1, Z, X)` for regressors :math:`(1, A, X)`; heteroscedasticity-
    robust (HC0) sandwich standard error. Consistent for the effect only under the
    exclusion restriction (and a constant effect, or it targets a weighted LATE).
    """
    Xa = np.asarray(X, dtype=float).reshape(len(y), -1)
    n = Xa.shape[0]
    R = np.c_[np.ones(n), treatment, Xa]
    Q = np.c_[np.ones(n), instrument, Xa]
    QtQ_inv = np.linalg.pinv(Q.T @ Q)
    Rhat = Q @ (QtQ_inv @ (Q.T @ R))
    A = Rhat.T @ R
    coef = np.linalg.solve(A, Rhat.T @ y)
    u = y - R @ coef
    Ainv = np.linalg.inv(A)
    meat = (Rhat * u[:, None] ** 2).T @ Rhat
    V = Ainv @ meat @ Ainv.T
    return Estimate(float(coef[1]), float(np.sqrt(V[1, 1])), n=n,
                    method="2SLS with covariates as controls, HC0 SE (assumes exclusion)",
                    name="2SLS")


def _late_scores(z, a, y, pi, ma0, ma1, my0, my1) -> Estimate:
    """Doubly robust Wald ratio (LATE) with its influence-function SE."""
    num = my1 - my0 + z * (y - my1) / pi - (1 - z) * (y - my0) / (1 - pi)
    den = ma1 - ma0 + z * (a - ma1) / pi - (1 - z) * (a - ma0) / (1 - pi)
    d = den.mean()
    theta = num.mean() / d
    infl = (num - theta * den) / d
    se = float(infl.std(ddof=1) / np.sqrt(infl.size))
    return Estimate(float(theta), se, n=int(z.size),
                    method="DML-IV doubly robust Wald ratio, influence-function SE (assumes exclusion)",
                    name="LATE (DML-IV)")


def _validate(X, y, treatment, instrument):
    Xa, names = check_X(X, "X")
    yv = check_vector(y, "y")
    a = check_binary(treatment, "treatment").astype(float)
    z = check_binary(instrument, "instrument").astype(float)
    check_consistent_length(X=Xa, y=yv, treatment=a, instrument=z)
    return Xa, names, yv, a, z


class TSLS(BaseEstimator):
    """Two-stage least squares with covariates as controls (assumes exclusion).

    ``fit(X, y, *, treatment, instrument)``; :meth:`effect` returns the
    coefficient of the treatment with an HC0 standard error.

    Examples
    --------
    >>> from causalkit.iv import TSLS
    >>> from causalkit.datasets import make_invalid_iv_data
    >>> d = make_invalid_iv_data(20000, direct_effect=0.0, random_state=0)
    >>> est = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    >>> bool(abs(est.effect().value - 1.0) < 4 * est.effect().stderr)
    True
    """

    def __init__(self):
        pass

    def fit(self, X, y, *, treatment, instrument):
        """Fit the two stages; return self."""
        check_aligned(X=X, y=y, treatment=treatment, instrument=instrument)
        Xa, names, yv, a, z = _validate(X, y, treatment, instrument)
        self.effect_ = tsls(Xa, yv, a, z)
        self.n_features_in_ = Xa.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        return self

    def effect(self) -> Estimate:
        """The treatment coefficient as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "effect_")
        return self.effect_


class DMLIV(BaseEstimator):
    r"""Local average treatment effect by the cross-fitted doubly robust Wald ratio.

    .. math::

        \hat\theta = \frac{\sum_i \hat\mu_Y(1, X_i) - \hat\mu_Y(0, X_i)
            + \frac{Z_i (Y_i - \hat\mu_Y(1, X_i))}{\hat\pi(X_i)}
            - \frac{(1 - Z_i)(Y_i - \hat\mu_Y(0, X_i))}{1 - \hat\pi(X_i)}}
            {\sum_i \text{the same with } A \text{ in place of } Y},

    the interactive IV model score of Chernozhukov et al. (2018, Section 5.2).
    Valid under exclusion, independence and monotonicity; it estimates the
    complier effect, not the population ATE.

    Parameters
    ----------
    model_y : regressor, optional
        :math:`E[Y \mid Z, X]` per instrument arm. Default HistGradientBoostingRegressor.
    model_t : classifier, optional
        :math:`E[A \mid Z, X]` per instrument arm. Default regularised HistGradientBoostingClassifier.
    model_z : classifier, optional
        :math:`P(Z = 1 \mid X)`. Default regularised HistGradientBoostingClassifier.
    cv : int or splitter, default 5
    trimming_threshold : float in [0, 0.5), default 0.01
    n_jobs : int or None, default None
    random_state : int or None, default None

    References
    ----------
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. The Econometrics Journal 21(1).
    Tan, Z. (2006). Regression and weighting methods for causal inference using
    instrumental variables. JASA 101(476).

    Examples
    --------
    >>> from causalkit.iv import DMLIV
    >>> from causalkit.datasets import make_invalid_iv_data
    >>> d = make_invalid_iv_data(4000, random_state=0)
    >>> est = DMLIV(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    >>> est.late().value > 1.5   # biased by the direct effect of the instrument
    True
    """

    def __init__(self, model_y=None, model_t=None, model_z=None, *, cv=5,
                 trimming_threshold=0.01, n_jobs=None, random_state=None):
        self.model_y = model_y
        self.model_t = model_t
        self.model_z = model_z
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y, *, treatment, instrument):
        """Cross-fit the nuisances and compute the ratio; return self."""
        check_aligned(X=X, y=y, treatment=treatment, instrument=instrument)
        thr = check_fraction(self.trimming_threshold, "trimming_threshold", low=0.0, high=0.5)
        Xa, names, yv, a, z = _validate(X, y, treatment, instrument)

        def clf():
            return HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=40,
                                                  learning_rate=0.05, max_iter=100)

        my = self.model_y if self.model_y is not None else HistGradientBoostingRegressor()
        mt = self.model_t if self.model_t is not None else clf()
        mz = self.model_z if self.model_z is not None else clf()
        res = crossfit({
            "y0": Nuisance(my, yv, fit_mask=z == 0), "y1": Nuisance(my, yv, fit_mask=z == 1),
            "a0": Nuisance(mt, a, fit_mask=z == 0), "a1": Nuisance(mt, a, fit_mask=z == 1),
            "z": Nuisance(mz, z, method="predict_proba"),
        }, Xa, cv=self.cv, stratify=(2 * z + a).astype(int), n_jobs=self.n_jobs,
            random_state=self.random_state, keep_models=False)
        pi = res["z"]
        warn_positivity(pi, max(thr, 1e-12), name="instrument propensity")
        pi = np.clip(pi, thr, 1 - thr) if thr > 0 else pi
        self.effect_ = _late_scores(z, a, yv, pi, res["a0"], res["a1"], res["y0"], res["y1"])
        self.n_features_in_ = Xa.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        return self

    def late(self) -> Estimate:
        """The local average treatment effect as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "effect_")
        return self.effect_
