"""The cross-fitting engine: folds, masks, weights, seeds, and backends (Dask included)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalkit._crossfit import Nuisance, crossfit, make_folds


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    t = (rng.random(300) < 0.4).astype(int)
    y = X @ [1.0, -0.5, 0.2] + 2 * t + rng.normal(size=300)
    return X, y, t


def test_out_of_fold_predictions_equal_manual_loop(data):
    X, y, t = data
    folds = make_folds(len(y), 4, random_state=0)
    res = crossfit({"y": Nuisance(LinearRegression(), y)}, X, folds=folds)
    manual = np.empty_like(y)
    for train, test in folds:
        manual[test] = LinearRegression().fit(X[train], y[train]).predict(X[test])
    np.testing.assert_allclose(res["y"], manual, rtol=1e-12)
    assert len(res.models["y"]) == 4
    # each fold model never saw its test rows
    for (train, test), m in zip(res.folds, res.models["y"]):
        assert not np.intersect1d(train, test).size
        np.testing.assert_allclose(m.predict(X[test]), res["y"][test])


def test_folds_partition_units_and_stratify(data):
    X, y, t = data
    folds = make_folds(len(y), 5, stratify=t, random_state=1)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(len(y)))
    shares = [t[te].mean() for _, te in folds]
    assert max(shares) - min(shares) < 0.02


def test_groups_never_straddle_folds(data):
    X, y, t = data
    groups = np.repeat(np.arange(30), 10)
    for _, test in make_folds(len(y), 5, groups=groups, random_state=0):
        inside = np.unique(groups[test])
        others = np.setdiff1d(np.arange(len(y)), test)
        assert not np.intersect1d(inside, groups[others]).size


def test_proba_fit_mask_and_predict_on(data):
    X, y, t = data
    Xt1, Xt0 = np.c_[X, np.ones(300)], np.c_[X, np.zeros(300)]
    res = crossfit(
        {
            "e": Nuisance(LogisticRegression(), t),
            "mu1": Nuisance(LinearRegression(), y, fit_mask=t == 1),
            "mu": Nuisance(LinearRegression(), y, X=np.c_[X, t], predict_on={"t1": Xt1, "t0": Xt0}),
        },
        X, cv=3, stratify=t, random_state=0,
    )
    assert res["e"].shape == (300,) and np.all((res["e"] > 0) & (res["e"] < 1))
    # mu1 is fitted on treated rows of each training fold only
    for train, test in res.folds:
        tr = train[t[train] == 1]
        ref = LinearRegression().fit(X[tr], y[tr]).predict(X[test])
        np.testing.assert_allclose(res["mu1"][test], ref)
    np.testing.assert_allclose(res["mu@t1"] - res["mu@t0"], 2.0, atol=0.5)


class _Recorder(BaseEstimator, RegressorMixin):
    def fit(self, X, y, sample_weight=None):
        self.sw_ = sample_weight
        self.mean_ = np.average(y, weights=sample_weight)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_sample_weight_passed_to_models_and_pipelines(data):
    X, y, t = data
    w = np.linspace(0.5, 2.0, 300)
    res = crossfit({"a": Nuisance(_Recorder(), y),
                    "b": Nuisance(make_pipeline(StandardScaler(), _Recorder()), y)},
                   X, cv=3, sample_weight=w, random_state=0)
    for (train, _), m in zip(res.folds, res.models["a"]):
        np.testing.assert_array_equal(m.sw_, w[train])
    for (train, _), m in zip(res.folds, res.models["b"]):
        np.testing.assert_array_equal(m[-1].sw_, w[train])


def test_models_without_sample_weight_warn():
    class NoWeight(BaseEstimator, RegressorMixin):
        def fit(self, X, y):
            self.m_ = y.mean()
            return self

        def predict(self, X):
            return np.full(len(X), self.m_)

    X = np.ones((20, 1))
    with pytest.warns(UserWarning, match="takes no sample_weight"):
        crossfit({"n": Nuisance(NoWeight(), np.arange(20.0))}, X, cv=2, sample_weight=np.ones(20))


def test_seeds_fixed_when_model_left_unseeded(data):
    X, y, _ = data
    rf = RandomForestRegressor(n_estimators=5)
    a = crossfit({"y": Nuisance(rf, y)}, X, cv=3, random_state=4)["y"]
    b = crossfit({"y": Nuisance(rf, y)}, X, cv=3, random_state=4)["y"]
    c = crossfit({"y": Nuisance(rf, y)}, X, cv=3, random_state=5)["y"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert rf.random_state is None  # the user's model is never modified


def test_splitter_and_dataframe_input(data):
    X, y, _ = data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    res = crossfit({"y": Nuisance(LinearRegression(), pd.Series(y))}, df, cv=KFold(3))
    assert list(res.models["y"][0].feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="out of every test fold"):
        crossfit({"y": Nuisance(LinearRegression(), y)}, X, cv=TimeSeriesSplit(3))


def test_crossfit_errors(data):
    X, y, t = data
    with pytest.raises(ValueError, match="`nuisances` is empty"):
        crossfit({}, X)
    with pytest.raises(TypeError, match="has no `predict_proba`"):
        crossfit({"e": Nuisance(LinearRegression(), t, method="predict_proba")}, X)
    with pytest.raises(ValueError, match="must both have 300 rows"):
        crossfit({"y": Nuisance(LinearRegression(), y[:-1])}, X)
    with pytest.raises(ValueError, match="at least 2 folds"):
        make_folds(10, 1)
    with pytest.raises(ValueError, match="smallest class has 1"):
        make_folds(10, 3, stratify=np.r_[np.zeros(9), 1])
    with pytest.raises(ValueError, match="no training rows"):
        crossfit({"y": Nuisance(LinearRegression(), y, fit_mask=np.zeros(300, bool))}, X, cv=2)


def test_backends_give_identical_predictions(data):
    X, y, t = data
    spec = {"y": Nuisance(RandomForestRegressor(n_estimators=10), y),
            "e": Nuisance(LogisticRegression(), t)}
    ref = crossfit(spec, X, cv=3, random_state=0)
    with parallel_config(backend="threading", n_jobs=2):
        thr = crossfit(spec, X, cv=3, random_state=0)
    with parallel_config(backend="loky", n_jobs=2):
        lok = crossfit(spec, X, cv=3, random_state=0)
    for key in ref.predictions:
        np.testing.assert_array_equal(ref[key], thr[key])
        np.testing.assert_array_equal(ref[key], lok[key])


def test_dask_local_cluster_gives_identical_predictions(data):
    distributed = pytest.importorskip("distributed")
    X, y, t = data
    spec = {"y": Nuisance(RandomForestRegressor(n_estimators=10), y),
            "e": Nuisance(LogisticRegression(), t)}
    ref = crossfit(spec, X, cv=3, random_state=0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with parallel_config(backend="dask"):
            dist = crossfit(spec, X, cv=3, random_state=0)
        # the work really ran on the cluster's workers
        assert len(client.scheduler_info()["workers"]) == 2
    for key in ref.predictions:
        np.testing.assert_array_equal(ref[key], dist[key])


# --------------------------------------------------------------------------- single-class folds


@pytest.mark.parametrize("model", ["forest", "logistic", "tree"])
def test_single_class_training_fold_predicts_the_known_constant(model):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    clf = {"forest": RandomForestClassifier(n_estimators=5), "logistic": LogisticRegression(),
           "tree": DecisionTreeClassifier()}[model]
    rng = np.random.default_rng(0)
    n = 200
    X = rng.normal(size=(n, 2))
    z = rng.integers(0, 2, n)
    a = np.where(z == 1, (rng.random(n) < 0.6).astype(int), 0)  # one-sided noncompliance
    res = crossfit({"a0": Nuisance(clf, a, fit_mask=z == 0), "a1": Nuisance(clf, a, fit_mask=z == 1)},
                   X, cv=3, random_state=0)
    assert res["a0"].shape == (n,) and res["a1"].shape == (n,)
    np.testing.assert_array_equal(res["a0"], 0.0)           # P(A = 1 | Z = 0) is known: 0
    assert 0.2 < res["a1"].mean() < 0.9
    # a target whose only class among the rows fitted is 1 predicts exactly 1
    res1 = crossfit({"a": Nuisance(clf, a, fit_mask=a == 1)}, X, cv=3, random_state=0)
    np.testing.assert_array_equal(res1["a"], 1.0)


def test_multiclass_fold_missing_a_class_keeps_columns_in_place():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    n = 90
    X = rng.normal(size=(n, 2))
    y = np.repeat([0, 1, 2], n // 3)
    folds = [(np.arange(30, 90), np.arange(0, 30)), (np.arange(0, 60), np.arange(60, 90)),
             (np.r_[0:30, 60:90], np.arange(30, 60))]
    res = crossfit({"y": Nuisance(LogisticRegression(), y)}, X, folds=folds, random_state=0)
    p = res["y"]
    assert p.shape == (n, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p[:30, 0], 0.0)    # class 0 never seen in fold 1's training rows
    np.testing.assert_array_equal(p[60:, 2], 0.0)    # class 2 never seen in fold 2's training rows
    np.testing.assert_array_equal(p[30:60, 1], 0.0)  # class 1 never seen in fold 3's training rows


def test_dmliv_with_a_forest_under_one_sided_noncompliance():
    """A one-column predict_proba once broadcast into an n x n matrix and gave a tiny SE."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.iv import DMLIV

    rng = np.random.default_rng(2)
    n = 1500
    X = rng.normal(size=(n, 2))
    z = (rng.random(n) < 0.5).astype(int)
    a = np.where(z == 1, (rng.random(n) < 0.5 + 0.2 * np.tanh(X[:, 0])).astype(int), 0)
    y = 2.0 * a + X[:, 0] + rng.normal(size=n)
    fits = {}
    for label, mt in (("forest", RandomForestClassifier(n_estimators=50, min_samples_leaf=20)),
                      ("logistic", LogisticRegression())):
        my = RandomForestRegressor(n_estimators=50, min_samples_leaf=20) if label == "forest" \
            else LinearRegression()
        fits[label] = DMLIV(my, mt, LogisticRegression(), cv=3, random_state=0).fit(
            X, y, treatment=a, instrument=z).late()
    for est in fits.values():
        assert abs(est.value - 2.0) < 4 * est.stderr
    assert fits["forest"].stderr > 0.5 * fits["logistic"].stderr


# --------------------------------------------------------------------------- folds


@pytest.mark.parametrize("kind,match", [
    ("leaky", r"`cv` fold 0 trains on \d+ of its own test rows"),
    ("overlap", r"`cv` puts \d+ unit\(s\) in more than one test fold"),
    ("incomplete", r"`cv` leaves 4 unit\(s\) out of every test fold"),
])
def test_folds_that_are_not_a_partition_are_refused(kind, match):
    from sklearn.linear_model import LinearRegression

    n = 40
    idx = np.arange(n)
    folds = {
        "leaky": [(idx, idx[::2]), (idx, idx[1::2])],
        "overlap": [(idx[25:], idx[:25]), (idx[:15], idx[15:])],
        "incomplete": [(idx[18:36], idx[:18]), (idx[:18], idx[18:36])],
    }[kind]
    X = np.arange(n, dtype=float)[:, None]
    with pytest.raises(ValueError, match=match):
        crossfit({"y": Nuisance(LinearRegression(), X[:, 0])}, X, folds=folds)
