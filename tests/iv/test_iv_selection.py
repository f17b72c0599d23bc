"""Selective machine learning over candidate nuisance learners."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_invalid_iv_data
from causalkit.iv import InvalidIV

FITS = []


class CountingLinear(LinearRegression):
    def fit(self, X, y, sample_weight=None):
        FITS.append(X.shape)
        return super().fit(X, y, sample_weight=sample_weight)


def _learners():
    return {
        "instrument": {"logit": LogisticRegression(), "constant": DummyClassifier(strategy="prior")},
        # the heavily penalised logit ignores the instrument: Var(A|Z=1,X) = Var(A|Z=0,X)
        "treatment": {"linear": LinearRegression(), "no-instrument": LogisticRegression(C=1e-6)},
        "outcome": {"linear": CountingLinear(), "constant": DummyRegressor()},
    }


@pytest.fixture(scope="module")
def fitted():
    d = make_invalid_iv_data(5000, random_state=3)
    FITS.clear()
    est = InvalidIV(learners=_learners(), cv=4, random_state=0).fit(
        d.X_basis, d.y, treatment=d.treatment, instrument=d.instrument)
    return d, est, list(FITS)


def test_each_candidate_is_fitted_once_per_fold(fitted):
    _, est, fits = fitted
    assert len(fits) == 4  # CountingLinear is one candidate: one fit per fold, not per combination
    assert est.diagnostics_["n_fits"] == 4 * 6


def test_selection_table_and_choice(fitted):
    d, est, _ = fitted
    table = est.selection_
    assert len(table) == 8
    assert table["selected"].sum() == 1
    assert np.all(np.diff(table["criterion"].to_numpy()) >= 0)
    chosen = table[table["selected"]].iloc[0]
    # the instrument-blind treatment learner breaks identification: never chosen
    assert chosen["treatment"] == "linear"
    assert chosen["criterion"] == table["criterion"].min()
    ate = est.ate()
    assert ate.value == pytest.approx(chosen["estimate"])
    assert abs(ate.value - d.true_ate) < 3 * ate.stderr
    assert "selected instrument=" in ate.method


def test_minimax_criterion_is_the_largest_single_swap():
    d = make_invalid_iv_data(2000, random_state=1)
    kw = dict(learners=_learners(), cv=3, random_state=0)
    mixed = InvalidIV(**kw).fit(d.X_basis, d.y, treatment=d.treatment, instrument=d.instrument)
    mm = InvalidIV(selection="minimax", **kw).fit(
        d.X_basis, d.y, treatment=d.treatment, instrument=d.instrument)
    a = mixed.selection_.set_index(["instrument", "treatment", "outcome"])["criterion"]
    b = mm.selection_.set_index(["instrument", "treatment", "outcome"])["criterion"]
    b = b.loc[a.index]
    # a sum over blocks of non-negative maxima dominates their maximum, and is at most 3 times it
    assert np.all(a.to_numpy() >= b.to_numpy() - 1e-12)
    assert np.all(a.to_numpy() <= 3 * b.to_numpy() + 1e-12)


def test_learners_need_mdml_and_known_blocks():
    d = make_invalid_iv_data(500, random_state=0)
    args = (d.X, d.y)
    kw = dict(treatment=d.treatment, instrument=d.instrument)
    with pytest.raises(ValueError, match="`learners`.*method='mdml'"):
        InvalidIV(method="mr", learners=_learners()).fit(*args, **kw)
    with pytest.raises(ValueError, match="`learners` must be a dict keyed by blocks"):
        InvalidIV(learners={"propensity": [LogisticRegression()]}).fit(*args, **kw)
    with pytest.raises(ValueError, match=r"`learners\['outcome'\]` is empty"):
        InvalidIV(learners={"outcome": []}).fit(*args, **kw)
