"""SNIPS's default interval inverts the ratio's score test (null-variance Fieller)."""


import warnings

import numpy as np
import pytest
from scipy import stats

from causalkit.datasets import make_bandit_feedback
from causalkit.inference import Estimate
from causalkit.ope import SNIPS, RatioScoreEstimate

pytestmark = pytest.mark.filterwarnings("ignore::causalkit.utils.validation.PositivityWarning")


def _fit(n=800, seed=0, sample_weight=None, **kw):
    d = make_bandit_feedback(n, logging_temperature=3.0, epsilon=0.1, random_state=seed)
    est = SNIPS(**kw).fit(d.X, d.y, action=d.action, propensity=d.propensity,
                          sample_weight=sample_weight)
    return d, est, est.value(d.target_policy)


def _score_stat(w, y, s, v0):
    u = np.sum(s * w * (y - v0))
    return u**2 / np.sum((s * w * (y - v0)) ** 2)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_interval_ends_are_where_the_score_test_reaches_its_critical_value(alpha, weighted):
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.5, 2.0, 800) if weighted else None
    d, est, v = _fit(sample_weight=sw)
    assert isinstance(v, RatioScoreEstimate) and isinstance(v, Estimate)
    w = est._weights(d.target_policy)
    s = np.ones_like(w) if sw is None else sw
    lo, hi = v.conf_int(alpha)
    c2 = stats.norm.ppf(1 - alpha / 2) ** 2
    assert lo < v.value < hi
    for end in (lo, hi):
        assert _score_stat(w, d.y, s, end) == pytest.approx(c2, rel=1e-8)
    # inside the interval the test does not reject, just outside it does
    eps = 1e-4 * (hi - lo)
    assert _score_stat(w, d.y, s, lo + eps) < c2 < _score_stat(w, d.y, s, lo - eps)
    assert _score_stat(w, d.y, s, hi - eps) < c2 < _score_stat(w, d.y, s, hi + eps)
    # the p-value is the score test's: alpha at the interval's ends
    assert v._replace(null=hi).pvalue == pytest.approx(alpha, rel=1e-6)
    # value and SE are unchanged (delta method)
    wald = est.set_params(interval="wald").value(d.target_policy)
    assert type(wald) is Estimate
    assert (wald.value, wald.stderr) == (v.value, v.stderr)
    z = stats.norm.ppf(1 - alpha / 2)
    assert wald.conf_int(alpha) == pytest.approx((v.value - z * v.stderr, v.value + z * v.stderr))


def test_unbounded_when_the_effective_sample_size_is_below_z_squared():
    v = RatioScoreEstimate(0.5, 0.1, n=3, method="m", moments=(1.0, 2.0, 1.0, 1.0, 2.0))
    # B^2 / E = 2 < 3.84: the score test cannot reject any value
    assert v.conf_int(0.05) == (-np.inf, np.inf)


def test_unknown_interval_names_the_argument():
    with pytest.raises(ValueError, match="The 'interval' parameter of SNIPS must be"):
        _fit(interval="bootstrap")


@pytest.mark.slow
def test_score_interval_covers_under_harsh_overlap_where_wald_does_not():
    """200 replications at n = 500, harsh overlap: the score interval's coverage lies
    within 3 binomial SEs of 0.95; the Wald interval's is far below (0.79 at 300 reps)."""
    cover = {"score": 0, "wald": 0}
    reps = 200
    for seed in range(reps):
        d = make_bandit_feedback(500, logging_temperature=3.0, epsilon=0.1, random_state=seed)
        est = SNIPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = est.value(d.target_policy)
        lo, hi = v.conf_int()
        cover["score"] += lo <= d.true_value <= hi
        z = stats.norm.ppf(0.975)
        cover["wald"] += abs(v.value - d.true_value) <= z * v.stderr
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(cover["score"] / reps - 0.95) < 3 * se
    assert cover["wald"] / reps < 0.95 - 3 * se
