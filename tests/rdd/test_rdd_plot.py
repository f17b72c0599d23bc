"""rd_plot: rdplot's bin counts, bins and global fits (rdrobust 2.1.1 as a black box)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from causalkit.rdd import rd_plot

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


# the cases where rdplot's counts are reproduced: evenly spaced IMSE, mimicking variance
# with spacings estimators (evenly and quantile spaced), on data with few or no ties
CASES = [(d, bs) for d in ("senate", "smooth", "uniform") for bs in ("es", "esmv", "qsmv")]


@pytest.mark.parametrize("data, binselect", CASES)
def test_bin_counts_match_rdplot(data, binselect):
    x, y = {"senate": _senate, "smooth": lambda: _smooth(1), "uniform": _uniform}[data]()
    r = ref(x, y, binselect=binselect)
    m = rd_plot(x, y, binselect=binselect, draw=False)
    assert m.n_bins == tuple(r.J)
    if binselect.startswith("es"):
        assert m.n_bins_imse == tuple(int(v) for v in r.J_IMSE)
        if data != "smooth":  # rdplot's average width differs there (see rd_plot Notes)
            np.testing.assert_allclose(m.bin_width_mean, r.bin_avg, rtol=1e-12)
    assert m.n_bins_mv == tuple(int(v) for v in r.J_MV)
    np.testing.assert_allclose(m.coef.to_numpy(), r.coef.to_numpy(), rtol=1e-7)


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
