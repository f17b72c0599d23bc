"""Bootstrap helpers: correct spread, clusters, and the same draws on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from joblib import parallel_config

from causalkit.inference import bootstrap, multiplier_bootstrap, sup_t_critical_value


def test_bootstrap_se_of_mean_matches_theory():
    x = np.random.default_rng(0).normal(size=400)
    reps = bootstrap(np.mean, x, n_boot=2000, random_state=1)
    se = x.std(ddof=1) / np.sqrt(len(x))
    # the bootstrap SD of the mean is se * sqrt((n-1)/n); its Monte Carlo error ~ se/sqrt(2B)
    assert reps.std() == pytest.approx(se, rel=4 / np.sqrt(2 * 2000) + 0.01)


def test_bootstrap_same_seed_same_draws_any_backend():
    x = np.random.default_rng(0).normal(size=(100, 2))
    ref = bootstrap(lambda a: a.mean(axis=0), x, n_boot=120, random_state=7)
    with parallel_config(backend="threading", n_jobs=2):
        thr = bootstrap(lambda a: a.mean(axis=0), x, n_boot=120, random_state=7, batch_size=7)
    with parallel_config(backend="loky", n_jobs=2):
        lok = bootstrap(lambda a: a.mean(axis=0), x, n_boot=120, random_state=7, batch_size=13)
    np.testing.assert_array_equal(ref, thr)
    np.testing.assert_array_equal(ref, lok)
    other = bootstrap(lambda a: a.mean(axis=0), x, n_boot=120, random_state=8)
    assert not np.array_equal(ref, other)


def test_cluster_bootstrap_inflates_se_with_cluster_shocks():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(40), 25)
    x = rng.normal(size=40)[groups] + 0.1 * rng.normal(size=1000)
    naive = bootstrap(np.mean, x, n_boot=500, random_state=0).std()
    clus = bootstrap(np.mean, x, n_boot=500, groups=groups, random_state=0).std()
    truth = x.reshape(40, 25).mean(axis=1).std(ddof=1) / np.sqrt(40)
    assert clus == pytest.approx(truth, rel=0.2)
    assert clus > 3 * naive


@pytest.mark.parametrize("weights", ["gaussian", "rademacher", "mammen"])
def test_multiplier_bootstrap_variance(weights):
    psi = np.random.default_rng(0).normal(size=(2000, 3)) * [1.0, 2.0, 3.0]
    draws = multiplier_bootstrap(psi, n_boot=3000, weights=weights, random_state=2)
    np.testing.assert_allclose(draws.std(axis=0), psi.std(axis=0) / np.sqrt(2000), rtol=0.08)
    # multipliers have mean zero: the draws' mean is within 4 Monte Carlo SEs of 0
    assert np.all(np.abs(draws.mean(axis=0)) < 4 * draws.std(axis=0) / np.sqrt(3000))


def test_multiplier_same_draws_any_backend_and_errors():
    psi = np.random.default_rng(0).normal(size=(50, 4))
    ref = multiplier_bootstrap(psi, n_boot=250, random_state=3)
    with parallel_config(backend="threading", n_jobs=2):
        par = multiplier_bootstrap(psi, n_boot=250, random_state=3, batch_size=9)
    np.testing.assert_array_equal(ref, par)
    with pytest.raises(ValueError, match="`weights` must be one of"):
        multiplier_bootstrap(psi, weights="normal")
    with pytest.raises(ValueError, match="`n_boot` must be a positive"):
        multiplier_bootstrap(psi, n_boot=0)
    with pytest.raises(ValueError, match="array 1 has 3"):
        bootstrap(np.mean, np.ones(4), np.ones(3))
    with pytest.raises(TypeError, match="`random_state` must be"):
        bootstrap(np.mean, np.ones(4), random_state="seed")


def test_sup_t_uniform_band_coverage_simulation():
    """A multiplier-bootstrap uniform band covers the true curve ~95% of the time."""
    rng = np.random.default_rng(11)
    G, n, reps, hits = 10, 300, 200, 0
    grid = np.linspace(0, 1, G)
    for r in range(reps):
        x = rng.normal(size=(n, 1)) + np.sin(grid) * rng.normal(size=(n, 1))  # correlated columns
        est, psi = x.mean(axis=0), x - x.mean(axis=0)
        se = psi.std(axis=0) / np.sqrt(n)
        draws = multiplier_bootstrap(psi, n_boot=400, random_state=r)
        c = sup_t_critical_value(draws, se, 0.05)
        hits += np.all(np.abs(est) <= c * se)
    cover = hits / reps
    # binomial SE of a 0.95 coverage over 200 reps is 0.015; allow 3 SE
    assert abs(cover - 0.95) < 3 * np.sqrt(0.95 * 0.05 / reps)
