"""The default logging-propensity model: one multinomial logit on all rounds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from causalkit.datasets import make_bandit_feedback
from causalkit.ope import IPS, DoublyRobust


@pytest.fixture(scope="module")
def data():
    return make_bandit_feedback(4000, n_actions=4, logging_temperature=0.5, random_state=3)


def test_default_is_one_logit_on_standardised_features(data):
    est = IPS(random_state=0).fit(data.X, data.y, action=data.action)
    X = np.asarray(data.X, dtype=float)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    P = LogisticRegression().fit(Xs, data.action).predict_proba(Xs)
    np.testing.assert_allclose(est.propensity_, P[np.arange(len(data.action)), data.action],
                               rtol=1e-10)
    v = est.value(data.target_policy)
    assert est.propensity_estimated_ and "multinomial logit on all rounds" in v.method
    assert abs(v.value - data.true_value) < 4 * v.stderr + 0.02


def test_a_given_model_is_still_cross_fitted(data):
    est = DoublyRobust(model_propensity=LogisticRegression(), cv=3, random_state=0).fit(
        data.X, data.y, action=data.action)
    assert "cross-fitted classifier" in est.value(data.target_policy).method


def test_an_action_never_logged_is_refused(data):
    with pytest.raises(ValueError, match="`action` 4 is logged 0 time"):
        IPS(n_actions=5).fit(data.X, data.y, action=data.action)
