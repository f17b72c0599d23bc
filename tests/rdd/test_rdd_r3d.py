"""DistributionalRDD: fixtures through the estimator, truths recovered, invariances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalkit.datasets import make_r3d_data
from causalkit.rdd import DistributionalRDD, pooled_quantile_rdd
from causalkit.rdd import _core as C

Q20 = np.arange(1, 21) / 21


def _fixture(shared_dir, name):
    root = shared_dir / "fixtures" / "r3d"
    if not root.is_dir():
        pytest.skip("R3D fixtures absent")
    return pd.read_csv(root / name)


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.FewObservationsWarning")
@pytest.mark.parametrize("fname,method,fuzzy", [
    ("sharp_simple_epanechnikov", "simple", False),
    ("sharp_frechet_20", "frechet", False),
    ("fuzzy_simple_20", "simple", True),
    ("fuzzy_frechet_20", "frechet", True),
])
def test_estimator_reproduces_r_package_in_legacy_mode(shared_dir, fname, method, fuzzy):
    data = _fixture(shared_dir, f"ref_data_{'fuzzy' if fuzzy else 'sharp'}_simple_20.csv")
    ref = _fixture(shared_dir, f"ref_results_{fname}.csv")
    Q = data[[f"Q{j}" for j in range(1, 21)]].to_numpy()
    kw = {"treatment": data["T_treat"].to_numpy()} if fuzzy else {}
    est = DistributionalRDD(method=method, kernel="epanechnikov", q_grid=Q20, y_kind="quantiles",
                            legacy=True, n_boot=0).fit(data[["X"]], Q, **kw)
    np.testing.assert_allclose(est.tau_, ref["tau"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(est.bandwidth_, ref["bw_num"], rtol=1e-8)
    np.testing.assert_allclose(est.int_plus_, ref["int_plus"], rtol=1e-8)
    if fuzzy:
        assert est.bandwidth_treatment_ == pytest.approx(ref["bw_den"].iloc[0], rel=1e-8)
    assert list(est.feature_names_in_) == ["X"]


def test_default_mode_equals_legacy_at_given_bandwidths_on_uniform_grid(shared_dir):
    # With bandwidths given, the only default-vs-R differences are in the bootstrap.
    data = _fixture(shared_dir, "ref_data_sharp_simple_20.csv")
    ref = _fixture(shared_dir, "ref_results_sharp_frechet_20.csv")
    Q = data[[f"Q{j}" for j in range(1, 21)]].to_numpy()
    est = DistributionalRDD(method="frechet", q_grid=Q20, y_kind="quantiles", n_boot=0,
                            bandwidth=float(ref["bw_num"].iloc[0])).fit(data["X"], Q)
    np.testing.assert_allclose(est.tau_, ref["tau"], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dgp", ["normal", "exponential"])
@pytest.mark.parametrize("method", ["frechet", "simple"])
def test_recovers_constant_effect(dgp, method):
    d = make_r3d_data(600, n_obs=40, delta=2.0, dgp=dgp, random_state=3)
    est = DistributionalRDD(method=method, q_grid=d.q_grid, n_boot=300, random_state=1).fit(d.X, d.y)
    curve = est.effect()
    assert np.all(np.abs(curve.values - d.true_tau) < 3 * curve.stderr)
    lo, hi = curve.conf_int(0.01, kind="uniform")
    assert np.all((lo < d.true_tau) & (d.true_tau < hi))
    assert est.test_nullity()["pvalue"] < 0.01
    assert est.test_homogeneity()["pvalue"] > 0.05


def test_fuzzy_recovers_effect():
    d = make_r3d_data(800, n_obs=40, delta=2.0, fuzzy=True, random_state=5)
    est = DistributionalRDD(q_grid=d.q_grid, n_boot=300, random_state=0).fit(
        d.X, d.y, treatment=d.treatment)
    curve = est.effect()
    assert 0.6 < est.first_stage_ < 1.0
    assert np.all(np.abs(curve.values - d.true_tau) < 3 * curve.stderr)


def test_fuzzy_with_treatment_equal_to_side_is_sharp():
    d = make_r3d_data(300, n_obs=20, delta=1.0, random_state=2)
    side = (d.X[:, 0] >= 0).astype(int)
    common = {"q_grid": d.q_grid, "n_boot": 50, "random_state": 0, "bandwidth": 0.6,
                  "bandwidth_treatment": 0.6}
    sharp = DistributionalRDD(**common).fit(d.X, d.y)
    fuzzy = DistributionalRDD(**common).fit(d.X, d.y, treatment=side)
    assert fuzzy.first_stage_ == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fuzzy.tau_, sharp.tau_, rtol=1e-12)
    # the first-stage residuals are zero, so the linearisations agree too
    np.testing.assert_allclose(fuzzy.effect().stderr, sharp.effect().stderr, rtol=1e-10)


def test_two_levels_of_randomness_bias_pooled_quantile_rd_not_r3d():
    # Unit effects have variance 1 left and 2 right of the cutoff: every unit's quantile
    # function averages to the same curve on both sides (tau = 0), but the pooled
    # distribution is wider on the right, so pooled quantile RD finds tail "effects"
    # of about +-(sqrt(3) - sqrt(2)) * 1.28 = +-0.41.
    d = make_r3d_data(12000, n_obs=6, delta=0.0, dgp="two_level", q_grid=[0.1, 0.5, 0.9],
                      random_state=11)
    est = DistributionalRDD(q_grid=d.q_grid, p=1, bandwidth=0.5, n_boot=0).fit(d.X, d.y)
    curve = est.effect()
    assert np.all(np.abs(curve.values) < 3 * curve.stderr)
    naive = pooled_quantile_rdd(d.X, d.y, d.q_grid, bandwidth=0.5)
    # The unit effects' jump shifts every quantile alike; the tail spread
    # tau(0.9) - tau(0.1) is free of it: 0 for R3D, 2 * 0.41 for the pooled estimator.
    expected = 2 * (np.sqrt(3) - np.sqrt(2)) * 1.2816
    spread_se = curve.stderr[0] + curve.stderr[2]
    assert abs(curve.values[2] - curve.values[0]) < 2 * spread_se
    assert abs((naive[2] - naive[0]) - expected) < 2 * spread_se
    assert naive[2] - naive[0] > 4 * spread_se


def test_samples_and_quantile_matrix_give_the_same_fit():
    d = make_r3d_data(200, n_obs=15, ragged=True, random_state=4)
    a = DistributionalRDD(q_grid=d.q_grid, n_boot=20, random_state=0).fit(d.X, d.y)
    Q = C.empirical_quantiles(d.y, d.q_grid)
    b = DistributionalRDD(q_grid=d.q_grid, n_boot=20, random_state=0, y_kind="quantiles").fit(d.X, Q)
    np.testing.assert_allclose(a.tau_, b.tau_, rtol=1e-12)
    np.testing.assert_allclose(a.draws_, b.draws_, rtol=1e-12)


def test_integer_weights_equal_duplicated_units():
    d = make_r3d_data(150, n_obs=10, random_state=6)
    w = np.random.default_rng(0).integers(1, 3, 150)
    idx = np.repeat(np.arange(150), w)
    kw = {"q_grid": d.q_grid, "bandwidth": 0.7, "n_boot": 0}
    a = DistributionalRDD(**kw).fit(d.X, d.y, sample_weight=w)
    b = DistributionalRDD(**kw).fit(d.X[idx], [d.y[i] for i in idx])
    np.testing.assert_allclose(a.tau_, b.tau_, rtol=1e-10)


def test_shifting_running_variable_and_cutoff_changes_nothing():
    d = make_r3d_data(200, n_obs=10, random_state=7)
    a = DistributionalRDD(q_grid=d.q_grid, n_boot=30, random_state=0).fit(d.X, d.y)
    b = DistributionalRDD(cutoff=10.0, q_grid=d.q_grid, n_boot=30, random_state=0).fit(d.X + 10, d.y)
    np.testing.assert_allclose(a.tau_, b.tau_, rtol=1e-8)
    np.testing.assert_allclose(a.bandwidth_, b.bandwidth_, rtol=1e-8)


def test_analytic_standard_errors_match_bootstrap_spread():
    d = make_r3d_data(300, n_obs=20, random_state=8)
    est = DistributionalRDD(q_grid=d.q_grid, n_boot=4000, random_state=0).fit(d.X, d.y)
    np.testing.assert_allclose(est.draws_.std(axis=0), est.effect().stderr, rtol=0.06)
    no_boot = DistributionalRDD(q_grid=d.q_grid, n_boot=0).fit(d.X, d.y)
    assert no_boot.draws_ is None and no_boot.band_ is None
    lo, hi = no_boot.effect().conf_int(kind="uniform")
    plo, phi = no_boot.effect().conf_int(kind="pointwise")
    assert np.all(lo < plo) and np.all(hi > phi)
    with pytest.raises(ValueError, match="n_boot"):
        no_boot.test_nullity()


def test_band_is_constant_width_order_statistic():
    d = make_r3d_data(200, n_obs=10, random_state=9)
    est = DistributionalRDD(q_grid=d.q_grid, n_boot=199, alpha=0.1, random_state=0).fit(d.X, d.y)
    sup = np.sort(np.abs(est.draws_).max(axis=1))
    assert est.crit_val_ == sup[int(np.ceil(0.9 * 200)) - 1]
    np.testing.assert_allclose(est.band_[1] - est.band_[0], 2 * est.crit_val_)


def test_q_range_restricts_tests():
    d = make_r3d_data(400, n_obs=30, delta=1.0, random_state=10, q_grid=np.arange(1, 10) / 10)
    est = DistributionalRDD(q_grid=d.q_grid, n_boot=200, random_state=0).fit(d.X, d.y)
    full = est.test_nullity()
    part = est.test_nullity(q_range=(0.2, 0.4))
    assert part["statistic"] <= full["statistic"]
    assert part["statistic"] == pytest.approx(np.abs(est.tau_[1:4]).max())
    with pytest.raises(ValueError, match="q_range"):
        est.test_nullity(q_range=(0.91, 0.95))


def test_gini_test_detects_a_scale_change():
    # Right of the cutoff the unit distributions are twice as dispersed around the same
    # positive mean: the barycenter's Gini doubles.
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 600)
    y = [rng.normal(10, 1 + (xi >= 0), 40) for xi in x]
    q = np.arange(1, 100) / 100
    est = DistributionalRDD(q_grid=q, n_boot=200, random_state=0).fit(x, y)
    g = est.test_gini()
    assert g["gini_plus"] > 1.5 * g["gini_minus"]
    assert g["pvalue"] < 0.01
    same = DistributionalRDD(q_grid=q, n_boot=200, random_state=0).fit(
        x, [rng.normal(10, 1, 40) for _ in x])
    assert same.test_gini()["pvalue"] > 0.05


def test_kernels_pava_rearrangement_properties():
    rng = np.random.default_rng(1)
    y = np.cumsum(rng.normal(size=30))
    q = np.sort(rng.uniform(0.01, 0.99, 30))
    iso = C.isotonic(y, C.grid_weights(q))
    assert np.all(np.diff(iso) >= -1e-12)
    np.testing.assert_allclose(np.sum(C.grid_weights(q) * iso), np.sum(C.grid_weights(q) * y))
    re = C.rearrange(y, q)
    assert np.all(np.diff(re) >= -1e-12)
    np.testing.assert_allclose(C.grid_weights(np.linspace(0.1, 0.9, 9)), 0.1)


def test_draws_follow_the_multiplier_law():
    # nu_b = sum_i xi_ib F_i with Gaussian xi: covariance sum_i F_i F_i' (vce="hc0"; the
    # default multivariate t draws are checked below).
    d = make_r3d_data(300, n_obs=20, random_state=12, fuzzy=True)
    est = DistributionalRDD(q_grid=d.q_grid, n_boot=20000, vce="hc0", random_state=0).fit(
        d.X, d.y, treatment=d.treatment)
    assert est.df_ is None
    F = est.influence_
    target = F.T @ F
    emp = np.cov(est.draws_, rowvar=False)
    np.testing.assert_allclose(np.diag(emp), np.diag(target), rtol=0.05)
    sd = np.sqrt(np.diag(target))
    np.testing.assert_allclose(emp / np.outer(sd, sd), target / np.outer(sd, sd), atol=0.03)
    xi = np.random.default_rng(1).standard_normal((F.shape[0], 20000))
    explicit = C.multiplier_draws(F, xi)
    np.testing.assert_allclose(explicit.std(axis=0), est.draws_.std(axis=0), rtol=0.05)
    # default: the same Gaussian draws times sqrt(df / chi2_df), a multivariate t with
    # covariance sum_i F_i F_i' df / (df - 2)
    t = DistributionalRDD(q_grid=d.q_grid, n_boot=20000, random_state=0).fit(
        d.X, d.y, treatment=d.treatment)
    assert 5 < t.df_ < 300
    Ft = t.influence_
    emp_t = np.cov(t.draws_, rowvar=False)
    np.testing.assert_allclose(np.diag(emp_t), np.diag(Ft.T @ Ft) * t.df_ / (t.df_ - 2),
                               rtol=0.06)


def test_equal_size_samples_as_matrix_or_list():
    d = make_r3d_data(150, n_obs=12, random_state=13)
    kw = {"q_grid": d.q_grid, "n_boot": 10, "random_state": 0}
    a = DistributionalRDD(**kw).fit(d.X, d.y)
    b = DistributionalRDD(**kw).fit(d.X, np.vstack(d.y))
    np.testing.assert_allclose(a.tau_, b.tau_, rtol=1e-12)
    bad = np.vstack(d.y)
    bad[7, 3] = np.inf
    with pytest.raises(ValueError, match=r"`y\[7\]` contains infinite"):
        DistributionalRDD(**kw).fit(d.X, bad)
    ragged = list(d.y)
    ragged[9] = np.r_[ragged[9][:5], np.nan]
    with pytest.raises(ValueError, match=r"`y\[9\]` contains NaN"):
        DistributionalRDD(**kw).fit(d.X, ragged)


@pytest.mark.parametrize("fuzzy", [False, True])
def test_multiplying_every_weight_by_a_constant_changes_nothing(fuzzy):
    d = make_r3d_data(300, n_obs=10, fuzzy=fuzzy, random_state=8)
    w = np.random.default_rng(1).uniform(0.5, 2.0, 300)
    kw = {"q_grid": d.q_grid, "n_boot": 50, "random_state": 0}
    t = {"treatment": d.treatment} if fuzzy else {}
    a = DistributionalRDD(**kw).fit(d.X, d.y, sample_weight=w, **t)
    b = DistributionalRDD(**kw).fit(d.X, d.y, sample_weight=250.0 * w, **t)
    np.testing.assert_allclose(b.bandwidth_, a.bandwidth_, rtol=1e-10)
    np.testing.assert_allclose(b.tau_, a.tau_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.effect().stderr, a.effect().stderr, rtol=1e-10)


def test_pooled_quantile_rdd_names_the_bandwidth_and_cutoff_problems():
    d = make_r3d_data(120, n_obs=10, random_state=9)
    with pytest.raises(ValueError, match=r"within `bandwidth` = 1e-06.*larger `bandwidth`"):
        pooled_quantile_rdd(d.X, d.y, [0.5], bandwidth=1e-6)
    with pytest.raises(ValueError, match=r"at or above the cutoff.*not at the edge"):
        pooled_quantile_rdd(d.X, d.y, [0.5], cutoff=float(np.max(d.X)), bandwidth=0.5)
    with pytest.raises(ValueError, match=r"`bandwidth` must be a positive number"):
        pooled_quantile_rdd(d.X, d.y, [0.5], bandwidth=-1.0)
