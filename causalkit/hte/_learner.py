"""Weighted pseudo-outcome regression for the CATE, with the R-learner as one named point."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, _accepts_sample_weight, crossfit
from ..inference import Diagnostics, EffectCurve, Estimate, EstimateTable, bootstrap
from ..utils._param_validation import (
    CV,
    ESTIMATOR,
    N_JOBS,
    REGRESSOR,
    SEED,
    HasMethods,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    check_aligned,
    check_binary,
    check_consistent_length,
    check_feature_names,
    check_groups,
    check_treatment,
    check_vector,
    check_weights,
    check_X,
    store_feature_names,
    warn_positivity,
)
from ._inference import wls_normal_equations, wls_sandwich

__all__ = ["RLearner", "WeightedPseudoOutcomeLearner"]

PSEUDO_OUTCOMES = ("dr", "u", "cov", "plugin")
WEIGHTS = ("one", "ivw_x", "ivw_ax", "dr_alt_ax")
_MIN_RESIDUAL = 1e-12


def _is_plain_ols(model):
    """A LinearRegression whose weighted fit is plain weighted least squares."""
    return type(model) is LinearRegression and not model.get_params().get("positive", False)


def _fitted_linear(model, fit):
    """A clone of ``model`` (a LinearRegression) carrying a weighted least-squares fit."""
    out = clone(model)
    out.coef_ = fit["coef"]
    out.intercept_ = fit["intercept"]
    out.rank_ = int(fit["coef"].shape[0])
    out.singular_ = fit["singular"]
    out.n_features_in_ = int(fit["coef"].shape[0])
    return out


def _influence_mean(psi, w, groups):
    """Weighted mean of scores with its influence-function (cluster-robust) standard error."""
    coef, cov = wls_sandwich(np.ones((psi.shape[0], 1)), psi, w, groups)
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


def _seeded(model, random_state, salt: int):
    """A clone of ``model`` whose unset ``random_state`` parameters get a fixed seed."""
    m = clone(model)
    if random_state is None:
        return m
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max - salt)) + salt
    params = m.get_params(deep=True)
    updates = {k: seed for k, v in params.items()
               if (k == "random_state" or k.endswith("__random_state")) and v is None}
    return m.set_params(**updates) if updates else m


def pseudo_outcome(kind, y, t, e, *, m=None, mu0=None, mu1=None):
    """The pseudo-outcome ``phi`` with ``E[phi | X] = tau(X)`` at the true nuisances.

    Fisher (2024, Section 2): DR (AIPW), U (``(Y - m) / (A - e)``), Cov
    (``(Y - m)(A - e) / (e (1 - e))``) and the plug-in ``mu1 - mu0``.
    """
    if kind in ("dr", "plugin"):
        if kind == "plugin":
            return mu1 - mu0
        return mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    resid_t = t - e
    if kind == "u":
        safe = np.where(resid_t >= 0, 1.0, -1.0) * np.maximum(np.abs(resid_t), _MIN_RESIDUAL)
        return (y - m) / safe
    return (y - m) * resid_t / (e * (1 - e))


def pseudo_weights(kind, pseudo, t, e):
    """Regression weights of Fisher (2024, Section 3): one, or inverse-variance weights.

    With ``k = 1 - e``: ``"ivw_x"`` is ``e k`` for DR, Cov and plug-in and
    ``(e k)^2 / (e^3 + k^3)`` for U (inverse of ``Var(phi | X)`` under
    homoskedastic noise); ``"ivw_ax"`` is ``A e^2 + (1 - A) k^2`` for DR, Cov and
    plug-in and ``(A - e)^2`` for U (inverse of ``Var(phi | A, X)``);
    ``"dr_alt_ax"`` is ``A e + (1 - A) k``. For a continuous treatment only
    ``"one"`` and ``"ivw_ax"`` (``(T - E[T|X])^2``) exist.
    """
    if kind == "one":
        return np.ones_like(e)
    k = 1 - e
    if kind == "ivw_x":
        return (e * k) ** 2 / (e**3 + k**3) if pseudo == "u" else e * k
    if kind == "ivw_ax":
        return (t - e) ** 2 if pseudo == "u" else t * e**2 + (1 - t) * k**2
    return t * e + (1 - t) * k


class _PseudoOutcomeBase(BaseEstimator):
    """Shared fit/predict/inference of every weighted pseudo-outcome learner."""

    # ------------------------------------------------------------------ configuration
    def _spec(self):
        return self.pseudo, self.weights, self.dr_outcome

    _parameter_constraints: dict = {
        "model_y": [REGRESSOR, None],
        "model_t": [ESTIMATOR, None],
        "model_final": [REGRESSOR, None],
        "featurizer": [HasMethods(["fit", "transform"]), None],
        "treatment_kind": [StrOptions({"auto", "binary", "continuous"})],
        "cv": CV,
        "trimming_threshold": [Interval(Real, 0, 0.5, closed="left")],
        "crossfit_final": ["boolean"],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def _treatment(self, treatment, pseudo, weights, n):
        kind = self.treatment_kind
        if kind == "auto":
            raw = check_vector(treatment, "treatment", dtype=None, n=n)
            if raw.dtype != bool:  # the library's coding rule: two values must be 0/1
                check_treatment(raw, "treatment", binary=False, n=n)
            binary_values = raw.dtype == bool or np.all(np.isin(np.unique(raw), (0, 1)))
            kind = "binary" if (binary_values or pseudo != "u") else "continuous"
        if kind == "binary":
            return check_binary(treatment, "treatment", n=n).astype(float), False
        if pseudo != "u":
            raise ValueError(
                f"`treatment` must be binary for the '{pseudo}' pseudo-outcome; a continuous "
                "treatment needs pseudo='u' (the R-learner). Recode it or change `pseudo`.")
        if weights not in ("one", "ivw_ax"):
            raise ValueError(
                f"`weights`={weights!r} needs a binary treatment (it uses a propensity); with a "
                "continuous treatment use 'ivw_ax' (the R-learner) or 'one'.")
        return check_vector(treatment, "treatment", n=n), True

    def _models(self, continuous):
        model_y = self.model_y if self.model_y is not None else HistGradientBoostingRegressor()
        if self.model_t is not None:
            model_t = self.model_t
        elif continuous:
            model_t = HistGradientBoostingRegressor()
        else:  # regularised, as AIPW's: unconstrained boosting overfits the propensities
            model_t = HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=40,
                                                     learning_rate=0.05, max_iter=100)
        model_final = (self.model_final if self.model_final is not None
                       else HistGradientBoostingRegressor(max_depth=3, learning_rate=0.05,
                                                         min_samples_leaf=50, max_iter=100))
        if continuous and is_classifier(model_t):
            raise TypeError(
                f"`model_t` must be a regressor of E[T|X] for a continuous treatment; got the "
                f"classifier {type(model_t).__name__}.")
        if not continuous and not hasattr(model_t, "predict_proba"):
            raise TypeError(
                f"`model_t` must be a classifier with predict_proba for a binary treatment; got "
                f"{type(model_t).__name__}. Use e.g. LogisticRegression or "
                "HistGradientBoostingClassifier.")
        ok, key = _accepts_sample_weight(model_final)
        if not ok:
            raise TypeError(
                f"`model_final` must accept `sample_weight` in fit (the weights are the point "
                f"of the method); {type(model_final).__name__} does not. Use a regressor such "
                "as LinearRegression, Ridge or HistGradientBoostingRegressor.")
        return model_y, model_t, model_final, key

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, treatment, sample_weight=None, groups=None):
        """Cross-fit the nuisances, build the pseudo-outcome and fit the weighted final model.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
            Covariates: confounders and effect modifiers.
        y : array-like of shape (n,)
            Outcome.
        treatment : array-like of shape (n,)
            0/1 treatment, or a continuous dose (``pseudo="u"`` only).
        sample_weight : array-like of shape (n,), optional
            Unit weights; they multiply the method's regression weights.
        groups : array-like of shape (n,), optional
            Cluster labels: folds keep clusters whole, standard errors are
            cluster-robust, and the intervals of the ATE, :meth:`coef_table`, :meth:`blp`
            and :meth:`group_effects`, and the pointwise intervals of
            :meth:`cate_inference` (sandwich), use t(G - 1) critical values for G clusters.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, sample_weight=sample_weight, groups=groups)
        pseudo, weights, dr_outcome = self._spec()
        thr = float(self.trimming_threshold)
        Xa, names = check_X(X, "X")
        n = Xa.shape[0]
        yv = check_vector(y, "y")
        check_consistent_length(X=Xa, y=yv, treatment=np.atleast_1d(np.asarray(treatment)))
        t, continuous = self._treatment(treatment, pseudo, weights, n)
        sw = check_weights(sample_weight, "sample_weight", n=n)
        codes = check_groups(groups, "groups", n=n)
        model_y, model_t, model_final, sw_key = self._models(continuous)
        n_folds = self.cv if isinstance(self.cv, (int, np.integer)) else 2
        if not continuous:
            for arm in (0, 1):
                if (t == arm).sum() < 2 * n_folds:
                    raise ValueError(
                        f"`treatment` has only {int((t == arm).sum())} unit(s) in arm {arm}; "
                        f"cross-fitting with cv={self.cv} needs more. Lower `cv` or collect more data.")
        elif n < 4 * n_folds:
            raise ValueError(f"`X` has only {n} rows; cross-fitting with cv={self.cv} needs more.")

        # 1. cross-fitted nuisances (one pass over X per model; no copies of X made here)
        nuis = {"t": Nuisance(model_t, t.astype(int) if not continuous else t,
                              method="predict" if continuous else "predict_proba")}
        Xaug = None
        if pseudo in ("u", "cov"):
            nuis["y"] = Nuisance(model_y, yv)
        elif dr_outcome == "separate":
            nuis["mu0"] = Nuisance(model_y, yv, fit_mask=t == 0)
            nuis["mu1"] = Nuisance(model_y, yv, fit_mask=t == 1)
        else:  # one outcome model of Y on (X, A), predicted at A=1 and A=0
            Xaug = np.column_stack([Xa, t])
            nuis["mu"] = Nuisance(model_y, yv, X=Xaug, predict_on={
                "1": np.column_stack([Xa, np.ones(n)]), "0": np.column_stack([Xa, np.zeros(n)])})
        # a DataFrame reaches the nuisance models as one (column names kept, e.g. for a
        # ColumnTransformer that selects by name); the final stage uses the numbers Xa
        Xn = X if names is not None else Xa
        res = crossfit(nuis, Xn, cv=self.cv, stratify=None if (continuous or codes is not None) else t,
                       groups=codes, sample_weight=sw, n_jobs=self.n_jobs,
                       random_state=self.random_state, keep_models=True)
        del Xaug
        e_raw = res["t"]
        nuisances = {"treatment" if continuous else "propensity": e_raw}
        n_clipped = 0
        if continuous:
            e = e_raw
        else:
            n_clipped = warn_positivity(e_raw, max(thr, 1e-12))
            e = np.clip(e_raw, thr, 1 - thr) if thr > 0 else e_raw
        if pseudo in ("u", "cov"):
            m = res["y"]
            mu0 = mu1 = None
            nuisances["y"] = m
        else:
            mu0, mu1 = (res["mu0"], res["mu1"]) if dr_outcome == "separate" else (res["mu@0"], res["mu@1"])
            m = mu0 + e * (mu1 - mu0)
            nuisances.update(mu0=mu0, mu1=mu1)

        # 2. pseudo-outcome and weights (Fisher 2024, eqs. for phi and w)
        phi = pseudo_outcome(pseudo, yv, t, e, m=m, mu0=mu0, mu1=mu1)
        w = pseudo_weights(weights, pseudo, t, e)
        w_fit = w if sw is None else w * sw

        # 3. weighted final regression (over featurized X when a featurizer is given)
        Xf = X if names is not None else Xa      # a featurizer sees DataFrame columns by name
        self.featurizer_ = None if self.featurizer is None else clone(self.featurizer).fit(Xf)
        Z = Xa if self.featurizer_ is None else self.featurizer_.transform(Xf)
        fast = None
        if _is_plain_ols(model_final) and isinstance(Z, np.ndarray):
            # Weighted least squares from normal equations in one pass over Z, the
            # cross-fitted final model included (exact; None when ill-conditioned).
            fast = wls_normal_equations(Z, phi, w_fit, res.folds if self.crossfit_final else None,
                                        fit_intercept=model_final.fit_intercept)
        if fast is not None:
            self.final_model_ = _fitted_linear(model_final, fast)
        else:
            self.final_model_ = _seeded(model_final, self.random_state, 1).fit(
                Z, phi, **{sw_key: w_fit})

        tau_oof = None if fast is None else fast["oof"]
        self._final_stage = None
        if fast is None:
            # A final model fitted by its own solver: keep a copy of its design (the
            # caller's X may change after fit) for the out-of-fold fits, made on the
            # first call that needs them (blp, group_effects, cate_oof_, the ATE of the U
            # and Cov pseudo-outcomes), and for bootstrap CATE intervals.
            Zc = np.array(Z, dtype=float, copy=True) if Z is Xa else np.asarray(Z, dtype=float)
            self._final_stage = {"Z": Zc, "w_fit": w_fit, "model_final": model_final,
                                 "sw_key": sw_key, "n_jobs": self.n_jobs,
                                 "random_state": self.random_state}
        pending = self.crossfit_final and tau_oof is None

        # 4. scores of the average effect
        resid_y = yv - m
        resid_t = t - e
        self._ate_parts = None
        if continuous:
            coef, cov = wls_sandwich(resid_t, resid_y, sw, codes)
            self._effect = Estimate(
                coef[0], np.sqrt(cov[0, 0]), n=n, name="variance-weighted ATE",
                dof=_cluster_dof(codes),
                method=(f"R-learner, {len(res.folds)}-fold cross-fitted: sum (T-E[T|X])(Y-E[Y|X]) / "
                        "sum (T-E[T|X])^2, a Var(T|X)-weighted average effect, HC0 SE"))
            self._scores = None
        elif pseudo in ("dr", "plugin"):
            psi = mu1 - mu0 + t * (yv - mu1) / e - (1 - t) * (yv - mu0) / (1 - e)
            self._scores = psi
            self._effect = self._ate_from_scores(psi, "cross-fitted outcome models",
                                                 len(res.folds), sw, codes, n)
        else:
            # psi = tau + (A - e) / (e (1 - e)) ((Y - m) - (A - e) tau): needs the CATE,
            # out-of-fold when the final model is cross-fitted (computed when first asked for)
            self._ate_parts = (resid_t / (e * (1 - e)), len(res.folds), n)
            self._scores = self._effect = None
        self._cate_oof = tau_oof
        self._pending_oof = pending
        self._resid = (resid_y, resid_t)
        self._sw = sw
        self._groups = codes
        if self._ate_parts is not None and not pending:
            if tau_oof is None:  # crossfit_final=False: the in-sample CATE
                self._finish_ate(np.asarray(self.final_model_.predict(Z), dtype=float), "in-sample")
            else:
                self._finish_ate(tau_oof, "out-of-fold")

        # 5. what inference and scoring need later (vectors of length n only)
        self.continuous_treatment_ = continuous
        self.pseudo_outcome_ = phi
        self.weights_ = w
        self.nuisances_ = nuisances
        self.nuisance_models_ = res.models
        self.folds_ = res.folds
        if not continuous:
            # Private copies for causalkit.sensitivity (it never refits): the pieces of the
            # AIPW score. For the U/Cov pseudo-outcomes the arm means are implied by E[Y|X]
            # and the CATE the ATE uses, so they are completed on first access.
            fold_id = np.full(n, -1, dtype=np.int32)
            for k, (_, te) in enumerate(res.folds):
                fold_id[te] = k
            self._score_base = {
                "y": yv.copy(), "treatment": t.copy(), "mu0": mu0, "mu1": mu1, "m": m,
                "propensity": e, "keep": np.ones(n, dtype=bool),
                "sample_weight": None if sw is None else sw.copy(),
                "groups": None if codes is None else codes.copy(), "fold_id": fold_id,
            }
        else:
            self._score_base = None
        self.coef_table_ = None
        self._final_intercept = bool(getattr(model_final, "fit_intercept", True))
        if isinstance(model_final, LinearRegression):
            self.coef_table_ = self._coef_table(Xa, Xf, names, phi, w_fit, codes,
                                                model_final.fit_intercept)
        ess = float(w_fit.sum() ** 2 / (w_fit**2).sum())
        self.diagnostics_ = Diagnostics({
            "n_folds": len(res.folds),
            "effective_sample_size_final": ess,
            "pseudo_outcome_sd": float(np.std(phi)),
        })
        if not continuous:
            self.diagnostics_.update(propensity_min=float(e_raw.min()), propensity_max=float(e_raw.max()),
                                     n_clipped=int(n_clipped))
        self.n_features_in_ = Xa.shape[1]
        store_feature_names(self, names)
        return self

    @property
    def _score_parts_(self):
        """The AIPW score's pieces for causalkit.sensitivity (binary treatments only)."""
        base = self.__dict__.get("_score_base")
        if base is None:
            raise AttributeError("_score_parts_")
        parts = dict(base)
        m = parts.pop("m")
        if parts["mu0"] is None:
            self.ate()  # makes the CATE the ATE uses (out-of-fold fits on first need)
            tau, e = self._ate_tau, parts["propensity"]
            parts["mu0"], parts["mu1"] = m - e * tau, m + (1 - e) * tau
        return parts

    # ------------------------------------------------------------------ lazy out-of-fold fits
    @staticmethod
    def _ate_from_scores(psi, how, n_folds, sw, codes, n):
        theta, se = _influence_mean(psi, sw, codes)
        method = f"AIPW score, {n_folds}-fold cross-fitted ({how}), influence-function SE"
        if codes is not None:
            method += f" clustered on {int(codes.max()) + 1} groups, t(G - 1) critical values"
        return Estimate(theta, se, n=n, method=method, name="ATE", dof=_cluster_dof(codes))

    def _finish_ate(self, tau, src):
        """The AIPW score of the U and Cov pseudo-outcomes from a CATE vector ``tau``."""
        a, n_folds, n = self._ate_parts
        resid_y, resid_t = self._resid
        psi = tau + a * (resid_y - resid_t * tau)
        self._ate_tau = np.asarray(tau, dtype=float).copy()
        self._scores = psi
        self._effect = self._ate_from_scores(
            psi, f"outcome models from E[Y|X] and the {src} CATE", n_folds, self._sw,
            self._groups, n)

    def _ensure_oof(self):
        """Make the out-of-fold final fits once, on first need, and cache them."""
        if not self.__dict__.get("_pending_oof"):
            return
        st = self._final_stage
        rf = crossfit({"final": Nuisance(st["model_final"], self.pseudo_outcome_,
                                         fit_params={st["sw_key"]: st["w_fit"]})},
                      st["Z"], folds=self.folds_, n_jobs=st["n_jobs"],
                      random_state=st["random_state"], keep_models=False)
        self._cate_oof = rf["final"]
        self._pending_oof = False
        if self._ate_parts is not None:
            self._finish_ate(self._cate_oof, "out-of-fold")

    def _fitted_attr(self, name):
        if "final_model_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} before fit.")
        self._ensure_oof()

    @property
    def cate_oof_(self):
        """Out-of-fold CATE predictions (``None`` with ``crossfit_final=False``).

        With a final model other than a plain ``LinearRegression`` the fold fits are
        made on first access and cached.
        """
        self._fitted_attr("cate_oof_")
        return self._cate_oof

    @property
    def scores_(self):
        """AIPW scores of the ATE (binary treatment), ``None`` for a continuous one."""
        if "final_model_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no attribute 'scores_' before fit.")
        if self._scores is None and self._ate_parts is not None:
            self._ensure_oof()
        return self._scores

    @property
    def effect_(self):
        """The ATE (as :meth:`ate` returns it)."""
        if "final_model_" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} has no attribute 'effect_' before fit.")
        if self._effect is None:
            self._ensure_oof()
        return self._effect

    # ------------------------------------------------------------------ predictions
    def _features(self, X, with_frame=False):
        check_is_fitted(self, "final_model_")
        check_feature_names(self, X)
        Xa, names = check_X(X, "X")
        if Xa.shape[1] != self.n_features_in_:
            raise ValueError(f"`X` has {Xa.shape[1]} features, but the learner was fitted with "
                             f"{self.n_features_in_}; pass the same columns.")
        if with_frame:
            return Xa, (X if names is not None else Xa)
        return Xa

    def predict(self, X) -> np.ndarray:
        """The estimated CATE ``tau(x)`` at each row of ``X``."""
        Xa, Xf = self._features(X, with_frame=True)
        Z = Xa if self.featurizer_ is None else self.featurizer_.transform(Xf)
        return np.asarray(self.final_model_.predict(Z), dtype=float)

    def cate(self, X) -> np.ndarray:
        """Same as :meth:`predict`: the estimated conditional average treatment effect."""
        return self.predict(X)

    def ate(self) -> Estimate:
        """The average treatment effect with its influence-function standard error.

        For a binary treatment this is the mean of the AIPW score on the
        cross-fitted nuisances. For a continuous treatment it is the partially
        linear coefficient, a ``Var(T|X)``-weighted average of ``tau(X)``.
        """
        check_is_fitted(self, "final_model_")
        return self.effect_

    # ------------------------------------------------------------------ R-loss
    def _nuisance_predict(self, name, X, method):
        preds = [np.asarray(method(mdl, X), dtype=float) for mdl in self.nuisance_models_[name]]
        return np.mean(preds, axis=0)

    def score(self, X, y, *, treatment, sample_weight=None, reference=None) -> float:
        """Minus the R-loss of the fitted CATE on ``(X, y, treatment)`` (larger is better).

        ``-sum_i s_i ((Y_i - m(X_i)) - (T_i - e(X_i)) tau(X_i))^2 / sum_i s_i``
        (Nie and Wager, 2021, eq. 4), with ``m`` and ``e`` the average of the fold
        nuisance models. Held-out data give an honest score for choosing the final
        model, e.g. in :class:`~sklearn.model_selection.GridSearchCV` with
        ``learner.set_score_request(treatment=True)`` under metadata routing.

        The R-loss depends on the nuisances as well as on ``tau``: scores of learners
        whose ``m`` and ``e`` differ (other nuisance models, or ``random_state=None``
        so that folds and seeds differ) mix the quality of the nuisances with that of
        the CATE and do not rank CATEs. Candidates that differ only in the final
        model (or the featurizer) and share an integer ``random_state`` fit identical
        nuisances on the same rows, so a grid search over the final model compares
        like with like. To compare learners with different nuisances, pass
        ``reference``: a fitted learner (of this class, fitted on the same kind of
        treatment and features) whose nuisance models supply ``m`` and ``e`` for
        every candidate, so that only ``tau`` differs. Choose the nuisance models by
        their own prediction losses first (Nie and Wager, 2021, Section 3).
        """
        src = self if reference is None else reference
        if reference is not None:
            check_is_fitted(reference, "final_model_")
            if not isinstance(reference, _PseudoOutcomeBase) or \
                    reference.continuous_treatment_ != self.continuous_treatment_ or \
                    reference.n_features_in_ != self.n_features_in_:
                raise ValueError("`reference` must be a fitted learner with the same kind of "
                                 "treatment and the same features as this one.")
        Xa, Xf = self._features(X, with_frame=True)
        yv = check_vector(y, "y", n=Xa.shape[0])
        if self.continuous_treatment_:
            t = check_vector(treatment, "treatment", n=Xa.shape[0])
            e = src._nuisance_predict("t", Xf, lambda mdl, Z: mdl.predict(Z))
        else:
            t = check_binary(treatment, "treatment", n=Xa.shape[0]).astype(float)
            e = src._nuisance_predict("t", Xf, lambda mdl, Z: mdl.predict_proba(Z)[:, -1])
            thr = src.trimming_threshold
            e = np.clip(e, thr, 1 - thr) if thr > 0 else e
        sw = check_weights(sample_weight, "sample_weight", n=Xa.shape[0])
        if "y" in src.nuisance_models_:
            m = src._nuisance_predict("y", Xf, lambda mdl, Z: mdl.predict(Z))
        elif "mu0" in src.nuisance_models_:
            mu0 = src._nuisance_predict("mu0", Xf, lambda mdl, Z: mdl.predict(Z))
            mu1 = src._nuisance_predict("mu1", Xf, lambda mdl, Z: mdl.predict(Z))
            m = mu0 + e * (mu1 - mu0)
        else:
            n = Xa.shape[0]
            mu0 = src._nuisance_predict("mu", np.column_stack([Xa, np.zeros(n)]),
                                        lambda mdl, Z: mdl.predict(Z))
            mu1 = src._nuisance_predict("mu", np.column_stack([Xa, np.ones(n)]),
                                        lambda mdl, Z: mdl.predict(Z))
            m = mu0 + e * (mu1 - mu0)
        loss = ((yv - m) - (t - e) * self.predict(X)) ** 2
        return -float(np.average(loss, weights=sw))

    # ------------------------------------------------------------------ inference on the CATE
    def _coef_table(self, Xa, Xf, names, phi, w_fit, codes, intercept):
        feat = self.featurizer_
        if feat is not None:
            try:
                cols = list(feat.get_feature_names_out(names if names is not None else None))
            except (AttributeError, TypeError, ValueError):  # featurizers without names
                cols = None
        else:
            cols = list(names) if names is not None else None
        n = Xa.shape[0]

        def rows(sl):
            Zb = Xa[sl] if feat is None else feat.transform(
                Xf.iloc[sl] if hasattr(Xf, "iloc") else Xf[sl])
            Zb = np.asarray(Zb, dtype=float)
            return np.column_stack([np.ones(Zb.shape[0]), Zb]) if intercept else Zb

        coef, cov = wls_sandwich(rows, phi, w_fit, codes, hc1=True)
        k = coef.shape[0] - int(intercept)
        cols = cols if cols is not None and len(cols) == k else [f"x{j}" for j in range(k)]
        labels = (["intercept"] if intercept else []) + [str(c) for c in cols]
        se = np.sqrt(np.diag(cov))
        method = "weighted least squares of the pseudo-outcome, HC1 sandwich SE"
        if codes is not None:
            method = "weighted least squares of the pseudo-outcome, cluster-robust sandwich SE"
        dof = _cluster_dof(codes)
        if dof is not None:
            method += ", t(G - 1) critical values"
        ests = tuple(Estimate(c, s, n=n, method=method, name=lab, dof=dof)
                     for c, s, lab in zip(coef, se, labels))
        return EstimateTable(ests, cov=cov, title="CATE coefficients")

    def coef_table(self) -> EstimateTable:
        """Coefficients of a linear final model with sandwich standard errors.

        ``tau(x) = b0 + z(x)' b`` where ``z`` is the featurizer's output (or ``x``);
        the covariance is the heteroskedasticity-robust (HC1) sandwich of the weighted
        least-squares fit of the pseudo-outcome (White, 1980), cluster-robust when
        ``groups`` were given (then with t(G - 1) critical values); nuisance estimation
        error is negligible to first order because the loss is Neyman-orthogonal
        (Chernozhukov et al., 2018). Needs ``model_final`` to be a
        :class:`~sklearn.linear_model.LinearRegression`.
        """
        check_is_fitted(self, "final_model_")
        if self.coef_table_ is None:
            raise TypeError(
                "coef_table() needs `model_final` to be a LinearRegression (optionally with a "
                "`featurizer`); for other final models use blp() or group_effects().")
        return self.coef_table_

    # ------------------------------------------------------------------ CATE intervals at new X
    def cate_inference(self, X, *, method="auto", n_boot=200, random_state=None,
                       n_jobs=None) -> EffectCurve:
        """The CATE at each row of ``X`` with standard errors, for pointwise and joint intervals.

        The result is an :class:`~causalkit.inference.EffectCurve` over the rows asked
        (``grid`` is the row number): ``conf_int(alpha, "pointwise")`` gives one interval
        per row, ``conf_int(alpha, "uniform")`` intervals that cover the CATE at all the
        rows asked at once (sup-t critical value), and ``method`` says how they were made.

        * ``"sandwich"`` (a ``LinearRegression`` final model; the default for it): with
          ``tau(x) = z(x)' b`` (``z`` = intercept and featurized ``x``),
          ``se(x) = sqrt(z(x)' V z(x))`` with ``V`` the HC1 (or cluster-robust) sandwich
          of :meth:`coef_table`; the joint band uses the Gaussian law of ``z(x)' (b - beta)``
          over the rows (Montiel Olea and Plagborg-Moller, 2019). Valid for the
          projection of the CATE on the final model's features; nuisance error is
          second order because the loss is Neyman-orthogonal (Chernozhukov et al., 2018).
        * ``"bootstrap"`` (any final model; the default for other models): units (whole
          clusters with ``groups``) are resampled ``n_boot`` times and the final model
          is refitted on the resampled out-of-fold pseudo-outcomes and weights; the
          nuisances stay fixed. ``se(x)`` is the standard deviation of the refitted
          CATEs, and the joint band the ``1 - alpha`` quantile of their largest
          studentised deviation over the rows. This is a bootstrap of the final stage,
          conditional on the cross-fitted nuisances: it ignores their estimation error
          (second order for the orthogonal pseudo-outcomes) and, for a regularised or
          tree model, the intervals are centred on the smoothed fit, so they cover its
          target, not necessarily ``tau(x)`` (no bias correction).

        Parameters
        ----------
        X : array-like or DataFrame of shape (m, p)
            Where to estimate the CATE (the same columns as in ``fit``).
        method : {"auto", "sandwich", "bootstrap"}, default "auto"
        n_boot : int, default 200
            Bootstrap replicates (``"bootstrap"`` only).
        random_state : int, Generator or None
            Seeds the bootstrap; ``None`` uses the learner's ``random_state``.
        n_jobs : int or None
            Parallel bootstrap tasks (joblib).

        Returns
        -------
        EffectCurve

        Examples
        --------
        >>> from sklearn.linear_model import LinearRegression, LogisticRegression
        >>> from causalkit.hte import RLearner
        >>> from causalkit.datasets import make_cate_data
        >>> d = make_cate_data(2000, random_state=0)
        >>> est = RLearner(LinearRegression(), LogisticRegression(), LinearRegression(),
        ...                cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
        >>> curve = est.cate_inference(d.X[:5])
        >>> lo, hi = curve.conf_int(0.05, kind="uniform")   # jointly over the 5 rows
        >>> bool((lo < curve.values).all() and (curve.values < hi).all())
        True
        >>> curve.method.split(":")[0]
        'sandwich'
        """
        check_is_fitted(self, "final_model_")
        if method not in ("auto", "sandwich", "bootstrap"):
            raise ValueError(f"`method` must be 'auto', 'sandwich' or 'bootstrap'; got {method!r}.")
        if method == "auto":
            method = "sandwich" if self.coef_table_ is not None else "bootstrap"
        Xa, Xf = self._features(X, with_frame=True)
        Znew = Xa if self.featurizer_ is None else self.featurizer_.transform(Xf)
        Znew = np.asarray(Znew, dtype=float)
        m = Znew.shape[0]
        if m == 0:
            raise ValueError("`X` has no rows; pass at least one row to estimate the CATE at.")
        values = np.asarray(self.final_model_.predict(Znew), dtype=float)
        grid = np.arange(m, dtype=float)
        n = self.pseudo_outcome_.shape[0]
        clustered = "" if self._groups is None else ", clusters resampled whole"
        if method == "sandwich":
            if self.coef_table_ is None:
                raise TypeError(
                    "method='sandwich' needs `model_final` to be a LinearRegression; use "
                    "method='bootstrap' for other final models.")
            rows = np.column_stack([np.ones(m), Znew]) if self._final_intercept else Znew
            cov = self.coef_table_.cov
            lam, vec = np.linalg.eigh((cov + cov.T) / 2)
            root = vec * np.sqrt(np.clip(lam, 0, None))
            factor = rows @ root
            se = np.sqrt((factor**2).sum(axis=1))
            how = ("sandwich: z(x)' V z(x) with V the " +
                   ("cluster-robust" if self._groups is not None else "HC1") +
                   " covariance of the linear final model; joint band by sup-t")
            dof = _cluster_dof(self._groups)
            if dof is not None:
                how += "; pointwise intervals with t(G - 1) critical values"
            return EffectCurve(grid=grid, values=values, stderr=se, n=n, method=how,
                               name="CATE", grid_name="row", cov_factor=factor, dof=dof)
        if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
            raise ValueError(f"`n_boot` must be an integer >= 2; got {n_boot!r}.")
        st = self._final_stage
        if st is None:  # a linear final model solved from normal equations
            st = self._linear_final_stage()
        rs = st["random_state"] if random_state is None else random_state
        model = _seeded(st["model_final"], st["random_state"], 2)
        key = st["sw_key"]

        def refit(Zb, phib, wb):
            fitted = clone(model).fit(Zb, phib, **{key: wb})
            return np.asarray(fitted.predict(Znew), dtype=float)

        reps = bootstrap(refit, st["Z"], self.pseudo_outcome_, st["w_fit"], n_boot=int(n_boot),
                         groups=self._groups, random_state=rs, n_jobs=n_jobs, batch_size=10)
        draws = reps - values
        se = reps.std(axis=0, ddof=1)
        how = (f"bootstrap of the final stage: {int(n_boot)} resamples of units{clustered}, "
               "final model refitted on the out-of-fold pseudo-outcomes, nuisances fixed; "
               "SE = bootstrap SD, joint band by sup-t over the replicates")
        return EffectCurve(grid=grid, values=values, stderr=se, n=n, method=how, name="CATE",
                           grid_name="row", draws=draws)

    def cate_interval(self, X, alpha=0.05, *, kind="pointwise", **kwargs):
        """``(lower, upper)`` arrays of CATE intervals at the rows of ``X``.

        ``kind="pointwise"`` covers each row's CATE with probability ``1 - alpha``;
        ``kind="uniform"`` covers all the rows asked at once. ``kwargs`` go to
        :meth:`cate_inference` (``method``, ``n_boot``, ``random_state``, ``n_jobs``).
        """
        return self.cate_inference(X, **kwargs).conf_int(alpha, kind=kind)

    def _linear_final_stage(self):
        raise TypeError(
            "method='bootstrap' with a LinearRegression final model fitted from normal "
            "equations is not offered: use method='sandwich' (exact for that model).")

    def _need_oof(self):
        check_is_fitted(self, "final_model_")
        if self.cate_oof_ is None:
            raise ValueError("This inference needs out-of-fold CATE predictions; refit with "
                             "`crossfit_final=True`.")

    def blp(self) -> EstimateTable:
        """Best linear predictor of the CATE given its estimate (Chernozhukov et al., 2018/2023).

        Regresses the AIPW score ``psi`` on ``[1, tau_oof - mean(tau_oof)]``, where
        ``tau_oof`` is the out-of-fold CATE (cross-fitted final model):
        ``beta1`` is the ATE and ``beta2`` the heterogeneity loading (1 when the
        CATE estimate is calibrated; ``beta2 = 0`` means no detectable
        heterogeneity). For a continuous treatment the R-form
        ``Y - m ~ (T - E[T|X]) [1, tau_oof - mean]`` is used (as grf's
        ``test_calibration``). HC0 (or cluster-robust) standard errors.
        """
        self._need_oof()
        tau = self.cate_oof_
        tc = tau - np.average(tau, weights=self._sw)
        Z = np.column_stack([np.ones_like(tau), tc])
        coef, cov = self._group_regression(Z)
        names = ("beta1 (ATE)", "beta2 (heterogeneity)")
        method = "BLP of the CATE on its out-of-fold estimate, HC0 SE"
        ests = tuple(Estimate(c, np.sqrt(cov[i, i]), n=len(tau), method=method, name=nm,
                              dof=_cluster_dof(self._groups))
                     for i, (c, nm) in enumerate(zip(coef, names)))
        return EstimateTable(ests, cov=cov, title="best linear predictor")

    def _group_regression(self, Z):
        resid_y, resid_t = self._resid
        if self.continuous_treatment_:
            return wls_sandwich(Z * resid_t[:, None], resid_y, self._sw, self._groups)
        return wls_sandwich(Z, self.scores_, self._sw, self._groups)

    def group_effects(self, n_groups: int = 5) -> EstimateTable:
        """Average effects within quantile groups of the out-of-fold CATE (GATES).

        Units are ranked by ``tau_oof`` and split into ``n_groups`` equal groups;
        each group's effect is the mean of the AIPW score within it (Chernozhukov
        et al., 2018/2023, GATES), with an influence-function standard error. The
        last row, ``top - bottom``, tests for heterogeneity without a bootstrap.
        """
        self._need_oof()
        if not isinstance(n_groups, (int, np.integer)) or n_groups < 2:
            raise ValueError(f"`n_groups` must be an integer >= 2; got {n_groups!r}.")
        tau = self.cate_oof_
        n = tau.shape[0]
        if n < 2 * n_groups:
            raise ValueError(f"`n_groups`={n_groups} is too many for {n} units.")
        order = np.argsort(tau, kind="stable")
        grp = np.empty(n, dtype=np.int64)
        grp[order] = np.arange(n) * n_groups // n
        D = np.zeros((n, n_groups))
        D[np.arange(n), grp] = 1.0
        coef, cov = self._group_regression(D)
        c = np.zeros(n_groups)
        c[-1], c[0] = 1.0, -1.0
        L = np.vstack([np.eye(n_groups), c])
        values, full = L @ coef, L @ cov @ L.T
        names = [f"group {g + 1} of {n_groups}" for g in range(n_groups)] + ["top - bottom"]
        method = "mean AIPW score by quantile group of the out-of-fold CATE, IF SE"
        if self.continuous_treatment_:
            method = "R-form regression by quantile group of the out-of-fold CATE, HC0 SE"
        counts = np.bincount(grp, minlength=n_groups)
        dof = _cluster_dof(self._groups)
        ests = tuple(Estimate(v, np.sqrt(full[i, i]), n=int(counts[i]) if i < n_groups else n,
                              method=method, name=nm, dof=dof)
                     for i, (v, nm) in enumerate(zip(values, names)))
        return EstimateTable(ests, cov=full, title="group average treatment effects")


def _cluster_dof(codes):
    """t(G - 1) degrees of freedom for cluster-robust intervals with G clusters, else None.

    With few clusters the cluster-robust variance is noisy and normal critical values
    under-cover; t(G - 1) is the usual small-G reference (Cameron and Miller, 2015, Sec.
    VII.B), as the AIPW estimators use.
    """
    return None if codes is None else int(codes.max())


_REFS = """
    References
    ----------
    Fisher, A. (2024). Inverse-variance weighting for estimation of heterogeneous
    treatment effects. ICML 2024 (arXiv:2310.11620).
    Nie, X. and Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment
    effects. Biometrika 108(2), 299-319.
    Kennedy, E. H. (2023). Towards optimal doubly robust estimation of heterogeneous
    causal effects. Electronic Journal of Statistics 17(2), 3008-3049.
    Chernozhukov, V., Demirer, M., Duflo, E. and Fernandez-Val, I. (2018/2023). Generic
    machine learning inference on heterogeneous treatment effects in randomized
    experiments. NBER WP 24678.
"""

_COMMON_PARAMS = """
    model_y : regressor, optional
        Outcome model: ``E[Y|X]`` for the U and Cov pseudo-outcomes (and the
        R-learner), ``E[Y|X, A=a]`` for DR and plug-in. Default
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    model_t : classifier or regressor, optional
        Propensity model with ``predict_proba`` for a binary treatment (default a
        regularised :class:`~sklearn.ensemble.HistGradientBoostingClassifier`, the
        same as :class:`~causalkit.ate.AIPW`'s); a regressor of
        ``E[T|X]`` for a continuous one.
    model_final : regressor, optional
        CATE model; its ``fit`` must accept ``sample_weight``. Default
        ``HistGradientBoostingRegressor(max_depth=3, learning_rate=0.05,
        min_samples_leaf=50)`` (shallow: pseudo-outcomes are noisy).
        A :class:`~sklearn.linear_model.LinearRegression` enables :meth:`coef_table`."""

_COMMON_KW = """
    featurizer : transformer, optional
        Applied to ``X`` before the final model (e.g. ``PolynomialFeatures``).
    treatment_kind : {"auto", "binary", "continuous"}, default "auto"
        ``"auto"``: binary when the treatment takes only the values 0 and 1.
    cv : int, splitter or list of (train, test), default 5
        Cross-fitting folds (stratified on a binary treatment when an int).
    trimming_threshold : float in [0, 0.5), default 0.01
        Estimated propensities are clipped to ``[threshold, 1 - threshold]``
        (a :class:`~causalkit.utils.validation.PositivityWarning` counts the clipped units).
    crossfit_final : bool, default True
        Also cross-fit the final model on the same folds (one extra fit per fold)
        to get out-of-fold CATE predictions for :meth:`blp`,
        :meth:`group_effects` and the ATE score. Those fold fits are made on the
        first call that needs them (``blp``, ``group_effects``, ``cate_oof_``, and
        ``ate`` for the U and Cov pseudo-outcomes) and cached, so ``fit`` itself
        makes one final fit; a plain ``LinearRegression`` gets them exactly from
        its normal equations during ``fit``. ``False``: the ATE uses the in-sample
        CATE and ``blp``/``group_effects`` are unavailable.
    n_jobs : int or None, default None
        Parallel jobs over (model, fold) pairs (joblib; a Dask backend spreads folds
        over a cluster).
    random_state : int or None, default None
        Seeds the folds and every model left with ``random_state=None``."""

_ATTRS = """
    Attributes
    ----------
    final_model_ : estimator
        The final CATE model fitted on all units.
    featurizer_ : transformer or None
    effect_ : Estimate
        The ATE (also returned by :meth:`ate`).
    pseudo_outcome_ : ndarray of shape (n,)
        The pseudo-outcome ``phi``.
    weights_ : ndarray of shape (n,)
        The regression weights ``w`` (before multiplying by ``sample_weight``).
    scores_ : ndarray of shape (n,) or None
        The AIPW scores of the ATE (binary treatment).
    cate_oof_ : ndarray of shape (n,) or None
        Out-of-fold CATE predictions (``crossfit_final=True``; computed on first
        access when the final model is not a plain ``LinearRegression``).
    nuisances_ : dict of ndarray
        Out-of-fold nuisance predictions.
    nuisance_models_ : dict of list
        The fitted fold models of each nuisance (used by :meth:`score`).
    folds_ : list of (train, test)
    coef_table_ : EstimateTable or None
    diagnostics_ : dict
        Propensity range, number of clipped units, effective sample size of the
        final regression.
    continuous_treatment_ : bool
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has column names.
"""


class WeightedPseudoOutcomeLearner(_PseudoOutcomeBase):
    __doc__ = rf"""CATE by weighted pseudo-outcome regression (Fisher, 2024).

    Fits :math:`\hat\tau = \arg\min_f \sum_i w_i (\phi_i - f(X_i))^2` where the
    pseudo-outcome :math:`\phi` satisfies :math:`E[\phi \mid X] = \tau(X)` at the
    true nuisances and :math:`w` are regression weights, both built from
    cross-fitted nuisances (:math:`\hat e = \hat P(A=1|X)` clipped, :math:`\hat k = 1-\hat e`,
    :math:`\hat m = \hat E[Y|X]`, :math:`\hat\mu_a = \hat E[Y|X, A=a]`):

    ============  =====================================================================
    ``pseudo``    :math:`\phi`
    ============  =====================================================================
    ``"dr"``      :math:`\hat\mu_1-\hat\mu_0 + A(Y-\hat\mu_1)/\hat e - (1-A)(Y-\hat\mu_0)/\hat k`
    ``"u"``       :math:`(Y-\hat m)/(A-\hat e)`
    ``"cov"``     :math:`(Y-\hat m)(A-\hat e)/(\hat e \hat k)`
    ``"plugin"``  :math:`\hat\mu_1-\hat\mu_0` (cross-fitted T-learner, then smoothed)
    ============  =====================================================================

    ``weights``: ``"one"``; ``"ivw_x"``, the inverse of :math:`Var(\phi|X)` under
    homoskedastic noise (:math:`\hat e\hat k` for DR/Cov, :math:`(\hat e\hat k)^2/(\hat e^3+\hat k^3)`
    for U); ``"ivw_ax"``, the inverse of :math:`Var(\phi|A,X)` (:math:`A\hat e^2+(1-A)\hat k^2`
    for DR/Cov, :math:`(A-\hat e)^2` for U); ``"dr_alt_ax"``, :math:`A\hat e+(1-A)\hat k`.
    ``pseudo="u", weights="ivw_ax"`` is exactly the R-learner (:class:`RLearner`),
    because :math:`(A-\hat e)^2 ((Y-\hat m)/(A-\hat e) - f)^2 = ((Y-\hat m) - (A-\hat e) f)^2`.

    Weighting changes the estimand when the final model is misspecified: the fit
    is then the :math:`w`-weighted projection of :math:`\tau` onto the model class
    (e.g. the overlap-weighted best linear approximation for ``"ivw_x"``).

    Parameters
    ----------{_COMMON_PARAMS}
    pseudo : {{"dr", "u", "cov", "plugin"}}, default "dr"
        The pseudo-outcome.
    weights : {{"one", "ivw_x", "ivw_ax", "dr_alt_ax"}}, default "ivw_x"
        The regression weights.
    dr_outcome : {{"separate", "single"}}, default "separate"
        For DR and plug-in: one outcome model per arm, or one model of ``Y`` on
        ``(X, A)`` predicted at ``A=1`` and ``A=0`` (this one needs copies of ``X``
        with the treatment column appended).{_COMMON_KW}
    {_ATTRS}
    See Also
    --------
    RLearner : ``pseudo="u", weights="ivw_ax"``, also for continuous treatments.
    causalkit.ate.AIPW : the average effect alone.
    {_REFS}
    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.hte import WeightedPseudoOutcomeLearner
    >>> from causalkit.datasets import make_cate_data
    >>> d = make_cate_data(2000, random_state=0)
    >>> est = WeightedPseudoOutcomeLearner(LinearRegression(), LogisticRegression(),
    ...                                    LinearRegression(), pseudo="dr", weights="ivw_x",
    ...                                    cv=3, random_state=0)
    >>> est = est.fit(d.X, d.y, treatment=d.treatment)
    >>> tab = est.coef_table()          # tau(x) = 1 + x0 in truth
    >>> tab.names[:2]
    ['intercept', 'x0']
    >>> bool(abs(tab["x0"].value - 1.0) < 3 * tab["x0"].stderr)
    True
    """

    _parameter_constraints: dict = {
        **_PseudoOutcomeBase._parameter_constraints,
        "pseudo": [StrOptions(set(PSEUDO_OUTCOMES))],
        "weights": [StrOptions(set(WEIGHTS))],
        "dr_outcome": [StrOptions({"separate", "single"})],
    }

    def __init__(self, model_y=None, model_t=None, model_final=None, *, pseudo="dr",
                 weights="ivw_x", dr_outcome="separate", featurizer=None, treatment_kind="auto",
                 cv=5, trimming_threshold=0.01, crossfit_final=True, n_jobs=None,
                 random_state=None):
        self.model_y = model_y
        self.model_t = model_t
        self.model_final = model_final
        self.pseudo = pseudo
        self.weights = weights
        self.dr_outcome = dr_outcome
        self.featurizer = featurizer
        self.treatment_kind = treatment_kind
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.crossfit_final = crossfit_final
        self.n_jobs = n_jobs
        self.random_state = random_state


class RLearner(_PseudoOutcomeBase):
    __doc__ = rf"""The R-learner of Nie and Wager (2021) for the CATE.

    Minimises the R-loss (Nie and Wager, 2021, eq. 4)

    .. math::

        \hat\tau = \arg\min_f \sum_i \big[(Y_i - \hat m(X_i)) - (T_i - \hat e(X_i)) f(X_i)\big]^2,

    with :math:`\hat m = \hat E[Y|X]` and :math:`\hat e = \hat E[T|X]` cross-fitted.
    It is solved as the weighted regression of the U pseudo-outcome
    :math:`(Y-\hat m)/(T-\hat e)` on :math:`X` with weights :math:`(T-\hat e)^2`,
    the inverse of its conditional variance given :math:`(T, X)` (Fisher, 2024):
    the same numbers as
    ``WeightedPseudoOutcomeLearner(pseudo="u", weights="ivw_ax")``. The treatment
    may be binary or continuous (residual-on-residual form).

    Parameters
    ----------{_COMMON_PARAMS}{_COMMON_KW}
    {_ATTRS}
    See Also
    --------
    WeightedPseudoOutcomeLearner : other pseudo-outcomes and weights.
    {_REFS}
    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.hte import RLearner
    >>> from causalkit.datasets import make_cate_data
    >>> d = make_cate_data(2000, random_state=0)
    >>> est = RLearner(LinearRegression(), LogisticRegression(), LinearRegression(),
    ...                cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    >>> lo, hi = est.ate().conf_int()
    >>> bool(lo < d.true_ate < hi)
    True
    """

    def __init__(self, model_y=None, model_t=None, model_final=None, *, featurizer=None,
                 treatment_kind="auto", cv=5, trimming_threshold=0.01, crossfit_final=True,
                 n_jobs=None, random_state=None):
        self.model_y = model_y
        self.model_t = model_t
        self.model_final = model_final
        self.featurizer = featurizer
        self.treatment_kind = treatment_kind
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.crossfit_final = crossfit_final
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _spec(self):
        return "u", "ivw_ax", "separate"
