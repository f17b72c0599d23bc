"""The one-pass checks of the bandit estimators (compiled kernels in causalkit._accel._ope).

The estimators read the policy matrix and the given reward predictions once: checks,
the gather at the logged actions and the reward model averaged over the policy happen
in the same pass. These tests hold that path to the plain formulas and to the bad-input
messages of the general numpy path, whatever the memory layout or dtype of the input.
"""

import numpy as np
import pandas as pd
import pytest

from causalkit.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    SelfNormalizedDR,
    SwitchDR,
    _bandit,
)
from causalkit.ope._bandit import _check_prob_matrix


@pytest.fixture(autouse=True, params=["kernel", "numpy"])
def path(request, monkeypatch):
    """Every test runs on both paths: the compiled one-pass kernels (used from 2^20
    entries on) and the numpy checks that small inputs take."""
    monkeypatch.setattr(_bandit, "_KERNEL_MIN_SIZE", 0 if request.param == "kernel" else 1 << 62)
    return request.param


def _logs(n=3000, k=5, seed=1):
    rng = np.random.default_rng(seed)
    pi0 = rng.dirichlet(np.ones(k), size=n)
    a = np.array([rng.choice(k, p=row) for row in pi0])
    p = pi0[np.arange(n), a]
    pi = rng.dirichlet(np.full(k, 0.7), size=n)
    q = rng.random((n, k))
    y = (rng.random(n) < q[np.arange(n), a]).astype(float)
    X = rng.normal(size=(n, 3))
    return X, y, a, p, pi0, pi, q


def _plain(X, y, a, p, pi, q):
    """Each estimator's value and SE written out with numpy's fancy indexing."""
    n = len(y)
    rows = np.arange(n)
    w = pi[rows, a] / p
    dm = (pi * q).sum(axis=1)
    qa = q[rows, a]

    def mean_se(psi):
        return psi.mean(), psi.std() / np.sqrt(n)

    sn = np.dot(w, y) / w.sum()
    corr = w * (y - qa)
    c = corr.sum() / w.sum()
    infl = (dm - dm.mean()) + (corr - c * w) / w.mean()
    return {
        "ips": mean_se(w * y),
        "snips": (sn, np.sqrt(np.sum((w * (y - sn)) ** 2)) / w.sum()),
        "dm": mean_se(dm),
        "dr": mean_se(dm + corr),
        "sndr": (dm.mean() + c, np.sqrt(np.sum(infl ** 2)) / n),
        "switch": mean_se(dm + np.where(w <= 3.0, w, 0.0) * (y - qa)),
        "es": mean_se(pi[rows, a] / p ** 0.5 * y),
    }


def _ours(X, y, a, p, pi, q, k):
    base = {"action": a, "propensity": p}
    model = dict(base, estimated_rewards=q)
    return {
        "ips": IPS(n_actions=k).fit(X, y, **base).value(pi),
        "snips": SNIPS(n_actions=k).fit(X, y, **base).value(pi),
        "dm": DirectMethod(n_actions=k).fit(X, y, **model).value(pi),
        "dr": DoublyRobust(n_actions=k).fit(X, y, **model).value(pi),
        "sndr": SelfNormalizedDR(n_actions=k).fit(X, y, **model).value(pi),
        "switch": SwitchDR(n_actions=k, tau=3.0).fit(X, y, **model).value(pi),
        "es": ExponentialSmoothingIPS(n_actions=k, beta=0.5).fit(X, y, **base).value(pi),
    }


@pytest.mark.parametrize("layout", ["C", "F", "strided", "float32-policy", "frame-X"])
def test_every_estimator_matches_the_plain_formula_whatever_the_layout(layout):
    X, y, a, p, _, pi, q = _logs()
    k = pi.shape[1]
    want = _plain(X, y, a, p, pi, q)
    if layout == "F":
        X, pi, q = np.asfortranarray(X), np.asfortranarray(pi), np.asfortranarray(q)
    elif layout == "strided":  # views with a step: neither C- nor F-contiguous
        X = np.repeat(X, 2, axis=0)[::2]
        pi = np.repeat(pi, 2, axis=1)[:, ::2]
        q = np.repeat(q, 2, axis=1)[:, ::2]
    elif layout == "float32-policy":
        pi32 = pi.astype(np.float32)
        pi32 /= pi32.sum(axis=1, keepdims=True)
        pi = pi32
        want = _plain(X, y, a, p, pi.astype(np.float64), q)
    elif layout == "frame-X":
        X = pd.DataFrame(X, columns=["a", "b", "c"])
    got = _ours(X, y, a, p, pi, q, k)
    for key, (value, se) in want.items():
        assert got[key].value == pytest.approx(value, rel=1e-12, abs=1e-14), key
        assert got[key].stderr == pytest.approx(se, rel=1e-10), key


def test_the_inputs_are_copied_and_left_unchanged(path):
    X, y, a, p, _, pi, q = _logs(500)
    before = [v.copy() for v in (X, y, a, p, pi, q)]
    est = DoublyRobust(n_actions=pi.shape[1]).fit(X, y, action=a, propensity=p, estimated_rewards=q)
    assert (est._q_logged is not None) == (path == "kernel")  # gathered as it was copied
    v1 = est.value(pi).value
    for new, old in zip((X, y, a, p, pi, q), before):
        np.testing.assert_array_equal(new, old)
    assert not np.shares_memory(est.X_, X) and not np.shares_memory(est.estimated_rewards_, q)
    X[:] = 0.0
    q[:] = 0.0  # the fitted estimator owns its copies
    assert est.value(pi).value == v1


@pytest.mark.parametrize("edit, match", [
    (lambda P: P.__setitem__((7, 1), np.nan), r"`policy` contains NaN in 1 row\(s\) \(first at row 7\)"),
    (lambda P: P.__setitem__((3, 0), np.inf), r"`policy` contains infinite values"),
    (lambda P: P.__setitem__((3, 0), -np.inf), r"`policy` contains infinite values"),
    (lambda P: (P.__setitem__((4, 0), P[4, 0] + 0.3), P.__setitem__((4, 1), P[4, 1] - 0.3)),
     r"`policy` holds negative probabilities"),
    (lambda P: P.__setitem__((9, 2), P[9, 2] + 0.01), r"`policy` rows must sum to 1; 1 row\(s\) do not "
                                                       r"\(row 9 sums"),
])
def test_a_bad_policy_gets_the_message_of_the_numpy_checks(edit, match):
    X, y, a, p, _, pi, q = _logs(400)
    pi[4] = [0.2, 0.1, 0.3, 0.2, 0.2]  # so that row 4 can be pushed below zero keeping its sum
    edit(pi)
    for est in (IPS(n_actions=5).fit(X, y, action=a, propensity=p),
                DoublyRobust(n_actions=5).fit(X, y, action=a, propensity=p, estimated_rewards=q)):
        with pytest.raises(ValueError, match=match):
            est.value(pi)


def test_a_row_sum_inside_the_tolerance_passes_and_outside_it_fails():
    X, y, a, p, _, pi, q = _logs(400)
    ok = pi.copy()
    ok[0] *= 1 + 5e-7
    IPS(n_actions=5).fit(X, y, action=a, propensity=p).value(ok)
    bad = pi.copy()
    bad[0] *= 1 + 5e-6
    with pytest.raises(ValueError, match=r"rows must sum to 1"):
        IPS(n_actions=5).fit(X, y, action=a, propensity=p).value(bad)


def test_the_checker_alone_gathers_and_dots_like_fancy_indexing():
    _, _, a, _, _, pi, q = _logs(300)
    n, k = pi.shape
    P, picked, dots = _check_prob_matrix(pi, "policy", n, k, at=a, rowdot=q)
    assert P is pi or np.shares_memory(P, pi)  # a float64 input is not copied
    np.testing.assert_array_equal(picked, pi[np.arange(n), a])
    np.testing.assert_allclose(dots, np.einsum("ij,ij->i", pi, q), rtol=1e-14)
    assert _check_prob_matrix(pi, "policy", n, k) is pi
    with pytest.raises(ValueError, match=r"must have shape \(n, n_actions\) = \(300, 5\); got \(300, 4\)"):
        _check_prob_matrix(pi[:, :4], "policy", n, k)


@pytest.mark.parametrize("value, match", [
    (np.nan, r"`estimated_rewards` contains NaN in 1 row\(s\) \(first at row 11\)"),
    (np.inf, r"`estimated_rewards` contains infinite values"),
    (1e150, r"`estimated_rewards` has values as large as 1e\+150"),
])
def test_bad_reward_predictions_are_refused_as_they_are_copied(value, match):
    X, y, a, p, _, pi, q = _logs(400)
    q[11, 3] = value
    with pytest.raises(ValueError, match=match):
        SelfNormalizedDR(n_actions=5).fit(X, y, action=a, propensity=p, estimated_rewards=q)


def test_reward_predictions_that_all_underflow_are_refused():
    X, y, a, p, _, pi, q = _logs(400)
    with pytest.raises(ValueError, match=r"`estimated_rewards` has no value larger than"):
        DoublyRobust(n_actions=5).fit(X, y, action=a, propensity=p, estimated_rewards=q * 1e-120)


@pytest.mark.parametrize("value, match", [
    (np.nan, r"`X` contains NaN in 1 row\(s\) \(first at row 5\)"),
    (-np.inf, r"`X` contains infinite values"),
    (-1e200, r"`X` has values as large as 1e\+200"),
])
def test_bad_contexts_are_refused_as_they_are_copied(value, match):
    X, y, a, p, _, pi, q = _logs(400)
    X[5, 1] = value
    with pytest.raises(ValueError, match=match):
        IPS(n_actions=5).fit(X, y, action=a, propensity=p)


def test_a_full_logging_distribution_is_checked_and_gathered_in_one_pass():
    X, y, a, p, pi0, pi, q = _logs(600)
    by_vector = IPS(n_actions=5).fit(X, y, action=a, propensity=p)
    by_matrix = IPS(n_actions=5).fit(X, y, action=a, propensity=pi0)
    np.testing.assert_array_equal(by_matrix.propensity_, p)
    assert by_matrix.value(pi).value == by_vector.value(pi).value
    # zeros in the logging distribution switch the row-by-row support check on
    pi0z = pi0.copy()
    row = next(i for i in range(600) if a[i] != 0)
    pi0z[row, a[row]] += pi0z[row, 0]
    pi0z[row, 0] = 0.0
    pz = pi0z[np.arange(600), a]
    est = IPS(n_actions=5).fit(X, y, action=a, propensity=pi0z)
    with pytest.raises(ValueError, match=rf"logging probability is 0 .*first: row {row}, action 0"):
        est.value(pi)
    safe = pi.copy()
    safe[row] = pi0z[row]
    assert est.value(safe).value == pytest.approx(np.mean(safe[np.arange(600), a] / pz * y), rel=1e-12)


# --------------------------------------------------------------------------- predictions at value

_MODEL = {"dm": (DirectMethod, {}), "dr": (DoublyRobust, {"clip": 4.0}), "sndr": (SelfNormalizedDR, {}),
          "switch": (SwitchDR, {"tau": 3.0})}


@pytest.mark.parametrize("key", list(_MODEL))
@pytest.mark.parametrize("weighted", [False, True])
def test_predictions_at_value_give_the_numbers_of_predictions_at_fit(key, weighted):
    X, y, a, p, _, pi, q = _logs()
    cls, kw = _MODEL[key]
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y)) if weighted else None
    base = {"action": a, "propensity": p, "sample_weight": sw}
    at_fit = cls(n_actions=5, **kw).fit(X, y, estimated_rewards=q, **base).value(pi)
    est = cls(n_actions=5, model_reward="given", **kw).fit(X, y, **base)
    at_value = est.value(pi, estimated_rewards=q)
    assert at_value.value == pytest.approx(at_fit.value, rel=1e-12, abs=1e-12)
    assert at_value.stderr == pytest.approx(at_fit.stderr, rel=1e-12)
    assert at_value.method == at_fit.method
    if not weighted and key != "dr":  # and both are the plain formula
        assert at_value.value == pytest.approx(_plain(X, y, a, p, pi, q)[key][0], rel=1e-12)
    # a fitted reward model is overridden for the call only: the same numbers as fitting with q
    fitted = cls(n_actions=5, **kw).fit(X, y, estimated_rewards=np.zeros_like(q), **base)
    assert fitted.value(pi, estimated_rewards=q).value == pytest.approx(at_fit.value, rel=1e-12)
    assert fitted.value(pi).value != pytest.approx(at_fit.value, rel=1e-6)
    if key != "dm":  # a fitted model is named, and predictions given to value are named "given"
        from sklearn.linear_model import LinearRegression

        modelled = cls(n_actions=5, model_reward=LinearRegression(), cv=2, random_state=0, **kw)
        modelled.fit(X, y, **base)
        assert "reward model: LinearRegression" in modelled.value(pi).method
        over = modelled.value(pi, estimated_rewards=q)
        assert over.method == at_fit.method and over.value == pytest.approx(at_fit.value, rel=1e-12)
    table = est.compare({"a": pi, "b": pi}, estimated_rewards=q)
    assert [e.value for e in table] == pytest.approx([at_value.value] * 2, rel=1e-15)


def test_predictions_at_value_are_read_not_kept():
    X, y, a, p, _, pi, q = _logs(500)
    before = [v.copy() for v in (X, y, a, p, pi, q)]
    est = DoublyRobust(n_actions=5, model_reward="given").fit(X, y, action=a, propensity=p)
    assert est.estimated_rewards_ is None and est.reward_model_ == "given"
    v1 = est.value(pi, estimated_rewards=q).value
    for new, old in zip((X, y, a, p, pi, q), before):
        np.testing.assert_array_equal(new, old)
    assert not any(isinstance(v, np.ndarray) and np.shares_memory(v, q) for v in vars(est).values())
    # nothing of q stays behind: other predictions give their own value, and q again gives v1
    assert est.value(pi, estimated_rewards=q * 0.5).value != pytest.approx(v1, rel=1e-6)
    assert est.value(pi, estimated_rewards=q).value == v1
    with pytest.raises(ValueError, match=r"fitted with model_reward='given' and no `estimated_rewards`"):
        est.value(pi)


@pytest.mark.parametrize("edit, match", [
    (lambda Q: Q[:, :4], r"`estimated_rewards` must have shape \(n, n_actions\) = \(400, 5\); got \(400, 4\)"),
    (lambda Q: Q[:-1], r"`estimated_rewards` must have shape \(n, n_actions\) = \(400, 5\); got \(399, 5\)"),
    (lambda Q: Q[:, 0], r"`estimated_rewards` must have shape \(n, n_actions\) = \(400, 5\); got \(400,\)"),
    (lambda Q: (Q.__setitem__((11, 3), np.nan), Q)[1],
     r"`estimated_rewards` contains NaN in 1 row\(s\) \(first at row 11\)"),
    (lambda Q: (Q.__setitem__((11, 3), np.inf), Q)[1], r"`estimated_rewards` contains infinite values"),
    (lambda Q: (Q.__setitem__((11, 3), -1e150), Q)[1], r"`estimated_rewards` has values as large as 1e\+150"),
    (lambda Q: Q * 1e-120, r"`estimated_rewards` has no value larger than"),
    (lambda Q: np.full(Q.shape, "high"), r"estimated_rewards"),
])
def test_bad_predictions_at_value_are_refused(edit, match):
    X, y, a, p, _, pi, q = _logs(400)
    for cls in (DirectMethod, DoublyRobust, SelfNormalizedDR, SwitchDR):
        est = cls(n_actions=5, model_reward="given").fit(X, y, action=a, propensity=p)
        with pytest.raises((ValueError, TypeError), match=match):
            est.value(pi, estimated_rewards=edit(q.copy()))


@pytest.mark.parametrize("edit, match", [
    (lambda P: P.__setitem__((7, 1), np.nan), r"`policy` contains NaN in 1 row\(s\) \(first at row 7\)"),
    (lambda P: (P.__setitem__((4, 0), P[4, 0] + 0.3), P.__setitem__((4, 1), P[4, 1] - 0.3)),
     r"`policy` holds negative probabilities"),
    (lambda P: P.__setitem__((9, 2), P[9, 2] + 0.01), r"`policy` rows must sum to 1; 1 row\(s\) do not"),
])
def test_a_bad_policy_beside_predictions_at_value_gets_the_policy_message(edit, match):
    X, y, a, p, _, pi, q = _logs(400)
    pi[4] = [0.2, 0.1, 0.3, 0.2, 0.2]
    edit(pi)
    est = DoublyRobust(n_actions=5, model_reward="given").fit(X, y, action=a, propensity=p)
    with pytest.raises(ValueError, match=match):
        est.value(pi, estimated_rewards=q)


def test_predictions_at_value_are_refused_where_they_cannot_be_used():
    from sklearn.utils._param_validation import InvalidParameterError

    X, y, a, p, _, pi, q = _logs(300)
    for est in (IPS(n_actions=5), SNIPS(n_actions=5), ExponentialSmoothingIPS(n_actions=5)):
        est.fit(X, y, action=a, propensity=p)
        with pytest.raises(ValueError, match=r"`estimated_rewards` is used by the model-based estimators"):
            est.value(pi, estimated_rewards=q)
    with pytest.raises(InvalidParameterError, match="model_reward"):
        DoublyRobust(model_reward="fitted").fit(X, y, action=a, propensity=p)


def test_predictions_at_value_after_a_dask_fit_are_refused():
    da = pytest.importorskip("dask.array")
    X, y, a, p, _, pi, q = _logs(300)
    est = DoublyRobust(n_actions=5).fit(da.from_array(X, chunks=100), da.from_array(y, chunks=100),
                                        action=da.from_array(a, chunks=100),
                                        propensity=da.from_array(p, chunks=100),
                                        estimated_rewards=da.from_array(q, chunks=100))
    with pytest.raises(ValueError, match=r"after a fit on Dask collections; pass them to fit"):
        est.value(pi, estimated_rewards=q)
    fresh = DoublyRobust(n_actions=5, model_reward="given").fit(X, y, action=a, propensity=p)
    with pytest.raises(TypeError, match=r"must be an in-memory array"):
        fresh.value(pi, estimated_rewards=da.from_array(q, chunks=100))
