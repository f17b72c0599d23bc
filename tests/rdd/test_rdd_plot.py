"""rd_plot: rdplot's bin counts, bins and global fits (rdrobust 2.1.1 as a black box)."""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import numpy as np
import pytest

from causalkit.rdd import MassPointsWarning, rd_plot

rdrobust = pytest.importorskip("rdrobust")


def _senate():
    import pandas as pd

    path = os.path.join(os.path.dirname(rdrobust.__file__), "data", "rdrobust_RDsenate.csv")
    d = pd.read_csv(path)
    ok = d[["margin", "vote"]].notna().all(axis=1)
    return d.margin[ok].to_numpy(), d.vote[ok].to_numpy()


def _smooth(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=2000) - 0.2
    y = np.sin(2 * x) + (x >= 0) + rng.normal(size=2000) * (0.5 + 0.3 * x**2)
    return x, y


def _uniform():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 1000)
    return x, 1 + x + 2 * x**2 + (x >= 0) + 0.5 * rng.normal(size=1000)


def ref(x, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rdrobust.rdplot(y, x, hide=True, **kw)


def _close_elections():
    # Lee, Moretti and Butler (2004) via causaldata: vote shares with many ties (cast
    # to float64: the file stores float32, which rdplot would keep)
    cd = pytest.importorskip("causaldata")
    d = cd.close_elections_lmb.load_pandas().data.dropna(subset=["lagdemvoteshare",
                                                                  "demvoteshare"])
    return d.lagdemvoteshare.to_numpy(float), d.demvoteshare.to_numpy(float), 0.5


def _gov_transfers():
    # Manacorda, Miguel and Vigorito (2011) via causaldata
    cd = pytest.importorskip("causaldata")
    d = cd.gov_transfers.load_pandas().data.dropna()
    return d.Income_Centered.to_numpy(float), d.Support.to_numpy(float), 0.0


def _mortgages():
    # Fetter (2013) via causaldata: 84 distinct values of the running variable
    cd = pytest.importorskip("causaldata")
    d = cd.mortgages.load_pandas().data.iloc[::8].dropna(
        subset=["qob_minus_kw", "home_ownership"])
    return d.qob_minus_kw.to_numpy(float), d.home_ownership.to_numpy(float), 0.0


def _rounded():
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(-1, 1, 2000), 1)
    return x, np.sin(2 * x) + (x >= 0) + rng.normal(size=2000), 0.0


DATA = {"senate": lambda: (*_senate(), 0.0), "smooth": lambda: (*_smooth(1), 0.0),
        "uniform": lambda: (*_uniform(), 0.0), "close_elections": _close_elections,
        "gov_transfers": _gov_transfers, "mortgages": _mortgages, "rounded": _rounded}
BINSELECT = ("es", "espr", "esmv", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr")


def _counts(x, y, c, binselect, masspoints, p=4):
    with contextlib.redirect_stdout(io.StringIO()):  # rdplot prints its mass-point note
        r = ref(x, y, c=c, p=p, binselect=binselect, masspoints=masspoints)
    ref_counts = (tuple(r.J), tuple(int(v) for v in r.J_IMSE), tuple(int(v) for v in r.J_MV))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MassPointsWarning)
        m = rd_plot(x, y, cutoff=c, p=p, binselect=binselect, masspoints=masspoints,
                    draw=False)
    return ref_counts, (m.n_bins, m.n_bins_imse, m.n_bins_mv), r, m


@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("masspoints", ["adjust", "off"])
def test_bin_counts_match_rdplot(data, masspoints):
    # every binselect: selected, IMSE-optimal and mimicking-variance counts per side,
    # on smooth data and on real data sets with many ties (where "adjust" switches to
    # the polynomial-regression variance and "off" keeps the spacings)
    x, y, c = DATA[data]()
    for binselect in BINSELECT:
        want, got, r, m = _counts(x, y, c, binselect, masspoints)
        assert got == want, binselect
        np.testing.assert_allclose(m.coef.to_numpy(), r.coef.to_numpy(), rtol=1e-5)
        if data in ("senate", "uniform") and binselect in ("es", "esmv"):
            np.testing.assert_allclose(m.bin_width_mean, r.bin_avg, rtol=1e-12)


def test_ties_switch_to_polynomial_regression_variance():
    x, y, c = _rounded()
    a = rd_plot(x, y, binselect="qs", draw=False)
    assert a.binselect == "qspr"
    b = rd_plot(x, y, binselect="qspr", masspoints="off", draw=False)
    assert (a.n_bins, a.n_bins_imse, a.n_bins_mv) == (b.n_bins, b.n_bins_imse, b.n_bins_mv)
    with pytest.warns(MassPointsWarning, match="mass points"):
        d = rd_plot(x, y, binselect="qs", masspoints="check", draw=False)
    assert d.binselect == "qs" and d.n_bins_mv != a.n_bins_mv
    want, got, _, _ = _counts(x, y, c, "qs", "check")
    assert got == want
    # no ties, no switch and no warning
    xs, ys = _uniform()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MassPointsWarning)
        assert rd_plot(xs, ys, binselect="qs", masspoints="check", draw=False).binselect == "qs"


@pytest.mark.parametrize("p", [1, 2])
def test_bin_counts_do_not_depend_on_the_plotted_order(p):
    # the constants use order-4 global polynomials for every p, as in rdplot
    x, y, c = _close_elections()
    for binselect in ("es", "qs", "qspr"):
        want, got, r, m = _counts(x, y, c, binselect, "adjust", p=p)
        assert got == want, binselect
        np.testing.assert_allclose(m.coef.to_numpy(), r.coef.to_numpy(), rtol=1e-7)


def test_bins_of_quantile_spaced_tied_data_match_rdplot():
    x, y, c = _mortgages()
    with contextlib.redirect_stdout(io.StringIO()):
        r = ref(x, y, c=c, binselect="qs")
    m = rd_plot(x, y, cutoff=c, binselect="qs", draw=False)
    cols = ["rdplot_min_bin", "rdplot_max_bin", "rdplot_mean_x", "rdplot_mean_y", "rdplot_N"]
    mine = ["left", "right", "x_mean", "y_mean", "n"]
    np.testing.assert_allclose(m.bins[mine].to_numpy(float), r.vars_bins[cols].to_numpy(float),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("binselect", ["es", "qs"])
def test_bins_and_intervals_match_rdplot(binselect):
    x, y = _uniform()
    r = ref(x, y, nbins=[5, 4], binselect=binselect)
    m = rd_plot(x, y, n_bins=(5, 4), binselect=binselect, draw=False)
    cols = ["rdplot_min_bin", "rdplot_max_bin", "rdplot_mean_x", "rdplot_mean_y", "rdplot_se_y",
            "rdplot_N", "rdplot_ci_l", "rdplot_ci_r"]
    mine = ["left", "right", "x_mean", "y_mean", "se", "n", "ci_low", "ci_high"]
    np.testing.assert_allclose(m.bins[mine].to_numpy(float), r.vars_bins[cols].to_numpy(float),
                               rtol=1e-10, atol=1e-12)


def test_imse_bins_track_the_regression_function():
    # more bins for a wigglier function (same noise): the IMSE count grows with the
    # bias constant
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 4000)
    e = rng.normal(size=4000)
    flat = rd_plot(x, 0.2 * x + e, binselect="es", draw=False)
    wiggly = rd_plot(x, np.sin(6 * x) + e, binselect="es", draw=False)
    assert min(wiggly.n_bins_imse) > max(flat.n_bins_imse)


def test_scale_fixed_bins_and_plot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    x, y = _uniform()
    a = rd_plot(x, y, binselect="es", draw=False)
    b = rd_plot(x, y, binselect="es", scale=2, draw=False)
    assert b.n_bins == tuple(2 * j for j in a.n_bins)
    assert b.scale_implied == (2.0, 2.0)
    r = rd_plot(x, y, n_bins=7)
    assert r.n_bins == (7, 7) and len(r.bins) == 14 and r.ax is not None
    assert np.all(r.fit.ci_low <= r.fit.y) and np.all(r.fit.y <= r.fit.ci_high)


@pytest.mark.parametrize("kw, match", [
    ({"binselect": "imse"}, r"`binselect` must be one of"),
    ({"n_bins": 0}, r"`n_bins` must be a positive integer"),
    ({"n_bins": (3, 4, 5)}, r"`n_bins` must be a positive integer or a pair"),
    ({"scale": -1}, r"`scale` must be a positive number"),
    ({"p": -1}, r"`p` must be an integer >= 0"),
    ({"level": 0.95}, r"`level` must be a confidence level"),
    ({"masspoints": "on"}, r"`masspoints` must be one of"),
])
def test_bad_input(kw, match):
    x, y = _uniform()
    with pytest.raises(ValueError, match=match):
        rd_plot(x, y, draw=False, **kw)


def test_too_few_values_for_the_polynomial():
    x = np.repeat([-2.0, -1.0, 1.0, 2.0, 3.0], 40)
    y = np.arange(x.size, dtype=float)
    with pytest.raises(ValueError, match=r"`X` has 2 distinct value\(s\) below the cutoff"):
        rd_plot(x, y, draw=False)
