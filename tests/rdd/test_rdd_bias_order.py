"""Bias order q > p + 1: bandwidth selection and estimation against rdrobust 2.1.1.

rdrobust is a test-only peer, called as a black box. Its Python port takes the bias
of the order-p fit, in the selection of h, from the last coefficient of the order-q
pilot fit (order q); the R and Stata packages, and causalkit, from the coefficient of
order p + 1. So b, and every estimate at given bandwidths, must agree to 1e-8, and h
must estimate the same bias whatever q. With ``bias_coefficient="q"`` causalkit follows
the Python port, and then h, and every number of the fit, must agree to 1e-8 too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from rdrobust_compare import max_rel_err, run_both, simulated

from causalkit.rdd import RDD, rd_bandwidth, rd_batch

rdrobust = pytest.importorskip("rdrobust")
TOL = 1e-8
BWSELECT = ["mserd", "msetwo", "msesum", "msecomb1", "msecomb2",
            "cerrd", "certwo", "cersum", "cercomb1", "cercomb2"]


@pytest.fixture(scope="module")
def sims():
    return simulated(n=1200, seed=3)


@pytest.mark.parametrize("p, q", [(1, 3), (0, 2), (2, 4)])
def test_bias_bandwidth_matches_rdrobust_for_every_bwselect(sims, p, q):
    x, y = sims["x"], sims["y"]
    for bw in BWSELECT:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = rdrobust.rdbwselect(y, x, p=p, q=q, bwselect=bw).bws.values.ravel()
        got = np.array(rd_bandwidth(x, y, p=p, q=q, bwselect=bw))
        np.testing.assert_allclose(got[2:], ref[2:], rtol=TOL, err_msg=bw)


def _option(sims, opt):
    """(common, causalkit-only, rdrobust-only) keyword arguments of one option, at q = p + 2."""
    kw = {"p": 1, "q": 3}
    ours, theirs = {}, {}
    if opt in ("hc1", "hc3"):
        kw["vce"] = opt
    elif opt == "uniform":
        kw["kernel"] = opt
    elif opt == "fuzzy":
        ours["treatment"] = theirs["fuzzy"] = sims["t"]
    elif opt == "covs":
        ours["covariates"] = theirs["covs"] = sims["z"]
    elif opt == "cluster":
        ours["groups"] = theirs["cluster"] = sims["g"]
    else:  # a kink
        kw.update(p=2, q=4, deriv=1)
    return kw, ours, theirs


@pytest.mark.parametrize("opt", ["hc1", "hc3", "fuzzy", "covs", "cluster", "kink", "uniform"])
@pytest.mark.parametrize("coefficient", ["p+1", "q"])
def test_bias_bandwidth_matches_rdrobust_with_options(sims, opt, coefficient):
    # b always equals rdrobust's; h too with the Python port's rule (bias_coefficient="q")
    x, y = sims["x"], sims["y"]
    kw, ours, theirs = _option(sims, opt)
    same = slice(0, 4) if coefficient == "q" else slice(2, 4)
    for bw in ("mserd", "msetwo", "cercomb2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = rdrobust.rdbwselect(y, x, bwselect=bw, **kw, **theirs).bws.values.ravel()
        got = np.array(rd_bandwidth(x, y, bwselect=bw, bias_coefficient=coefficient, **kw, **ours))
        np.testing.assert_allclose(got[same], ref[same], rtol=TOL, err_msg=bw)


@pytest.mark.parametrize("kw", [{}, {"vce": "hc1"}, {"fuzzy": True}, {"covs": True},
                                {"cluster": True}, {"deriv": 1, "p": 2, "q": 4}], ids=repr)
def test_estimates_at_given_bandwidths_match_rdrobust(sims, kw):
    kw = dict(kw)
    extra = {}
    if kw.pop("fuzzy", False):
        extra["treatment"] = sims["t"]
    if kw.pop("covs", False):
        extra["covariates"] = sims["z"]
    if kw.pop("cluster", False):
        extra["groups"] = sims["g"]
    opts = {"p": 1, "q": 3, **kw}
    ref, mine, _ = run_both(sims["x"], sims["y"], h=0.4, b=0.7, **opts, **extra)
    assert max_rel_err(ref, mine) < TOL


@pytest.mark.parametrize("bwselect", ["msetwo", "mserd"])
def test_h_uses_the_coefficient_of_order_p_plus_one(bwselect):
    # exact quadratics with little noise: the biases of the local linear fits are
    # mu''/2 = -1 and 2 whatever the order q of the pilot, so h hardly moves with q
    # (without regularisation, which grows with q); the last coefficient of the
    # order-q pilot (order q > 2) is about 0 and would give a far larger h
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20000)
    y = x + (x >= 0) * (1 + 3 * x**2) - x**2 + 0.05 * rng.normal(size=20000)
    h = {q: np.array(rd_bandwidth(x, y, p=1, q=q, scaleregul=0, bwselect=bwselect)[:2])
         for q in (2, 3, 4)}
    for q in (3, 4):
        np.testing.assert_allclose(h[q], h[2], rtol=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        py = rdrobust.rdbwselect(y, x, p=1, q=3, scaleregul=0, bwselect=bwselect).bws
    assert np.all(py.values.ravel()[:2] > 1.5 * h[2])   # the last-coefficient rule
    np.testing.assert_allclose(h[2], rdrobust.rdbwselect(
        y, x, p=1, q=2, scaleregul=0, bwselect=bwselect).bws.values.ravel()[:2], rtol=TOL)


def _numbers(x, y, **kw):
    """rdrobust 2.1.1's and causalkit's (bias_coefficient="q") bandwidths, estimates,
    SEs and robust CI, in the order of ``run_both``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rdrobust.rdrobust(y, x, **kw)
        e = RDD(bias_coefficient="q", **kw).fit(x, y)
    ref = np.r_[r.bws.values.ravel(), r.coef.values.ravel()[:2], r.se.values.ravel()[[0, 2]],
                r.ci.values[2]]
    lo, hi = e.effect().conf_int(0.05)
    mine = np.r_[e.bandwidth_, e.bias_bandwidth_, e.conventional_.value, e.effect_.value,
                 e.conventional_.stderr, e.effect_.stderr, lo, hi]
    return ref, mine


@pytest.mark.parametrize("p, q", [(1, 3), (0, 2), (2, 4)])
@pytest.mark.parametrize("bwselect", ["mserd", "msetwo", "msecomb2", "cerrd"])
def test_last_coefficient_option_matches_rdrobust_python(sims, p, q, bwselect):
    x, y = sims["x"], sims["y"]
    ref, mine = _numbers(x, y, p=p, q=q, bwselect=bwselect)
    assert max_rel_err(ref, mine) < TOL
    # the default (order p + 1) selects another h here, with the same b
    default = rd_bandwidth(x, y, p=p, q=q, bwselect=bwselect)
    assert max_rel_err(ref[:2], default[:2]) > 1e-4
    np.testing.assert_allclose(default[2:], ref[2:4], rtol=TOL)


@pytest.mark.parametrize("bwselect", BWSELECT)
def test_last_coefficient_option_bandwidths_for_every_bwselect(sims, bwselect):
    x, y = sims["x"], sims["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rdrobust.rdbwselect(y, x, p=1, q=3, bwselect=bwselect).bws.values.ravel()
    got = rd_bandwidth(x, y, p=1, q=3, bwselect=bwselect, bias_coefficient="q")
    np.testing.assert_allclose(got, ref, rtol=TOL)


@pytest.mark.parametrize("kw", [{}, {"p": 2}, {"deriv": 1}, {"bwselect": "certwo"}], ids=repr)
def test_bias_coefficient_has_no_effect_when_q_is_p_plus_one(sims, kw):
    x, y, t = sims["x"], sims["y"], sims["t"]
    fits = [RDD(bias_coefficient=c, **kw).fit(x, y, treatment=t) for c in ("p+1", "q")]
    assert fits[0].bandwidth_ == fits[1].bandwidth_
    assert fits[0].bias_bandwidth_ == fits[1].bias_bandwidth_
    for est in ("effect_", "conventional_", "bias_corrected_"):
        a, b = (getattr(f, est) for f in fits)
        assert (a.value, a.stderr, a.conf_int(0.05)) == (b.value, b.stderr, b.conf_int(0.05))


def test_bias_coefficient_reaches_rd_batch(sims):
    x, y = sims["x"], sims["y"]
    tab = rd_batch(x, np.c_[y, 2 * y], p=1, q=3, bias_coefficient="q")
    one = RDD(p=1, q=3, bias_coefficient="q").fit(x, y)
    np.testing.assert_allclose(tab.values[0], one.effect_.value, rtol=1e-12)
    assert RDD(p=1, q=3).fit(x, y).effect_.value != one.effect_.value


def test_bad_bias_coefficient():
    x = np.linspace(-1, 1, 200)
    with pytest.raises(ValueError, match="The 'bias_coefficient' parameter of RDD must be"):
        RDD(bias_coefficient="p").fit(x, x)
    with pytest.raises(ValueError, match="The 'bias_coefficient' parameter of RDD must be"):
        rd_bandwidth(x, x, bias_coefficient=2)


@pytest.mark.parametrize("p, q", [(1, 3), (0, 2)])
def test_last_coefficient_option_matches_rdrobust_python_on_the_senate_data(p, q):
    # real data with ties: rdrobust's own Senate election file (vote share against margin)
    import os

    import pandas as pd

    path = os.path.join(os.path.dirname(rdrobust.__file__), "data", "rdrobust_RDsenate.csv")
    d = pd.read_csv(path).dropna(subset=["margin", "vote"])
    x, y = d.margin.to_numpy(float), d.vote.to_numpy(float)
    assert np.unique(x).size < x.size
    ref, mine = _numbers(x, y, p=p, q=q)
    assert max_rel_err(ref, mine) < TOL
