"""The manipulation (density discontinuity) test: parity with rddensity, truth, bad input.

rddensity (a test-only peer) is called as a black box on the same data and options;
bandwidths, one-sided densities, standard errors, T and p must agree to 1e-6.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from causalkit.rdd import RDDensity, rd_density_test
from causalkit.rdd._density import _restricted_plugin, kernel_constants

TOL = 1e-6


def rddensity_numbers(x, c, **kw):
    rdd = pytest.importorskip("rddensity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rdd.rddensity(np.asarray(x, float), c=c, bino_flag=False, **kw)
    jk = kw.get("vce", "jackknife") == "jackknife"
    sd, t, pv = ("sd_jk", "t_jk", "p_jk") if jk else ("sd_asy", "t_asy", "p_asy")
    return np.array([r.h["left"], r.h["right"], r.hat["left"], r.hat["right"],
                     getattr(r, sd)["left"], getattr(r, sd)["right"], getattr(r, sd)["diff"],
                     r.test[t], r.test[pv]])


def mine(x, c, **kw):
    e = RDDensity(cutoff=c, **kw).fit(x)
    return np.array([*e.bandwidth_, e.density_left_.value, e.density_right_.value,
                     e.density_left_.stderr, e.density_right_.stderr, e.test_.stderr,
                     e.test_.zstat, e.test_.pvalue]), e


_NAMES = {"bandwidth": "h", "masspoints": "massPoints", "n_local_min": "nLocalMin",
          "n_unique_min": "nUniqueMin"}


def assert_parity(x, c=0.0, **kw):
    ref = rddensity_numbers(x, c, **{_NAMES.get(k, k): v for k, v in kw.items()})
    got, e = mine(x, c, **kw)
    np.testing.assert_allclose(got, ref, rtol=TOL, atol=1e-12)
    return e


@pytest.fixture(scope="module")
def senate_margin():
    rdrobust = pytest.importorskip("rdrobust")
    import pandas as pd

    path = os.path.join(os.path.dirname(rdrobust.__file__), "data", "rdrobust_RDsenate.csv")
    m = pd.read_csv(path).margin.dropna().to_numpy()
    assert np.unique(m).size < m.size  # ties
    return m


@pytest.mark.parametrize("kw", [{}, {"p": 1}, {"p": 3}, {"kernel": "epanechnikov"},
                                {"kernel": "uniform"}, {"vce": "plugin"},
                                {"bwselect": "each"}, {"bwselect": "diff"},
                                {"bwselect": "sum"}, {"bandwidth": (20.0, 30.0)},
                                {"masspoints": False}, {"regularize": False}],
                         ids=repr)
def test_senate_matches_rddensity(senate_margin, kw):
    assert_parity(senate_margin, 0.0, **kw)


def test_senate_bandwidth_table_matches_rdbwdensity(senate_margin):
    rdd = pytest.importorskip("rddensity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rdd.rdbwdensity(senate_margin, c=0.0).h
    got = RDDensity().fit(senate_margin).bandwidths_
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=TOL)


def test_close_elections_with_ties():
    cd = pytest.importorskip("causaldata")
    x = cd.close_elections_lmb.load_pandas().data.lagdemvoteshare.dropna().to_numpy()
    assert np.unique(x).size < x.size
    assert_parity(x, 0.5)


def test_government_transfers_with_ties():
    cd = pytest.importorskip("causaldata")
    x = cd.gov_transfers.load_pandas().data.Income_Centered.dropna().to_numpy()
    assert np.unique(x).size < x.size
    assert_parity(x, 0.0)
    assert_parity(x, 0.0, p=1, kernel="epanechnikov")


def test_heavy_ties_at_the_cutoff_and_regularised_bandwidths():
    # 0.1-rounded values, many units exactly at the cutoff: every bandwidth (the pilots
    # included) is enlarged to hold 23 (25 for the derivative's pilot) distinct values
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=2000), 1)
    e = assert_parity(x, 0.0)
    assert e.bandwidth_ == (pytest.approx(2.3), pytest.approx(2.3))
    assert_parity(x, 0.05, masspoints=False)
    assert_parity(np.round(rng.normal(size=3000), 2), 0.0, p=1)


def test_range_caps_on_uniform_data():
    rng = np.random.default_rng(5)
    assert_parity(rng.uniform(-1, 1, 400), 0.0)
    assert_parity(np.r_[rng.uniform(-1, 0, 100), rng.uniform(0, 1, 300)], 0.0)


def test_kernel_constants_are_exact():
    # closed forms: one-sided triangular, order 2, density coefficient
    b, v = kernel_constants(2, 1, "triangular", True)
    assert b == pytest.approx(-3 / 7, rel=1e-12) and v == pytest.approx(40 / 7, rel=1e-12)
    b4, v4 = kernel_constants(4, 3, "triangular", False)
    assert b4 == pytest.approx(-20 / 11, rel=1e-9) and v4 == pytest.approx(20160 / 13, rel=1e-9)


# ----------------------------------------------------------------------------- restricted
@pytest.mark.parametrize("kw", [{}, {"p": 1}, {"p": 3}, {"kernel": "epanechnikov"},
                                {"kernel": "uniform"}, {"vce": "plugin"},
                                {"vce": "plugin", "p": 1}, {"bwselect": "diff"},
                                {"bwselect": "sum"}, {"bandwidth": 25.0},
                                {"masspoints": False}, {"regularize": False}],
                         ids=repr)
def test_restricted_senate_matches_rddensity(senate_margin, kw):
    e = assert_parity(senate_margin, 0.0, fitselect="restricted", **kw)
    assert e.bandwidth_[0] == e.bandwidth_[1]


@pytest.mark.parametrize("vce", ["jackknife", "plugin"])
def test_restricted_bandwidth_table_matches_rdbwdensity(senate_margin, vce):
    rdd = pytest.importorskip("rddensity")
    for p in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = rdd.rdbwdensity(senate_margin, c=0.0, p=p, fitselect="restricted", vce=vce).h
        got = RDDensity(p=p, fitselect="restricted", vce=vce).fit(senate_margin).bandwidths_
        # p = 1: the biases of the sum cancel (rddensity's squared bias is 0, or
        # rounding dust of 1e-41), so that bandwidth is the range cap
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=TOL, atol=1e-30)


def test_restricted_real_data_with_ties():
    cd = pytest.importorskip("causaldata")
    x = cd.close_elections_lmb.load_pandas().data.lagdemvoteshare.dropna().to_numpy()
    assert_parity(x, 0.5, fitselect="restricted")
    g = cd.gov_transfers.load_pandas().data.Income_Centered.dropna().to_numpy()
    assert_parity(g, 0.0, fitselect="restricted")
    assert_parity(g, 0.0, fitselect="restricted", p=1, kernel="epanechnikov")
    rng = np.random.default_rng(0)
    r = np.round(rng.normal(size=2000), 1)
    assert_parity(r, 0.0, fitselect="restricted")
    assert_parity(r, 0.05, fitselect="restricted", masspoints=False)


def test_restricted_densities_are_correlated_and_cover_the_truth():
    from scipy.stats import norm

    rng = np.random.default_rng(11)
    x = rng.normal(size=20000)
    e = RDDensity(cutoff=0.3, fitselect="restricted").fit(x)
    f0 = norm.pdf(0.3)
    for est in (e.density_left_, e.density_right_):
        assert abs(est.value - f0) < 3.5 * est.stderr
    assert abs(e.test_.zstat) < 3.5
    # the shared coefficients correlate the two densities: the jackknife's implied
    # correlation agrees with the asymptotic one of the restricted design
    # (about -0.33 for q = 3, triangular kernel, equal densities)
    vl, vr, vd = (v.stderr**2 for v in (e.density_left_, e.density_right_, e.test_))
    V = _restricted_plugin(1.0, 1.0, 3, "triangular")
    rho = (V["left"] + V["right"] - V["diff"]) / (2 * np.sqrt(V["left"] * V["right"]))
    assert rho < -0.2
    assert (vl + vr - vd) / (2 * np.sqrt(vl * vr)) == pytest.approx(rho, abs=0.02)


def test_restricted_bad_input():
    x = np.random.default_rng(0).normal(size=500)
    with pytest.raises(ValueError, match=r"`bwselect`='each' selects a bandwidth per side"):
        RDDensity(fitselect="restricted", bwselect="each").fit(x)
    with pytest.raises(ValueError, match=r"`bandwidth` must be one number with fitselect"):
        RDDensity(fitselect="restricted", bandwidth=(0.5, 0.7)).fit(x)
    with pytest.raises(ValueError, match=r"The 'fitselect' parameter of RDDensity must be"):
        RDDensity(fitselect="joint").fit(x)
    # too few distinct values near the cutoff: in a 0.5-rounded running variable, a
    # bandwidth of 0.6 holds one value below the cutoff (-0.5): no slope there
    r = np.round(x * 2) / 2
    with pytest.raises(ValueError, match=r"only 1 distinct value\(s\) of `X` .* below "
                                         r"the cutoff.*Give a larger `bandwidth`"):
        RDDensity(fitselect="restricted", bandwidth=0.6, regularize=False).fit(r)
    with pytest.raises(ValueError, match=r"`X` has 3 distinct value\(s\) below the cutoff"):
        RDDensity(fitselect="restricted").fit(np.repeat([-3.0, -2, -1, 1, 2, 3, 4], 50))


# ----------------------------------------------------------------------------- truth
def test_density_estimates_cover_the_true_density():
    from scipy.stats import norm

    rng = np.random.default_rng(11)
    x = rng.normal(size=20000)
    e = RDDensity(cutoff=0.3).fit(x)
    f0 = norm.pdf(0.3)
    for est in (e.density_left_, e.density_right_):
        assert abs(est.value - f0) < 3.5 * est.stderr
    assert abs(e.test_.zstat) < 3.5


def test_size_and_power():
    # no manipulation: T is approximately standard normal; half of the units in
    # (-0.2, 0) moved above the cutoff: rejected
    rng = np.random.default_rng(3)
    ts = [rd_density_test(rng.normal(size=1500)).zstat for _ in range(40)]
    assert abs(np.mean(ts)) < 3.5 / np.sqrt(40) + 0.1
    assert 0.6 < np.std(ts) < 1.4
    # the density jumps from about 0.2 to 0.6 at the cutoff: with 5,000 units T is
    # about 4 (2.4 to 5.2 over seeds 0-5), so a 1% test rejects
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    moved = (x > -0.2) & (x < 0) & (rng.uniform(size=5000) < 0.5)
    t = rd_density_test(np.where(moved, -x, x))
    assert t.zstat > 0 and t.pvalue < 0.01


def test_result_types_and_plot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(1)
    x = rng.normal(size=800)
    e = RDDensity().fit(x)
    assert e.test_.zstat == pytest.approx(
        (e.density_right_.value - e.density_left_.value) / e.test_.stderr)
    assert list(e.summary().index) == ["left", "right", "difference"]
    assert e.n_ == (int((x < 0).sum()), int((x >= 0).sum()))
    cur = e.density_curve(n_points=5)
    assert set(cur.side) == {"left", "right"} and np.all(cur.stderr > 0)
    # the curve at the cutoff is the order-p density of the test's bandwidth
    at_c = cur[(cur.side == "right") & (cur.x == 0.0)].density.iloc[0]
    assert at_c == pytest.approx(e.conventional_["right"].value, rel=1e-10)
    ax = e.plot()
    assert len(ax.lines) >= 3
    x_copy = x.copy()
    RDDensity().fit(x)
    np.testing.assert_array_equal(x, x_copy)


# ----------------------------------------------------------------------------- bad input
def test_too_few_distinct_values_near_the_cutoff():
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, size=500).astype(float)  # 3 distinct values below, 4 above
    with pytest.raises(ValueError, match=r"`X` has 3 distinct value\(s\) below the cutoff"):
        RDDensity().fit(x)
    x = rng.normal(size=500)
    with pytest.raises(ValueError, match=r"Give a larger `bandwidth`"):
        RDDensity(bandwidth=1e-3).fit(x)


@pytest.mark.parametrize("kw, match", [
    ({"p": 0}, r"The 'p' parameter of RDDensity must be"),
    ({"q": 1, "p": 2}, r"`q` must be at least `p`"),
    ({"kernel": "gaussian"}, r"The 'kernel' parameter of RDDensity must be"),
    ({"bwselect": "mserd"}, r"The 'bwselect' parameter of RDDensity must be"),
    ({"vce": "hc1"}, r"The 'vce' parameter of RDDensity must be"),
    ({"bandwidth": (1.0, -1.0)}, r"`bandwidth` must be a positive number"),
    ({"bandwidth": "auto"}, r"`bandwidth` must be a positive number|The 'bandwidth' parameter of RDDensity must be"),
    ({"n_local_min": -1}, r"The 'n_local_min' parameter of RDDensity must be"),
    ({"level": 0.95}, r"The 'level' parameter of RDDensity must be"),
    ({"cutoff": 10.0}, r"`cutoff` = 10 lies outside the support of `X`"),
])
def test_bad_parameters(kw, match):
    x = np.random.default_rng(0).normal(size=300)
    with pytest.raises(ValueError, match=match):
        RDDensity(**kw).fit(x)


def test_bad_flags_and_data():
    x = np.random.default_rng(0).normal(size=300)
    with pytest.raises(TypeError, match=r"The 'masspoints' parameter of RDDensity must be"):
        RDDensity(masspoints="adjust").fit(x)
    with pytest.raises(ValueError, match=r"`X` contains NaN"):
        RDDensity().fit(np.r_[x, np.nan])
    with pytest.raises(ValueError, match=r"`X` must be the running variable alone"):
        RDDensity().fit(np.c_[x, x])
