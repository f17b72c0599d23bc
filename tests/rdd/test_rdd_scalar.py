"""Scalar RDD: agreement with rdrobust on the same data, kernel, order and bandwidths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalkit.datasets import make_rdd_data
from causalkit.rdd import RDD, rd_bandwidth, rd_plot

rdrobust = pytest.importorskip("rdrobust")


def _rdrobust(d, fuzzy, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rdrobust.rdrobust(d.y, d.X[:, 0], fuzzy=d.treatment if fuzzy else None, **kw)


@pytest.fixture(scope="module", params=[False, True], ids=["sharp", "fuzzy"])
def data(request):
    return make_rdd_data(1500, effect=0.5, fuzzy=request.param, random_state=0), request.param


@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov", "uniform"])
@pytest.mark.parametrize("vce", ["nn", "hc0", "hc1", "hc2", "hc3"])
@pytest.mark.parametrize("p,h,b", [(1, 0.3, 0.3), (1, 0.25, 0.4), (2, 0.35, 0.5)])
def test_matches_rdrobust_at_given_bandwidths(data, kernel, vce, p, h, b):
    d, fuzzy = data
    ref = _rdrobust(d, fuzzy, p=p, h=h, b=b, kernel=kernel, vce=vce)
    kw = {"treatment": d.treatment} if fuzzy else {}
    est = RDD(p=p, kernel=kernel, vce=vce, bandwidth=h, bias_bandwidth=b).fit(d.X, d.y, **kw)
    conv, rob = est.conventional_, est.effect()
    np.testing.assert_allclose(conv.value, ref.coef.iloc[0, 0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(conv.stderr, ref.se.iloc[0, 0], rtol=1e-6)
    np.testing.assert_allclose(rob.center, ref.coef.iloc[1, 0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(rob.stderr, ref.se.iloc[2, 0], rtol=1e-6)
    lo, hi = rob.conf_int(0.05)
    np.testing.assert_allclose([lo, hi], ref.ci.iloc[2].to_numpy(), rtol=1e-6)


def test_variance_estimators_differ(data):
    d, fuzzy = data
    kw = {"treatment": d.treatment} if fuzzy else {}
    ses = {v: RDD(vce=v, bandwidth=0.3).fit(d.X, d.y, **kw).conventional_.stderr
           for v in ("nn", "hc0", "hc3")}
    assert len({round(s, 12) for s in ses.values()}) == 3


@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov"])
def test_selected_bandwidth_close_to_rdrobust_default(data, kernel):
    d, fuzzy = data
    ref = _rdrobust(d, fuzzy, kernel=kernel)
    h, b = rd_bandwidth(d.X, d.y, kernel=kernel, treatment=d.treatment if fuzzy else None)
    assert abs(h / ref.bws.iloc[0, 0] - 1) < 0.10
    assert abs(b / ref.bws.iloc[1, 0] - 1) < 0.10
    kw = {"treatment": d.treatment} if fuzzy else {}
    est = RDD(kernel=kernel).fit(d.X, d.y, **kw)
    assert est.bandwidth_ == h and est.bias_bandwidth_ == b
    np.testing.assert_allclose(est.effect().center, ref.coef.iloc[1, 0], rtol=1e-4)


def test_equal_bandwidths_make_robust_estimate_the_higher_order_fit():
    d = make_rdd_data(800, random_state=3)
    rb = RDD(p=1, bandwidth=0.4).fit(d.X, d.y).effect()
    quad = RDD(p=2, bandwidth=0.4).fit(d.X, d.y).conventional_
    assert rb.center == pytest.approx(quad.value, rel=1e-10)


@pytest.mark.parametrize("fuzzy", [False, True])
def test_covers_the_truth(fuzzy):
    d = make_rdd_data(4000, effect=0.5, fuzzy=fuzzy, random_state=1)
    kw = {"treatment": d.treatment} if fuzzy else {}
    est = RDD().fit(d.X, d.y, **kw)
    lo, hi = est.effect().conf_int(0.05)
    assert lo < d.true_effect < hi
    assert abs(est.effect().center - d.true_effect) < 3 * est.effect().stderr


def test_rd_plot_draws_bins_and_fits():
    import matplotlib

    matplotlib.use("Agg")
    d = make_rdd_data(500, random_state=0)
    ax = rd_plot(d.X, d.y, n_bins=10)
    assert len(ax.lines) == 3  # two fits and the cutoff line
    assert sum(len(c.get_offsets()) for c in ax.collections) <= 20


def test_weights_match_rdrobust(data):
    d, fuzzy = data
    w = np.random.default_rng(5).uniform(0.5, 2.0, d.y.shape[0])
    ref = _rdrobust(d, fuzzy, weights=w)
    kw = {"treatment": d.treatment} if fuzzy else {}
    est = RDD().fit(d.X, d.y, sample_weight=w, **kw)
    assert abs(est.bandwidth_ / ref.bws.iloc[0, 0] - 1) < 0.10
    fixed = RDD(bandwidth=ref.bws.iloc[0, 0], bias_bandwidth=ref.bws.iloc[1, 0]).fit(
        d.X, d.y, sample_weight=w, **kw)
    np.testing.assert_allclose(fixed.conventional_.value, ref.coef.iloc[0, 0], rtol=1e-6)
    np.testing.assert_allclose(fixed.conventional_.stderr, ref.se.iloc[0, 0], rtol=1e-6)
    np.testing.assert_allclose(fixed.effect().stderr, ref.se.iloc[2, 0], rtol=1e-6)
