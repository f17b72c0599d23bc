"""AIPW against a hand-written reference, and its statistical behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit._crossfit import make_folds
from causalkit.ate import AIPW
from causalkit.datasets import make_ate_data


def _manual_aipw(X, y, t, folds, clip):
    """The AIPW estimate written out by hand, fold by fold."""
    mu0, mu1, e = (np.empty(len(y)) for _ in range(3))
    for train, test in folds:
        tr1, tr0 = train[t[train] == 1], train[t[train] == 0]
        mu1[test] = LinearRegression().fit(X[tr1], y[tr1]).predict(X[test])
        mu0[test] = LinearRegression().fit(X[tr0], y[tr0]).predict(X[test])
        e[test] = LogisticRegression().fit(X[train], t[train]).predict_proba(X[test])[:, 1]
    e = np.clip(e, clip, 1 - clip)
    psi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    return psi.mean(), psi.std() / np.sqrt(len(y))


def test_matches_hand_written_reference():
    d = make_ate_data(800, random_state=3)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=4, random_state=5)
    est.fit(d.X, d.y, treatment=d.treatment)
    folds = make_folds(800, 4, stratify=d.treatment, random_state=5)
    value, se = _manual_aipw(d.X, d.y, d.treatment, folds, 0.01)
    assert est.ate().value == pytest.approx(value, rel=1e-12)
    assert est.ate().stderr == pytest.approx(se, rel=1e-12)
    assert est.ate().name == "ATE" and est.ate().n == 800


def test_recovers_known_ate_within_se():
    d = make_ate_data(4000, random_state=0)
    ate = AIPW(random_state=0).fit(d.X, d.y, treatment=d.treatment).ate()
    assert abs(ate.value - d.true_ate) < 3 * ate.stderr
    naive = d.y[d.treatment == 1].mean() - d.y[d.treatment == 0].mean()
    assert abs(naive - d.true_ate) > 5 * ate.stderr  # confounding is real here


def test_doubly_robust_with_wrong_outcome_model():
    """A constant outcome model is wrong; a correct propensity model still gives the ATE."""
    from sklearn.dummy import DummyRegressor

    d = make_ate_data(6000, random_state=2)
    ate = AIPW(DummyRegressor(), LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, treatment=d.treatment).ate()
    assert abs(ate.value - d.true_ate) < 3 * ate.stderr


def test_sample_weights_equal_replication():
    d = make_ate_data(300, random_state=4)
    w = np.random.default_rng(0).integers(1, 3, size=300)
    fitted = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0,
                  trimming_threshold=0.0).fit(d.X, d.y, treatment=d.treatment, sample_weight=w)
    sc, e = fitted.scores_, fitted.ate()
    assert e.value == pytest.approx(np.average(sc, weights=w), rel=1e-12)
    assert e.stderr == pytest.approx(np.sqrt(np.sum((w * (sc - e.value)) ** 2)) / w.sum(), rel=1e-12)


def test_clusters_and_drop_trimming():
    d = make_ate_data(600, random_state=5, overlap=3.0)
    groups = np.repeat(np.arange(60), 10)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0,
               trimming="drop", trimming_threshold=0.05)
    with pytest.warns(Warning):
        est.fit(d.X, d.y, treatment=d.treatment, groups=groups)
    assert "clustered on 60 groups" in est.ate().method
    assert est.diagnostics_["n_dropped"] > 0
    assert "overlap population" in est.ate().method
    assert est.ate().n == 600 - est.diagnostics_["n_dropped"]


@pytest.mark.slow
def test_coverage_over_replications():
    """95% CI coverage over 500 replications lies in [0.93, 0.97] (run from benchmarks/)."""
    hits = []
    for r in range(500):
        d = make_ate_data(1000, random_state=1000 + r)
        lo, hi = AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=r).fit(
            d.X, d.y, treatment=d.treatment).ate().conf_int()
        hits.append(lo <= d.true_ate <= hi)
    assert 0.93 <= np.mean(hits) <= 0.97


def test_agrees_with_doubleml_irm_on_the_same_folds():
    dml = pytest.importorskip("doubleml")
    d = make_ate_data(600, random_state=8)
    folds = make_folds(600, 3, stratify=d.treatment, random_state=2)
    ours = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=2).fit(
        d.X, d.y, treatment=d.treatment).ate()
    data = dml.DoubleMLData.from_arrays(d.X, d.y, d.treatment)
    irm = dml.DoubleMLIRM(data, ml_g=LinearRegression(), ml_m=LogisticRegression(), n_folds=3,
                          trimming_threshold=0.01)
    irm.set_sample_splitting([(tr, te) for tr, te in folds])
    irm.fit()
    assert ours.value == pytest.approx(float(irm.coef[0]), rel=1e-10)
    # DoubleML's SE divides the score variance by n in the same way
    assert ours.stderr == pytest.approx(float(irm.se[0]), rel=1e-8)
