"""Logged contextual-bandit feedback with a known target-policy value."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import expit, softmax

from ._base import COUNT, FINITE, INT, SIZE, Dataset, checked

__all__ = ["make_bandit_feedback", "make_iv_mdp"]


def _params(n_actions, n_features):
    # Fixed design parameters (independent of random_state) so the truth is a constant.
    rng = np.random.default_rng(20230601 + 97 * n_actions + n_features)
    theta = rng.normal(scale=0.7, size=(n_features, n_actions))
    bias = rng.normal(scale=0.5, size=n_actions)
    phi = rng.normal(size=(n_features, n_actions))
    return theta, bias, phi


def _policies(X, n_actions, n_features, logging_temperature, epsilon):
    theta, bias, phi = _params(n_actions, n_features)
    q = expit(X @ theta + bias)
    pi0 = softmax(logging_temperature * (X @ phi), axis=1)
    pi0 = 0.95 * pi0 + 0.05 / n_actions  # keep every action possible
    best = np.argmax(q, axis=1)
    pi = np.full_like(q, epsilon / n_actions)
    pi[np.arange(len(X)), best] += 1 - epsilon
    return q, pi0, pi


@lru_cache(maxsize=32)
def _true_value(n_actions, n_features, logging_temperature, epsilon):
    rng = np.random.default_rng(7)
    total, m = 0.0, 0
    for _ in range(10):
        X = rng.normal(size=(200_000, n_features))
        q, _, pi = _policies(X, n_actions, n_features, logging_temperature, epsilon)
        total += float(np.sum(pi * q))
        m += X.shape[0]
    return total / m


@checked(n=SIZE, n_actions=INT, n_features=SIZE, logging_temperature=FINITE, epsilon=FINITE)
def make_bandit_feedback(
    n: int = 10_000,
    n_actions: int = 5,
    n_features: int = 5,
    *,
    logging_temperature: float = 1.0,
    epsilon: float = 0.3,
    random_state=None,
) -> Dataset:
    r"""Logged bandit feedback with binary rewards and a known target-policy value.

    Contexts :math:`x \sim N(0, I_p)`; expected reward
    :math:`q(x, a) = \mathrm{expit}(x^\top\theta_a + b_a)`, reward
    :math:`y \sim \mathrm{Bernoulli}(q(x, a))`; logging policy
    :math:`\pi_0 = 0.95\,\mathrm{softmax}(\tau\, x^\top\phi) + 0.05/K`; target policy
    epsilon-greedy on the true :math:`q`. The parameters :math:`\theta, b, \phi`
    depend only on ``(n_actions, n_features)``, so ``true_value``
    :math:`= E_x\sum_a \pi(a|x) q(x,a)` is a constant (Monte Carlo over 2e6
    contexts, error about 2e-4).

    Parameters
    ----------
    n : int
        Logged rounds.
    n_actions : int
        Number of actions (at least 2).
    n_features : int
        Context dimension.
    logging_temperature : float
        Larger values make the logging policy more deterministic (weaker overlap).
    epsilon : float in [0, 1]
        Exploration of the target policy.
    random_state : int or None

    Returns
    -------
    Dataset
        ``X``, ``y``, ``action``, ``propensity`` (of the logged action),
        ``logging_policy`` (n, K), ``target_policy`` (n, K), ``expected_reward``
        (n, K), ``true_value``, ``true_value_sample`` (the value on these contexts)
        and ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> d = make_bandit_feedback(1000, n_actions=4, random_state=0)
    >>> d.target_policy.shape, round(d.true_value, 2)
    ((1000, 4), 0.77)
    """
    if int(n_actions) < 2:
        raise ValueError(f"`n_actions` must be at least 2; got {n_actions}.")
    if not 0 <= epsilon <= 1:
        raise ValueError(f"`epsilon` must lie in [0, 1]; got {epsilon}.")
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, n_features))
    q, pi0, pi = _policies(X, n_actions, n_features, logging_temperature, epsilon)
    u = rng.random(n)
    a = (pi0.cumsum(axis=1) < u[:, None]).sum(axis=1)
    a = np.minimum(a, n_actions - 1)
    y = (rng.random(n) < q[np.arange(n), a]).astype(np.float64)
    return Dataset(
        X=X,
        y=y,
        action=a.astype(np.int64),
        propensity=pi0[np.arange(n), a],
        logging_policy=pi0,
        target_policy=pi,
        expected_reward=q,
        true_value=_true_value(int(n_actions), int(n_features), float(logging_temperature), float(epsilon)),
        true_value_sample=float(np.mean(np.sum(pi * q, axis=1))),
        description="Logged bandit feedback, binary rewards, epsilon-greedy target (make_bandit_feedback).",
    )


@checked(n_trajectories=SIZE, horizon=SIZE, burn_in=COUNT, gamma=FINITE, iv_strength=FINITE,
         confounding=FINITE)
def make_iv_mdp(
    n_trajectories: int = 200,
    horizon: int = 100,
    *,
    burn_in: int = 20,
    gamma: float = 0.9,
    iv_strength: float = 2.0,
    confounding: float = 5.0,
    random_state=None,
) -> Dataset:
    r"""Confounded MDP with a per-step binary instrument (Xu et al., 2023, simulation).

    The simulation of the paper's main study: two-dimensional state,
    :math:`S_0 \sim N(0, I_2)`; unobserved :math:`U_t \sim \mathrm{Bern}(0.5) - 0.5`;
    instrument :math:`Z_t \sim \mathrm{Bern}(\sigma(S_{t1} + S_{t2}))`; action
    :math:`A_t \sim \mathrm{Bern}(\sigma(S_{t1} + S_{t2} + \kappa Z_t + U_t))`
    (:math:`\kappa` = ``iv_strength``, 2 in the paper); reward
    :math:`R_t = S_{t1} + S_{t2} + 2A_t + c\,U_t` (:math:`c` = ``confounding``, 5);
    :math:`S_{t+1} = (S_{t1} + U_t + A_t - 0.5,\; S_{t2} - U_t - A_t + 0.5)`.
    The first ``burn_in`` steps are discarded, so the recorded initial states follow
    the behaviour process after ``burn_in`` steps.

    The target policy is "always treat" (:math:`A \equiv 1`). Because
    :math:`S_{t1} + S_{t2}` never changes and :math:`E[S_{01} + S_{02}] = 0`, its
    discounted value is exactly :math:`2/(1-\gamma)` (20 for :math:`\gamma = 0.9`);
    the authors' Monte Carlo value is 19.9968.

    Parameters
    ----------
    n_trajectories : int
    horizon : int
        Recorded transitions per trajectory (after the burn-in).
    burn_in : int
    gamma : float
        Discount factor of the reported truth.
    iv_strength : float
        Effect of the instrument on the action's log-odds.
    confounding : float
        Effect of the unobserved U on the reward.
    random_state : int or None

    Returns
    -------
    Dataset
        Pooled transitions, trajectory-major: ``X`` (states, (N, 2)), ``y``
        (rewards), ``instrument``, ``action``, ``next_state``, ``episode``,
        ``time``, ``true_value`` (of always-treat) and ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_iv_mdp
    >>> d = make_iv_mdp(10, horizon=50, random_state=0)
    >>> d.X.shape, round(d.true_value, 9)
    ((500, 2), 20.0)
    """
    if not 0 < gamma < 1:
        raise ValueError(f"`gamma` must lie in (0, 1); got {gamma}.")
    rng = np.random.default_rng(random_state)
    n, steps = int(n_trajectories), int(burn_in) + int(horizon)
    s = rng.normal(size=(n, 2))
    S = np.empty((n, horizon, 2))
    Sn = np.empty((n, horizon, 2))
    Z = np.empty((n, horizon))
    A = np.empty((n, horizon))
    R = np.empty((n, horizon))
    for t in range(steps):
        u = (rng.random(n) < 0.5) - 0.5
        lin = s[:, 0] + s[:, 1]
        z = (rng.random(n) < expit(lin)).astype(float)
        a = (rng.random(n) < expit(lin + iv_strength * z + u)).astype(float)
        r = lin + 2 * a + confounding * u
        nxt = np.c_[s[:, 0] + u + (a - 0.5), s[:, 1] - u - (a - 0.5)]
        if t >= burn_in:
            k = t - burn_in
            S[:, k], Sn[:, k], Z[:, k], A[:, k], R[:, k] = s, nxt, z, a, r
        s = nxt
    traj = np.repeat(np.arange(n), horizon)
    return Dataset(
        X=S.reshape(-1, 2),
        y=R.reshape(-1),
        instrument=Z.reshape(-1).astype(np.int64),
        action=A.reshape(-1).astype(np.int64),
        next_state=Sn.reshape(-1, 2),
        episode=traj,
        time=np.tile(np.arange(horizon), n),
        true_value=2.0 / (1.0 - gamma),
        gamma=gamma,
        description="Confounded MDP with an instrument, always-treat target (make_iv_mdp).",
    )
