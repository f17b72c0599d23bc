"""Bandit off-policy estimators: reference formulas, statistical checks, policy inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_bandit_feedback
from causalkit.inference import EstimateTable
from causalkit.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    SelfNormalizedDR,
    SwitchDR,
)


@pytest.fixture(scope="module")
def fixed():
    """Fixed small inputs with hand-checkable arithmetic."""
    rng = np.random.default_rng(3)
    n, k = 40, 3
    X = rng.normal(size=(n, 2))
    pi0 = rng.dirichlet(np.ones(k), size=n)
    a = np.array([rng.choice(k, p=p) for p in pi0])
    y = rng.normal(size=n)
    pi = rng.dirichlet(np.ones(k), size=n)
    q = rng.normal(size=(n, k))
    return X, y, a, pi0, pi, q


def _ref(y, a, pi0, pi, q):
    """Reference formulas written as plain loops."""
    n = len(y)
    w = [pi[i, a[i]] / pi0[i, a[i]] for i in range(n)]
    dm = [sum(pi[i, j] * q[i, j] for j in range(pi.shape[1])) for i in range(n)]
    ips = sum(w[i] * y[i] for i in range(n)) / n
    snips = sum(w[i] * y[i] for i in range(n)) / sum(w)
    dr = sum(dm[i] + w[i] * (y[i] - q[i, a[i]]) for i in range(n)) / n
    sndr = sum(dm) / n + sum(w[i] * (y[i] - q[i, a[i]]) for i in range(n)) / sum(w)
    tau = 1.5
    sw = sum(dm[i] + (w[i] if w[i] <= tau else 0.0) * (y[i] - q[i, a[i]]) for i in range(n)) / n
    es = sum(y[i] * pi[i, a[i]] / pi0[i, a[i]] ** 0.4 for i in range(n)) / n
    ips_clip = sum(min(w[i], 2.0) * y[i] for i in range(n)) / n
    psi = [w[i] * y[i] for i in range(n)]
    ips_se = np.sqrt(sum((p - ips) ** 2 for p in psi)) / n
    return {"ips": ips, "snips": snips, "dm": sum(dm) / n, "dr": dr, "sndr": sndr, "switch": sw, "es": es,
                "ips_clip": ips_clip, "ips_se": ips_se, "tau": tau}


def test_reference_formulas(fixed):
    X, y, a, pi0, pi, q = fixed
    ref = _ref(y, a, pi0, pi, q)
    kw = {"action": a, "propensity": pi0}
    mkw = dict(kw, estimated_rewards=q)
    got = {
        "ips": IPS().fit(X, y, **kw).value(pi),
        "snips": SNIPS().fit(X, y, **kw).value(pi),
        "dm": DirectMethod().fit(X, y, **mkw).value(pi),
        "dr": DoublyRobust().fit(X, y, **mkw).value(pi),
        "sndr": SelfNormalizedDR().fit(X, y, **mkw).value(pi),
        "switch": SwitchDR(tau=ref["tau"]).fit(X, y, **mkw).value(pi),
        "es": ExponentialSmoothingIPS(beta=0.4).fit(X, y, **kw).value(pi),
        "ips_clip": IPS(clip=2.0).fit(X, y, **kw).value(pi),
    }
    for key, est in got.items():
        assert abs(est.value - ref[key]) < 1e-12, key
    assert abs(got["ips"].stderr - ref["ips_se"]) < 1e-12
    # the 1-D propensity of the logged action gives the same numbers as the full matrix
    p1 = pi0[np.arange(len(a)), a]
    assert abs(IPS().fit(X, y, action=a, propensity=p1).value(pi).value - ref["ips"]) < 1e-12


def test_special_cases_coincide(fixed):
    X, y, a, pi0, pi, q = fixed
    mkw = {"action": a, "propensity": pi0, "estimated_rewards": q}
    dr = DoublyRobust().fit(X, y, **mkw).value(pi)
    sw = SwitchDR(tau=np.inf).fit(X, y, **mkw).value(pi)
    assert sw.value == pytest.approx(dr.value, abs=1e-12)
    assert sw.stderr == pytest.approx(dr.stderr, abs=1e-12)
    sw0 = SwitchDR(tau=1e-9).fit(X, y, **mkw).value(pi)
    dm = DirectMethod().fit(X, y, **mkw).value(pi)
    assert sw0.value == pytest.approx(dm.value, abs=1e-12)
    es1 = ExponentialSmoothingIPS(beta=1.0).fit(X, y, action=a, propensity=pi0).value(pi)
    ips = IPS().fit(X, y, action=a, propensity=pi0).value(pi)
    assert es1.value == pytest.approx(ips.value, abs=1e-12)
    # SNIPS is invariant to shifting the rewards by a constant (up to the shift)
    s1 = SNIPS().fit(X, y, action=a, propensity=pi0).value(pi).value
    s2 = SNIPS().fit(X, y + 3.0, action=a, propensity=pi0).value(pi).value
    assert s2 - s1 == pytest.approx(3.0, abs=1e-12)


def test_delta_method_se_matches_numeric_jackknife(fixed):
    X, y, a, pi0, pi, _q = fixed
    n = len(y)
    est = SNIPS().fit(X, y, action=a, propensity=pi0).value(pi)
    loo = np.array([SNIPS().fit(np.delete(X, i, 0), np.delete(y, i), action=np.delete(a, i),
                                propensity=np.delete(pi0, i, 0)).value(np.delete(pi, i, 0)).value
                    for i in range(n)])
    jk = np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    assert est.stderr == pytest.approx(jk, rel=0.25)


def test_against_open_bandit_pipeline(fixed):
    obp = pytest.importorskip("obp.ope")
    X, y, a, pi0, pi, q = fixed
    n = len(y)
    pscore = pi0[np.arange(n), a]
    ad, qr = pi[:, :, None], q[:, :, None]
    base = {"reward": y, "action": a, "pscore": pscore, "action_dist": ad}
    ours = {"action": a, "propensity": pi0, "estimated_rewards": q}
    pairs = [
        (obp.InverseProbabilityWeighting().estimate_policy_value(**base), IPS()),
        (obp.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**base), SNIPS()),
        (obp.DirectMethod().estimate_policy_value(**base, estimated_rewards_by_reg_model=qr),
         DirectMethod()),
        (obp.DoublyRobust().estimate_policy_value(**base, estimated_rewards_by_reg_model=qr),
         DoublyRobust()),
        (obp.SelfNormalizedDoublyRobust().estimate_policy_value(**base, estimated_rewards_by_reg_model=qr),
         SelfNormalizedDR()),
        (obp.SwitchDoublyRobust(tau=1.5).estimate_policy_value(**base, estimated_rewards_by_reg_model=qr),
         SwitchDR(tau=1.5)),
    ]
    for ref, est in pairs:
        kw = ours if est._needs_reward_model else {"action": a, "propensity": pi0}
        assert est.fit(X, y, **kw).value(pi).value == pytest.approx(ref, abs=1e-12), type(est).__name__


@pytest.mark.parametrize("make", [
    lambda: IPS(), lambda: SNIPS(),
    lambda: DoublyRobust(model_reward=LinearRegression(), cv=2, random_state=0),
    lambda: SelfNormalizedDR(model_reward=LinearRegression(), cv=2, random_state=0),
], ids=["IPS", "SNIPS", "DR", "SNDR"])
def test_unbiased_estimators_cover_truth(make):
    d = make_bandit_feedback(6000, n_actions=4, random_state=11)
    v = make().fit(d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)
    assert abs(v.value - d.true_value) < 3 * v.stderr
    assert v.stderr < 0.1


def test_dr_beats_ips_in_variance_and_es_shrinks():
    d = make_bandit_feedback(6000, n_actions=4, random_state=2)
    kw = {"action": d.action, "propensity": d.logging_policy}
    ips = IPS().fit(d.X, d.y, **kw).value(d.target_policy)
    dr = DoublyRobust(model_reward=LinearRegression(), cv=2, random_state=0).fit(
        d.X, d.y, **kw).value(d.target_policy)
    assert dr.stderr < ips.stderr
    es = ExponentialSmoothingIPS(beta=0.5).fit(d.X, d.y, **kw)
    v = es.value(d.target_policy)
    # expectation E sum pi pi0^(1-beta) q for nonnegative rewards: below the truth, above it minus the bound
    expect = np.mean(np.sum(d.target_policy * d.logging_policy ** 0.5 * d.expected_reward, axis=1))
    assert abs(v.value - expect) < 3 * v.stderr
    assert v.stderr < ips.stderr
    b = es.bias_bound(d.target_policy)
    assert d.true_value - b - 3 * v.stderr <= v.value <= d.true_value


def test_policy_inputs_and_compare():
    d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    est = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    clf = LogisticRegression().fit(d.X, d.action)
    by_clf = est.value(clf)
    by_arr = est.value(clf.predict_proba(d.X))
    by_call = est.value(lambda X: clf.predict_proba(X))
    assert by_clf.value == by_arr.value == by_call.value
    tab = est.compare({"target": d.target_policy, "logging": d.logging_policy, "clf": clf})
    assert isinstance(tab, EstimateTable)
    assert tab.names == ["target", "logging", "clf"]
    # under the logging policy IPS is the plain mean reward
    assert tab["logging"].value == pytest.approx(d.y.mean(), abs=1e-12)


def test_policy_bad_rows_and_shape():
    d = make_bandit_feedback(300, n_actions=3, random_state=0)
    est = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    with pytest.raises(ValueError, match=r"`policy` rows must sum to 1"):
        est.value(np.full((300, 3), 0.5))
    with pytest.raises(ValueError, match=r"`policy` must have shape"):
        est.value(np.full((300, 2), 0.5))
    with pytest.raises(ValueError, match=r"`policy` holds negative"):
        est.value(np.tile([1.5, -0.25, -0.25], (300, 1)))
    with pytest.raises(ValueError, match=r"`policy` contains NaN"):
        est.value(np.tile([np.nan, 0.5, 0.5], (300, 1)))


def test_diagnostics():
    d = make_bandit_feedback(1000, n_actions=3, random_state=0)
    est = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    greedy = np.eye(3)[np.argmax(d.expected_reward, axis=1)]
    diag = est.diagnostics(greedy)
    w = greedy[np.arange(1000), d.action] / d.propensity
    assert diag["max_weight"] == pytest.approx(w.max())
    assert diag["effective_sample_size"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum())
    assert diag["share_zero_target_probability"] == pytest.approx(np.mean(w == 0))
    assert 0 < diag["share_zero_target_probability"] < 1
    # logging policy: every weight 1 -> ESS = n
    assert est.diagnostics(d.logging_policy)["effective_sample_size"] == pytest.approx(1000)


def test_estimated_propensity_is_flagged_and_consistent():
    d = make_bandit_feedback(4000, n_actions=3, logging_temperature=0.5, random_state=5)
    est = SNIPS(model_propensity=LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, action=d.action)
    v = est.value(d.target_policy)
    assert est.propensity_estimated_
    assert "estimated" in v.method
    assert abs(v.value - d.true_value) < 4 * v.stderr + 0.02
    assert np.corrcoef(est.propensity_, d.propensity)[0, 1] > 0.9


def test_inputs_not_modified(fixed):
    X, y, a, pi0, pi, q = fixed
    copies = [v.copy() for v in (X, y, a, pi0, pi, q)]
    DoublyRobust().fit(X, y, action=a, propensity=pi0, estimated_rewards=q).value(pi)
    for before, after in zip(copies, (X, y, a, pi0, pi, q)):
        assert np.array_equal(before, after)


def test_exponential_smoothing_bound_option(fixed):
    X, y, a, pi0, pi, _q = fixed
    est = ExponentialSmoothingIPS(beta=0.3, bound=True).fit(X, y, action=a, propensity=pi0)
    b = est.bias_bound(pi)
    assert b == pytest.approx(1 - np.mean(np.sum(pi * pi0 ** 0.7, axis=1)), abs=1e-12)
    assert f"B_beta={b:.4g}" in est.value(pi).method
    one_d = ExponentialSmoothingIPS(beta=0.3).fit(X, y, action=a, propensity=pi0[np.arange(len(a)), a])
    with pytest.raises(ValueError, match="full logging distribution"):
        one_d.bias_bound(pi)


@pytest.mark.parametrize("make", [
    lambda: IPS(), lambda: SNIPS(clip=3.0), lambda: DirectMethod(), lambda: DoublyRobust(),
    lambda: SelfNormalizedDR(), lambda: SwitchDR(tau=1.5), lambda: ExponentialSmoothingIPS(beta=0.4),
], ids=["IPS", "SNIPS", "DM", "DR", "SNDR", "Switch", "ES"])
def test_weighted_values_equal_duplicated_rounds(fixed, make):
    X, y, a, pi0, pi, q = fixed
    reps = np.random.default_rng(0).integers(1, 4, size=len(y))
    idx = np.repeat(np.arange(len(y)), reps)
    weighted = make().fit(X, y, action=a, propensity=pi0, estimated_rewards=q,
                          sample_weight=reps.astype(float)).value(pi)
    dup = make().fit(X[idx], y[idx], action=a[idx], propensity=pi0[idx],
                     estimated_rewards=q[idx]).value(pi[idx])
    assert weighted.value == pytest.approx(dup.value, abs=1e-12)
    # survey-weight SE: each logged round stays one draw, so it exceeds the duplicated-rows SE
    assert weighted.stderr > dup.stderr


def test_weighted_ips_se_reference(fixed):
    X, y, a, pi0, pi, _q = fixed
    s = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    est = IPS().fit(X, y, action=a, propensity=pi0, sample_weight=s).value(pi)
    psi = [pi[i, a[i]] / pi0[i, a[i]] * y[i] for i in range(len(y))]
    theta = sum(si * p for si, p in zip(s, psi)) / sum(s)
    se = np.sqrt(sum((si * (p - theta)) ** 2 for si, p in zip(s, psi))) / sum(s)
    assert est.value == pytest.approx(theta, abs=1e-12)
    assert est.stderr == pytest.approx(se, abs=1e-12)


def test_poor_overlap_warns():
    from causalkit.utils.validation import PositivityWarning

    rng = np.random.default_rng(0)
    n = 500
    X = rng.normal(size=(n, 2))
    a = np.r_[np.zeros(n - 2, dtype=int), 1, 1]
    p = np.r_[np.full(n - 2, 0.999), 0.001, 0.001]
    est = IPS().fit(X, rng.normal(size=n), action=a, propensity=p)
    assert est.diagnostics_["propensity_min"] == pytest.approx(0.001)
    with pytest.warns(PositivityWarning, match="effective sample size"):
        est.value(np.tile([0.0, 1.0], (n, 1)))


def test_given_reward_predictions_and_contexts_are_private_copies():
    from causalkit.ope import DoublyRobust

    d = make_bandit_feedback(500, n_actions=3, random_state=1)
    q = np.random.default_rng(0).random((500, 3))
    X = d.X.copy()
    est = DoublyRobust(n_actions=3).fit(X, d.y, action=d.action, propensity=d.propensity,
                                        estimated_rewards=q)
    before = est.value(d.target_policy).value
    q[:] = 0.0
    X[:] = 0.0
    assert est.value(d.target_policy).value == before
    q[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"`estimated_rewards` contains NaN"):
        DoublyRobust(n_actions=3).fit(d.X, d.y, action=d.action, propensity=d.propensity,
                                      estimated_rewards=q)
    q[0, 0] = 1e150
    with pytest.raises(ValueError, match=r"`estimated_rewards` has values as large as"):
        DoublyRobust(n_actions=3).fit(d.X, d.y, action=d.action, propensity=d.propensity,
                                      estimated_rewards=q)


def test_policy_outside_the_logging_support_row_by_row():
    from causalkit.ope import DirectMethod, DirectMethodLearner
    from causalkit.utils.validation import PositivityWarning

    d = make_bandit_feedback(2000, n_actions=3, random_state=4)
    # a logger that never takes action 2 when x_0 > 0 (every action is still logged somewhere)
    pi0 = d.logging_policy.copy()
    cut = d.X[:, 0] > 0
    pi0[cut, 2] = 0.0
    pi0 /= pi0.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    a = (pi0.cumsum(axis=1) < rng.random(len(pi0))[:, None]).sum(axis=1)
    y = d.expected_reward[np.arange(len(a)), a]
    uniform = np.full(pi0.shape, 1 / 3)
    ips = IPS().fit(d.X, y, action=a, propensity=pi0)
    with pytest.raises(ValueError, match=r"`policy` puts probability on actions whose logging "
                                         r"probability is 0 \(\d+ cell\(s\); first: row \d+, action 2"):
        ips.value(uniform)
    # a learned greedy policy that picks action 2 somewhere in the unsupported region is refused too
    learned = DirectMethodLearner(model_reward=LinearRegression(), epsilon=0.3).fit(d.X, y, action=a)
    with pytest.raises(ValueError, match=r"logging probability is 0"):
        ips.value(learned)
    # the direct method warns and extrapolates; a supported policy passes
    dm = DirectMethod(model_reward=LinearRegression(), cv=2, random_state=0).fit(
        d.X, y, action=a, propensity=pi0)
    with pytest.warns(PositivityWarning, match=r"logging probability is 0.*extrapolates"):
        dm.value(uniform)
    supported = np.where(pi0 > 0, 1.0, 0.0)
    supported /= supported.sum(axis=1, keepdims=True)
    v = ips.value(supported)
    truth = float(np.mean(np.sum(supported * d.expected_reward, axis=1)))
    assert abs(v.value - truth) < 4 * v.stderr
