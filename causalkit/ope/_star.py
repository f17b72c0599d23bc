r"""STAR: off-policy evaluation through a state abstraction (Chaudhari et al., 2024).

A state abstraction :math:`\phi` maps states to a finite set :math:`\mathcal Z`.
Under the target policy :math:`\pi` it induces an *abstract reward process*
(ARP): a Markov chain on :math:`\mathcal Z` with transition matrix :math:`P` and
reward vector :math:`R`. STAR estimates the ARP from behaviour data by
importance-weighted maximum likelihood and returns its expected return.

Here the ARP is defined through discounted occupancies under :math:`\pi`,

.. math::
    F(z, z') = \sum_t \gamma^t\,\Pr{}^\pi(Z_t = z, Z_{t+1} = z'),\quad
    d(z) = \sum_t \gamma^t \Pr{}^\pi(Z_t = z),\quad
    P(z'|z) = \frac{F(z, z')}{d(z)},\quad
    R(z) = \frac{\sum_t \gamma^t E^\pi[R_t 1\{Z_t = z\}]}{d(z)},

so that :math:`d = d_0 + \gamma P^\top d` and the ARP's return
:math:`d_0^\top (I - \gamma P)^{-1} R = \sum_z d(z)R(z) = E^\pi\sum_t\gamma^t R_t`
equals the policy value for *any* abstraction (episodes that end move to an
absorbing zero-reward state). Each occupancy is an expectation under the
behaviour policy :math:`b` with weight
:math:`\rho_t = \prod_{j \le t} \pi(A_j|S_j)/b(A_j|S_j)`, so the weighted
empirical counts are consistent and so is the estimate (Chaudhari et al., 2024,
Sec. 4). Truncating the product to the last :math:`c` ratios,
:math:`\rho^{(c)}_t = \prod_{j=t-c+1}^{t} \pi/b`, trades that guarantee for lower
variance; with a Markov abstraction (e.g. the true states) :math:`c = 1` is
already consistent (it is the certainty-equivalence model estimate) and
:math:`c = 0` estimates the behaviour policy's ARP. The family is indexed by the
abstraction and :math:`c`.

The weighting by :math:`\gamma^t` is this implementation's reading of the ARP;
the paper's exact construction was not available to check against.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ..inference import Estimate, EstimateTable
from ..utils._param_validation import (
    CLASSIFIER,
    NONNEG_INT,
    SEED,
    HasMethods,
    Integral,
    Interval,
    Real,
    _fit_context,
)
from ..utils.validation import (
    _check_finite,
    as_float_array,
    check_aligned,
    check_consistent_length,
    check_groups,
    check_propensity,
    check_vector,
    check_X,
    store_feature_names,
)
from ._bandit import _check_actions, _check_prob_matrix

__all__ = ["STAR"]


class STAR(BaseEstimator):
    r"""Policy value from an importance-weighted abstract reward process (STAR).

    Parameters
    ----------
    abstraction : clusterer or transformer, optional
        Maps states to a finite set. A clusterer with ``predict`` (fitted on the
        states), or a transformer whose ``transform`` returns one integer code per
        state. Default :class:`~sklearn.cluster.KMeans` with
        ``n_abstract_states`` clusters.
    n_abstract_states : int, default 8
        Number of clusters of the default k-means abstraction.
    c : int or None, default None
        Number of most recent importance ratios kept in each weight; ``None``
        keeps the whole product since the episode start (consistent for any
        abstraction), 0 uses no weights.
    gamma : float in (0, 1), default 0.9
    episodic : bool, default False
        ``False``: trajectories are windows of a continuing process; the
        estimate is :math:`E^\pi\sum_{t\ge0}\gamma^t R_t` and the last row's
        ``next_state`` continues the chain (as :class:`MDPEvaluator`).
        ``True``: each episode ends after its last row; the estimate is the
        episode's discounted return.
    n_bootstrap : int, default 200
        Trajectory-bootstrap replicates for the standard error.
    model_action : classifier, optional
        Behaviour-policy model used when ``propensity`` is not given (fitted on
        all transitions; default :class:`~sklearn.linear_model.LogisticRegression`).
    random_state : int or None
        Seeds k-means and the bootstrap.

    Attributes
    ----------
    abstraction_ : fitted abstraction
    n_abstract_states_ : int
        Abstract states seen in the data.
    propensity_ : ndarray (n,)
        Behaviour probabilities of the logged actions.
    propensity_estimated_ : bool
    n_actions_, n_episodes_

    Notes
    -----
    With ``episodic=False`` and an abstraction that is not Markov, the finite
    windows truncate the occupancies at the window length :math:`T`; the error
    this adds is of order :math:`\gamma^T`.

    References
    ----------
    Chaudhari, S., Deshpande, A., da Silva, B. C. and Thomas, P. S. (2024).
    Abstract reward processes: leveraging state abstraction for consistent
    off-policy evaluation. NeurIPS.

    Examples
    --------
    >>> from causalkit.datasets import make_tabular_mdp
    >>> from causalkit.ope import STAR
    >>> d = make_tabular_mdp(300, horizon=15, random_state=0)
    >>> est = STAR(n_abstract_states=6, episodic=True, random_state=0).fit(
    ...     d.X, d.y, action=d.action, next_state=d.next_state, episode=d.episode,
    ...     propensity=d.propensity)
    >>> v = est.value(d.policy)
    >>> bool(abs(v.value - d.true_value) < 4 * v.stderr)
    True
    """

    _parameter_constraints: dict = {
        "abstraction": [HasMethods(["fit", "predict"]), HasMethods(["fit", "transform"]), None],
        "n_abstract_states": [Interval(Integral, 2, None, closed="left")],
        "c": [NONNEG_INT, None],
        "gamma": [Interval(Real, 0, 1, closed="neither")],
        "episodic": ["boolean"],
        "n_bootstrap": [Interval(Integral, 2, None, closed="left")],
        "model_action": [CLASSIFIER, None],
        "random_state": SEED,
    }

    def __init__(self, *, abstraction=None, n_abstract_states=8, c=None, gamma=0.9, episodic=False,
                 n_bootstrap=200, model_action=None, random_state=None):
        self.abstraction = abstraction
        self.n_abstract_states = n_abstract_states
        self.c = c
        self.gamma = gamma
        self.episodic = episodic
        self.n_bootstrap = n_bootstrap
        self.model_action = model_action
        self.random_state = random_state

    def _abstract(self, model, S):
        if hasattr(model, "predict"):
            codes = model.predict(S)
        else:
            codes = model.transform(S)
        codes = np.asarray(codes)
        if codes.ndim == 2 and codes.shape[1] == 1:
            codes = codes[:, 0]
        if codes.ndim != 1 or codes.shape[0] != S.shape[0]:
            raise ValueError(f"`abstraction` must map each state to one code; its output has shape "
                             f"{codes.shape}. Use a clusterer or a transformer returning (n,) codes.")
        if codes.dtype.kind == "f":
            _check_finite(codes, "abstraction output")
            if np.any(codes != np.round(codes)):
                raise ValueError("`abstraction` must map states to a finite set of integer codes; "
                                 "its output holds non-integer values.")
        return codes

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, action, next_state, episode, propensity=None):
        """Abstract the states and store the trajectories.

        Parameters
        ----------
        X : array-like of shape (n, p)
            State at each transition; rows of one episode in time order.
        y : array-like of shape (n,)
            Rewards.
        action : array-like of int, shape (n,)
            Actions 0..n_actions-1.
        next_state : array-like of shape (n, p)
            State after each transition.
        episode : array-like of shape (n,)
            Trajectory label of each row.
        propensity : array-like of shape (n,) or (n, n_actions), optional
            Behaviour probability of the logged action (or the full behaviour
            distribution). Estimated with ``model_action`` when absent.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, action=action, next_state=next_state,
                      episode=episode, propensity=propensity)
        S, names = check_X(X, "X")
        r = check_vector(y, "y")
        a, k = _check_actions(action, None)
        Sn, _ = check_X(next_state, "next_state")
        if Sn.shape[1] != S.shape[1]:
            raise ValueError(f"`next_state` must have the columns of X ({S.shape[1]}); got {Sn.shape[1]}.")
        ep = check_groups(episode, "episode")
        if ep is None:
            raise ValueError("`episode` is required: one trajectory label per transition row.")
        n = check_consistent_length(X=S, y=r, action=a, next_state=Sn, episode=ep)
        n_ep = int(ep.max()) + 1
        if n_ep < 2:
            raise ValueError(f"`episode` has {n_ep} trajectory; at least 2 are needed for the bootstrap.")
        if propensity is None:
            model = LogisticRegression() if self.model_action is None else clone(self.model_action)
            if not hasattr(model, "predict_proba"):
                raise TypeError(f"`model_action` must be a classifier with predict_proba; "
                                f"got {type(model).__name__}.")
            model.fit(S, a)
            Pb = np.zeros((n, k))
            Pb[:, model.classes_.astype(int)] = model.predict_proba(S)
            p = np.clip(Pb[np.arange(n), a], 1e-12, 1)
            self.propensity_estimated_ = True
        else:
            parr = np.asarray(as_float_array(propensity, "propensity"),
                              dtype=np.float64)
            if parr.ndim == 2 and parr.shape[1] > 1:
                p = _check_prob_matrix(parr, "propensity", n, parr.shape[1])[np.arange(n), a]
            else:
                p = check_vector(parr, "propensity", n=n)
            if (p <= 0).any() or (p > 1).any():
                raise ValueError(
                    f"`propensity` must lie in (0, 1] at the logged actions; {int(((p <= 0) | (p > 1)).sum())} "
                    "value(s) do not. A zero propensity means the logged action was impossible.")
            check_propensity(p, "propensity", n=n, ndim=(1,))  # weights that would overflow
            self.propensity_estimated_ = False
        # abstraction
        if self.abstraction is None:
            model = KMeans(n_clusters=self.n_abstract_states, n_init=10, random_state=self.random_state)
        else:
            if not (hasattr(self.abstraction, "predict") or hasattr(self.abstraction, "transform")):
                raise TypeError("`abstraction` must be a clusterer (with predict) or a transformer "
                                f"(with transform); got {type(self.abstraction).__name__}.")
            model = clone(self.abstraction)
        model.fit(np.r_[S, Sn])
        codes = self._abstract(model, np.r_[S, Sn])
        uniq, z_all = np.unique(codes, return_inverse=True)
        if uniq.size < 2:
            raise ValueError("`abstraction` maps every state to one abstract state; the abstract reward "
                             "process then carries no state information. Use at least 2 abstract states.")
        # time index within each episode, in row order
        t = np.zeros(n, dtype=np.int64)
        counter = np.zeros(n_ep, dtype=np.int64)
        for i, g in enumerate(ep):
            t[i] = counter[g]
            counter[g] += 1
        last = np.zeros(n, dtype=bool)
        last[np.r_[np.flatnonzero(np.diff(ep) != 0), n - 1]] = True
        if np.any(np.bincount(ep[last], minlength=n_ep) != 1):
            raise ValueError("`episode` rows must be contiguous: sort the transitions by episode, "
                             "then by time.")
        self.abstraction_ = model
        self.abstract_codes_ = uniq
        self.n_abstract_states_ = int(uniq.size)
        self.propensity_ = np.array(p, copy=True)
        self.n_actions_ = k
        self.n_episodes_ = n_ep
        self._data = (np.array(S, copy=True), np.array(r, copy=True), np.array(a, copy=True),
                      z_all[:n].copy(), z_all[n:].copy(), np.array(ep, copy=True),
                      np.array(t, copy=True), np.array(last, copy=True))
        self.n_features_in_ = S.shape[1]
        store_feature_names(self, names)
        return self

    # ------------------------------------------------------------------ value

    def _target_prob(self, policy, S, a):
        n, k = S.shape[0], self.n_actions_
        if np.isscalar(policy):
            if k != 2:
                raise ValueError("A scalar `policy` means P(A=1) and needs binary actions; pass an "
                                 "(n, n_actions) matrix, a callable or a classifier.")
            P = np.c_[np.full(n, 1 - float(policy)), np.full(n, float(policy))]
        elif hasattr(policy, "predict_proba"):
            raw = np.asarray(policy.predict_proba(S), dtype=np.float64)
            P = np.zeros((n, k))
            for col, cl in enumerate(np.asarray(getattr(policy, "classes_", np.arange(raw.shape[1])))):
                if not (0 <= int(cl) < k):
                    raise ValueError(f"`policy` predicts class {cl!r}, not an action in [0, {k}).")
                P[:, int(cl)] = raw[:, col]
        elif callable(policy):
            P = np.asarray(policy(S), dtype=np.float64)
        else:
            P = np.asarray(policy, dtype=np.float64)
        if P.ndim == 1 and k == 2 and P.shape == (n,):
            P = np.c_[1 - P, P]
        P = _check_prob_matrix(P, "policy", n, k)
        return P[np.arange(n), a]

    def _weights(self, ratio, ep, t):
        """gamma^t times the product of the last c ratios within each episode."""
        if self.c == 0:
            rho = np.ones_like(ratio)
        else:
            zero = ratio <= 0
            logr = np.log(np.where(zero, 1.0, ratio))
            cl, cz = np.cumsum(logr), np.cumsum(zero.astype(np.int64))
            start = np.arange(len(ratio)) - t  # first row of the episode
            lo = start if self.c is None else np.maximum(start, np.arange(len(ratio)) - self.c + 1)
            prev_l = np.where(lo > 0, cl[np.maximum(lo - 1, 0)], 0.0)
            prev_z = np.where(lo > 0, cz[np.maximum(lo - 1, 0)], 0)
            rho = np.where(cz - prev_z > 0, 0.0, np.exp(cl - prev_l))
        return self.gamma ** t * rho

    def _episode_stats(self, w, r, z, zn, ep, t, last):
        """Per-episode weighted flows, occupancies, rewards and initial states."""
        m = self.n_abstract_states_
        m1 = m + 1 if self.episodic else m  # extra absorbing state for episode ends
        dest = np.where(last, m, zn) if self.episodic else zn
        n_ep = self.n_episodes_
        F = np.zeros((n_ep, m1 * m1))
        np.add.at(F, (ep, z * m1 + dest), w)
        Rs = np.zeros((n_ep, m1))
        np.add.at(Rs, (ep, z), w * r)
        D0 = np.zeros((n_ep, m1))
        D0[ep[t == 0], z[t == 0]] = 1.0
        return F, Rs, D0, m1

    def _solve(self, F, Rs, D0, m1):
        F = F.reshape(m1, m1)
        d = F.sum(axis=1)
        safe = np.where(d > 0, d, 1.0)
        P = np.where(d[:, None] > 0, F / safe[:, None], 0.0)
        R = np.where(d > 0, Rs / safe, 0.0)
        d0 = D0 / D0.sum()
        return float(d0 @ np.linalg.solve(np.eye(m1) - self.gamma * P, R))

    def value(self, policy, *, name="V(pi)") -> Estimate:
        """Estimated value of ``policy``.

        Parameters
        ----------
        policy : array (n, n_actions), callable, classifier, or float
            Target probabilities on the logged states: an (n, n_actions) matrix, a
            callable mapping states to that matrix, a classifier with
            ``predict_proba``, or (binary actions) the probability of action 1.
        name : str

        Returns
        -------
        Estimate
            Standard error from the trajectory bootstrap (episodes resampled
            with replacement, abstraction held fixed).
        """
        check_is_fitted(self, "abstraction_")
        S, r, a, z, zn, ep, t, last = self._data
        ratio = self._target_prob(policy, S, a) / self.propensity_
        w = self._weights(ratio, ep, t)
        F, Rs, D0, m1 = self._episode_stats(w, r, z, zn, ep, t, last)
        theta = self._solve(F.sum(axis=0), Rs.sum(axis=0), D0.sum(axis=0), m1)
        rng = np.random.default_rng(self.random_state)
        n_ep = self.n_episodes_
        counts = rng.multinomial(n_ep, np.full(n_ep, 1.0 / n_ep), size=self.n_bootstrap).astype(np.float64)
        boot = np.array([self._solve(cnt @ F, cnt @ Rs, cnt @ D0, m1) for cnt in counts])
        se = float(np.std(boot, ddof=1))
        c = "full product" if self.c is None else f"last {self.c}"
        kind = type(self.abstraction_).__name__
        method = (f"STAR ({kind} abstraction, {self.n_abstract_states_} abstract states, weights: {c} "
                  f"ratio(s)); trajectory-bootstrap SE ({self.n_bootstrap} replicates)")
        if self.propensity_estimated_:
            method += "; behaviour propensities estimated (in-sample classifier)"
        return Estimate(theta, se, n=n_ep, method=method, name=name)

    def compare(self, policies: dict) -> EstimateTable:
        """Values of several named policies as an :class:`EstimateTable`."""
        check_is_fitted(self, "abstraction_")
        if not isinstance(policies, dict) or not policies:
            raise ValueError("`policies` must be a non-empty dict {name: policy}.")
        return EstimateTable(tuple(self.value(p, name=str(k)) for k, p in policies.items()),
                             title="Policy values (STAR)")
