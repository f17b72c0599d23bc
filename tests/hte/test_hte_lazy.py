"""Out-of-fold final fits are made on first need, once, and from the learner's own data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from causalkit.datasets import make_cate_data
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner


class CountingRidge(Ridge):
    """Ridge that counts its fits (class-level, so clones share the counter)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(scope="module")
def data():
    return make_cate_data(1500, random_state=11)


def _learner(cls=RLearner, **kw):
    return cls(LinearRegression(), LogisticRegression(), CountingRidge(alpha=1.0), cv=3,
               random_state=0, **kw)


def test_fit_makes_one_final_fit_and_blp_adds_the_fold_fits_once(data):
    CountingRidge.fits = 0
    est = _learner().fit(data.X, data.y, treatment=data.treatment)
    assert CountingRidge.fits == 1
    first = est.blp()
    assert CountingRidge.fits == 1 + 3
    again = est.blp()
    est.group_effects()
    est.ate()
    assert CountingRidge.fits == 1 + 3
    np.testing.assert_array_equal(first.values, again.values)


def test_order_of_first_use_does_not_change_any_number(data):
    a = _learner().fit(data.X, data.y, treatment=data.treatment)
    b = _learner().fit(data.X, data.y, treatment=data.treatment)
    ate_a = a.ate()                 # triggers the fold fits through the ATE score
    blp_b = b.blp()                 # ... or through the BLP
    assert ate_a.value == b.ate().value and ate_a.stderr == b.ate().stderr
    np.testing.assert_array_equal(a.blp().values, blp_b.values)
    np.testing.assert_array_equal(a.cate_oof_, b.cate_oof_)
    np.testing.assert_array_equal(a.scores_, b.scores_)
    assert "out-of-fold CATE" in ate_a.method


def test_lazy_fits_use_a_copy_of_the_design(data):
    X = np.array(data.X, copy=True)
    ref = _learner().fit(data.X, data.y, treatment=data.treatment)
    est = _learner().fit(X, data.y, treatment=data.treatment)
    X[:] = 0.0                      # the caller reuses its buffer before asking for the BLP
    np.testing.assert_array_equal(est.cate_oof_, ref.cate_oof_)


def test_dr_pseudo_outcome_ate_needs_no_fold_fits(data):
    CountingRidge.fits = 0
    est = _learner(WeightedPseudoOutcomeLearner, pseudo="dr").fit(
        data.X, data.y, treatment=data.treatment)
    est.ate()
    assert CountingRidge.fits == 1
    est.group_effects(3)
    assert CountingRidge.fits == 4


def test_without_crossfit_final_nothing_is_deferred(data):
    CountingRidge.fits = 0
    est = _learner(crossfit_final=False).fit(data.X, data.y, treatment=data.treatment)
    assert est.cate_oof_ is None and "in-sample CATE" in est.ate().method
    assert CountingRidge.fits == 1
    with pytest.raises(ValueError, match="crossfit_final=True"):
        est.blp()


def test_fitted_attributes_are_absent_before_fit():
    est = _learner()
    for name in ("effect_", "cate_oof_", "scores_"):
        assert not hasattr(est, name)
