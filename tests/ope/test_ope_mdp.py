"""MDP evaluators: ratio-solver orientation, IV weights, and the confounded simulation."""

from __future__ import annotations

import numpy as np
import pytest

from causalkit.datasets import make_iv_mdp
from causalkit.ope import IVMDPEvaluator, MDPEvaluator
from causalkit.ope._mdp import lstd, solve_ratio


def _tabular(seed=0, m=5, gamma=0.8):
    rng = np.random.default_rng(seed)
    d_b = rng.dirichlet(np.ones(m) * 3)
    pz = rng.uniform(0.2, 0.8, size=m)  # P(Z=1|s)
    pa = np.c_[rng.uniform(0.1, 0.4, m), rng.uniform(0.6, 0.9, m)]  # P(A=1|s,z), z=0,1
    P = rng.dirichlet(np.ones(m), size=(m, 2))  # P[s, a, s']
    pi1 = rng.uniform(0.0, 1.0, size=m)  # target P(A=1|s)
    d0 = rng.dirichlet(np.ones(m))
    c = {1: (pi1 - pa[:, 0]) / (pa[:, 1] - pa[:, 0]), 0: (pa[:, 1] - pi1) / (pa[:, 1] - pa[:, 0])}
    rows, nxt, rho, w = [], [], [], []
    for s in range(m):
        for z in (0, 1):
            pzz = pz[s] if z else 1 - pz[s]
            for a in (0, 1):
                paa = pa[s, z] if a else 1 - pa[s, z]
                for s2 in range(m):
                    rows.append(s)
                    nxt.append(s2)
                    rho.append(c[z][s] / pzz)
                    w.append(d_b[s] * pzz * paa * P[s, a, s2])
    Ppi = pi1[:, None] * P[:, 1] + (1 - pi1)[:, None] * P[:, 0]
    d_pi = (1 - gamma) * np.linalg.solve((np.eye(m) - gamma * Ppi).T, d0)
    return {
        "m": m,
        "gamma": gamma,
        "rows": np.array(rows),
        "nxt": np.array(nxt),
        "rho": np.array(rho),
        "w": np.array(w),
        "d0": d0,
        "omega": d_pi / d_b,
        "pa": pa,
        "pi1": pi1,
        "c": c,
        "P": P,
    }


def test_iv_weights_reproduce_the_target_policy():
    t = _tabular()
    for a in (0, 1):
        lhs = sum(t["c"][z] * (t["pa"][:, z] if a else 1 - t["pa"][:, z]) for z in (0, 1))
        target = t["pi1"] if a else 1 - t["pi1"]
        np.testing.assert_allclose(lhs, target, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ratio_solver_orientation_on_tabular_mdp(seed):
    t = _tabular(seed)
    eye = np.eye(t["m"])
    psi, psi_next = eye[t["rows"]], eye[t["nxt"]]
    beta = solve_ratio(psi, psi_next, t["rho"], t["d0"][None, :], t["gamma"], ridge=0.0, sample_weight=t["w"])
    np.testing.assert_allclose(beta, t["omega"], rtol=1e-9)
    # the transposed system (psi (psi - gamma rho psi')^T) does not recover the ratio
    D = psi - t["gamma"] * t["rho"][:, None] * psi_next
    M_t = (psi * t["w"][:, None]).T @ D / t["w"].sum()
    wrong = np.linalg.solve(M_t, (1 - t["gamma"]) * t["d0"])
    assert np.max(np.abs(wrong - t["omega"])) > 0.05


def test_lstd_recovers_tabular_q():
    t = _tabular(3)
    m, g = t["m"], t["gamma"]
    rng = np.random.default_rng(0)
    R = rng.normal(size=(m, 2))
    # true Q^pi(s, a) for the unconfounded MDP: Q = R + g P V, V = sum_a pi Q
    Ppi = t["pi1"][:, None] * t["P"][:, 1] + (1 - t["pi1"])[:, None] * t["P"][:, 0]
    rpi = t["pi1"] * R[:, 1] + (1 - t["pi1"]) * R[:, 0]
    V = np.linalg.solve(np.eye(m) - g * Ppi, rpi)
    Q = R + g * np.einsum("sat,t->sa", t["P"], V)
    # population transitions over (s, a, s') with one-hot (s, a) features
    xi, xin, r, w = [], [], [], []
    for s in range(m):
        for a in (0, 1):
            for s2 in range(m):
                f = np.zeros(2 * m)
                f[2 * s + a] = 1
                fn = np.zeros(2 * m)
                fn[2 * s2 + 1] = t["pi1"][s2]
                fn[2 * s2] = 1 - t["pi1"][s2]
                xi.append(f)
                xin.append(fn)
                r.append(R[s, a])
                w.append(t["P"][s, a, s2] / (2 * m))
    beta = lstd(np.array(xi), np.array(xin), np.array(r), g, sample_weight=np.array(w))
    np.testing.assert_allclose(beta.reshape(m, 2), Q, atol=1e-10)


def test_simulation_truth_and_shapes():
    d = make_iv_mdp(7, horizon=12, random_state=0)
    assert d.X.shape == (84, 2) and d.next_state.shape == (84, 2)
    assert d.true_value == pytest.approx(20.0)
    # states move by the recorded transition, and the state sum is invariant
    np.testing.assert_allclose(d.X[1:12], d.next_state[:11])
    np.testing.assert_allclose(d.next_state.sum(axis=1), d.X.sum(axis=1), atol=1e-12)
    # the mean initial state sum is near 0, so always-treat earns about 2 per step
    big = make_iv_mdp(4000, horizon=1, random_state=1)
    assert abs(big.X.sum(axis=1).mean()) < 4 * big.X.sum(axis=1).std() / np.sqrt(4000)


def test_iv_dr_covers_truth_while_no_confounding_baseline_is_biased():
    d = make_iv_mdp(300, horizon=100, random_state=1)
    kw = {"action": d.action, "next_state": d.next_state, "episode": d.episode}
    iv = IVMDPEvaluator(random_state=0).fit(d.X, d.y, instrument=d.instrument, **kw).value(1.0)
    nuc = MDPEvaluator(random_state=0).fit(d.X, d.y, **kw).value(1.0)
    assert abs(iv.value - d.true_value) < 3 * iv.stderr
    assert nuc.value - d.true_value > 3 * nuc.stderr


def test_policy_forms_agree():
    d = make_iv_mdp(40, horizon=20, random_state=0)
    est = MDPEvaluator(n_components=10, random_state=0).fit(
        d.X, d.y, action=d.action, next_state=d.next_state, episode=d.episode
    )
    a = est.value(0.3, method="dm").value
    b = est.value(lambda S: np.full(len(S), 0.3), method="dm").value
    c = est.value(lambda S: np.tile([0.7, 0.3], (len(S), 1)), method="dm").value
    assert a == b == c
    tab = est.compare({"treat": 1.0, "never": 0.0}, method="dm")
    assert tab.names == ["treat", "never"]
    with pytest.raises(ValueError, match=r"`method` must be"):
        est.value(1.0, method="ipw")
    with pytest.raises(ValueError, match=r"`policy` probabilities must lie in \[0, 1\]"):
        est.value(1.5)


def test_identity_feature_map_matches_default_linear_q():
    from sklearn.preprocessing import FunctionTransformer

    d = make_iv_mdp(40, horizon=20, random_state=3)
    kw = {"instrument": d.instrument, "action": d.action, "next_state": d.next_state, "episode": d.episode}
    for oc in (100.0, None):
        a = IVMDPEvaluator(random_state=0, omega_clip=oc).fit(d.X, d.y, **kw)
        b = IVMDPEvaluator(random_state=0, omega_clip=oc, q_features=FunctionTransformer()).fit(d.X, d.y, **kw)
        for m in ("dm", "dr"):
            assert a.value(1.0, method=m).value == pytest.approx(b.value(1.0, method=m).value, rel=1e-10)


def test_weak_instrument_warns():
    from causalkit.utils.validation import WeakInstrumentWarning

    d = make_iv_mdp(40, horizon=20, iv_strength=0.02, random_state=0)
    with pytest.warns(WeakInstrumentWarning, match="barely moves the action"):
        IVMDPEvaluator(random_state=0).fit(
            d.X, d.y, instrument=d.instrument, action=d.action, next_state=d.next_state, episode=d.episode
        )
