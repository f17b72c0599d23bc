"""CFDiVAE: the conditional front-door adjustment with a representation learned by an iVAE."""

from __future__ import annotations

import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._progress import progress
from ..config import inner_threads, limit_threads
from ..inference import Diagnostics, Estimate, bootstrap, seed_sequence
from ..utils._param_validation import (
    N_JOBS,
    NONNEG_REAL,
    POS_INT,
    SEED,
    HasMethods,
    Integral,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    CausalkitWarning,
    FewObservationsWarning,
    check_aligned,
    check_binary,
    check_feature_names,
    check_groups,
    check_vector,
    check_X,
    store_feature_names,
)

__all__ = ["CFDiVAE", "linear_cfd_two_step"]

#: Latent dimensions whose average KL from the prior is below this (nats) are inactive.
_ACTIVE_KL = 0.1
#: Below this many units the paper's bias exceeds the back-door methods' (Xu et al. 2024, Table 2).
_SMALL_N = 2000
#: Seed-to-seed gap, in reported standard errors, above which CFDiVAE warns.
_SEED_GAP = 2.0


def _check_rows(**arrays):
    """Row counts agree; when one argument disagrees with all the others, name it."""
    rows = {k: (v.shape[0] if getattr(v, "ndim", 0) else len(v)) for k, v in arrays.items()
            if v is not None and (getattr(v, "ndim", 0) or hasattr(v, "__len__"))}
    if len(set(rows.values())) <= 1:
        return
    for k, m in rows.items():
        others = {j: v for j, v in rows.items() if j != k}
        if len(others) >= 2 and len(set(others.values())) == 1 and m not in others.values():
            names = ", ".join(f"`{j}`" for j in others)
            raise ValueError(f"`{k}` has {m} rows but {names} have {next(iter(others.values()))}; "
                             f"pass one row of `{k}` per unit.")
    desc = ", ".join(f"`{k}` has {v}" for k, v in rows.items())
    raise ValueError(f"Inputs have inconsistent numbers of rows: {desc}. Pass one row per unit.")


class SeedInstabilityWarning(CausalkitWarning):
    """A second VAE trained with another seed moves the estimate by more than its SE says.

    Raised by :meth:`CFDiVAE.fit` (``bootstrap="second_stage"``) when the two estimates
    are more than two standard errors apart; both are kept in
    ``diagnostics_["seed_estimates"]``. Filter it like any warning category.

    Examples
    --------
    >>> import warnings
    >>> from causalkit.frontdoor import SeedInstabilityWarning
    >>> from causalkit.utils.validation import CausalkitWarning
    >>> issubclass(SeedInstabilityWarning, CausalkitWarning)
    True
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("estimates 1.1 and 0.8, 4 SE apart", SeedInstabilityWarning)
    >>> caught[0].category.__name__
    'SeedInstabilityWarning'
    """


def _conditioning(t, W):
    """The prior's and encoder's conditioning variables: (T, W) as columns, T first."""
    return t[:, None].astype(float) if W is None else np.column_stack([t, W])


def linear_cfd_two_step(Z, W, treatment, y):
    r"""The linear two-step conditional front-door estimate of the ATE.

    Under the linear structural model :math:`Z = c + \beta_{TZ} T + B_{WZ} W + e_Z`,
    :math:`Y = c' + \beta_{ZY}^\top Z + \beta_{WY}^\top W + \beta_{UY} U + e_Y` with
    :math:`e_Z` independent of the unobserved :math:`U` (Xu et al. 2024, Sec. 5):

    1. least squares of :math:`Z` on :math:`(1, T, W)` gives :math:`\hat\beta_{TZ}`
       and the residuals :math:`\hat e_Z`;
    2. least squares of :math:`Y` on :math:`(1, \hat e_Z)` gives
       :math:`\hat\beta_{ZY}` (the residual is independent of :math:`U`, so this
       regression is not confounded);
    3. :math:`\widehat{ATE} = \hat\beta_{TZ}^\top \hat\beta_{ZY}`.

    For a vector :math:`Z` step 2 regresses on all residual columns jointly, which
    makes the product invariant to an invertible linear map of :math:`Z` (the
    indeterminacy of an identifiable VAE's representation).

    Parameters
    ----------
    Z : array-like of shape (n, d)
        The adjustment variable (true, or a learned representation).
    W : array-like of shape (n, m) or None
        Covariates.
    treatment : array-like of shape (n,)
    y : array-like of shape (n,)

    Returns
    -------
    ate : float
    beta_tz : ndarray of shape (d,)
    beta_zy : ndarray of shape (d,)

    Examples
    --------
    >>> from causalkit.datasets import make_cfd_data
    >>> from causalkit.frontdoor import linear_cfd_two_step
    >>> d = make_cfd_data(20000, random_state=0)
    >>> ate, _, _ = linear_cfd_two_step(d.mediator, d.X, d.treatment, d.y)
    >>> round(ate, 1), d.true_ate
    (1.5, 1.5)
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    t = np.asarray(treatment, dtype=float)
    n = Z.shape[0]
    cols = [np.ones(n), t]
    if W is not None:
        W = np.asarray(W, dtype=float)
        cols.append(W if W.ndim == 2 else W[:, None])
    D = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(D, Z, rcond=None)
    beta_tz = coef[1]
    e_z = Z - D @ coef
    E = np.column_stack([np.ones(n), e_z])
    gamma, *_ = np.linalg.lstsq(E, np.asarray(y, dtype=float), rcond=None)
    beta_zy = gamma[1:]
    return float(beta_tz @ beta_zy), beta_tz, beta_zy


def _refit_one(template, P, t, W, y, members, seed_seq, k):
    """One refit-bootstrap replicate: resample with ``seed_seq``, retrain, return the ATE."""
    resample_ss, fit_ss = seed_seq.spawn(2)
    rng = np.random.default_rng(resample_ss)
    if members is None:
        idx = rng.integers(0, P.shape[0], size=P.shape[0])
    else:
        pick = rng.integers(0, len(members), size=len(members))
        idx = np.concatenate([members[g] for g in pick])
    est = clone(template).set_params(random_state=int(fit_ss.generate_state(1)[0]))
    with limit_threads(k), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(None if W is None else W[idx], y[idx], treatment=t[idx], proxies=P[idx])
        except RuntimeError:  # every latent dimension collapsed on this resample
            return np.nan
    return float(est.effect_.value)


class CFDiVAE(BaseEstimator):
    r"""Conditional front-door adjustment with an adjustment variable learned by an identifiable VAE.

    When an unobserved confounder :math:`U` links treatment :math:`T` and outcome
    :math:`Y`, the effect is identified through a mediator :math:`Z` that
    satisfies the conditional front-door (CFD) criterion given covariates
    :math:`W` (Xu et al. 2024, Definition 4 and Theorem 3). CFDiVAE does not
    need :math:`Z` itself, only post-treatment proxies :math:`X` of it: it learns
    a representation :math:`\hat Z` with an identifiable VAE (Khemakhem et al.
    2020) whose prior is conditioned on :math:`(T, W)`,

    .. math::

        p(X, Z \mid T, W) = p(X \mid Z)\, p(Z \mid T, W), \qquad
        q(Z \mid T, W, X) \text{ (encoder)},

    trained by maximising the evidence lower bound
    :math:`E_q[\log p(X \mid Z)] - \mathrm{KL}(q(Z \mid T, W, X) \,\|\, p(Z \mid T, W))`
    (Eq. 4). :math:`\hat Z` is the posterior mean. Latent dimensions that the
    VAE leaves at its prior (average KL from the prior below 0.1 nats: they carry
    nothing from the proxies and are functions of :math:`(T, W)` alone) are dropped
    before the adjustment, because a nonlinear function of :math:`(T, W)` would
    reintroduce the confounding the front-door removes; this matters with the
    default ``latent_dim`` (the number of proxies), which usually exceeds the true
    dimension. The ATE then comes from the
    CFD adjustment on :math:`\hat Z`: by default the paper's linear two-step
    (:func:`linear_cfd_two_step`), valid under a linear-Gaussian structure because
    the representation is identified up to an invertible linear map; or any
    second-stage estimator with ``fit(X, y, treatment=, mediator=)`` and
    ``ate()`` (e.g. :class:`causalkit.frontdoor.FrontDoor`).

    Parameters
    ----------
    latent_dim : int, optional
        Dimension of :math:`\hat Z`. Default: the number of proxies, as the paper
        recommends when the true dimension is unknown (Sec. 6.5).
    hidden : int, default 100
        Width of every hidden layer. The paper does not state it; 100 trains a
        20,000-row data set for 30 epochs in about 12 s of one CPU core (200, the
        CEVAE width, takes about 35 s) and recovers the ATE as well on the
        benchmark data.
    n_layers : int, default 3
        Hidden layers of the prior, encoder and decoder networks (ELU).
    epochs : int, default 30
    batch_size : int, default 256
    lr : float, default 1e-3
        Adam learning rate, decayed per step so that it ends at ``lr * lr_decay``.
    lr_decay : float, default 0.01
        Total decay of the learning rate over training.
    weight_decay : float, default 1e-4
    proxy_dist : {"auto", "normal", "bernoulli"}, default "auto"
        Decoder family: "auto" uses Bernoulli for proxies that are all 0/1 and a
        Gaussian otherwise.
    second_stage : "linear" or estimator, default "linear"
        The CFD adjustment on :math:`\hat Z`.
    n_boot : int, default 200
        Bootstrap replicates for the standard error.
    bootstrap : {"second_stage", "refit"}, default "second_stage"
        "second_stage" resamples rows and recomputes the adjustment with
        :math:`\hat Z` held fixed (the VAE's own variability is not included, so
        the interval is somewhat narrow; see the CFDiVAE guide for its measured
        coverage; a second VAE trained with another seed checks it, and a gap above
        two standard errors raises :class:`SeedInstabilityWarning`); "refit" also
        retrains the VAE on every replicate (``n_boot`` trainings, run in parallel
        over ``n_jobs``). With an estimator as ``second_stage``, "second_stage" uses
        its own SE (and ignores ``groups``).
    early_stopping : bool, default False
        Stop when the ELBO on a validation split has not improved for
        ``patience`` epochs, and keep the best epoch's weights.
    validation_fraction : float, default 0.1
    patience : int, default 5
    device : str, default "auto"
        torch device; "auto" uses CUDA when available.
    n_jobs : int or None, default None
        Parallel jobs (joblib) of the ``bootstrap="refit"`` trainings. The replicates'
        seeds are spawned before any work starts, so the numbers are the same for every
        ``n_jobs`` and joblib backend; inner (torch, BLAS) threads per training follow
        :mod:`causalkit.config`.
    verbose : bool, default False
        Show progress bars (tqdm, on standard error): the training epochs with the
        latest loss, and the bootstrap resamples.
    random_state : int or None
        Seeds network initialisation, batches, the reparameterisation noise and
        the bootstrap; the same seed gives the same numbers on the CPU.

    Attributes
    ----------
    effect_ : Estimate
    history_ : dict
        ``"train"`` (and ``"validation"``) negative ELBO per unit, per epoch.
    latent_dim_ : int
    kl_per_dim_ : ndarray of shape (n_latent,)
        Average KL of each latent dimension from the prior (nats).
    active_dims_ : ndarray of int
        Dimensions used by the adjustment (KL above 0.1 nats).
    proxy_dist_ : list of str
        Decoder family of each proxy.
    second_stage_ : estimator or None
    coef_ : dict
        ``beta_tz`` and ``beta_zy`` of the linear two-step.
    diagnostics_ : dict
        Training summary; with ``bootstrap="second_stage"`` also ``seed_estimates``
        (this fit's estimate and that of a VAE trained with another seed) and
        ``seed_gap_se`` (their distance in standard errors).

    References
    ----------
    Xu, Z., Cheng, D., Li, J., Liu, J., Liu, L. and Yu, K. (2024). Causal inference
    with conditional front-door adjustment and identifiable variational
    autoencoder. ICLR 2024.

    Khemakhem, I., Kingma, D., Monti, R. and Hyvarinen, A. (2020). Variational
    autoencoders and nonlinear ICA: a unifying framework. AISTATS 2020.

    Examples
    --------
    >>> from causalkit.datasets import make_cfd_data
    >>> from causalkit.frontdoor import CFDiVAE
    >>> d = make_cfd_data(3000, random_state=0)
    >>> est = CFDiVAE(epochs=5, n_boot=20, random_state=0)
    >>> est = est.fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies)
    >>> est.transform(d.X, treatment=d.treatment, proxies=d.proxies).shape
    (3000, 4)
    """

    _parameter_constraints: dict = {
        "latent_dim": [POS_INT, None],
        "hidden": [POS_INT],
        "n_layers": [POS_INT],
        "epochs": [POS_INT],
        "batch_size": [POS_INT],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_decay": [Interval(Real, 0, 1, closed="right")],
        "weight_decay": [NONNEG_REAL],
        "proxy_dist": [StrOptions({"auto", "normal", "bernoulli"})],
        "second_stage": [StrOptions({"linear"}), HasMethods(["fit", "ate"])],
        "n_boot": [Interval(Integral, 2, None, closed="left")],
        "bootstrap": [StrOptions({"second_stage", "refit"})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [POS_INT],
        "device": "no_validation",  # a name or a torch.device; torch checks it
        "verbose": ["verbose"],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def __init__(self, *, latent_dim=None, hidden=100, n_layers=3, epochs=30, batch_size=256,
                 lr=1e-3, lr_decay=0.01, weight_decay=1e-4, proxy_dist="auto",
                 second_stage="linear", n_boot=200, bootstrap="second_stage",
                 early_stopping=False, validation_fraction=0.1, patience=5, device="auto",
                 n_jobs=None, verbose=False, random_state=None):
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.n_layers = n_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        self.proxy_dist = proxy_dist
        self.second_stage = second_stage
        self.n_boot = n_boot
        self.bootstrap = bootstrap
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _check_data(self, X, y, treatment, proxies, *, fitting):
        P, _ = check_X(proxies, "proxies")
        n = P.shape[0]
        _check_rows(proxies=P, treatment=treatment, y=y, X=X)
        if fitting and P.shape[1] < 3:
            raise ValueError(
                f"`proxies` must have at least 3 columns; got {P.shape[1]}. The identifiable "
                "VAE needs n >= 3 proxies of the adjustment variable (Xu et al. 2024, Sec. 4).")
        if not fitting and P.shape[1] != self.n_proxies_:
            raise ValueError(f"`proxies` has {P.shape[1]} columns; the model was fitted with "
                             f"{self.n_proxies_}.")
        if fitting:
            const = np.flatnonzero(np.ptp(P, axis=0) == 0)
            if const.size:
                raise ValueError(
                    f"`proxies` column(s) {const.tolist()} are constant: a constant proxy "
                    "carries no information about the adjustment variable. Drop them.")
        t = check_binary(treatment, "treatment", n=n)
        W = names = None
        if X is not None:
            W, names = check_X(X, "X")
            if W.shape[0] != n:
                raise ValueError(f"`X` has {W.shape[0]} rows but `proxies` has {n}; pass the "
                                 "covariates of the same units.")
            if not fitting and W.shape[1] != self.n_covariates_:
                raise ValueError(f"`X` has {W.shape[1]} columns; the model was fitted with "
                                 f"{self.n_covariates_}.")
        elif not fitting and self.n_covariates_:
            raise ValueError(f"`X` is None but the model was fitted with {self.n_covariates_} "
                             "covariates.")
        yv = None if y is None else check_vector(y, "y", n=n)
        return W, yv, t, P, names

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, treatment, proxies, groups=None):
        """Train the VAE, learn the representation and estimate the ATE.

        Parameters
        ----------
        X : array-like of shape (n, m) or None
            Pre-treatment covariates :math:`W` of the CFD criterion.
        y : array-like of shape (n,)
        treatment : array-like of shape (n,), binary
        proxies : array-like of shape (n, d_X), d_X >= 3
            Post-treatment proxies of the adjustment variable.
        groups : array-like of shape (n,), optional
            Cluster labels: the bootstrap (either kind) resamples whole clusters, so the
            standard error is cluster-robust. The VAE itself is trained on the units.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, proxies=proxies, groups=groups)
        from .._accel import torch_device
        from .._lazy import require

        W, yv, t, P, names = self._check_data(X, y, treatment, proxies, fitting=True)
        codes = check_groups(groups, "groups", n=P.shape[0])
        if codes is not None and np.unique(codes).shape[0] < 2:
            raise ValueError("`groups` has a single cluster; a cluster bootstrap needs at least "
                             "2 (pass groups=None to resample units).")
        require("torch", extra="torch")  # a clear message when the extra is missing
        n = P.shape[0]
        if n < _SMALL_N:
            warnings.warn(
                f"Only {n} units: below about {_SMALL_N} the identifiable VAE's representation "
                "is poor and CFDiVAE's bias exceeds that of back-door estimators (Xu et al. "
                "2024, Table 2: 86% at 500 units, 40% at 1,000).", FewObservationsWarning,
                stacklevel=2)
        self.n_proxies_ = P.shape[1]
        self.n_covariates_ = 0 if W is None else W.shape[1]
        self.n_features_in_ = self.n_covariates_
        store_feature_names(self, names)
        self.latent_dim_ = int(self.latent_dim or P.shape[1])
        self.proxy_dist_ = self._proxy_families(P)
        self.device_ = str(torch_device(self.device))
        seeds = seed_sequence(self.random_state).spawn(3)  # VAE, bootstrap, seed check
        self._net, self.history_ = self._train(P, t, W, seeds[0])
        Zhat, self.kl_per_dim_ = self._posterior(P, t, W, with_kl=True)
        self.active_dims_ = np.flatnonzero(self.kl_per_dim_ > _ACTIVE_KL)
        if self.active_dims_.size == 0:
            raise RuntimeError(
                "Every latent dimension collapsed to its prior (no information from `proxies` "
                "was learned). Train longer (`epochs`), use a larger `lr`, or check that the "
                "proxies depend on the mediator.")
        self._estimate(Zhat[:, self.active_dims_], W, t, yv, P, seeds[1], codes)
        if self.bootstrap == "second_stage":  # "refit" retrains per replicate: seeds included
            self._check_seed_stability(P, t, W, yv, seeds[2])
        return self

    def _check_seed_stability(self, P, t, W, y, seed_seq):
        """Train one more VAE with another seed and compare its estimate with ours.

        With ``bootstrap="second_stage"`` the SE holds the representation fixed, so it
        cannot see that another seed gives another representation and another answer.
        A gap above ``_SEED_GAP`` standard errors raises :class:`SeedInstabilityWarning`.
        """
        from ._cfdivae_torch import posterior

        net, _ = self._train(P, t, W, seed_seq)
        with limit_threads(inner_threads(n_rows=P.shape[0])):
            Z2, kl2 = posterior(net, P, _conditioning(t, W), device=self.device_, with_kl=True)
        active = np.flatnonzero(kl2 > _ACTIVE_KL)
        other = np.nan
        if active.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self.second_stage_ is None:
                    other = float(linear_cfd_two_step(Z2[:, active], W, t, y)[0])
                else:
                    other = float(clone(self.second_stage).fit(
                        W, y, treatment=t, mediator=Z2[:, active]).ate().value)
        value, se = self.effect_.value, self.effect_.stderr
        gap = abs(other - value) / se if se > 0 else np.inf
        self.diagnostics_["seed_estimates"] = np.array([value, other])
        self.diagnostics_["seed_gap_se"] = float(gap) if np.isfinite(other) else np.nan
        if not np.isfinite(other) or gap > _SEED_GAP:
            got = (f"gives {other:.4g} against {value:.4g}, {gap:.1f} standard errors apart"
                   if np.isfinite(other) else "collapses to the prior")
            warnings.warn(
                f"The CFDiVAE estimate is unstable across seeds: a VAE trained with another "
                f"seed {got}. The standard error holds the representation fixed and does not "
                "include this variation. Train longer (`epochs`), collect more units, use "
                "bootstrap='refit', or report the spread of estimates over seeds.",
                SeedInstabilityWarning, stacklevel=3)

    def _proxy_families(self, P):
        if self.proxy_dist != "auto":
            return [self.proxy_dist] * P.shape[1]
        binary = np.all((P == 0) | (P == 1), axis=0)
        return ["bernoulli" if b else "normal" for b in binary]

    def _train(self, P, t, W, seed_seq):
        from ._cfdivae_torch import train_ivae

        seed = int(seed_seq.generate_state(1)[0])
        with limit_threads(inner_threads(n_rows=P.shape[0])), \
                progress(total=self.epochs, desc="CFDiVAE epochs", unit="epoch",
                         verbose=self.verbose) as bar:

            def log(losses):
                bar.set_postfix_str(losses, refresh=False)
                bar.update(1)

            return train_ivae(
                P, _conditioning(t, W), latent_dim=self.latent_dim_, families=self.proxy_dist_,
                hidden=self.hidden, n_layers=self.n_layers, epochs=self.epochs,
                batch_size=self.batch_size, lr=self.lr, lr_decay=self.lr_decay,
                weight_decay=self.weight_decay, early_stopping=self.early_stopping,
                validation_fraction=self.validation_fraction, patience=self.patience,
                device=self.device_, seed=seed,
                log=log if self.verbose else None)

    def _posterior(self, P, t, W, with_kl=False):
        from ._cfdivae_torch import posterior

        with limit_threads(inner_threads(n_rows=P.shape[0])):
            return posterior(self._net, P, _conditioning(t, W), device=self.device_,
                             with_kl=with_kl)

    def _estimate(self, Zhat, W, t, y, P, seed_seq, codes=None):
        n = Zhat.shape[0]
        boot_seed = int(seed_seq.generate_state(1)[0])
        clus = "" if codes is None else f" of {int(codes.max()) + 1} clusters"
        self.second_stage_ = None
        if isinstance(self.second_stage, str):
            ate, beta_tz, beta_zy = linear_cfd_two_step(Zhat, W, t, y)
            self.coef_ = {"beta_tz": beta_tz, "beta_zy": beta_zy}
        else:
            self.second_stage_ = clone(self.second_stage).fit(W, y, treatment=t, mediator=Zhat)
            inner = self.second_stage_.ate()
            ate = float(inner.value)
            self.coef_ = {}
        if self.bootstrap == "refit":
            reps = self._refit_bootstrap(P, t, W, y, boot_seed, codes)
            self.n_boot_failed_ = int(np.sum(~np.isfinite(reps)))
            how = (f"bootstrap over {self.n_boot} resamples{clus} with the VAE retrained "
                   "on each")
        elif self.second_stage_ is None:
            arrays = (Zhat, t, y) if W is None else (Zhat, t, y, W)

            def stat(Zb, tb, yb, Wb=None):
                return linear_cfd_two_step(Zb, Wb, tb, yb)[0]

            reps = bootstrap(stat, *arrays, n_boot=self.n_boot, groups=codes,
                             random_state=boot_seed, verbose=self.verbose)[:, 0]
            how = (f"bootstrap over {self.n_boot} resamples{clus} of the second stage, "
                   "representation held fixed")
        else:
            reps = None
            how = f"SE of the second stage ({inner.method}), representation held fixed"
        stage = ("linear two-step" if self.second_stage_ is None
                 else type(self.second_stage_).__name__)
        if reps is not None:
            reps = reps[np.isfinite(reps)]
            se = float(np.std(reps, ddof=1))
        else:
            se = float(inner.stderr)
        k = Zhat.shape[1]
        self.effect_ = Estimate(ate, se, n=n, name="ATE",
                                method=f"CFDiVAE ({k} active of {self.latent_dim_} latent "
                                       f"dimensions) + {stage}; SE: {how}")
        self.diagnostics_ = Diagnostics({
            "final_train_loss": float(self.history_["train"][-1]),
            "epochs_run": len(self.history_["train"]),
            "latent_dim": self.latent_dim_,
            "representation_sd": np.std(Zhat, axis=0),
        })

    def _refit_bootstrap(self, P, t, W, y, seed, codes=None):
        """ATE of ``n_boot`` resamples (rows, or whole clusters), the VAE retrained on each.

        One child seed sequence per replicate is spawned before any work starts: it draws
        the replicate's resample and seeds its training, so the replicates do not depend
        on ``n_jobs``, the joblib backend or the order in which workers run.
        """
        n = P.shape[0]
        children = seed_sequence(seed).spawn(int(self.n_boot))
        template = clone(self).set_params(bootstrap="second_stage", n_boot=2, verbose=False,
                                          n_jobs=None, random_state=None)
        if codes is not None:
            members = [np.flatnonzero(codes == g) for g in range(int(codes.max()) + 1)]
        else:
            members = None
        k = inner_threads(self.n_jobs, n_rows=n)
        with limit_threads(k):
            out = Parallel(n_jobs=self.n_jobs)(
                delayed(_refit_one)(template, P, t, W, y, members, child, k)
                for child in children)
        return np.asarray(out, dtype=float)

    # ------------------------------------------------------------------ results
    def transform(self, X, *, treatment, proxies):
        """The learned representation: the encoder's posterior mean of :math:`Z`.

        All ``latent_dim_`` dimensions; the adjustment uses ``active_dims_``.

        Returns
        -------
        ndarray of shape (n, n_latent), n_latent = ``latent_dim_``
        """
        check_is_fitted(self, "effect_")
        check_aligned(X=X, treatment=treatment, proxies=proxies)
        check_feature_names(self, X)
        W, _, t, P, _ = self._check_data(X, None, treatment, proxies, fitting=False)
        return self._posterior(P, t, W)[0]

    def ate(self) -> Estimate:
        """The average treatment effect with its bootstrap (or second-stage) SE."""
        check_is_fitted(self, "effect_")
        return self.effect_

    def __getstate__(self):
        state = self.__dict__.copy()
        if "_net" in state:
            from ._cfdivae_torch import net_to_numpy

            state["_net"] = net_to_numpy(state["_net"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("_net"), dict) and state["_net"].get("_numpy_state"):
            from ._cfdivae_torch import net_from_numpy

            state["_net"] = net_from_numpy(state["_net"])
        self.__dict__.update(state)
