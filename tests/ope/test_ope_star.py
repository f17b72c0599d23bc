"""STAR on a tabular MDP whose policy values are known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from causalkit.datasets import make_tabular_mdp
from causalkit.ope import STAR


def _kw(d):
    return dict(action=d.action, next_state=d.next_state, episode=d.episode, propensity=d.propensity)


def _coarse(n_states=6):
    # a non-Markov abstraction: hidden states merged into two groups (even / odd index)
    return FunctionTransformer(lambda s: np.asarray(s)[:, 0].astype(int) % 2)


def _states(d):
    """Observed states replaced by the hidden state index (identity abstraction)."""
    return d.state[:, None].astype(float), d.next_state_index[:, None].astype(float)


@pytest.fixture(scope="module")
def big():
    return make_tabular_mdp(4000, horizon=12, random_state=5)


def test_no_weights_is_the_monte_carlo_return_for_any_abstraction():
    # with c = 0 every weight is gamma^t and the ARP's return equals the average
    # discounted return of the logged episodes exactly (episodic mode)
    d = make_tabular_mdp(60, horizon=9, random_state=2)
    g = d.gamma
    t = np.tile(np.arange(9), 60)
    mc = np.sum(g ** t * d.y) / 60
    S, Sn = _states(d)
    for abstraction in (FunctionTransformer(), _coarse()):
        est = STAR(abstraction=abstraction, c=0, gamma=g, episodic=True, random_state=0)
        v = est.fit(S, d.y, action=d.action, next_state=Sn, episode=d.episode,
                    propensity=d.propensity).value(d.target_policy)
        assert v.value == pytest.approx(mc, rel=1e-10)


def test_behaviour_policy_gets_the_same_value_for_every_c():
    d = make_tabular_mdp(80, horizon=10, random_state=3)
    b = d.behaviour_policy[d.state]
    vals = [STAR(n_abstract_states=4, c=c, episodic=True, random_state=0).fit(d.X, d.y, **_kw(d)).value(b).value
            for c in (0, 1, 4, None)]
    np.testing.assert_allclose(vals, vals[0], rtol=1e-10)


@pytest.mark.parametrize("episodic", [True, False])
def test_markov_abstraction_with_one_step_weights_is_consistent(big, episodic):
    d = big
    S, Sn = _states(d)
    v = STAR(abstraction=FunctionTransformer(), c=1, gamma=d.gamma, episodic=episodic, random_state=0).fit(
        S, d.y, action=d.action, next_state=Sn, episode=d.episode, propensity=d.propensity).value(d.target_policy)
    truth = d.true_value if episodic else d.true_value_infinite
    assert abs(v.value - truth) < 4 * v.stderr
    assert "trajectory-bootstrap SE" in v.method


def test_full_weights_are_consistent_for_a_coarse_abstraction(big):
    d = big
    S, Sn = _states(d)
    v = STAR(abstraction=_coarse(), c=None, episodic=True, random_state=0).fit(
        S, d.y, action=d.action, next_state=Sn, episode=d.episode, propensity=d.propensity).value(d.target_policy)
    assert abs(v.value - d.true_value) < 4 * v.stderr


def test_kmeans_default_and_callable_policy(big):
    d = big
    est = STAR(n_abstract_states=6, c=1, episodic=True, random_state=0).fit(d.X, d.y, **_kw(d))
    v = est.value(d.policy)
    assert est.n_abstract_states_ == 6
    assert abs(v.value - d.true_value) < 4 * v.stderr


def test_bootstrap_standard_error_matches_the_spread_over_replications():
    vals, ses = [], []
    for seed in range(30):
        d = make_tabular_mdp(150, horizon=8, random_state=100 + seed)
        S, Sn = _states(d)
        v = STAR(abstraction=FunctionTransformer(), c=1, episodic=True, n_bootstrap=100, random_state=seed).fit(
            S, d.y, action=d.action, next_state=Sn, episode=d.episode,
            propensity=d.propensity).value(d.target_policy)
        vals.append(v.value)
        ses.append(v.stderr)
    sd = np.std(vals, ddof=1)
    # the sd over 30 replications is itself uncertain by about 13% (1/sqrt(2*29))
    assert 0.6 < np.mean(ses) / sd < 1.5


def test_estimated_propensity_is_reported(big):
    d = make_tabular_mdp(100, horizon=6, random_state=0)
    kw = _kw(d)
    kw.pop("propensity")
    v = STAR(n_abstract_states=3, random_state=0).fit(d.X, d.y, **kw).value(d.policy)
    assert "estimated" in v.method


def test_bad_policy_and_abstraction():
    d = make_tabular_mdp(30, horizon=5, random_state=0)
    est = STAR(n_abstract_states=3, random_state=0).fit(d.X, d.y, **_kw(d))
    with pytest.raises(ValueError, match=r"`policy` rows must sum to 1"):
        est.value(d.target_policy * 0.5)
    with pytest.raises(ValueError, match=r"`policy` must have shape"):
        est.value(d.target_policy[:, :1])
    with pytest.raises(ValueError, match=r"one abstract state"):
        STAR(abstraction=FunctionTransformer(lambda s: np.zeros(len(s)))).fit(d.X, d.y, **_kw(d))
    with pytest.raises(TypeError, match=r"The 'abstraction' parameter of STAR must be"):
        STAR(abstraction=object()).fit(d.X, d.y, **_kw(d))
    with pytest.raises(ValueError, match=r"The 'c' parameter of STAR must be an int in the range \[0, inf\) or None"):
        STAR(c=-1).fit(d.X, d.y, **_kw(d))
