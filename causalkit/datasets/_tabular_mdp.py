"""A small tabular MDP observed through noisy state features, with exactly known policy values."""

from __future__ import annotations

import numpy as np

from ._base import FINITE, INT, SCALE, Dataset, checked

__all__ = ["make_tabular_mdp"]


def _design(n_states, n_actions):
    # fixed parameters (independent of random_state) so the truth is a constant
    rng = np.random.default_rng(20241002 + 31 * n_states + n_actions)
    P = rng.dirichlet(np.full(n_states, 0.5), size=(n_states, n_actions))  # P[s, a, s']
    R = rng.uniform(-1, 1, size=(n_states, n_actions))
    centres = rng.normal(scale=2.0, size=(n_states, 2))
    b = rng.dirichlet(np.full(n_actions, 4.0), size=n_states)  # behaviour: near uniform
    pi = rng.dirichlet(np.full(n_actions, 0.7), size=n_states)  # target: far from it
    pi = 0.9 * pi + 0.1 / n_actions
    d0 = rng.dirichlet(np.ones(n_states))
    return P, R, centres, b, pi, d0


@checked(n_trajectories=INT, horizon=INT, n_states=INT, n_actions=INT, gamma=FINITE, noise=SCALE,
         reward_noise=SCALE)
def make_tabular_mdp(
    n_trajectories: int = 200,
    horizon: int = 20,
    *,
    n_states: int = 6,
    n_actions: int = 2,
    gamma: float = 0.9,
    noise: float = 0.1,
    reward_noise: float = 0.5,
    random_state=None,
) -> Dataset:
    r"""Trajectories of a tabular MDP seen through noisy 2-D state features.

    A fixed MDP with ``n_states`` hidden states: transitions
    :math:`P(s'|s,a)` drawn once from Dirichlet(0.5), mean rewards
    :math:`r(s,a) \sim U(-1, 1)`, initial distribution :math:`d_0`. Each state has a
    centre in the plane; the observed state is its centre plus
    :math:`N(0, \texttt{noise}^2 I_2)`. Rewards are :math:`r(s, a) + N(0, \texttt{reward\_noise}^2)`.
    Behaviour policy :math:`b(a|s)` is near uniform, the target :math:`\pi(a|s)` is
    not. Trajectories start from :math:`d_0` and run ``horizon`` steps under
    :math:`b`.

    The truths are exact (dynamic programming, no simulation):
    ``true_value`` :math:`= E^\pi \sum_{t<H}\gamma^t R_t` (the episode's discounted
    return) and ``true_value_infinite`` :math:`= d_0^\top (I - \gamma P_\pi)^{-1} r_\pi`.

    Parameters
    ----------
    n_trajectories : int
    horizon : int
    n_states : int, default 6
    n_actions : int, default 2
    gamma : float in (0, 1), default 0.9
    noise : float, default 0.1
        Standard deviation of the state features around their centres.
    reward_noise : float, default 0.5
    random_state : int or None

    Returns
    -------
    Dataset
        ``X`` (state features), ``y`` (rewards), ``action``, ``next_state``,
        ``episode``, ``propensity`` (:math:`b(a_t|s_t)`), ``state`` and
        ``next_state_index`` (the hidden states), ``target_policy`` (n, n_actions)
        on the logged states, ``policy`` (a callable mapping state features to
        target probabilities through the nearest centre), ``behaviour_policy``
        (n_states, n_actions), ``true_value``, ``true_value_infinite``, ``gamma``
        and ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_tabular_mdp
    >>> d = make_tabular_mdp(50, horizon=10, random_state=0)
    >>> d.X.shape, d.target_policy.shape
    ((500, 2), (500, 2))
    """
    if int(n_states) < 2 or int(n_actions) < 2:
        raise ValueError("`n_states` and `n_actions` must be at least 2.")
    if not 0 < gamma < 1:
        raise ValueError(f"`gamma` must lie in (0, 1); got {gamma!r}.")
    if int(horizon) < 1 or int(n_trajectories) < 1:
        raise ValueError("`horizon` and `n_trajectories` must be positive integers.")
    P, R, centres, b, pi, d0 = _design(int(n_states), int(n_actions))
    rng = np.random.default_rng(random_state)
    N, H, S = int(n_trajectories), int(horizon), int(n_states)
    s = np.empty((N, H + 1), dtype=np.int64)
    a = np.empty((N, H), dtype=np.int64)
    s[:, 0] = rng.choice(S, size=N, p=d0)
    cb = b.cumsum(axis=1)
    for t in range(H):
        a[:, t] = np.minimum((cb[s[:, t]] < rng.random(N)[:, None]).sum(axis=1), n_actions - 1)
        cp = P[s[:, t], a[:, t]].cumsum(axis=1)
        s[:, t + 1] = np.minimum((cp < rng.random(N)[:, None]).sum(axis=1), S - 1)
    feats = centres[s] + noise * rng.normal(size=(N, H + 1, 2))
    y = R[s[:, :H], a] + reward_noise * rng.normal(size=(N, H))
    # exact truths
    P_pi = np.einsum("sa,sat->st", pi, P)
    r_pi = np.sum(pi * R, axis=1)
    v = np.zeros(S)
    for _ in range(H):
        v = r_pi + gamma * P_pi @ v
    true_h = float(d0 @ v)
    true_inf = float(d0 @ np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi))

    def policy(Xs, _c=centres, _pi=pi):
        Xs = np.asarray(Xs, dtype=np.float64)
        idx = np.argmin(((Xs[:, None, :] - _c[None]) ** 2).sum(axis=2), axis=1)
        return _pi[idx]

    st = s[:, :H].reshape(-1)
    act = a.reshape(-1)
    return Dataset(
        X=feats[:, :H].reshape(-1, 2),
        y=y.reshape(-1),
        action=act,
        next_state=feats[:, 1:].reshape(-1, 2),
        episode=np.repeat(np.arange(N), H),
        propensity=b[st, act],
        state=st,
        next_state_index=s[:, 1:].reshape(-1),
        target_policy=pi[st],
        policy=policy,
        behaviour_policy=b.copy(),
        true_value=true_h,
        true_value_infinite=true_inf,
        gamma=float(gamma),
        description="Tabular MDP with noisy 2-D state features and exact values (make_tabular_mdp).",
    )
