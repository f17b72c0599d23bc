"""Agreement with EconML's DML learners on the same data, folds and nuisance models."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit._crossfit import make_folds
from causalkit.datasets import make_cate_data
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner

econml_dml = pytest.importorskip("econml.dml")


@pytest.fixture(scope="module")
def setting():
    d = make_cate_data(1500, random_state=21)
    folds = make_folds(len(d.y), 3, random_state=0)
    return d, folds


def _ours(cls, d, folds, **kw):
    return cls(LinearRegression(), LogisticRegression(), LinearRegression(), cv=folds,
               trimming_threshold=0.0, **kw).fit(d.X, d.y, treatment=d.treatment)


def test_nonparam_dml_cate_agrees_to_1e8(setting):
    d, folds = setting
    ours = _ours(RLearner, d, folds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = econml_dml.NonParamDML(model_y=LinearRegression(), model_t=LogisticRegression(),
                                      model_final=LinearRegression(), discrete_treatment=True,
                                      cv=folds).fit(d.y, d.treatment, X=d.X)
        theirs = np.ravel(peer.effect(d.X))
    np.testing.assert_allclose(ours.predict(d.X), theirs, rtol=0, atol=1e-8)


def test_weighted_u_learner_agrees_with_nonparam_dml(setting):
    d, folds = setting
    ours = _ours(WeightedPseudoOutcomeLearner, d, folds, pseudo="u", weights="ivw_ax")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = econml_dml.NonParamDML(model_y=LinearRegression(), model_t=LogisticRegression(),
                                      model_final=LinearRegression(), discrete_treatment=True,
                                      cv=folds).fit(d.y, d.treatment, X=d.X)
    np.testing.assert_allclose(ours.predict(d.X[:50]), np.ravel(peer.effect(d.X[:50])),
                               rtol=0, atol=1e-8)


def test_linear_dml_coefficients_and_standard_errors_agree(setting):
    d, folds = setting
    ours = _ours(RLearner, d, folds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = econml_dml.LinearDML(model_y=LinearRegression(), model_t=LogisticRegression(),
                                    discrete_treatment=True, cv=folds).fit(d.y, d.treatment, X=d.X)
    tab = ours.coef_table()
    np.testing.assert_allclose(tab.values, np.r_[peer.intercept_, np.ravel(peer.coef_)],
                               rtol=1e-8, atol=1e-8)
    # Both report the HC1 sandwich of the residual-on-residual regression.
    np.testing.assert_allclose(tab.stderrs, np.r_[np.ravel(peer.intercept__inference().stderr),
                                                     np.ravel(peer.coef__inference().stderr)],
                               rtol=1e-6)


def test_continuous_treatment_agrees_with_linear_dml():
    d = make_cate_data(1500, treatment="continuous", random_state=22)
    folds = make_folds(len(d.y), 3, random_state=0)
    ours = RLearner(LinearRegression(), LinearRegression(), LinearRegression(), cv=folds).fit(
        d.X, d.y, treatment=d.treatment)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = econml_dml.LinearDML(model_y=LinearRegression(), model_t=LinearRegression(),
                                    cv=folds).fit(d.y, d.treatment, X=d.X)
    np.testing.assert_allclose(ours.coef_table().values, np.r_[peer.intercept_, np.ravel(peer.coef_)],
                               rtol=1e-8, atol=1e-8)
