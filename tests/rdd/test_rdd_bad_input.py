"""Bad input for the new options, at every entry point that takes it.

Each message names the argument (in backticks) and says how to fix it.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalkit.rdd import RDD, RDDensity, rd_bandwidth, rd_batch, rd_density_test


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 500)
    y = x + (x >= 0) + 0.3 * rng.normal(size=500)
    return x, y


def _calls(x, y, **kw):
    return {"RDD": lambda: RDD(**{k: v for k, v in kw.items() if k in ("p", "deriv")}).fit(
                x, y, **{k: v for k, v in kw.items() if k not in ("p", "deriv")}),
            "rd_bandwidth": lambda: rd_bandwidth(x, y, **kw),
            "rd_batch": lambda: rd_batch(x, np.c_[y, 2 * y], **kw)}


@pytest.mark.parametrize("entry", ["RDD", "rd_bandwidth", "rd_batch"])
def test_clusters_of_size_one(data, entry):
    x, y = data
    with pytest.raises(ValueError, match=r"every cluster in `groups` holds a single unit.*"
                                         r"drop `groups`"):
        _calls(x, y, groups=np.arange(x.size))[entry]()
    with pytest.raises(ValueError, match=r"`groups` has a single cluster"):
        _calls(x, y, groups=np.zeros(x.size))[entry]()


@pytest.mark.parametrize("entry", ["RDD", "rd_bandwidth", "rd_batch"])
def test_covariate_constant_near_the_cutoff(data, entry):
    x, y = data
    z = np.where(np.abs(x) < 0.6, 1.0, x)  # varies only far from the cutoff
    with pytest.raises(ValueError, match=r"`covariates` are collinear \(or constant\) among the "
                                         r"units inside the bandwidth.*Drop"):
        _calls(x, y, covariates=z)[entry]()


@pytest.mark.parametrize("entry", ["RDD", "rd_bandwidth", "rd_batch"])
def test_kink_design_with_p0(data, entry):
    x, y = data
    with pytest.raises(ValueError, match=r"`deriv` = 1 needs `p` >= 1.*Use p = 1 or more"):
        _calls(x, y, p=0, deriv=1)[entry]()


@pytest.mark.parametrize("fitselect", ["unrestricted", "restricted"])
def test_density_too_few_distinct_values_near_the_cutoff(data, fitselect):
    x, _ = data
    # 0.5 steps: two distinct values below the cutoff in all
    with pytest.raises(ValueError, match=r"`X` has 2 distinct value\(s\) below the cutoff.*"
                                         r"lower `p`"):
        rd_density_test(np.round(x * 2) / 2, fitselect=fitselect)
    # many values far away, one within 0.15 of the cutoff on the right: the window of
    # that bandwidth has no slope there
    xr = np.where((x > 0) & (x < 0.3), np.where(x < 0.15, 0.05, 0.25), x)
    with pytest.raises(ValueError, match=r"only 1 distinct value\(s\) of `X` .* within 0.15 at "
                                         r"or above the cutoff.*Give a larger `bandwidth`"):
        RDDensity(bandwidth=0.15, regularize=False, fitselect=fitselect).fit(xr)
    # with regularize (the default) the selected bandwidths grow to hold enough values
    e = RDDensity(fitselect=fitselect).fit(xr)
    assert min(e.bandwidth_) > 0.25
