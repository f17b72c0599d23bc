"""Average potential outcomes and contrasts of a multi-valued treatment (AIPW)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit
from ..inference import Diagnostics, Estimate, EstimateTable
from ..utils._param_validation import (
    CLASSIFIER,
    CV,
    N_JOBS,
    POS_INT,
    REGRESSOR,
    SEED,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    check_aligned,
    check_consistent_length,
    check_groups,
    check_nuisance_X,
    check_vector,
    check_weights,
    store_feature_names,
    warn_positivity,
)
from ._aipw import cluster_method, default_propensity_model
from ._common import (
    REP_AGGREGATIONS,
    aggregate_reps,
    folds_per_rep,
    ratio_influence,
    rep_seeds,
)

__all__ = ["MultiArmAIPW"]

_MAX_LEVELS = 50


def _check_levels(treatment, n):
    if treatment is None:
        raise ValueError("`treatment` is required; got None.")
    raw = np.asarray(treatment.to_numpy() if hasattr(treatment, "to_numpy") else treatment)
    if raw.dtype.kind in "USO":
        # labels (strings, categories): keep them as they are
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim != 1 or raw.shape[0] != n:
            raise ValueError(f"`treatment` must be 1-D with one level per unit ({n}); got shape "
                             f"{raw.shape}.")
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in raw):
            raise ValueError("`treatment` contains missing labels (None or NaN); drop those rows.")
        try:
            t = raw.astype(str) if raw.dtype.kind == "O" else raw
        except (TypeError, ValueError) as exc:  # pragma: no cover - defensive
            raise TypeError("`treatment` labels must be numbers or strings.") from exc
    else:
        t = check_vector(raw, "treatment", n=n)
    levels = np.unique(t)
    if levels.size < 2:
        raise ValueError(f"`treatment` takes only the value {levels[0]}; at least two "
                         "treatment levels must be present.")
    if levels.size > _MAX_LEVELS:
        raise ValueError(
            f"`treatment` has {levels.size} distinct values; MultiArmAIPW needs a discrete "
            f"treatment with at most {_MAX_LEVELS} levels. Bin a continuous dose first.")
    if levels.dtype.kind == "f" and np.all(levels == np.round(levels)):
        levels = levels.astype(np.int64)
        t = t.astype(np.int64)
    return t, levels


class MultiArmAIPW(BaseEstimator):
    r"""Average potential outcomes and their contrasts for a multi-valued treatment.

    For every treatment level :math:`k` the average potential outcome
    :math:`\theta_k = E[Y(k)]` is estimated by the doubly robust score
    (Robins, Rotnitzky and Zhao, 1994; Cattaneo, 2010, for multi-valued treatments)

    .. math::

        \psi_{k,i} = \hat\mu_k(X_i) + \frac{1\{T_i = k\}(Y_i - \hat\mu_k(X_i))}{\hat e_k(X_i)},
        \qquad \hat\theta_k = \frac1n\sum_i \psi_{k,i},

    with :math:`\hat\mu_k(x)` an estimate of :math:`E[Y \mid X = x, T = k]` fitted on
    the units at level :math:`k`, and :math:`\hat e_k(x)` of
    :math:`P(T = k \mid X = x)` fitted as a binary classifier of
    :math:`1\{T = k\}` (clipped to ``[trimming_threshold, 1 - trimming_threshold]``),
    all cross-fitted on the same folds. This is DoubleML's ``DoubleMLAPOS``. A
    contrast :math:`\theta_k - \theta_r` takes the difference of the scores, so
    its standard error accounts for the correlation of the two estimates.

    Parameters
    ----------
    model_y : regressor, optional
        Outcome model, fitted separately at each level. Default
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    model_t : classifier, optional
        Model of :math:`P(T = k \mid X)`, fitted once per level on the indicator.
        Default the regularised boosting classifier of :class:`AIPW`.
    cv : int or splitter, default 5
        Cross-fitting folds (stratified on the treatment level when an int).
    trimming_threshold : float in [0, 0.5), default 0.01
    n_rep : int, default 1
        Repetitions of cross-fitting (see :class:`AIPW`).
    rep_aggregation : {"median", "median-bound"}, default "median"
    n_jobs : int or None, default None
    random_state : int or None, default None

    Attributes
    ----------
    treatment_levels_ : ndarray
        The levels, sorted.
    apo_ : EstimateTable
        :math:`E[Y(k)]` per level, with the covariance of the estimates.
    scores_ : ndarray of shape (n, K)
        Per-unit scores :math:`\psi_{k,i}` of the first repetition.
    nuisances_ : dict
        ``"mu"`` and ``"propensity"``, each of shape (n, K), first repetition.
    rep_estimates_ : pandas.DataFrame
        Per repetition and level: ``level``, ``rep``, ``estimate``, ``stderr``.
    diagnostics_ : dict
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    AIPW : binary treatment, with ATT and ATC.

    References
    ----------
    Cattaneo, M. D. (2010). Efficient semiparametric estimation of multi-valued treatment
    effects under ignorability. Journal of Econometrics 155(2).
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. The Econometrics Journal 21(1).

    Examples
    --------
    >>> from causalkit.ate import MultiArmAIPW
    >>> from causalkit.datasets import make_multiarm_data
    >>> d = make_multiarm_data(3000, random_state=0)
    >>> est = MultiArmAIPW(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    >>> tab = est.contrast(reference=0)
    >>> tab.names
    ['1 vs 0', '2 vs 0']
    >>> bool(abs(tab["2 vs 0"].value - d.true_contrasts[2]) < 4 * tab["2 vs 0"].stderr)
    True
    """

    _parameter_constraints: dict = {
        "model_y": [REGRESSOR, None],
        "model_t": [CLASSIFIER, None],
        "cv": CV,
        "trimming_threshold": [Interval(Real, 0, 0.5, closed="left")],
        "n_rep": [POS_INT],
        "rep_aggregation": [StrOptions(set(REP_AGGREGATIONS))],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def __init__(self, model_y=None, model_t=None, *, cv=5, trimming_threshold=0.01, n_rep=1,
                 rep_aggregation="median", n_jobs=None, random_state=None):
        self.model_y = model_y
        self.model_t = model_t
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.n_rep = n_rep
        self.rep_aggregation = rep_aggregation
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, treatment, sample_weight=None, groups=None):
        """Cross-fit the nuisances and estimate every level's average potential outcome.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p)
        y : array-like of shape (n,)
        treatment : array-like of shape (n,)
            Discrete treatment levels (numbers or labels; at most 50 levels).
        sample_weight : array-like of shape (n,), optional
        groups : array-like of shape (n,), optional
            Cluster labels (cluster-robust SEs, t(G - 1) intervals, whole clusters per fold).

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, sample_weight=sample_weight,
                      groups=groups)
        thr, n_rep = float(self.trimming_threshold), int(self.n_rep)
        model_y = self.model_y if self.model_y is not None else HistGradientBoostingRegressor()
        model_t = self.model_t if self.model_t is not None else default_propensity_model()
        Xa, names = check_nuisance_X(X, {"model_y": model_y, "model_t": model_t}, "X")
        n = Xa.shape[0]
        yv = check_vector(y, "y")
        check_consistent_length(X=Xa, y=yv, treatment=treatment)
        t, levels = _check_levels(treatment, n)
        codes_t = np.searchsorted(levels, t)
        sw = check_weights(sample_weight, "sample_weight", n=n)
        codes = check_groups(groups, "groups", n=n)
        if not hasattr(model_t, "predict_proba"):
            raise TypeError(
                f"`model_t` must be a classifier with predict_proba; got {type(model_t).__name__}.")
        k_folds = self.cv if isinstance(self.cv, (int, np.integer)) else 2
        counts = np.bincount(codes_t, minlength=levels.size)
        if counts.min() < 2 * k_folds:
            lev = levels[int(np.argmin(counts))]
            raise ValueError(
                f"`treatment` has only {counts.min()} unit(s) at level {lev}; cross-fitting "
                f"with cv={self.cv} needs at least {2 * k_folds}. Lower `cv`, merge levels or "
                "collect more data.")
        K = levels.size
        seeds = rep_seeds(self.random_state, n_rep)
        all_folds = folds_per_rep(n, self.cv, seeds, stratify=codes_t, groups=codes)
        thetas, ses, corrs = [], [], []
        for r, (seed, folds) in enumerate(zip(seeds, all_folds)):
            spec = {}
            for j in range(K):
                ind = (codes_t == j).astype(np.int64)
                spec[f"mu[{j}]"] = Nuisance(model_y, yv, fit_mask=ind == 1)
                spec[f"e[{j}]"] = Nuisance(model_t, ind, method="predict_proba")
            res = crossfit(spec, Xa, cv=self.cv, folds=folds,
                           stratify=codes_t if codes is None else None, groups=codes,
                           sample_weight=sw, n_jobs=self.n_jobs, random_state=seed,
                           keep_models=False)
            mu = np.column_stack([res[f"mu[{j}]"] for j in range(K)])
            e = np.column_stack([res[f"e[{j}]"] for j in range(K)])
            if r == 0:
                n_out = sum(warn_positivity(e[:, j], max(thr, 1e-12),
                                            name=f"propensity of level {levels[j]}")
                            for j in range(K))
            e_used = np.clip(e, thr, 1 - thr) if thr > 0 else e
            ind = (codes_t[:, None] == np.arange(K)[None, :]).astype(float)
            psi = mu + ind * (yv[:, None] - mu) / e_used
            est = [ratio_influence(psi[:, j], np.ones(n), sw, codes) for j in range(K)]
            thetas.append([v[0] for v in est])
            ses.append([v[1] for v in est])
            infl = np.column_stack([v[2] for v in est])
            if codes is not None:
                infl = np.vstack([np.bincount(codes, weights=infl[:, j]) for j in range(K)]).T
                g = infl.shape[0]
                infl = infl * np.sqrt(g / (g - 1))
            cov = infl.T @ infl
            sd = np.sqrt(np.diag(cov))
            corrs.append(cov / np.outer(sd, sd))
            if r == 0:
                first = (psi, mu, e)
        thetas, ses = np.asarray(thetas), np.asarray(ses)
        theta, se = aggregate_reps(thetas, ses, self.rep_aggregation)
        corr = np.mean(corrs, axis=0)
        method = (f"AIPW average potential outcome, {len(res.folds)}-fold cross-fitted, "
                  "influence-function SE")
        dof = None
        if codes is not None:
            G = int(codes.max()) + 1
            method += cluster_method(G)
            dof = G - 1
        if n_rep > 1:
            method += f"; median over {n_rep} cross-fittings, SE by the '{self.rep_aggregation}' rule"
        self._method, self._dof, self._n = method, dof, n
        ests = [Estimate(float(theta[j]), float(se[j]), n=n, method=method,
                         name=f"E[Y({levels[j]})]", dof=dof) for j in range(K)]
        self.apo_ = EstimateTable(ests, cov=corr * np.outer(se, se),
                                  title="Average potential outcomes (AIPW)")
        import pandas as pd

        self.rep_estimates_ = pd.DataFrame(
            [{"level": levels[j], "rep": r, "estimate": thetas[r, j], "stderr": ses[r, j]}
             for r in range(n_rep) for j in range(K)])
        self.treatment_levels_ = levels.copy()
        self.scores_ = first[0]
        self.nuisances_ = {"mu": first[1], "propensity": first[2]}
        self._contrast_reps = self._contrast_parts(thetas, ses, corrs)
        self.diagnostics_ = Diagnostics({
            "propensity_min": first[2].min(axis=0),
            "propensity_max": first[2].max(axis=0),
            "n_outside_threshold": int(n_out),
            "units_per_level": counts,
        })
        self.n_features_in_ = Xa.shape[1]
        store_feature_names(self, names)
        return self

    @staticmethod
    def _contrast_parts(thetas, ses, corrs):
        # Per repetition, the covariance of the level estimates (SE_j SE_k corr_jk).
        return [(thetas[r], np.outer(ses[r], ses[r]) * corrs[r]) for r in range(len(thetas))]

    def apo(self) -> EstimateTable:
        """Average potential outcomes :math:`E[Y(k)]`, one row per level."""
        check_is_fitted(self, "apo_")
        return self.apo_

    def contrast(self, reference=None) -> EstimateTable:
        r"""Contrasts :math:`E[Y(k)] - E[Y(r)]` of every other level against ``reference``.

        Parameters
        ----------
        reference : level, optional
            The reference level (default: the smallest level).

        Returns
        -------
        EstimateTable
            Rows named ``"k vs r"``, with their covariance. Each repetition's
            contrast and SE come from the difference of the scores; they are then
            aggregated over repetitions like the levels.
        """
        check_is_fitted(self, "apo_")
        levels = self.treatment_levels_
        ref = levels[0] if reference is None else reference
        hits = np.flatnonzero(levels == ref)
        if hits.size == 0:
            raise ValueError(f"`reference` must be one of the treatment levels "
                             f"{list(levels)}; got {reference!r}.")
        r0 = int(hits[0])
        others = [j for j in range(levels.size) if j != r0]
        L = np.zeros((len(others), levels.size))
        for i, j in enumerate(others):
            L[i, j], L[i, r0] = 1.0, -1.0
        th, se_, covs = [], [], []
        for theta_r, cov_r in self._contrast_reps:
            th.append(L @ theta_r)
            c = L @ cov_r @ L.T
            covs.append(c)
            se_.append(np.sqrt(np.clip(np.diag(c), 0, None)))
        theta, se = aggregate_reps(np.asarray(th), np.asarray(se_), self.rep_aggregation)
        corr = np.mean([c / np.outer(np.sqrt(np.diag(c)), np.sqrt(np.diag(c))) for c in covs], axis=0)
        method = self._method.replace("average potential outcome", "contrast of potential outcomes")
        ests = [Estimate(float(theta[i]), float(se[i]), n=self._n, method=method,
                         name=f"{levels[j]} vs {levels[r0]}", dof=self._dof)
                for i, j in enumerate(others)]
        return EstimateTable(ests, cov=corr * np.outer(se, se),
                             title=f"Contrasts against level {levels[r0]} (AIPW)")
