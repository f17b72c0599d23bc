r"""Off-policy evaluation in Markov decision processes, with and without an instrument.

:class:`IVMDPEvaluator` evaluates a target policy in a confounded MDP whose
per-step instrument :math:`Z_t` moves the action :math:`A_t` but affects rewards
and transitions only through it (Xu et al., 2023). :class:`MDPEvaluator` holds the
baselines that assume no unmeasured confounding (direct method, marginalised
importance sampling, doubly robust). Both take pooled transitions
``(state, [instrument,] action, reward, next_state)`` with trajectory labels, fit
the behaviour nuisances by cross-fitting over whole trajectories, and return the
discounted value :math:`\eta^\pi = E^\pi[\sum_{t \ge 0} \gamma^t R_t]` (not
multiplied by :math:`1-\gamma`) from ``value(policy)``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit, make_folds
from ..inference import Diagnostics, Estimate, EstimateTable
from ..utils._param_validation import (
    CLASSIFIER,
    CV,
    N_JOBS,
    NONNEG_REAL,
    POS_INT,
    POS_REAL,
    SEED,
    HasMethods,
    Interval,
    Real,
    _fit_context,
)
from ..utils.validation import (
    WeakInstrumentWarning,
    _check_finite,
    check_aligned,
    check_binary,
    check_consistent_length,
    check_groups,
    check_vector,
    check_X,
    store_feature_names,
)

__all__ = ["IVMDPEvaluator", "MDPEvaluator", "lstd", "solve_ratio"]


# --------------------------------------------------------------------------- linear solvers


def lstd(xi, xi_next_pi, reward, gamma, ridge=0.0, sample_weight=None):
    r"""Least-squares temporal-difference coefficients of a linear Q function.

    Solves :math:`\sum_i w_i \xi_i(\xi_i - \gamma f_i)^\top \beta = \sum_i w_i \xi_i R_i`
    where :math:`f_i = E_\pi[\xi(S'_i, \cdot)]` is the policy-averaged next feature
    (Bradtke and Barto, 1996; Xu et al., 2023, Sec. 4).
    """
    w = np.ones(len(reward)) if sample_weight is None else sample_weight
    A = (xi * w[:, None]).T @ (xi - gamma * xi_next_pi) / w.sum()
    b = (xi * w[:, None]).T @ reward / w.sum()
    if ridge:
        A = A + ridge * np.eye(A.shape[0])
    return np.linalg.lstsq(A, b, rcond=None)[0] if ridge == 0 else np.linalg.solve(A, b)


def solve_ratio(psi, psi_next, rho, psi0, gamma, ridge=1e-3, sample_weight=None):
    r"""Linear-sieve marginal ratio :math:`\omega(s) = \psi(s)^\top\beta`.

    The ratio :math:`\omega = d^\pi / d^b` solves, for every test function f,
    :math:`E_b[\omega(S)(f(S) - \gamma\rho f(S'))] = (1-\gamma) E[f(S_0)]`.
    Taking :math:`f = \psi_j` gives the linear system

    .. math:: E_b[(\psi(S) - \gamma\rho\,\psi(S'))\,\psi(S)^\top]\,\beta = (1-\gamma) E[\psi(S_0)],

    whose rows index the test functions. (The transposed matrix
    :math:`E_b[\psi(S)(\psi(S) - \gamma\rho\psi(S'))^\top]` solves the Bellman
    equation of a value function instead and does not give the ratio.) A ridge
    :math:`\lambda = \texttt{ridge}\cdot|\min\mathrm{eig}| + 10^{-5}` stabilises the
    solve when ``ridge > 0``.
    """
    w = np.ones(len(rho)) if sample_weight is None else sample_weight
    D = psi - gamma * rho[:, None] * psi_next
    M = (D * w[:, None]).T @ psi / w.sum()
    b = (1 - gamma) * psi0.mean(axis=0)
    if ridge:
        lam = abs(np.min(np.linalg.eigvals(M).real)) * ridge + 1e-5
        M = M + lam * np.eye(M.shape[0])
    return np.linalg.solve(M, b)


# --------------------------------------------------------------------------- data checks


def _check_trajectories(X, y, action, next_state, episode, instrument=None):
    S, names = check_X(X, "X")
    r = check_vector(y, "y")
    a = check_binary(action, "action").astype(np.float64)
    Sn, _ = check_X(next_state, "next_state")
    if Sn.shape[1] != S.shape[1]:
        raise ValueError(f"`next_state` must have the columns of X ({S.shape[1]}); got {Sn.shape[1]}.")
    z = None if instrument is None else check_binary(instrument, "instrument").astype(np.float64)
    tr = check_groups(episode, "episode")
    if tr is None:
        raise ValueError("`episode` is required: one trajectory label per transition row.")
    check_consistent_length(X=S, y=r, action=a, next_state=Sn, episode=tr, instrument=z)
    counts = np.bincount(tr)
    if counts.min() != counts.max():
        raise ValueError(
            f"`episode` lengths differ (from {counts.min()} to {counts.max()} transitions); "
            "trajectories of equal length are required. Truncate them to a common horizon.")
    if counts.size < 4:
        raise ValueError(f"`episode` has {counts.size} trajectories; at least 4 are needed.")
    # first row of each trajectory (in the given order) is its initial state
    first = np.zeros(counts.size, dtype=np.int64)
    seen = np.zeros(counts.size, dtype=bool)
    for i, g in enumerate(tr):
        if not seen[g]:
            seen[g] = True
            first[g] = i
    return S, names, r, a, Sn, z, tr, first


def _policy_prob(policy, S):
    """P(A=1 | s) of the target policy on the rows of S."""
    if isinstance(policy, (str, bytes)):
        raise TypeError(f"`policy` must be a probability P(A=1), a callable states -> P(A=1|s) "
                        f"or a classifier with predict_proba; got the string {policy!r}. For "
                        "the uniform policy pass 0.5.")
    if np.isscalar(policy):
        p = np.full(S.shape[0], float(policy))
    elif hasattr(policy, "predict_proba"):
        P = np.asarray(policy.predict_proba(S), dtype=np.float64)
        classes = list(getattr(policy, "classes_", [0, 1]))
        if 1 not in classes:
            raise ValueError("`policy` classifier must be trained on actions 0/1.")
        p = P[:, classes.index(1)]
    elif callable(policy):
        out = np.asarray(policy(S), dtype=np.float64)
        p = out[:, 1] if out.ndim == 2 else out
    else:
        raise TypeError("`policy` must be a probability P(A=1), a callable states -> P(A=1|s) "
                        "(or an (n, 2) matrix), or a classifier with predict_proba.")
    if p.shape != (S.shape[0],):
        raise ValueError(f"`policy` must give one probability per state; got shape {p.shape}.")
    _check_finite(p, "policy")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("`policy` probabilities must lie in [0, 1].")
    return p


def _rbf_features(n_components, random_state, S_fit):
    rbf = RBFSampler(n_components=n_components, random_state=random_state).fit(S_fit)
    return lambda S: np.c_[np.ones(S.shape[0]), rbf.transform(S)]


class _MDPBase(BaseEstimator):
    _parameter_constraints: dict = {
        "gamma": [Interval(Real, 0, 1, closed="neither")],
        "model_action": [CLASSIFIER, None],
        "q_features": [HasMethods(["fit", "transform"]), None],
        "n_components": [POS_INT],
        "ridge": [NONNEG_REAL],
        "omega_clip": [Interval(Real, 1, None, closed="left"), None],
        "cv": CV,
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def _q_features(self, *cols):
        Z = np.column_stack(cols)
        if self.q_features is None:
            return np.c_[np.ones(Z.shape[0]), Z]
        return np.c_[np.ones(Z.shape[0]), self._qmap.transform(Z)]

    def _post_ratio(self, om):
        if self.omega_clip is not None:
            om = np.clip(om, 1 / self.omega_clip, self.omega_clip)
        return om

    def compare(self, policies: dict, *, method="dr") -> EstimateTable:
        """Values of several named policies as an :class:`EstimateTable`."""
        check_is_fitted(self, "folds_")
        if not isinstance(policies, dict) or not policies:
            raise ValueError("`policies` must be a non-empty dict {name: policy}.")
        return EstimateTable(tuple(self.value(p, method=method, name=str(k)) for k, p in policies.items()),
                             title=f"Policy values ({type(self).__name__}, {method})")


class IVMDPEvaluator(_MDPBase):
    r"""Policy value in a confounded MDP identified by a per-step binary instrument.

    Xu, Zhu, Shi, Luo and Song (2023). With :math:`p_a(a|s,z)` the action model,
    :math:`p_z(z|s)` the instrument propensity, :math:`\Delta(s) = p_a(1|s,1) - p_a(1|s,0)`
    and the IV weight

    .. math:: c_\pi(z|s) = \frac{z(\pi(1|s) - p_a(1|s,0)) + (1-z)(p_a(1|s,1) - \pi(1|s))}{\Delta(s)},

    which satisfies :math:`\sum_z c_\pi(z|s)p_a(a|s,z) = \pi(a|s)`, the IV-Bellman
    equation :math:`E[R_t + \gamma V(S_{t+1}) - Q(S_t,Z_t,A_t) | S_t,Z_t,A_t] = 0` with
    :math:`V(s) = \sum_{z,a} c_\pi(z|s)p_a(a|s,z)Q(s,z,a)` gives
    :math:`\eta^\pi = E[V(S_0)]`. Q is linear in :math:`\xi(s,z,a)` (default
    :math:`(1, s, z, a)`, or ``[1, q_features(s, z, a)]``) and fitted by LSTD; the
    marginal ratio :math:`\omega = d^\pi/d^b` is a linear sieve on random Fourier
    features (:func:`solve_ratio`) with :math:`\rho(z,s) = c_\pi(z|s)/p_z(z|s)`.

    * ``method="dm"``: :math:`\hat\eta = \frac1n\sum_i \hat V(S_{i0})`.
    * ``method="dr"``: adds :math:`\frac1{nT}\sum_{i,t}\frac{\hat\omega\hat\rho}{1-\gamma}
      [R + \gamma\hat V(S') - \sum_a\hat p_a(a|S,Z)\hat Q(S,Z,a) + (A - \hat p_a(1|S,Z))
      \frac{\sum_a \hat p_a(a|S,0)\hat Q(S,0,a) - \sum_a\hat p_a(a|S,1)\hat Q(S,1,a)}{\hat\Delta(S)}]`.

    Nuisances (``model_action``, ``model_instrument``, Q and omega) are fitted on
    the other folds of trajectories and evaluated on the held-out fold. The
    standard error is the trajectory-level influence-function SE
    :math:`\mathrm{sd}(\phi_i)/\sqrt n` of the per-trajectory scores, which treats
    the fitted nuisances as fixed.

    Parameters
    ----------
    gamma : float in (0, 1), default 0.9
    model_action : classifier, optional
        :math:`p_a(1|s,z)` on ``[state, instrument]``; default LogisticRegression.
    model_instrument : classifier, optional
        :math:`p_z(1|s)`; default LogisticRegression.
    q_features : transformer, optional
        Feature map applied to ``[s, z, a]`` before LSTD (a column of ones is added).
    n_components : int, default 10
        Random Fourier features of the ratio sieve (the authors use 10 in their
        driver script and 100 as their function default; on the simulation of
        :func:`~causalkit.datasets.make_iv_mdp` 10 gave about half the spread of 100).
    ridge : float, default 1e-3
        Relative ridge of the ratio system (0 solves it exactly).
    clip_c : float, default 50
        :math:`c_\pi` is clipped to ``[-clip_c, clip_c]``.
    min_delta : float, default 1e-2
        :math:`|\hat\Delta|` is floored at this value (sign kept).
    omega_clip : float or None, default 100
        :math:`\hat\omega` is clipped to ``[1/omega_clip, omega_clip]`` and then
        scaled to mean one (``None``: neither). Because :math:`\rho` is a signed
        weight this changes the estimator; it is a stabiliser, not a correction.
    cv : int, default 2
        Folds of trajectories.
    n_jobs, random_state

    References
    ----------
    Xu, Y., Zhu, J., Shi, C., Luo, S. and Song, R. (2023). An instrumental variable
    approach to confounded off-policy evaluation. ICML.

    Examples
    --------
    >>> from causalkit.datasets import make_iv_mdp
    >>> from causalkit.ope import IVMDPEvaluator
    >>> d = make_iv_mdp(60, horizon=30, random_state=0)
    >>> est = IVMDPEvaluator(n_components=10, random_state=0).fit(
    ...     d.X, d.y, instrument=d.instrument, action=d.action,
    ...     next_state=d.next_state, episode=d.episode)
    >>> round(d.true_value, 1)
    20.0
    >>> est.value(1.0).n
    60
    """

    _parameter_constraints: dict = {
        **_MDPBase._parameter_constraints,
        "model_instrument": [CLASSIFIER, None],
        "clip_c": [POS_REAL],
        "min_delta": [POS_REAL],
    }

    def __init__(self, *, gamma=0.9, model_action=None, model_instrument=None, q_features=None,
                 n_components=10, ridge=1e-3, clip_c=50.0, min_delta=1e-2, omega_clip=100.0,
                 cv=2, n_jobs=None, random_state=None):
        self.gamma = gamma
        self.model_action = model_action
        self.model_instrument = model_instrument
        self.q_features = q_features
        self.n_components = n_components
        self.ridge = ridge
        self.clip_c = clip_c
        self.min_delta = min_delta
        self.omega_clip = omega_clip
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, instrument, action, next_state, episode):
        """Cross-fit the behaviour nuisances :math:`p_a(a|s,z)` and :math:`p_z(z|s)`.

        Parameters
        ----------
        X : array-like (N, p)
            States :math:`S_t` of all pooled transitions.
        y : array-like (N,)
            Rewards :math:`R_t`.
        instrument, action : array-like (N,)
            Binary instrument :math:`Z_t` and action :math:`A_t`.
        next_state : array-like (N, p)
            :math:`S_{t+1}`.
        episode : array-like (N,)
            Trajectory (episode) labels; all trajectories have the same length and the first
            row of each (in the given order) holds its initial state.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, instrument=instrument, action=action,
                      next_state=next_state, episode=episode)
        S, names, r, a, Sn, z, tr, first = _check_trajectories(
            X, y, action, next_state, episode, instrument)
        ma = LogisticRegression() if self.model_action is None else self.model_action
        mz = LogisticRegression() if self.model_instrument is None else self.model_instrument
        for nm, m in (("model_action", ma), ("model_instrument", mz)):
            if not hasattr(m, "predict_proba"):
                raise TypeError(f"`{nm}` must be a classifier with predict_proba; got {type(m).__name__}.")
        folds = make_folds(len(r), self.cv, groups=tr, random_state=self.random_state)
        SZ = np.c_[S, z]
        res = crossfit({"pa": Nuisance(ma, a, method="predict_proba"),
                        "pz": Nuisance(mz, z, method="predict_proba", X=S)}, SZ, folds=folds,
                       n_jobs=self.n_jobs, random_state=self.random_state, keep_models=True)
        self.folds_ = res.folds
        self.models_ = res.models
        self._data = tuple(np.array(v, copy=True) for v in (S, r, a, Sn, z, tr, first))
        delta = np.concatenate([self._pa(m, S, 1) - self._pa(m, S, 0) for m in res.models["pa"]])
        self.diagnostics_ = Diagnostics({"delta_abs_min": float(np.min(np.abs(delta))),
                             "delta_mean": float(np.mean(delta)),
                             "n_trajectories": int(first.size), "horizon": int(len(r) // first.size)})
        if np.mean(np.abs(delta)) < 0.05:
            import warnings
            warnings.warn(f"The instrument barely moves the action (mean |Delta(s)| = "
                          f"{np.mean(np.abs(delta)):.3g}); IV weights are unstable.",
                          WeakInstrumentWarning, stacklevel=2)
        self.n_features_in_ = S.shape[1]
        store_feature_names(self, names)
        return self

    @staticmethod
    def _pa(model, S, zval):
        p = model.predict_proba(np.c_[S, np.full(S.shape[0], float(zval))])
        return p[:, list(model.classes_).index(1)]

    @staticmethod
    def _pz(model, S):
        return model.predict_proba(S)[:, list(model.classes_).index(1)]

    def _pieces(self, ma, mz, S, pi):
        p1, p0 = self._pa(ma, S, 1), self._pa(ma, S, 0)
        delta = p1 - p0
        dsafe = np.where(np.abs(delta) < self.min_delta, np.where(delta < 0, -1, 1) * self.min_delta, delta)
        c1 = np.clip((pi - p0) / dsafe, -self.clip_c, self.clip_c)
        c0 = np.clip((p1 - pi) / dsafe, -self.clip_c, self.clip_c)
        return p1, p0, dsafe, c1, c0, self._pz(mz, S)

    def _v(self, beta, S, pieces):
        p1, p0, _, c1, c0, _ = pieces
        v = 0.0
        for zv, cz, pz1 in ((1, c1, p1), (0, c0, p0)):
            for av, pa in ((1, pz1), (0, 1 - pz1)):
                v = v + cz * pa * (self._q_features(S, np.full(len(S), zv), np.full(len(S), av)) @ beta)
        return v

    def _feat_pi(self, S, pieces):
        p1, p0, _, c1, c0, _ = pieces
        f = 0.0
        for zv, cz, pz1 in ((1, c1, p1), (0, c0, p0)):
            for av, pa in ((1, pz1), (0, 1 - pz1)):
                f = f + (cz * pa)[:, None] * self._q_features(S, np.full(len(S), zv), np.full(len(S), av))
        return f

    def value(self, policy, *, method="dr", name="V(pi)") -> Estimate:
        """Value of ``policy`` (P(A=1), a callable of states, or a classifier).

        ``method`` is ``"dr"`` (doubly robust) or ``"dm"`` (direct method).
        """
        check_is_fitted(self, "folds_")
        if method not in ("dr", "dm"):
            raise ValueError(f"`method` must be 'dr' or 'dm'; got {method!r}.")
        S, r, a, Sn, z, tr, first = self._data
        g = self.gamma
        n_traj = first.size
        T = len(r) // n_traj
        phi = np.zeros(n_traj)
        is_first = np.zeros(len(r), dtype=bool)
        is_first[first] = True
        for k, (train, test) in enumerate(self.folds_):
            ma, mz = self.models_["pa"][k], self.models_["pz"][k]
            if self.q_features is not None:
                self._qmap = clone(self.q_features).fit(np.c_[S[train], z[train], a[train]])
            # ---- fit Q and omega on the training trajectories
            St, Snt = S[train], Sn[train]
            pc, pn = self._pieces(ma, mz, St, _policy_prob(policy, St)), \
                self._pieces(ma, mz, Snt, _policy_prob(policy, Snt))
            xi = self._q_features(St, z[train], a[train])
            beta = lstd(xi, self._feat_pi(Snt, pn), r[train], g)
            s0_train = S[train][is_first[train]]
            if method == "dr":
                psi = _rbf_features(self.n_components, self.random_state if self.random_state is not None else 0,
                                    np.r_[St, s0_train])
                cz = np.where(z[train] == 1, pc[3], pc[4])
                pzz = np.where(z[train] == 1, pc[5], 1 - pc[5])
                rho = cz / pzz
                wb = solve_ratio(psi(St), psi(Snt), rho, psi(s0_train), g, self.ridge)
                om_train = self._post_ratio(psi(St) @ wb)
                scale = om_train.mean() if self.omega_clip is not None else 1.0
            # ---- evaluate on the held-out trajectories
            Se, Sne = S[test], Sn[test]
            pe = self._pieces(ma, mz, Se, _policy_prob(policy, Se))
            pne = self._pieces(ma, mz, Sne, _policy_prob(policy, Sne))
            te = tr[test]
            f_mask = is_first[test]
            v0 = self._v(beta, Se[f_mask], tuple(x[f_mask] for x in pe))
            phi[te[f_mask]] += v0
            if method == "dr":
                om = self._post_ratio(psi(Se) @ wb) / scale
                ze, ae = z[test], a[test]
                p1, p0, dsafe, c1, c0, pz1 = pe
                cz = np.where(ze == 1, c1, c0)
                rho = cz / np.where(ze == 1, pz1, 1 - pz1)
                paz = np.where(ze == 1, p1, p0)
                ones, zeros = np.ones(len(ze)), np.zeros(len(ze))
                q = lambda zz, aa, Se=Se, beta=beta: self._q_features(Se, zz, aa) @ beta
                mq_obs = paz * q(ze, ones) + (1 - paz) * q(ze, zeros)
                mq1 = p1 * q(ones, ones) + (1 - p1) * q(ones, zeros)
                mq0 = p0 * q(zeros, ones) + (1 - p0) * q(zeros, zeros)
                td = r[test] + g * self._v(beta, Sne, pne) - mq_obs + (ae - paz) * (mq0 - mq1) / dsafe
                np.add.at(phi, te, om * rho * td / ((1 - g) * T))
        theta = float(phi.mean())
        se = float(phi.std() / np.sqrt(n_traj))
        label = "IV doubly robust" if method == "dr" else "IV direct method"
        return Estimate(theta, se, n=n_traj,
                        method=f"{label} ({len(self.folds_)}-fold cross-fitted by trajectory), "
                               "trajectory-level influence-function SE", name=name)


class MDPEvaluator(_MDPBase):
    r"""Baselines that assume no unmeasured confounding: DM, MIS and DR.

    With the behaviour policy :math:`b(a|s)` (``model_action`` on the state),
    weight :math:`w = \pi(A|S)/b(A|S)`, Q linear in :math:`(1, s, a)` by LSTD and
    the marginal ratio :math:`\omega` from :func:`solve_ratio` with :math:`\rho = w`:

    * ``"dm"``: :math:`\frac1n\sum_i \sum_a \pi(a|S_{i0})\hat Q(S_{i0}, a)`;
    * ``"mis"``: :math:`\frac1{(1-\gamma)nT}\sum_{i,t}\hat\omega(S_{it}) w_{it} R_{it}`
      (Liu et al., 2018);
    * ``"dr"``: DM plus :math:`\frac1{(1-\gamma)nT}\sum_{i,t}\hat\omega w
      (R + \gamma\hat V(S') - \hat Q(S, A))` (Kallus and Uehara, 2020).

    They are biased when an unobserved variable drives both actions and rewards.
    Parameters as :class:`IVMDPEvaluator` (no instrument arguments).

    References
    ----------
    Liu, Q., Li, L., Tang, Z. and Zhou, D. (2018). Breaking the curse of horizon:
    infinite-horizon off-policy estimation. NeurIPS.
    Kallus, N. and Uehara, M. (2020). Double reinforcement learning for efficient
    off-policy evaluation in Markov decision processes. JMLR 21.

    Examples
    --------
    >>> from causalkit.datasets import make_iv_mdp
    >>> from causalkit.ope import MDPEvaluator
    >>> d = make_iv_mdp(40, horizon=30, random_state=0)
    >>> est = MDPEvaluator(n_components=10, random_state=0).fit(
    ...     d.X, d.y, action=d.action, next_state=d.next_state, episode=d.episode)
    >>> est.value(1.0, method="mis").n
    40
    """

    def __init__(self, *, gamma=0.9, model_action=None, q_features=None, n_components=10,
                 ridge=1e-3, omega_clip=100.0, cv=2, n_jobs=None, random_state=None):
        self.gamma = gamma
        self.model_action = model_action
        self.q_features = q_features
        self.n_components = n_components
        self.ridge = ridge
        self.omega_clip = omega_clip
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, action, next_state, episode):
        """Cross-fit the behaviour policy :math:`b(a|s)`; arguments as :meth:`IVMDPEvaluator.fit`."""
        check_aligned(X=X, y=y, action=action, next_state=next_state, episode=episode)
        S, names, r, a, Sn, _, tr, first = _check_trajectories(X, y, action, next_state, episode)
        ma = LogisticRegression() if self.model_action is None else self.model_action
        if not hasattr(ma, "predict_proba"):
            raise TypeError(f"`model_action` must be a classifier with predict_proba; got {type(ma).__name__}.")
        folds = make_folds(len(r), self.cv, groups=tr, random_state=self.random_state)
        res = crossfit({"pa": Nuisance(ma, a, method="predict_proba")}, S, folds=folds,
                       n_jobs=self.n_jobs, random_state=self.random_state, keep_models=True)
        self.folds_ = res.folds
        self.models_ = res.models
        self._data = tuple(np.array(v, copy=True) for v in (S, r, a, Sn, tr, first))
        self.n_features_in_ = S.shape[1]
        store_feature_names(self, names)
        return self

    def value(self, policy, *, method="dr", name="V(pi)") -> Estimate:
        """Value of ``policy``; ``method`` is ``"dm"``, ``"mis"`` or ``"dr"``."""
        check_is_fitted(self, "folds_")
        if method not in ("dr", "dm", "mis"):
            raise ValueError(f"`method` must be 'dm', 'mis' or 'dr'; got {method!r}.")
        S, r, a, Sn, tr, first = self._data
        g = self.gamma
        n_traj = first.size
        T = len(r) // n_traj
        phi = np.zeros(n_traj)
        is_first = np.zeros(len(r), dtype=bool)
        is_first[first] = True
        for k, (train, test) in enumerate(self.folds_):
            m = self.models_["pa"][k]
            b1 = lambda X_, m=m: m.predict_proba(X_)[:, list(m.classes_).index(1)]
            if self.q_features is not None:
                self._qmap = clone(self.q_features).fit(np.c_[S[train], a[train]])
            St, Snt, at = S[train], Sn[train], a[train]
            pit, pint = _policy_prob(policy, St), _policy_prob(policy, Snt)
            one, zero = np.ones(len(at)), np.zeros(len(at))
            f_next = (pint[:, None] * self._q_features(Snt, one) + (1 - pint)[:, None] * self._q_features(Snt, zero))
            beta = lstd(self._q_features(St, at), f_next, r[train], g)
            if method in ("dr", "mis"):
                bt = b1(St)
                w_t = np.where(at == 1, pit / bt, (1 - pit) / (1 - bt))
                s0_train = St[is_first[train]]
                psi = _rbf_features(self.n_components, self.random_state if self.random_state is not None else 0,
                                    np.r_[St, s0_train])
                wb = solve_ratio(psi(St), psi(Snt), w_t, psi(s0_train), g, self.ridge)
                om_train = self._post_ratio(psi(St) @ wb)
                scale = om_train.mean() if self.omega_clip is not None else 1.0
            Se, Sne, ae, te = S[test], Sn[test], a[test], tr[test]
            pie, pine = _policy_prob(policy, Se), _policy_prob(policy, Sne)
            onee, zeroe = np.ones(len(ae)), np.zeros(len(ae))
            Q = lambda X_, aa, beta=beta: self._q_features(X_, aa) @ beta
            fm = is_first[test]
            if method in ("dm", "dr"):
                V0 = pie * Q(Se, onee) + (1 - pie) * Q(Se, zeroe)
                phi[te[fm]] += V0[fm]
            if method in ("dr", "mis"):
                be = b1(Se)
                w = np.where(ae == 1, pie / be, (1 - pie) / (1 - be))
                om = self._post_ratio(psi(Se) @ wb) / scale
                if method == "mis":
                    term = r[test]
                else:
                    Vn = pine * Q(Sne, onee) + (1 - pine) * Q(Sne, zeroe)
                    term = r[test] + g * Vn - Q(Se, ae)
                np.add.at(phi, te, om * w * term / ((1 - g) * T))
        theta = float(phi.mean())
        se = float(phi.std() / np.sqrt(n_traj))
        label = {"dm": "direct method", "mis": "marginalised importance sampling",
                 "dr": "doubly robust"}[method]
        return Estimate(theta, se, n=n_traj,
                        method=f"No-confounding {label} ({len(self.folds_)}-fold cross-fitted by "
                               "trajectory), trajectory-level influence-function SE", name=name)
