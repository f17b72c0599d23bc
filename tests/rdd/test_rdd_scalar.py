"""Scalar RDD: agreement with rdrobust (a test-only peer) on real and simulated data.

rdrobust's numbers are bandwidths, conventional and bias-corrected estimates,
conventional and robust standard errors and the robust interval; all must agree to
1e-8 (relative). ``rdrobust_compare`` holds the shared harness.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from causalkit.datasets import make_rdd_data
from causalkit.rdd import RDD, MassPointsWarning, rd_bandwidth, rd_plot

rdrobust = pytest.importorskip("rdrobust")

from rdrobust_compare import (  # noqa: E402
    case_arguments,
    covering_cases,
    max_rel_err,
    run_both,
    simulated,
)

TOL = 1e-8


@pytest.fixture(scope="module")
def senate():
    import pandas as pd

    path = os.path.join(os.path.dirname(rdrobust.__file__), "data", "rdrobust_RDsenate.csv")
    d = pd.read_csv(path).dropna(subset=["vote"])
    return d


@pytest.fixture(scope="module")
def sims():
    return {False: simulated(), True: simulated(ties=True)}


# ----------------------------------------------------------------------------- real data
# Senate elections (rdrobust's own data; 38 ties at margin = 100).
@pytest.mark.parametrize("opts", [
    {},
    {"masspoints": "off"},
    {"masspoints": "check"},
    {"vce": "hc1"},
    {"bwselect": "msetwo", "vce": "hc3"},
    {"bwselect": "cerrd"},
    {"kernel": "uniform", "bwselect": "msecomb2"},
    {"p": 2, "deriv": 1, "kernel": "epanechnikov"},
    {"h": (10.0, 14.0), "b": (20.0, 25.0)},
], ids=repr)
def test_senate_matches_rdrobust(senate, opts):
    ref, mine, _ = run_both(senate.margin.to_numpy(), senate.vote.to_numpy(), **opts)
    assert max_rel_err(ref, mine) < TOL


def test_senate_clusters_and_covariates_match_rdrobust(senate):
    ok = senate[["demvoteshlag1", "demvoteshlag2"]].notna().all(axis=1).to_numpy()
    d = senate[ok]
    Z = d[["demvoteshlag1", "demvoteshlag2"]].to_numpy()
    x, y, g = d.margin.to_numpy(), d.vote.to_numpy(), d.state.to_numpy()
    for kw in ({"covariates": Z}, {"covariates": Z, "groups": g},
               {"groups": g, "bwselect": "certwo"}):
        ref, mine, _ = run_both(x, y, **kw)
        assert max_rel_err(ref, mine) < TOL, kw


@pytest.mark.parametrize("vce", ["cr2", "cr3"])
def test_senate_cr2_cr3_match_rdrobust(senate, vce):
    # Bell-McCaffrey (CR2) and Pustejovsky-Tipton (CR3) clustered variances, by state:
    # selected bandwidths (the adjusted residuals enter bandwidth selection too), given
    # h != b (the robust SE takes its leverage from the order-q fit at b), covariates
    ok = senate[["demvoteshlag1", "demvoteshlag2"]].notna().all(axis=1).to_numpy()
    d = senate[ok]
    Z = d[["demvoteshlag1", "demvoteshlag2"]].to_numpy()
    x, y, g = d.margin.to_numpy(), d.vote.to_numpy(), d.state.to_numpy()
    for kw in ({}, {"h": 15.0, "b": 25.0}, {"covariates": Z, "bwselect": "msetwo"}):
        ref, mine, e = run_both(x, y, groups=g, vce=vce, **kw)
        assert max_rel_err(ref, mine) < TOL, kw
    assert vce.upper() + " clustered" in e.effect().method


def test_cr2_cr3_fuzzy_and_hc_names_match_rdrobust():
    from rdrobust_compare import simulated

    d = simulated(800, seed=0)
    for vce in ("cr2", "cr3", "hc2", "hc3"):  # hc2/hc3 with clusters mean CR2/CR3
        ref, mine, _ = run_both(d["x"], d["y"], groups=d["g"], treatment=d["t"], vce=vce)
        assert max_rel_err(ref, mine) < TOL, vce
    # without clusters, cr2/cr3 fall back to hc2/hc3
    ref, _, _ = run_both(d["x"], d["y"], vce="hc2")
    _, mine, _ = run_both(d["x"], d["y"], vce="cr2")
    assert max_rel_err(ref, mine) < TOL


def test_government_transfers_perfect_compliance_and_covariates():
    # Manacorda, Miguel and Vigorito (2011) via causaldata: treatment is taken *below*
    # the cutoff by everyone and by no one above (perfect, inverted compliance).
    cd = pytest.importorskip("causaldata")
    d = cd.gov_transfers.load_pandas().data.dropna()
    x, y = d.Income_Centered.to_numpy(), d.Support.to_numpy()
    t = d.Participation.to_numpy(float)
    Z = d[["Education", "Age"]].to_numpy(float)
    assert np.unique(x).size < x.size  # ties
    for kw in ({"treatment": t}, {"covariates": Z}, {"treatment": t, "covariates": Z,
                                                     "vce": "hc1"}):
        ref, mine, e = run_both(x, y, **kw)
        assert max_rel_err(ref, mine) < TOL, kw
    assert e.first_stage_["conventional"].value == pytest.approx(-1.0)


def test_mortgages_heavy_mass_points_fuzzy_clustered():
    # Fetter (2013) via causaldata: 84 distinct values of the running variable.
    cd = pytest.importorskip("causaldata")
    d = cd.mortgages.load_pandas().data.iloc[::8]
    x = d.qob_minus_kw.to_numpy(float)
    y, t = d.home_ownership.to_numpy(float), d.vet_wwko.to_numpy(float)
    for kw in ({}, {"treatment": t}, {"treatment": t, "groups": d.bpl.to_numpy()}):
        with pytest.warns(MassPointsWarning):
            RDD().fit(x, y, treatment=kw.get("treatment"))
        ref, mine, _ = run_both(x, y, **kw)
        assert max_rel_err(ref, mine) < TOL, kw


def test_close_elections_agree_to_rdrobusts_own_float_sensitivity():
    # Lee, Moretti and Butler (2004) via causaldata: vote shares with many exactly
    # equidistant neighbours. rdrobust's own bandwidth moves by 7e-5 (relative)
    # between the equivalent calls (x, c=0.5) and (x - 0.5, c=0); we agree with both
    # to within that.
    cd = pytest.importorskip("causaldata")
    d = cd.close_elections_lmb.load_pandas().data.dropna(subset=["lagdemvoteshare",
                                                                  "demvoteshare"])
    x, y = d.lagdemvoteshare.to_numpy(), d.demvoteshare.to_numpy()
    ref, mine, _ = run_both(x, y, cutoff=0.5)
    ref0, _, _ = run_both(x - 0.5, y)
    own = max_rel_err(ref, ref0)
    assert own > 1e-6
    assert max_rel_err(ref, mine) < 3 * own
    assert max_rel_err(ref0, mine) < 3 * own


# ----------------------------------------------------------------------------- simulated grid
CASES = covering_cases()


def test_covering_grid_has_every_pair():
    from rdrobust_compare import FACTORS, _pairs, valid

    seen = set().union(*(_pairs(c) for c in CASES))
    names = list(FACTORS)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for va in FACTORS[a]:
                for vb in FACTORS[b]:
                    c = {**{n: FACTORS[n][0] for n in names}, a: va, b: vb}
                    if valid(c):
                        key = tuple(sorted(((a, repr(va)), (b, repr(vb)))))
                        assert key in seen


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_grid_case_matches_rdrobust(case, sims):
    data = sims[case["ties"]]
    ref, mine, _ = run_both(data["x"], data["y"], **case_arguments(case, data))
    assert max_rel_err(ref, mine) < TOL


# ----------------------------------------------------------------------------- behaviour
def test_running_variable_rounded_to_a_tenth_warns_and_estimates_like_rdrobust():
    d = simulated(1000, seed=1)
    x = np.round(d["x"], 1)  # 21 distinct values
    with pytest.warns(MassPointsWarning, match="21 distinct values"):
        est = RDD().fit(x, d["y"])
    assert est.n_unique_ == (10, 11)
    ref, mine, _ = run_both(x, d["y"])
    assert max_rel_err(ref, mine) < TOL
    # without the adjustment the pilot window holds too few distinct values: the
    # error names the cause and the options that help
    with pytest.raises(ValueError, match=r"distinct running-variable value.*`bwcheck`"):
        RDD(masspoints="off").fit(x, d["y"])


def test_vce_enters_bandwidth_selection(sims):
    d = sims[False]
    h = {v: rd_bandwidth(d["x"], d["y"], vce=v)[0] for v in ("nn", "hc0", "hc1", "hc3")}
    assert len({round(v, 12) for v in h.values()}) == 4


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.WeakInstrumentWarning")
@pytest.mark.parametrize("kind", ["one-sided", "below", "perfect"])
def test_fuzzy_with_constant_treatment_on_one_side(kind, sims):
    d = sims[False]
    x, t = d["x"], d["t"]
    t = {"one-sided": np.where(x >= 0, t, 0.0), "below": np.where(x < 0, 1.0, t),
         "perfect": (x >= 0).astype(float)}[kind]
    est = RDD().fit(x, d["y"], treatment=t)
    assert np.isfinite(est.bandwidth_[0]) and np.isfinite(est.effect().stderr)
    # the bandwidth is the sharp one, as rdrobust's sharpbw
    assert est.bandwidth_[0] == pytest.approx(rd_bandwidth(x, d["y"])[0], rel=1e-12)
    ref, mine, _ = run_both(x, d["y"], treatment=t)
    assert max_rel_err(ref, mine) < TOL


def test_summary_reports_three_consistent_rows(sims):
    d = sims[False]
    est = RDD(level=90).fit(d["x"], d["y"])
    tab = est.summary()
    assert list(tab.index) == ["conventional", "bias-corrected", "robust"]
    np.testing.assert_allclose(tab["z"], tab["estimate"] / tab["std err"], rtol=1e-12)
    assert tab.loc["conventional", "estimate"] == est.conventional_.value
    assert tab.loc["bias-corrected", "std err"] == est.conventional_.stderr
    assert tab.loc["robust", "estimate"] == tab.loc["bias-corrected", "estimate"]
    assert "[0.05" in tab.columns  # level 90 -> 5% and 95% bounds
    lo, hi = est.effect().conf_int(0.05)
    r = rdrobust.rdrobust(d["y"], d["x"])
    np.testing.assert_allclose([lo, hi], r.ci.values[2], rtol=TOL)


def test_weights_scale_free_and_match_rdrobust(sims):
    d = sims[False]
    w = np.random.default_rng(5).uniform(0.5, 2.0, d["x"].shape[0])
    ref, mine, e1 = run_both(d["x"], d["y"], sample_weight=w, treatment=d["t"])
    assert max_rel_err(ref, mine) < TOL
    e2 = RDD().fit(d["x"], d["y"], sample_weight=7.0 * w, treatment=d["t"])
    np.testing.assert_allclose([e2.effect().value, e2.effect().stderr, *e2.bandwidth_],
                               [e1.effect().value, e1.effect().stderr, *e1.bandwidth_],
                               rtol=1e-9)


def test_equal_bandwidths_make_robust_estimate_the_higher_order_fit():
    d = make_rdd_data(800, random_state=3)
    rb = RDD(p=1, bandwidth=0.4).fit(d.X, d.y).effect()
    quad = RDD(p=2, bandwidth=0.4).fit(d.X, d.y).conventional_
    assert rb.value == pytest.approx(quad.value, rel=1e-10)


@pytest.mark.parametrize("fuzzy", [False, True])
def test_covers_the_truth(fuzzy):
    d = make_rdd_data(4000, effect=0.5, fuzzy=fuzzy, random_state=1)
    kw = {"treatment": d.treatment} if fuzzy else {}
    est = RDD().fit(d.X, d.y, **kw)
    lo, hi = est.effect().conf_int(0.05)
    assert lo < d.true_effect < hi
    assert abs(est.effect().value - d.true_effect) < 3 * est.effect().stderr


def test_kink_recovers_the_slope_change():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, 6000)
    y = 0.5 * x + 1.5 * x * (x >= 0) + rng.normal(scale=0.3, size=x.shape[0])
    est = RDD(p=2, deriv=1).fit(x, y)
    e = est.effect()
    assert abs(e.value - 1.5) < 3 * e.stderr
    assert est.effect_.name == "RD kink"


def test_fitted_estimator_keeps_no_reference_to_inputs(sims):
    d = sims[False]
    x, y = d["x"].copy(), d["y"].copy()
    est = RDD().fit(x, y)
    before = est.effect().value
    y[:] = 0.0
    assert est.effect().value == before


def test_rd_plot_draws_bins_and_fits():
    import matplotlib

    matplotlib.use("Agg")
    d = make_rdd_data(500, random_state=0)
    ax = rd_plot(d.X, d.y, n_bins=10).ax
    assert len(ax.lines) == 3  # two fits and the cutoff line
    assert sum(len(c.get_offsets()) for c in ax.collections[::2]) <= 20


def test_no_warning_without_ties(sims):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MassPointsWarning)
        RDD().fit(sims[False]["x"], sims[False]["y"])


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.WeakInstrumentWarning")
@pytest.mark.parametrize("covs", [False, True])
def test_first_stage_matches_rdrobust(covs, sims):
    d = sims[False]
    Z = d["z"] if covs else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rdrobust.rdrobust(d["y"], d["x"], fuzzy=d["t"], covs=Z)
    e = RDD().fit(d["x"], d["y"], treatment=d["t"], covariates=Z)
    np.testing.assert_allclose(e.first_stage_.values, np.asarray(r.tau_T, float).ravel(),
                               rtol=TOL)
    np.testing.assert_allclose(e.first_stage_.stderrs, np.asarray(r.se_T, float).ravel(),
                               rtol=TOL)


def test_rd_batch_equals_a_loop_of_fits():
    import pandas as pd

    from causalkit.rdd import rd_batch

    d = make_rdd_data(1500, effect=0.5, fuzzy=True, random_state=3)
    rng = np.random.default_rng(0)
    Y = pd.DataFrame({"a": d.y, "b": d.y + rng.normal(size=1500),
                      "c": 0.5 * d.y + d.X[:, 0] ** 2})
    Z = rng.normal(size=(1500, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = rd_batch(d.X, Y, treatment=d.treatment, covariates=Z, vce="hc1", p=2)
        loop = [RDD(vce="hc1", p=2).fit(d.X, Y[c], treatment=d.treatment,
                                        covariates=Z).effect() for c in Y]
    assert list(tab.names) == ["a", "b", "c"]
    np.testing.assert_allclose(tab.values, [e.value for e in loop], rtol=1e-12)
    np.testing.assert_allclose(tab.stderrs, [e.stderr for e in loop], rtol=1e-12)
    # defaults (nearest-neighbour variance), where the outcomes share the pilot-window
    # moments and residuals: still the numbers of the loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = rd_batch(d.X, Y, treatment=d.treatment, covariates=Z)
        loop = [RDD().fit(d.X, Y[c], treatment=d.treatment, covariates=Z).effect() for c in Y]
    np.testing.assert_allclose(tab.values, [e.value for e in loop], rtol=1e-12)
    np.testing.assert_allclose(tab.stderrs, [e.stderr for e in loop], rtol=1e-12)
    with pytest.raises(ValueError, match=r"`Y` must hold one outcome per column"):
        rd_batch(d.X, d.y)
    with pytest.raises(ValueError, match=r"`Y` contains NaN"):
        rd_batch(d.X, np.c_[d.y, np.where(np.arange(1500) == 3, np.nan, d.y)])
    with pytest.raises(ValueError, match=r"The 'vce' parameter of RDD must be"):
        rd_batch(d.X, Y, vce="robust")


def test_kink_default_order_is_rdrobusts():
    # without `p`, a kink (deriv=1) is estimated by local quadratics, as rdrobust does
    from rdrobust_compare import simulated

    d = simulated(800, seed=0)
    ref, mine, e = run_both(d["x"], d["y"], deriv=1)
    assert max_rel_err(ref, mine) < TOL
    assert "p=2, q=3" in e.effect().method


@pytest.mark.parametrize("opts", [
    {"ties": True, "fuzzy": True, "covs": True},
    {"kernel": "uniform", "weights": True, "bwselect": "msetwo"},
    {"kernel": "epanechnikov", "deriv": 1, "p": 2, "vce": "hc3"},
    {"ties": True, "cluster": True, "bwselect": "cercomb2"},
])
def test_compiled_window_moments_match_rdrobust(opts, sims, monkeypatch):
    # large sides take their window moments from the compiled kernel, small ones from
    # numpy: force the compiled kernel on small data and compare with rdrobust
    from causalkit.rdd import _lpcore

    monkeypatch.setattr(_lpcore, "COMPILED_MOMENTS_MIN", 0)
    d = sims[opts.get("ties", False)]
    kw = {k: v for k, v in opts.items() if k in ("kernel", "deriv", "p", "vce", "bwselect")}
    if opts.get("fuzzy"):
        kw["treatment"] = d["t"]
    if opts.get("covs"):
        kw["covariates"] = d["z"]
    if opts.get("cluster"):
        kw["groups"] = d["g"]
    if opts.get("weights"):
        kw["sample_weight"] = 0.5 + np.abs(d["z"][:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, mine, _ = run_both(d["x"], d["y"], **kw)
    assert max_rel_err(ref, mine) < TOL
