"""Specific findings of the reliability campaign, each pinned by a test."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalkit.utils.validation import PositivityWarning


def _logs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    a = rng.integers(0, 2, n)
    return X, rng.random(n), a


def test_ips_on_one_round_refuses_a_zero_width_interval():
    from causalkit.ope import IPS

    with pytest.raises(ValueError, match=r"`y` has 1 logged round\(s\); a standard error needs"):
        IPS().fit(np.zeros((1, 2)), [1.0], action=[0], propensity=[0.5])


def test_policy_on_a_never_logged_action_is_refused_by_weighting_estimators():
    from causalkit.ope import IPS, DirectMethod

    X, y, a = _logs()
    P = np.tile([0.0, 0.0, 1.0], (len(y), 1))
    est = IPS(n_actions=3).fit(X, y, action=a, propensity=np.full(len(y), 0.5))
    with pytest.raises(ValueError, match=r"`policy` puts probability on action\(s\) \[2\] that"):
        est.value(P)
    dm = DirectMethod(n_actions=3).fit(X, y, action=a, propensity=np.full(len(y), 0.5))
    with pytest.warns(PositivityWarning, match=r"never logged.*extrapolates"):
        dm.value(P)


def test_string_policy_gets_a_clear_type_error():
    from causalkit.ope import SNIPS

    X, y, a = _logs()
    est = SNIPS().fit(X, y, action=a, propensity=np.full(len(y), 0.5))
    with pytest.raises(TypeError, match=r"`policy` must be an \(n, n_actions\) array.*'uniform'"):
        est.value("uniform")


def test_cuped_with_a_constant_outcome_says_so():
    from causalkit.montecarlo import cuped

    X, _, a = _logs()
    with pytest.raises(ValueError, match=r"`y` has no variation"):
        cuped(np.ones(len(a)), a, X)


def test_tiny_propensity_is_refused_not_turned_into_an_infinite_se():
    from causalkit.ope import IPS

    X, y, a = _logs()
    p = np.full(len(y), 0.5)
    p[0] = 1e-200
    with pytest.raises(ValueError, match=r"`propensity` has values as small as 1e-200"):
        IPS().fit(X, y, action=a, propensity=p)


def test_misaligned_pandas_treatment_is_refused_in_aipw():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(300, as_frame=True, random_state=0)
    t = pd.Series(np.asarray(d.treatment), index=d.X.index)[::-1]
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0)
    with pytest.raises(ValueError, match=r"`treatment` is a pandas object whose index differs"):
        est.fit(d.X, d.y, treatment=t)
    # aligned by the user, the numbers are those of the original data
    ref = est.fit(d.X, d.y, treatment=d.treatment).ate().value
    again = est.fit(d.X, d.y, treatment=t.reindex(d.X.index)).ate().value
    assert again == ref


def test_reordered_columns_at_predict_time_raise_instead_of_wrong_cates():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.datasets import make_ate_data
    from causalkit.hte import RLearner

    d = make_ate_data(300, as_frame=True, random_state=1)
    est = RLearner(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, treatment=d.treatment)
    with pytest.raises(ValueError, match=r"`X` has the fitted columns in another order"):
        est.predict(d.X[d.X.columns[::-1]])
    np.testing.assert_allclose(est.predict(d.X), est.predict(d.X.to_numpy()))


def test_huge_prediction_in_tweedie_is_refused_quickly():
    from causalkit.calibration import TweedieCorrection

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    x[0] = 1e160
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"`X` has values as large as 1e\+160"):
            TweedieCorrection().fit(x[:, None], rng.normal(size=300))
