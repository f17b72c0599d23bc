"""SparseControlVariates and the overtaking-test simulator."""

import numpy as np
import pytest
from scipy import stats

from causalkit.datasets import make_overtaking_tests
from causalkit.montecarlo import ControlVariates, SparseControlVariates
from causalkit.utils.validation import FewObservationsWarning


def test_simulator_truth_by_brute_force_enumeration():
    # independent re-derivation: sum over k and over all manoeuvre sequences (k <= 4)
    import itertools

    from causalkit.datasets._montecarlo import H_AV, P_NATURAL

    L, pc = 4, 0.3
    d = make_overtaking_tests(10, n_steps=L, p_critical=pc, random_state=0)
    total = 0.0
    for k in range(L + 1):
        pk = stats.binom.pmf(k, L, pc)
        for us in itertools.product(range(3), repeat=k):
            prob = np.prod(P_NATURAL[list(us)]) if k else 1.0
            total += pk * prob * (1 - np.prod(1 - H_AV[list(us)]) if k else 0.0)
    assert d.true_rate == pytest.approx(total, rel=1e-12)


def test_simulator_is_estimate_unbiased_and_controls_mean_zero_per_stratum():
    d = make_overtaking_tests(100_000, random_state=1)
    Y = d.y * d.weights
    assert abs(Y.mean() - d.true_rate) < 3 * Y.std() / np.sqrt(len(Y))
    flat = np.concatenate([x for x in d.X if len(x)])
    kk = np.repeat(d.n_critical, d.n_critical)
    for k in (1, 2, 3):
        z = flat[kk == k]
        se = z.std(axis=0) / np.sqrt(len(z))
        assert np.all(np.abs(z.mean(axis=0)) < 4 * se)


def test_one_stratum_matches_controlvariates():
    d = make_overtaking_tests(3000, n_steps=1, p_critical=1.0, random_state=2)
    s = SparseControlVariates().fit(d.X, d.y, weights=d.weights)
    c = ControlVariates().fit(np.vstack(d.X), d.y, weights=d.weights)
    assert s.mean().value == pytest.approx(c.mean().value, rel=1e-10)
    assert s.mean().stderr == pytest.approx(c.mean().stderr, rel=1e-10)


def test_zero_variance_with_exact_linear_outcome():
    # one critical step and y = crash probability: Y = W h(u) is linear in the controls
    d = make_overtaking_tests(2000, n_steps=1, p_critical=1.0, outcome="probability", random_state=3)
    s = SparseControlVariates().fit(d.X, d.y, weights=d.weights)
    assert s.mean().value == pytest.approx(d.true_rate, rel=1e-9)
    assert s.mean().stderr < 1e-9 and s.variance_reduction_ > 1e6


def test_unbiased_and_variance_reduction_with_known_stratum_probs():
    d = make_overtaking_tests(20_000, outcome="probability", random_state=4)
    s = SparseControlVariates(stratum_probs=d.stratum_probs).fit(d.X, d.y, weights=d.weights)
    est = s.mean()
    assert abs(est.value - d.true_rate) < 3 * est.stderr + 1e-12
    assert s.variance_reduction_ > 100
    shares = SparseControlVariates().fit(d.X, d.y, weights=d.weights)
    assert abs(shares.mean().value - d.true_rate) < 3 * shares.mean().stderr
    assert 1 < shares.variance_reduction_ < s.variance_reduction_


def test_pooling_rule_and_tables():
    d = make_overtaking_tests(5000, random_state=5)
    s = SparseControlVariates(min_tests_per_coef=10).fit(d.X, d.y, weights=d.weights)
    K = s.n_pooled_from_
    counts = np.bincount(d.n_critical, weights=(d.y * d.weights != 0))  # tests with a crash
    assert counts[K] < 10 * (2 * K + 1)
    assert all(counts[k] >= 10 * (2 * k + 1) for k in range(2, K))
    table = s.diagnostics_["strata"]
    assert table["n"].sum() == 5000 and table["n_nonzero"].iloc[:K].tolist() == counts[:K].tolist() and table.index[-1] == f">={K}"
    assert list(table["regressors"]) == [2 * k for k in range(K)] + [2]
    capped = SparseControlVariates(max_strata=2).fit(d.X, d.y, weights=d.weights)
    assert capped.n_pooled_from_ == 2 and len(capped.diagnostics_["strata"]) == 3


def test_tiny_stratum_without_controls_warns():
    d = make_overtaking_tests(500, random_state=6)
    k = d.n_critical
    keep = np.r_[np.flatnonzero(k == 1)[:3], np.flatnonzero(k == 2)[:40]]
    X, y, w = [d.X[i] for i in keep], d.y[keep], d.weights[keep]
    with pytest.warns(FewObservationsWarning, match="k=1 has 3 test"):
        s = SparseControlVariates().fit(X, y, weights=w)
    table = s.diagnostics_["strata"]
    assert table.loc["1", "regressors"] == 0
    assert table.loc["1", "estimate"] == pytest.approx(np.mean((y * w)[:3]))


def test_relative_half_width_and_tests_needed():
    d = make_overtaking_tests(10_000, random_state=7)
    s = SparseControlVariates().fit(d.X, d.y, weights=d.weights)
    rhw = s.relative_half_width()
    assert rhw == pytest.approx(1.959964 * s.mean().stderr / s.mean().value, rel=1e-6)
    need = s.n_tests_needed(rhw / 2)
    assert need == pytest.approx(4 * 10_000, rel=1e-3)
    assert s.n_tests_needed(0.2, plain=True) >= s.n_tests_needed(0.2) * 0.9
    with pytest.raises(ValueError, match="`target` must be a positive"):
        s.n_tests_needed(0)


def _replicate(reps, make, fit, truth):
    vals, hits = [], 0
    for r in range(reps):
        est = fit(make(r))
        lo, hi = est.conf_int()
        hits += lo < truth < hi
        vals.append(est.value)
    vals = np.array(vals)
    return vals, hits / reps


@pytest.mark.slow
def test_textbook_unbiased_and_coverage_2000_replications():
    rng = np.random.default_rng(11)
    truth = np.e - 1
    vals, cover = _replicate(
        2000, lambda r: rng.uniform(size=200),
        lambda u: ControlVariates(control_means=0.5).fit(u[:, None], np.exp(u)).mean(), truth)
    assert abs(vals.mean() - truth) < 3 * vals.std(ddof=1) / np.sqrt(len(vals))
    assert 0.93 <= cover <= 0.97


@pytest.mark.slow
def test_sparse_crash_indicator_unbiased_and_coverage():
    # n = 20,000 tests (~200 crashes); at n = 2,000 (~20 crashes) the normal interval
    # under-covers for plain IS and sparse CV alike (skewed rare-event estimates)
    truth = make_overtaking_tests(1, random_state=0).true_rate
    vals, cover = _replicate(
        500, lambda r: make_overtaking_tests(20_000, random_state=1000 + r),
        lambda d: SparseControlVariates().fit(d.X, d.y, weights=d.weights).mean(), truth)
    assert abs(vals.mean() - truth) < 3 * vals.std(ddof=1) / np.sqrt(len(vals))
    assert 0.93 <= cover <= 0.97


@pytest.mark.slow
def test_sparse_crash_probability_unbiased_and_coverage_2000_replications():
    # near-zero residual variance makes the O(p/n) bias of in-sample slopes visible
    # against the Monte Carlo SE of 2,000 replications: cross-fitted slopes remove it
    truth = make_overtaking_tests(1, random_state=0).true_rate
    vals, cover = _replicate(
        2000, lambda r: make_overtaking_tests(2000, outcome="probability", random_state=5000 + r),
        lambda d: SparseControlVariates(cv=2, random_state=0).fit(d.X, d.y, weights=d.weights).mean(),
        truth)
    assert abs(vals.mean() - truth) < 3 * vals.std(ddof=1) / np.sqrt(len(vals))
    assert 0.93 <= cover <= 0.97
