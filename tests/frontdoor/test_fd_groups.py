"""FrontDoor with ``groups=``: cluster-robust SE of the influence values, t(G - 1) intervals."""

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_frontdoor_data, make_frontdoor_linear_data
from causalkit.frontdoor import FrontDoor


def _fit(method, d, groups=None):
    kw = {}
    if method == "dr":
        kw = dict(model_y=LinearRegression(), model_t=LogisticRegression(),
                  model_tm=LogisticRegression(), model_nested=LinearRegression(), cv=3,
                  random_state=0)
    return FrontDoor(method=method, **kw).fit(d.X, d.y, treatment=d.treatment,
                                              mediator=d.mediator, groups=groups)


@pytest.mark.parametrize("method", ["linear", "plugin"])
def test_singleton_clusters_scale_the_iid_se_by_n_over_n_minus_one(method):
    make = make_frontdoor_linear_data if method == "linear" else make_frontdoor_data
    d = make(800, random_state=1)
    iid = _fit(method, d).ate()
    one = _fit(method, d, groups=np.arange(800)).ate()
    assert one.value == iid.value
    assert one.stderr == pytest.approx(iid.stderr * np.sqrt(800 / 799), rel=1e-10)


@pytest.mark.parametrize("method", ["linear", "plugin", "dr"])
def test_cluster_se_sums_influence_within_clusters_with_t_critical_values(method):
    make = make_frontdoor_linear_data if method != "plugin" else make_frontdoor_data
    d = make(900, random_state=2)
    g = np.repeat(np.arange(15), 60)
    est = _fit(method, d, groups=g)
    e = est.ate()
    psi = est.scores_ - est.scores_.mean()
    per = np.bincount(g, weights=psi)
    assert e.stderr == pytest.approx(np.sqrt(15 / 14 * np.sum(per**2)) / 900, rel=1e-10)
    assert e.dof == 14 and est.n_groups_ == 14 + 1
    lo, hi = e.conf_int(0.05)
    assert hi - lo == pytest.approx(2 * stats.t.ppf(0.975, 14) * e.stderr, rel=1e-10)
    assert "clustered on 15 groups" in e.method
    assert _fit(method, d).n_groups_ is None


def test_dr_folds_keep_clusters_whole():
    d = make_frontdoor_linear_data(600, random_state=3)
    g = np.repeat(np.arange(20), 30)
    a = _fit("dr", d, groups=g).ate()
    b = _fit("dr", d, groups=g).ate()
    assert a.value == b.value  # same seed, same folds
    from causalkit._crossfit import make_folds

    for _, test in make_folds(600, 3, groups=g, random_state=0):
        assert np.isin(g, g[test]).sum() == test.size  # no cluster split across folds


def test_groups_validation_names_the_argument():
    d = make_frontdoor_linear_data(200, random_state=4)
    with pytest.raises(ValueError, match="`groups` has a single cluster"):
        _fit("linear", d, groups=np.zeros(200))
    with pytest.raises(ValueError, match="`groups`"):
        _fit("linear", d, groups=np.arange(199))
