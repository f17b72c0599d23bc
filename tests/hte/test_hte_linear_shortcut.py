"""Weighted least squares by normal equations equals scikit-learn's LinearRegression fits."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit._crossfit import make_folds
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner
from causalkit.hte._inference import wls_normal_equations


class _RefitLinear(LinearRegression):
    """Same model; a subclass takes the learner's generic refit-per-fold path."""


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_a_refit_per_fold(fit_intercept):
    rng = np.random.default_rng(0)
    n, p = 600, 4
    Z = rng.normal(size=(n, p)) * [1, 10, 1e-3, 1] + [0, 5, 0, -3]
    y = Z @ [1.0, -0.2, 300.0, 0.5] + rng.normal(size=n)
    w = rng.uniform(0.1, 2.0, size=n)
    folds = make_folds(n, 5, random_state=1)
    fit = wls_normal_equations(Z, y, w, folds, fit_intercept=fit_intercept, block=128)
    full = LinearRegression(fit_intercept=fit_intercept).fit(Z, y, sample_weight=w)
    np.testing.assert_allclose(fit["coef"], full.coef_, rtol=1e-8)
    assert fit["intercept"] == pytest.approx(full.intercept_, rel=1e-8, abs=1e-9)
    np.testing.assert_allclose(fit["singular"], full.singular_, rtol=1e-6)
    assert wls_normal_equations(Z, y, w, fit_intercept=fit_intercept)["oof"] is None
    got = fit["oof"]
    want = np.empty(n)
    for train, test in folds:
        m = LinearRegression(fit_intercept=fit_intercept).fit(Z[train], y[train],
                                                              sample_weight=w[train])
        want[test] = m.predict(Z[test])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_collinear_design_falls_back():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(200, 2))
    Z = np.column_stack([Z, Z[:, 0] + Z[:, 1]])
    folds = make_folds(200, 4, random_state=0)
    assert wls_normal_equations(Z, rng.normal(size=200), np.ones(200), folds) is None
    assert wls_normal_equations(Z, rng.normal(size=200), np.ones(200)) is None


@pytest.mark.parametrize("crossfit_final", [True, False])
@pytest.mark.parametrize("cls, kw", [(RLearner, {}),
                                     (WeightedPseudoOutcomeLearner, {"pseudo": "dr",
                                                                     "weights": "ivw_x"})])
def test_learner_shortcut_equals_generic_path(cls, kw, crossfit_final):
    rng = np.random.default_rng(2)
    n = 800
    X = rng.normal(size=(n, 3))
    t = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    y = X[:, 1] + t * (1 + X[:, 0]) + rng.normal(size=n)
    common = dict(model_y=LinearRegression(), model_t=LogisticRegression(), cv=4,
                  random_state=0, crossfit_final=crossfit_final, **kw)
    fast = cls(model_final=LinearRegression(), **common).fit(X, y, treatment=t)
    slow = cls(model_final=_RefitLinear(), **common).fit(X, y, treatment=t)
    assert type(fast.final_model_) is LinearRegression
    np.testing.assert_allclose(fast.final_model_.coef_, slow.final_model_.coef_, rtol=1e-8)
    np.testing.assert_allclose(fast.predict(X), slow.predict(X), rtol=1e-9, atol=1e-10)
    if crossfit_final:
        np.testing.assert_allclose(fast.cate_oof_, slow.cate_oof_, rtol=1e-9, atol=1e-10)
        assert fast.blp().estimates[1].value == pytest.approx(slow.blp().estimates[1].value,
                                                              rel=1e-8)
    assert fast.ate().value == pytest.approx(slow.ate().value, rel=1e-10)
    assert fast.ate().stderr == pytest.approx(slow.ate().stderr, rel=1e-8)
