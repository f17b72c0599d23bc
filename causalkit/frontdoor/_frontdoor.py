"""Front-door and conditional front-door adjustment for an observed mediator."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit, make_folds
from ..inference import Diagnostics, Estimate
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
    check_binary,
    check_consistent_length,
    check_groups,
    check_treatment,
    check_vector,
    check_X,
    store_feature_names,
    warn_positivity,
)

__all__ = ["FrontDoor", "linear_frontdoor", "plugin_frontdoor"]

_METHODS = ("linear", "plugin", "dr")


def _if_mean(psi):
    theta = float(np.mean(psi))
    se = float(np.sqrt(np.sum((psi - theta) ** 2)) / psi.shape[0])
    return theta, se


def _cluster_se(infl, codes):
    r"""Cluster-robust SE of a mean-zero influence vector: the influence values summed
    within each of the :math:`G` clusters, :math:`\sqrt{G/(G-1) \sum_g (\sum_{i \in g}
    \mathrm{IF}_i)^2} / n` (Cameron and Miller, 2015, Section II.C)."""
    per = np.bincount(codes, weights=infl - infl.mean())
    g = per.shape[0]
    scale = g / (g - 1) if g > 1 else 1.0
    return float(np.sqrt(scale * np.sum(per**2)) / infl.shape[0])


# --------------------------------------------------------------------------- linear


def _ols(D, target, name):
    """OLS coefficients, residuals and the inverse Gram matrix scaled by n."""
    n = D.shape[0]
    gram = D.T @ D / n
    if np.linalg.matrix_rank(gram) < gram.shape[0]:
        raise ValueError(
            f"The {name} regression is rank deficient (collinear columns among the treatment, "
            "mediator and `X`); drop redundant columns of `X` or `mediator`."
        )
    inv = np.linalg.inv(gram)
    coef = inv @ (D.T @ target / n)
    return coef, target - D @ coef, inv


def linear_frontdoor(W, y, t, M):
    r"""Two-stage product-of-coefficients front-door estimate with a delta-method SE.

    Stage 1: OLS of each mediator column :math:`M_k` on :math:`(1, T, W)` gives
    :math:`\alpha_k` (coefficient of :math:`T`). Stage 2: OLS of :math:`Y` on
    :math:`(1, M, T, W)` gives :math:`\beta_k` (coefficient of :math:`M_k`). The
    estimate is :math:`\hat\tau = \sum_k \hat\alpha_k \hat\beta_k`.

    By Frisch-Waugh-Lovell, :math:`\hat\beta` equals the coefficient of :math:`Y` on the
    stage-1 residuals :math:`\hat e_M = M - \hat E[M \mid T, W]`, which is the residual
    form of Xu et al. (2024, Sec. 5). Both OLS fits are M-estimators with
    scores :math:`D_{1i}(M_{ik} - D_{1i}'a_k)` and :math:`D_{2i}(Y_i - D_{2i}'b)`; their
    Jacobian is block diagonal (neither stage uses the other's estimates), so the
    influence functions are :math:`\mathrm{IF}_{\alpha_k,i} = [Q_1^{-1} D_{1i}]_T\,
    \hat e_{1ik}` and :math:`\mathrm{IF}_{\beta_k,i} = [Q_2^{-1} D_{2i}]_{M_k} \hat e_{2i}`
    with :math:`Q_j = D_j'D_j/n`, and the delta method gives
    :math:`\mathrm{IF}_{\tau,i} = \sum_k (\hat\beta_k \mathrm{IF}_{\alpha_k,i} +
    \hat\alpha_k \mathrm{IF}_{\beta_k,i})`, :math:`\widehat{SE} =
    \sqrt{\sum_i \mathrm{IF}_{\tau,i}^2}/n` (the stacked sandwich, HC0).

    Returns ``(tau, se, alpha, beta, influence)``.
    """
    n, k = M.shape
    cols = [np.ones((n, 1)), t[:, None]] + ([W] if W is not None else [])
    D1 = np.hstack(cols)
    A, E1, inv1 = _ols(D1, M, "first-stage (mediator on treatment and `X`)")
    D2 = np.hstack([np.ones((n, 1)), M, t[:, None]] + ([W] if W is not None else []))
    b, e2, inv2 = _ols(D2, y, "second-stage (outcome on mediator, treatment and `X`)")
    alpha = A[1, :]
    beta = b[1:1 + k]
    if_alpha = (D1 @ inv1[:, 1])[:, None] * E1                     # (n, k)
    if_beta = (D2 @ inv2[:, 1:1 + k]) * e2[:, None]                 # (n, k)
    infl = if_alpha @ beta + if_beta @ alpha
    tau = float(alpha @ beta)
    se = float(np.sqrt(np.sum(infl**2)) / n)
    return tau, se, alpha, beta, infl


# --------------------------------------------------------------------------- plug-in


def _codes(a, name, max_levels):
    """Integer codes of the distinct rows of ``a`` and those rows (the levels)."""
    def too_many(count):
        return ValueError(
            f"`{name}` must be discrete for method='plugin'; it takes {count} distinct "
            f"values (at most `max_levels`={max_levels} allowed). Use method='dr' or "
            "method='linear', or discretise it."
        )

    # Column-wise codes combined in mixed radix: much faster than np.unique(axis=0).
    code = np.zeros(a.shape[0], dtype=np.int64)
    radix = 1
    for j in range(a.shape[1]):
        lv, cj = np.unique(a[:, j], return_inverse=True)
        if lv.shape[0] > max_levels:
            raise too_many(f"{lv.shape[0]} (in column {j})" if a.shape[1] > 1 else lv.shape[0])
        radix *= lv.shape[0]
        if radix > 2**62:  # mixed radix would overflow: fall back to row-wise unique
            levels, codes = np.unique(a, axis=0, return_inverse=True)
            break
        code = code * lv.shape[0] + cj.reshape(-1)
    else:
        _, first, codes = np.unique(code, return_index=True, return_inverse=True)
        levels = a[first]
    if levels.shape[0] > max_levels:
        raise too_many(levels.shape[0])
    return np.asarray(codes).reshape(-1), levels


def plugin_frontdoor(w, t, m, y, n_w, n_m, m_levels=None):
    r"""Theorem 3 of Xu et al. (2024) with empirical frequencies, and its influence function.

    ``w`` and ``m`` are integer codes of the covariate and mediator cells, ``t`` is 0/1.
    Returns ``(psi, phi)``: ``psi[t]`` estimates :math:`E[Y \mid do(t)]` and ``phi``
    (n, 2) holds each unit's efficient influence function (see :class:`FrontDoor`)
    evaluated at the empirical distribution.
    """
    n = y.shape[0]
    cell = (w * 2 + t) * n_m + m
    N = np.bincount(cell, minlength=n_w * 2 * n_m).astype(float).reshape(n_w, 2, n_m)
    S = np.bincount(cell, weights=y, minlength=n_w * 2 * n_m).reshape(n_w, 2, n_m)
    Nw = N.sum(axis=(1, 2))
    Nwt = N.sum(axis=2)
    one_arm = np.flatnonzero(Nwt.min(axis=1) == 0)
    if one_arm.size:
        raise ValueError(
            f"`treatment` takes a single value in {one_arm.size} stratum/strata of `X`, so "
            "P(T | X) is 0 or 1 there (positivity fails) and the plug-in is undefined. Coarsen "
            "`X`, drop those strata, or use method='dr'."
        )
    seen = N.sum(axis=1) > 0                                     # (w, m) cells observed
    missing = seen[:, None, :] & (N == 0)
    if missing.any():
        wi, ti, mi = np.argwhere(missing)[0]
        label = mi if m_levels is None else m_levels[mi].tolist()
        raise ValueError(
            f"`mediator` value {label} occurs in a stratum of `X` only under treatment "
            f"{1 - ti}, never under {ti}, so E[Y | T, M, X] is undefined there (positivity of "
            f"the mediator fails in {int(missing.sum())} cell(s)). Coarsen `mediator` or `X`, "
            "or use method='dr'."
        )
    pw = Nw / n
    pi = Nwt / Nw[:, None]                                       # pi[w, t'] = P(t'|w)
    f = N / Nwt[:, :, None]                                      # f[w, t, m] = P(m|t,w)
    mu = np.divide(S, N, out=np.zeros_like(S), where=N > 0)      # mu[w, t', m]
    xi = np.einsum("wtm,wt->wm", mu, pi)                         # sum_t' mu pi
    nu = np.einsum("wtm,wsm->wst", mu, f)                        # nu[w, s, t'] = sum_m mu(t',m,w) f(m|s,w)
    theta = np.einsum("wst,wt->ws", nu, pi)                      # theta[w, s]
    psi = pw @ theta                                             # (2,)
    phi = np.empty((n, 2))
    mu_i = mu[w, t, m]
    for s in (0, 1):
        ratio = f[w, s, m] / f[w, t, m]
        phi[:, s] = ((y - mu_i) * ratio + (t == s) / pi[w, s] * (xi[w, m] - theta[w, s])
                     + nu[w, s, t] - psi[s])
    return psi, phi, pi


# --------------------------------------------------------------------------- estimator


class FrontDoor(BaseEstimator):
    r"""Average treatment effect by (conditional) front-door adjustment.

    With a treatment :math:`T`, an observed mediator :math:`M` (one or more columns)
    that carries every directed path from :math:`T` to :math:`Y`, and covariates
    :math:`W` (``X``; possibly none) satisfying the conditional front-door criterion
    (Xu et al., 2024, Definition 4; Pearl's front-door criterion when ``W`` is empty),

    .. math::

        \psi(t) = E[Y \mid do(t)] = \sum_{w, m} P(w)\, P(m \mid t, w)
                  \sum_{t'} E[Y \mid t', m, w]\, P(t' \mid w)

    (Theorem 3 there), and the ATE is :math:`\psi(1) - \psi(0)`, even when an
    unmeasured confounder links :math:`T` and :math:`Y`.

    Three estimators:

    ``"linear"``
        Product of coefficients under a linear structural model: OLS of each mediator on
        :math:`(1, T, W)` gives :math:`\alpha_k`, OLS of :math:`Y` on :math:`(1, M, T, W)`
        gives :math:`\beta_k`, and :math:`\hat\tau = \sum_k \hat\alpha_k\hat\beta_k`.
        :math:`\hat\beta` equals the coefficient of :math:`Y` on the first-stage residual
        :math:`\hat e_M` (Frisch-Waugh-Lovell), the two-step of Xu et al. (2024, Sec. 5).
        Delta-method standard error from the stacked OLS estimating equations (sandwich).
        ``treatment`` may be continuous (the effect of a unit change).
    ``"plugin"``
        Theorem 3 with empirical frequencies for discrete :math:`T, M, W` (Algorithm 1 of
        Xu et al., 2024, with the :math:`P(t' \mid w)` of the theorem). The standard error
        is the influence-function one: the efficient influence function below evaluated
        at the empirical distribution (the plug-in is the nonparametric MLE, so this is
        its exact first-order expansion).
    ``"dr"``
        The one-step (doubly robust) estimator: the mean of the efficient influence
        function of Fulcher, Shpitser, Marealle and Tchetgen Tchetgen (2020),
        with every nuisance cross-fitted, and the influence-function standard error.

    **Efficient influence function.** Write :math:`\mu(t', m, w) = E[Y \mid t', m, w]`,
    :math:`\pi(t' \mid w) = P(T=t' \mid w)`, :math:`f(m \mid t, w)` the mediator law,
    :math:`\xi(m, w) = \sum_{t'} \mu(t', m, w)\pi(t' \mid w)`,
    :math:`\nu_t(t', w) = E[\mu(t', M, W) \mid T=t, W=w]` and
    :math:`\theta_t(w) = \sum_{t'} \pi(t' \mid w)\nu_t(t', w)`. Differentiating
    :math:`\psi(t)` along each factor of the likelihood (the :math:`P(w)`, :math:`P(t' \mid w)`,
    :math:`P(m \mid t, w)` and :math:`E[Y \mid t', m, w]` terms) gives

    .. math::

        \varphi_t = \frac{f(M \mid t, W)}{f(M \mid T, W)}\{Y - \mu(T, M, W)\}
          + \frac{1\{T = t\}}{\pi(t \mid W)}\{\xi(M, W) - \theta_t(W)\}
          + \nu_t(T, W) - \psi(t),

    as in Fulcher et al. (2020) with their covariates :math:`C = W`. For a binary
    treatment the mediator density ratio needs no density of :math:`M`: by Bayes,
    :math:`f(M \mid t, W)/f(M \mid 1-t, W) = \frac{P(T=t \mid M, W)}{P(T=1-t \mid M, W)}
    \frac{\pi(1-t \mid W)}{\pi(t \mid W)}`, so ``"dr"`` learns a classifier of
    :math:`T` on :math:`(M, W)` and works for discrete, continuous and multivariate
    mediators alike (the mediator-density-free parameterisation also used by Guo,
    Benkeser and Nabi, 2023). :math:`\nu_t(t', W)` is a regression of the cross-fitted
    :math:`\hat\mu(t', M, W)` on :math:`W` among units with :math:`T = t`. The estimator
    :math:`\hat\psi(t) = \frac1n\sum_i\{\varphi_{t,i} + \psi(t)\}` is consistent when
    any one of the pairs :math:`(\mu, \nu)`, :math:`(\pi, \text{the ratio})` or
    :math:`(\mu, \pi)` is consistent (take the expectation of each term with the other
    nuisances arbitrary; compare the multiple robustness of Fulcher et al., 2020), and
    :math:`\widehat{SE} = \mathrm{sd}(\hat\varphi_1 - \hat\varphi_0)/\sqrt n`.

    Parameters
    ----------
    method : {"dr", "plugin", "linear"}, default "dr"
        Estimator (see above).
    model_y : regressor, optional
        ``"dr"``: outcome model :math:`E[Y \mid T, M, W]`. Default
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    model_t : classifier, optional
        ``"dr"``: propensity :math:`P(T=1 \mid W)`. Default a regularised
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    model_tm : classifier, optional
        ``"dr"``: :math:`P(T=1 \mid M, W)`, which gives the mediator density ratio.
        Default as ``model_t``.
    model_nested : regressor, optional
        ``"dr"``: the regressions :math:`\nu_t(t', W)`. Default as ``model_y``.
    density_ratio : {"treatment", "mediator"}, default "treatment"
        ``"dr"``: how the mediator density ratio :math:`f(M \mid t, W)/f(M \mid T, W)` is
        learned. ``"treatment"``: from ``model_tm`` and ``model_t`` by Bayes' rule (any
        mediator). ``"mediator"``: from a classifier ``model_m`` of a discrete (single
        column) mediator on :math:`(T, W)`, predicted at both treatment values.
    model_m : classifier, optional
        ``"dr"`` with ``density_ratio="mediator"``: :math:`P(M = m \mid T, W)`. Default
        a regularised :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    cv : int or splitter, default 5
        ``"dr"``: cross-fitting folds (stratified on the treatment when an int).
    trimming_threshold : float in [0, 0.5), default 0.01
        ``"dr"``: both propensities are clipped to ``[threshold, 1 - threshold]``;
        ``"plugin"``: strata with :math:`P(t \mid w)` outside this band raise a
        :class:`~causalkit.utils.validation.PositivityWarning`.
    max_levels : int, default 50
        ``"plugin"``: the most distinct values (rows) ``mediator`` and ``X`` may take.
    n_jobs : int or None, default None
        ``"dr"``: parallel jobs over (nuisance, fold) pairs.
    random_state : int or None, default None
        ``"dr"``: seeds the folds and nuisance models left with ``random_state=None``.

    Attributes
    ----------
    effect_ : Estimate
        The ATE (also returned by :meth:`ate`).
    potential_means_ : ndarray of shape (2,)
        :math:`\hat\psi(0), \hat\psi(1)` (``"plugin"`` and ``"dr"``).
    scores_ : ndarray of shape (n,)
        Per-unit influence values of the ATE (centred for ``"linear"`` and ``"plugin"``,
        the uncentred one-step scores for ``"dr"``).
    coef_ : dict
        ``"linear"``: ``alpha`` (treatment -> mediator) and ``beta`` (mediator -> outcome).
    nuisances_ : dict of ndarray
        ``"dr"``: out-of-fold ``mu0``, ``mu1``, ``propensity``, ``density_ratio``
        (columns :math:`t = 0, 1`), ``nu`` and (``density_ratio="treatment"``)
        ``propensity_m``.
    diagnostics_ : dict
        Propensity ranges and the number of clipped units (``"dr"``), strata counts
        (``"plugin"``).
    n_groups_ : int or None
        Number of clusters in ``groups`` (``None`` without clusters).
    n_features_in_ : int
        Number of columns of ``X`` (0 when ``X`` is None).
    feature_names_in_ : ndarray of str
        Only when ``X`` has column names.

    See Also
    --------
    causalkit.frontdoor.check_frontdoor : check Definition 4 on a causal graph.
    causalkit.ate.AIPW : back-door adjustment (no unmeasured confounding).

    References
    ----------
    Pearl, J. (1995). Causal diagrams for empirical research. Biometrika 82(4), 669-688.
    Fulcher, I. R., Shpitser, I., Marealle, S. and Tchetgen Tchetgen, E. J. (2020). Robust
    inference on population indirect causal effects: the generalized front door criterion.
    JRSS-B 82(1), 199-214.
    Guo, A., Benkeser, D. and Nabi, R. (2023). Flexible nonparametric inference for causal
    effects under the front-door model. arXiv:2312.10234.
    Xu, Z., Cheng, D., Li, J., Liu, J., Liu, L. and Yu, K. (2024). Causal inference with
    conditional front-door adjustment and identifiable variational autoencoder. ICLR 2024.
    Cameron, A. C. and Miller, D. L. (2015). A practitioner's guide to cluster-robust
    inference. Journal of Human Resources 50(2).

    Examples
    --------
    >>> from causalkit.frontdoor import FrontDoor
    >>> from causalkit.datasets import make_frontdoor_data
    >>> d = make_frontdoor_data(3000, random_state=0)
    >>> est = FrontDoor(method="plugin").fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator)
    >>> lo, hi = est.ate().conf_int()
    >>> bool(lo < d.true_ate < hi)
    True
    """

    _parameter_constraints: dict = {
        "method": [StrOptions(set(_METHODS))],
        "model_y": [REGRESSOR, None],
        "model_t": [CLASSIFIER, None],
        "model_tm": [CLASSIFIER, None],
        "model_nested": [REGRESSOR, None],
        "density_ratio": [StrOptions({"treatment", "mediator"})],
        "model_m": [CLASSIFIER, None],
        "cv": CV,
        "trimming_threshold": [Interval(Real, 0, 0.5, closed="left")],
        "max_levels": [POS_INT],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def __init__(self, method="dr", *, model_y=None, model_t=None, model_tm=None,
                 model_nested=None, density_ratio="treatment", model_m=None, cv=5,
                 trimming_threshold=0.01, max_levels=50, n_jobs=None, random_state=None):
        self.method = method
        self.model_y = model_y
        self.model_t = model_t
        self.model_tm = model_tm
        self.model_nested = model_nested
        self.density_ratio = density_ratio
        self.model_m = model_m
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.max_levels = max_levels
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, treatment, mediator, groups=None):
        """Estimate the ATE by front-door adjustment.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, p), or None
            Covariates ``W`` of the conditional front-door formula (pre-treatment; see
            :func:`~causalkit.frontdoor.check_frontdoor`). ``None`` gives Pearl's
            front-door adjustment.
        y : array-like of shape (n,)
            Outcome.
        treatment : array-like of shape (n,)
            Binary 0/1 treatment (``"linear"`` also accepts a numeric one).
        mediator : array-like of shape (n,) or (n, k)
            The mediator set ``M`` (front-door variables); several columns allowed.
        groups : array-like of shape (n,), optional
            Cluster labels (e.g. schools, regions): units in one cluster may be
            dependent. The standard error is then cluster-robust (the influence values
            summed within clusters, times :math:`G/(G-1)`), intervals and p-values use
            Student-t critical values with :math:`G - 1` degrees of freedom, and the
            cross-fitting folds of ``"dr"`` keep each cluster whole.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, mediator=mediator, groups=groups)
        thr = float(self.trimming_threshold)
        yv = check_vector(y, "y")
        if X is None:
            W, names = None, None
        else:
            W, names = check_X(X, "X")
        if mediator is None:
            raise ValueError("`mediator` is required; pass the front-door variable(s) M, one "
                             "row per unit.")
        M, _ = check_X(mediator, "mediator")
        if self.method == "linear":
            t = check_treatment(treatment, "treatment", binary=False)
            if np.unique(t).size < 2:
                raise ValueError("`treatment` is constant; it must vary to estimate an effect.")
        else:
            t = check_binary(treatment, "treatment").astype(np.int64)
        n = check_consistent_length(X=W, y=yv, treatment=t, mediator=M)
        if n < 10:
            raise ValueError(f"`y` has {n} units; the front-door estimators need at least 10.")
        codes = check_groups(groups, "groups", n=n)
        if codes is not None and int(codes.max()) + 1 < 2:
            raise ValueError("`groups` has a single cluster; a cluster-robust standard error "
                             "needs at least 2 clusters. Pass `groups=None` for independent units.")
        self._groups = codes

        if self.method == "linear":
            self._fit_linear(W, yv, t, M)
        elif self.method == "plugin":
            self._fit_plugin(W, yv, t, M, thr)
        else:
            self._fit_dr(W, yv, t, M, thr)
        self.n_features_in_ = 0 if W is None else W.shape[1]
        store_feature_names(self, names)
        del self._groups
        return self

    def _estimate(self, tau, se, n, method):
        """The ATE as an Estimate; cluster-robust with t(G - 1) when ``groups`` was given."""
        codes = self._groups
        self.n_groups_ = None
        if codes is None:
            return Estimate(tau, se, n=n, name="ATE", method=method)
        g = int(codes.max()) + 1
        se = _cluster_se(self.scores_, codes)
        method = method.replace(" SE", "") + (
            f" SE clustered on {g} groups, t({g - 1}) critical values (few-cluster correction)")
        self.n_groups_ = g
        return Estimate(tau, se, n=n, name="ATE", method=method, dof=g - 1)

    def _fit_linear(self, W, y, t, M):
        tau, se, alpha, beta, infl = linear_frontdoor(W, y, t, M)
        n = y.shape[0]
        self.coef_ = {"alpha": alpha, "beta": beta}
        self.scores_ = infl
        self.effect_ = self._estimate(tau, se, n, "front-door, linear product of coefficients, "
                                                  "delta-method sandwich SE")
        self.diagnostics_ = Diagnostics({"n_mediators": M.shape[1]})

    def _fit_plugin(self, W, y, t, M, thr):
        mcode, m_levels = _codes(M, "mediator", self.max_levels)
        n_m = m_levels.shape[0]
        if W is None:
            wcode, n_w = np.zeros(y.shape[0], dtype=np.int64), 1
        else:
            wcode, w_levels = _codes(W, "X", self.max_levels)
            n_w = w_levels.shape[0]
        psi, phi, pi = plugin_frontdoor(wcode, t, mcode, y, n_w, n_m, m_levels)
        if thr > 0:
            warn_positivity(pi[wcode, 1], thr, name="propensity P(T=1 | X) (stratum frequencies)")
        infl = phi[:, 1] - phi[:, 0]
        n = y.shape[0]
        se = float(np.sqrt(np.sum(infl**2)) / n)
        self.potential_means_ = psi
        self.scores_ = infl
        self.effect_ = self._estimate(psi[1] - psi[0], se, n,
                                      "front-door plug-in (empirical frequencies), "
                                      "influence-function SE")
        self.diagnostics_ = Diagnostics({"n_strata": n_w, "n_mediator_values": n_m,
                             "propensity_min": float(pi[:, 1].min()),
                             "propensity_max": float(pi[:, 1].max())})

    def _models(self, has_w):
        model_y = self.model_y if self.model_y is not None else HistGradientBoostingRegressor()
        model_t = self.model_t
        if model_t is None:
            model_t = HistGradientBoostingClassifier(
                max_leaf_nodes=8, min_samples_leaf=40, learning_rate=0.05, max_iter=100)
        model_tm = self.model_tm if self.model_tm is not None else model_t
        model_nested = self.model_nested if self.model_nested is not None else model_y
        for name, m in (("model_t", model_t), ("model_tm", model_tm)):
            if not hasattr(m, "predict_proba"):
                raise TypeError(
                    f"`{name}` must be a classifier with predict_proba; got {type(m).__name__}.")
        if not has_w:  # no covariates: the functions of W are constants
            model_t, model_nested = DummyClassifier(strategy="prior"), DummyRegressor()
        return model_y, model_t, model_tm, model_nested

    def _fit_dr(self, W, y, t, M, thr):
        n = y.shape[0]
        model_y, model_t, model_tm, model_nested = self._models(W is not None)
        Wf = np.zeros((n, 1)) if W is None else W
        for arm in (0, 1):
            k = self.cv if isinstance(self.cv, int) else 2
            if (t == arm).sum() < 2 * k:
                raise ValueError(
                    f"`treatment` has only {(t == arm).sum()} unit(s) in arm {arm}; "
                    f"cross-fitting with cv={self.cv} needs more. Lower `cv` or collect more data."
                )
        by_mediator = self.density_ratio == "mediator"
        stratify = t
        if by_mediator:
            mcode, m_levels = self._mediator_codes(M, t)
            stratify = t * m_levels.shape[0] + mcode
        codes = self._groups
        folds = make_folds(n, self.cv, stratify=stratify if codes is None else None, groups=codes,
                           random_state=self.random_state)
        tm = np.hstack([M, Wf])
        specs = {
            "mu": Nuisance(model_y, y, X=np.hstack([t[:, None], tm]),
                           predict_on={"t0": np.hstack([np.zeros((n, 1)), tm]),
                                       "t1": np.hstack([np.ones((n, 1)), tm])}),
            "propensity": Nuisance(model_t, t, method="predict_proba", X=Wf),
        }
        if by_mediator:
            model_m = self.model_m
            if model_m is None:
                model_m = HistGradientBoostingClassifier(
                    max_leaf_nodes=8, min_samples_leaf=40, learning_rate=0.05, max_iter=100)
            if not hasattr(model_m, "predict_proba"):
                raise TypeError("`model_m` must be a classifier with predict_proba; got "
                                f"{type(model_m).__name__}.")
            tw = np.hstack([t[:, None], Wf])
            specs["mediator"] = Nuisance(
                model_m, mcode, method="predict_proba", X=tw,
                predict_on={"t0": np.hstack([np.zeros((n, 1)), Wf]),
                            "t1": np.hstack([np.ones((n, 1)), Wf])})
        else:
            specs["propensity_m"] = Nuisance(model_tm, t, method="predict_proba", X=tm)
        res = crossfit(specs, folds=folds, n_jobs=self.n_jobs, random_state=self.random_state,
                       keep_models=False)
        mu = np.c_[res["mu@t0"], res["mu@t1"]]                  # mu(t', M_i, W_i)
        nested = {}
        for s in (0, 1):
            for tp in (0, 1):
                nested[f"nu{s}{tp}"] = Nuisance(model_nested, mu[:, tp], fit_mask=t == s)
        res2 = crossfit(nested, Wf, folds=folds, n_jobs=self.n_jobs,
                        random_state=self.random_state, keep_models=False)
        nu = np.stack([np.c_[res2[f"nu{s}0"], res2[f"nu{s}1"]] for s in (0, 1)], axis=1)
        # nu[i, s, t'] = E[mu(t', M, W) | T = s, W_i]
        e_raw = res["propensity"]
        n_out = warn_positivity(e_raw, max(thr, 1e-12), name="propensity P(T=1 | X)")
        e = np.clip(e_raw, thr, 1 - thr) if thr > 0 else e_raw
        pi = np.c_[1 - e, e]                                     # P(t'|W_i)
        rows = np.arange(n)
        if by_mediator:
            # f(M_i | t', W_i) for t' = 0, 1 from the mediator classifier.
            fm = np.c_[self._prob_of(res["mediator@t0"], mcode),
                       self._prob_of(res["mediator@t1"], mcode)]
            n_out_m = int((fm < thr).sum())
            if n_out_m:
                warn_positivity(fm.min(axis=1), max(thr, 1e-12),
                                name="mediator probability P(M | T, X)")
            fm = np.clip(fm, max(thr, 1e-12), None)
            dens = fm / fm[rows, t][:, None]                     # f(M|s,W)/f(M|T,W)
            r_raw = None
        else:
            r_raw = res["propensity_m"]
            n_out_m = warn_positivity(r_raw, max(thr, 1e-12),
                                      name="propensity P(T=1 | mediator, X)")
            r = np.clip(r_raw, thr, 1 - thr) if thr > 0 else r_raw
            rho = np.c_[1 - r, r]                                # P(t'|M_i, W_i)
            dens = rho / rho[rows, t][:, None] * (pi[rows, t][:, None] / pi)
        mu_obs = mu[rows, t]
        xi = np.sum(mu * pi, axis=1)
        scores = np.empty((n, 2))
        for s in (0, 1):
            ratio = np.where(t == s, 1.0, dens[:, s])
            theta = np.sum(nu[:, s, :] * pi, axis=1)
            scores[:, s] = (ratio * (y - mu_obs) + (t == s) / pi[:, s] * (xi - theta)
                            + nu[rows, s, t])
        psi = scores.mean(axis=0)
        diff = scores[:, 1] - scores[:, 0]
        tau, se = _if_mean(diff)
        self.potential_means_ = psi
        self.scores_ = diff
        self.nuisances_ = {"mu0": mu[:, 0], "mu1": mu[:, 1], "propensity": e_raw,
                           "density_ratio": dens, "nu": nu}
        if r_raw is not None:
            self.nuisances_["propensity_m"] = r_raw
        self.effect_ = self._estimate(tau, se, n, f"front-door one-step (doubly robust), "
                                                  f"{len(folds)}-fold cross-fitted, "
                                                  "influence-function SE")
        self.diagnostics_ = Diagnostics({
            "propensity_min": float(e_raw.min()), "propensity_max": float(e_raw.max()),
            "density_ratio_max": float(dens.max()),
            "n_outside_threshold": n_out, "n_outside_threshold_m": n_out_m,
        })
        if r_raw is not None:
            self.diagnostics_.update(propensity_m_min=float(r_raw.min()),
                                     propensity_m_max=float(r_raw.max()))

    def _mediator_codes(self, M, t):
        if M.shape[1] != 1:
            raise ValueError(
                "`mediator` must be a single discrete column for density_ratio='mediator'; got "
                f"{M.shape[1]} columns. Use density_ratio='treatment'."
            )
        mcode, levels = _codes(M, "mediator", self.max_levels)
        k = self.cv if isinstance(self.cv, int) else 2
        counts = np.zeros((2, levels.shape[0]), dtype=int)
        np.add.at(counts, (t, mcode), 1)
        if counts.min() < k:
            raise ValueError(
                f"`mediator` has a value seen fewer than cv={k} times within a treatment arm "
                "(the mediator classifier needs every value in every training fold). Coarsen "
                "`mediator`, lower `cv`, or use density_ratio='treatment'."
            )
        return mcode, levels

    @staticmethod
    def _prob_of(proba, codes):
        proba = np.asarray(proba)
        if proba.ndim == 1:  # binary mediator: P(last class)
            proba = np.c_[1 - proba, proba]
        return proba[np.arange(codes.shape[0]), codes]

    # ------------------------------------------------------------------ results

    def ate(self) -> Estimate:
        """The average treatment effect as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "effect_")
        return self.effect_
