"""Off-policy learners: the policy class, the bounds' formulas, validity and the learn/evaluate loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from causalkit.datasets import make_bandit_feedback
from causalkit.ope import (
    IPS,
    SNIPS,
    ClippedIPSLearner,
    DirectMethodLearner,
    ExponentialSmoothingIPS,
    ExponentialSmoothingLearner,
    learn_and_evaluate,
)
from causalkit.ope._learning import _policy_pass, _score_grid
from causalkit.utils.validation import PositivityWarning


@pytest.fixture(scope="module")
def logs():
    return make_bandit_feedback(3000, n_actions=4, n_features=3, random_state=11)


@pytest.fixture(scope="module")
def population():
    # a large fresh draw from the same design: true values of learned policies
    d = make_bandit_feedback(100_000, n_actions=4, n_features=3, random_state=12345)
    return d.X, d.expected_reward, d.logging_policy


def _true_value(policy, population):
    X, q, _ = population
    return float(np.mean(np.sum(policy.predict_proba(X) * q, axis=1)))


# --------------------------------------------------------------------------- policy class


@pytest.mark.parametrize("kind", ["gaussian", "softmax"])
def test_policy_matches_monte_carlo_and_gradient_matches_finite_differences(kind):
    rng = np.random.default_rng(0)
    n, d, k = 30, 3, 4
    Xt = rng.normal(size=(n, d))
    M = 2 * rng.normal(size=(d, k))
    sigma = 0.8
    quad = _score_grid(32) if kind == "gaussian" else rng.normal(size=(4000, k))
    P = _policy_pass(kind, Xt, M, sigma, quad)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    if kind == "gaussian":
        # a fine grid agrees to 1e-9: the 32-node trapezoid rule has converged
        np.testing.assert_allclose(P, _policy_pass(kind, Xt, M, sigma, _score_grid(200)), atol=1e-9)
    # Monte Carlo over theta ~ N(M, sigma^2 I) of pi_theta(.|x): SE <= 0.5/sqrt(m)
    m = 200_000
    theta = M[None] + sigma * rng.normal(size=(m, d, k))
    for i in (0, 7):
        s = np.einsum("d,mdk->mk", Xt[i], theta)
        if kind == "gaussian":
            ref = np.bincount(s.argmax(axis=1), minlength=k) / m
            tol = 5 * 0.5 / np.sqrt(m)
        else:
            e = np.exp(s - s.max(axis=1, keepdims=True))
            ref = (e / e.sum(axis=1, keepdims=True)).mean(axis=0)
            tol = 5 * 0.5 / np.sqrt(4000)  # the policy's own 4000 fixed draws dominate
        np.testing.assert_allclose(P[i], ref, atol=tol)
    G = rng.normal(size=(2, n, k))

    def functionals(lo, hi):
        return G[:, lo:hi]

    T, gM, gls = _policy_pass(kind, Xt, M, sigma, quad, functionals, need_grad=True)
    np.testing.assert_allclose(T, np.einsum("mik,ik->m", G, P), rtol=1e-12)

    def loss(M_, ls):
        return _policy_pass(kind, Xt, M_, np.exp(ls), quad, functionals)[0]

    eps = 1e-6
    for i, j in [(0, 0), (1, 3), (2, 1)]:
        E = np.zeros_like(M)
        E[i, j] = eps
        num = (loss(M + E, np.log(sigma)) - loss(M - E, np.log(sigma))) / (2 * eps)
        np.testing.assert_allclose(gM[:, i, j], num, rtol=1e-5, atol=1e-7)
    num = (loss(M, np.log(sigma) + eps) - loss(M, np.log(sigma) - eps)) / (2 * eps)
    np.testing.assert_allclose(gls, num, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- bound formulas


def test_smoothed_bound_terms_match_the_estimators_and_theorem(logs):
    d = logs
    est = ExponentialSmoothingLearner(beta=0.7, lam=0.3, max_iter=15).fit(
        d.X, d.y, action=d.action, propensity=d.logging_policy)
    P = est.predict_proba(d.X)
    n = len(d.y)
    t = est.bound_terms_
    # smoothed risk = - ExponentialSmoothingIPS value of the learned policy; bias = its bias bound
    es = ExponentialSmoothingIPS(beta=0.7).fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    assert t["risk"] == pytest.approx(-es.value(est).value, rel=1e-10)
    assert t["bias"] == pytest.approx(es.bias_bound(est), rel=1e-10)
    # second moment and the whole bound written out (Aouali et al., 2023, Thm 4.1)
    pi0 = d.logging_policy
    pa, Pa = d.propensity, P[np.arange(n), d.action]
    V = np.mean(np.sum(P * pi0 ** (1 - 1.4), axis=1) + d.y ** 2 * Pa / pa ** 1.4)
    assert t["second_moment"] == pytest.approx(V, rel=1e-10)
    kl = est.kl_
    D = est.coef_.size
    s2 = est.scale_ ** 2
    assert kl == pytest.approx(0.5 * (D * (s2 - 1 - np.log(s2)) + np.sum(est.coef_ ** 2)), rel=1e-10)
    ref = (t["risk"] + np.sqrt((kl + np.log(4 * np.sqrt(n) / 0.05)) / (2 * n)) + t["bias"]
           + (kl + np.log(4 / 0.05)) / (n * 0.3) + 0.15 * V)
    assert est.bound_ == pytest.approx(ref, rel=1e-10)
    assert est.value_lower_bound_ == -est.bound_


def test_beta_one_is_ips_and_has_no_bias_term(logs):
    d = logs
    est = ExponentialSmoothingLearner(beta=1.0, max_iter=10).fit(
        d.X, d.y, action=d.action, propensity=d.logging_policy)
    ips = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity).value(est)
    assert est.bound_terms_["risk"] == pytest.approx(-ips.value, rel=1e-10)
    assert est.bound_terms_["bias"] == pytest.approx(0.0, abs=1e-12)


def test_clipped_learner_risk_and_london_bound(logs):
    d = logs
    est = ClippedIPSLearner(tau=0.2, max_iter=15).fit(d.X, d.y, action=d.action, propensity=d.propensity)
    n = len(d.y)
    Pa = est.predict_proba(d.X)[np.arange(n), d.action]
    risk = -np.mean(d.y * Pa / np.maximum(d.propensity, 0.2))
    assert est.bound_terms_["risk"] == pytest.approx(risk, rel=1e-10)
    K = (est.kl_ + np.log(2 * np.sqrt(n) / 0.05)) / n
    assert est.bound_ == pytest.approx(risk + 2 * K / 0.2 + np.sqrt(2 * (risk + 5) * K / 0.2), rel=1e-10)


def test_learning_lowers_the_training_objective(logs):
    d = logs
    short = ExponentialSmoothingLearner(max_iter=1).fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    long = ExponentialSmoothingLearner(max_iter=100).fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    assert long.bound_ < short.bound_
    assert long.n_iter_ > 1


# --------------------------------------------------------------------------- statistical behaviour


def test_certificates_hold_and_smoothing_is_tighter_than_clipping(logs, population):
    d = logs
    es = ExponentialSmoothingLearner().fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    cl = ClippedIPSLearner().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    v_es, v_cl = _true_value(es, population), _true_value(cl, population)
    # each certificate holds with probability 0.95 (fixed seed: a deterministic check)
    assert es.value_lower_bound_ <= v_es
    assert cl.value_lower_bound_ <= v_cl
    # the smoothed bound is informative (above the trivial 0 for rewards in [0, 1]), London's is not here
    assert es.value_lower_bound_ > 0 > cl.value_lower_bound_


def test_learners_improve_on_the_logging_policy(logs, population):
    d = logs
    X, q, pi0 = population
    v_log = float(np.mean(np.sum(pi0 * q, axis=1)))
    ips = ExponentialSmoothingLearner(beta=1.0).fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    dm = DirectMethodLearner(model_reward=LinearRegression()).fit(d.X, d.y, action=d.action)
    # population values have Monte Carlo SE below 0.002; the gains are far larger
    assert _true_value(ips, population) > v_log + 0.05
    assert _true_value(dm, population) > v_log + 0.05


def test_learn_and_evaluate_interval_covers_the_learned_policys_value(population):
    d = make_bandit_feedback(6000, n_actions=4, n_features=3, random_state=3)
    pol, v = learn_and_evaluate(ExponentialSmoothingLearner(beta=1.0, max_iter=50), SNIPS(), d.X, d.y,
                                action=d.action, propensity=d.logging_policy, random_state=0)
    assert v.n == 3000 and "learned on 3000" in v.method
    truth = _true_value(pol, population)
    assert abs(v.value - truth) < 4 * v.stderr


def test_direct_method_learner_is_greedy_on_its_reward_model(logs):
    d = logs
    pol = DirectMethodLearner(model_reward=LinearRegression(), epsilon=0.2).fit(d.X, d.y, action=d.action)
    q = pol.predict_reward(d.X[:50])
    P = pol.predict_proba(d.X[:50])
    np.testing.assert_array_equal(P.argmax(axis=1), q.argmax(axis=1))
    np.testing.assert_allclose(P.max(axis=1), 0.8 + 0.2 / 4)
    np.testing.assert_array_equal(pol.predict(d.X[:50]), q.argmax(axis=1))


def test_learned_policy_plugs_into_every_evaluator(logs):
    d = logs
    pol = DirectMethodLearner(model_reward=LinearRegression(), epsilon=0.1).fit(d.X, d.y, action=d.action)
    P = pol.predict_proba(d.X)
    a = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    assert a.value(pol).value == pytest.approx(a.value(P).value, rel=1e-12)


# --------------------------------------------------------------------------- bad input


def test_bad_inputs(logs):
    d = logs
    with pytest.raises(ValueError, match=r"`propensity` must be the full logging distribution"):
        ExponentialSmoothingLearner().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    zero = d.logging_policy.copy()
    zero[:, 3] = 0
    zero /= zero.sum(axis=1, keepdims=True)
    with pytest.raises(ValueError, match=r"`propensity` gives probability 0 to action 3"):
        ExponentialSmoothingLearner().fit(d.X, d.y, action=np.minimum(d.action, 2), propensity=zero)
    with pytest.raises(ValueError, match=r"`y` must lie in \[0, 1\]"):
        ClippedIPSLearner().fit(d.X, d.y * 2, action=d.action, propensity=d.propensity)
    with pytest.raises(ValueError, match=r"`sample_weight` is not supported"):
        ClippedIPSLearner().fit(d.X, d.y, action=d.action, propensity=d.propensity,
                                sample_weight=np.ones(len(d.y)))
    with pytest.raises(ValueError, match=r"`action` \[4\] never logged"):
        DirectMethodLearner(n_actions=5).fit(d.X, d.y, action=d.action)
    P5 = np.c_[d.logging_policy * 0.9, np.full(len(d.y), 0.1)]
    with pytest.warns(PositivityWarning, match=r"`action` \[4\] never logged"):
        ExponentialSmoothingLearner(n_actions=5, max_iter=2).fit(d.X, d.y, action=d.action, propensity=P5)
    with pytest.raises(ValueError, match=r"`X` has 2 columns"):
        DirectMethodLearner(model_reward=LinearRegression()).fit(d.X, d.y, action=d.action).predict_proba(
            d.X[:, :2])


def test_softmax_policy_learners_certify_and_are_reproducible(logs, population):
    d = logs
    es = ExponentialSmoothingLearner(policy="softmax", random_state=0).fit(
        d.X, d.y, action=d.action, propensity=d.logging_policy)
    again = ExponentialSmoothingLearner(policy="softmax", random_state=0).fit(
        d.X, d.y, action=d.action, propensity=d.logging_policy)
    np.testing.assert_array_equal(es.coef_, again.coef_)
    assert es.draws_.shape == (32, 4)
    cl = ClippedIPSLearner(policy="softmax", random_state=0).fit(d.X, d.y, action=d.action,
                                                               propensity=d.propensity)
    v_es = _true_value(es, population)
    assert es.value_lower_bound_ <= v_es
    assert cl.value_lower_bound_ <= _true_value(cl, population)
    # the smoothed certificate is the tighter one, as for the Gaussian policy
    assert es.value_lower_bound_ > cl.value_lower_bound_
    # the bound's risk term is the smoothed IPS estimate of the policy predict_proba returns
    ref = ExponentialSmoothingIPS(beta=es.beta_).fit(d.X, d.y, action=d.action, propensity=d.propensity)
    assert es.bound_terms_["risk"] == pytest.approx(-ref.value(es).value, rel=1e-10)


def test_policy_class_is_checked(logs):
    d = logs
    with pytest.raises(ValueError, match=r"The 'policy' parameter of \w+ must be"):
        ExponentialSmoothingLearner(policy="logit").fit(d.X, d.y, action=d.action,
                                                        propensity=d.logging_policy)
    with pytest.raises(ValueError, match=r"The 'n_quadrature' parameter of \w+ must be"):
        ClippedIPSLearner(n_quadrature=3).fit(d.X, d.y, action=d.action, propensity=d.propensity)


# --------------------------------------------------------------------------- compiled pass


@pytest.mark.parametrize("kind", ["gaussian", "softmax"])
@pytest.mark.parametrize("sigma", [0.03, 0.7, 5.0])
def test_compiled_pass_equals_the_numpy_pass(kind, sigma):
    # the compiled row kernels and the numpy block path compute the same formulas: the policy,
    # the functionals and their gradients agree to rounding, over scores that are spread (small
    # sigma: most actions' normal cdf is exactly 1) and bunched (large sigma); more rows than a
    # kernel block, and a block that is not full
    rng = np.random.default_rng(5)
    n, d, k = 5000, 4, 6
    Xt = np.c_[rng.normal(size=(n, d - 1)), np.ones(n)]
    M = rng.normal(size=(d, k))
    quad = _score_grid(32) if kind == "gaussian" else rng.normal(size=(24, k))
    G = rng.normal(size=(3, n, k))

    def functionals(lo, hi):
        return G[:, lo:hi]

    P_np = _policy_pass(kind, Xt, M, sigma, quad, compiled=False)
    P_c = _policy_pass(kind, Xt, M, sigma, quad, compiled=True)
    np.testing.assert_allclose(P_c, P_np, rtol=1e-12, atol=1e-14)
    ref = _policy_pass(kind, Xt, M, sigma, quad, functionals, need_grad=True, compiled=False)
    got = _policy_pass(kind, Xt, M, sigma, quad, functionals, need_grad=True, compiled=True)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13 * np.abs(b).max())
    T_only = _policy_pass(kind, Xt, M, sigma, quad, functionals, compiled=True)
    np.testing.assert_array_equal(T_only[0], got[0])


def test_the_normal_cdf_table_matches_scipy():
    from scipy.special import ndtr

    from causalkit._accel._ope import _PHI_BASE, _PHI_COEF, _ndtr_table

    u = np.r_[np.linspace(-9.0, 8.5, 4001), -9.0 + 1 / 128, 8.5 - 1 / 128, 0.0]
    got = np.array([_ndtr_table(v, _PHI_BASE, _PHI_COEF) for v in u])
    want = ndtr(u)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=2e-16)


@pytest.mark.parametrize("kind", ["gaussian", "softmax"])
def test_fits_agree_on_either_engine_and_repeat_exactly(kind, monkeypatch):
    from causalkit.ope import _learning

    d = make_bandit_feedback(4000, n_actions=5, n_features=3, random_state=2)
    fits = {}
    for engine, size in (("compiled", 0), ("numpy", 1 << 62)):
        monkeypatch.setattr(_learning, "_KERNEL_MIN_SIZE", size)
        fits[engine] = [
            ExponentialSmoothingLearner(policy=kind, random_state=0).fit(
                d.X, d.y, action=d.action, propensity=d.logging_policy),
            ClippedIPSLearner(policy=kind, random_state=0).fit(
                d.X, d.y, action=d.action, propensity=d.propensity)]
    again = ExponentialSmoothingLearner(policy=kind, random_state=0).fit(
        d.X, d.y, action=d.action, propensity=d.logging_policy)
    np.testing.assert_array_equal(again.coef_, fits["numpy"][0].coef_)  # same seed, same result
    for c, p in zip(fits["compiled"], fits["numpy"]):
        # L-BFGS from the same start on gradients equal to rounding takes the same steps
        assert c.n_iter_ == p.n_iter_
        np.testing.assert_allclose(c.coef_, p.coef_, rtol=1e-8, atol=1e-9)
        assert c.bound_ == pytest.approx(p.bound_, rel=1e-10)
        np.testing.assert_allclose(c.predict_proba(d.X[:50]), p.predict_proba(d.X[:50]), atol=1e-10)
