"""The library's thread policy (causalkit.config)."""

from __future__ import annotations

import os
import subprocess
import sys

import cloudpickle
import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, RegressorMixin

import causalkit
from causalkit import config
from causalkit._crossfit import Nuisance, crossfit

# Send this module's classes to loky workers by value: a test module need not be importable
# there (a test-only peer, ppi-python, installs a top-level `tests` package that shadows ours).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class _ThreadRecorder(RegressorMixin, BaseEstimator):
    """Records the inner thread counts it sees while fitting."""

    def fit(self, X, y):
        from threadpoolctl import threadpool_info

        counts = {info["user_api"]: info["num_threads"] for info in threadpool_info()}
        self.seen_ = (counts.get("openmp"), counts.get("blas"))
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def _seen(n_jobs, backend):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X[:, 0]
    with parallel_config(backend=backend):
        res = crossfit({"y": Nuisance(_ThreadRecorder(), y)}, X, cv=2, n_jobs=n_jobs,
                       random_state=0)
    return {m.seen_ for m in res.models["y"]}


def test_config_round_trip_and_errors():
    before = causalkit.get_config()
    with causalkit.config_context(n_threads=3):
        assert causalkit.get_config()["n_threads"] == 3
        with causalkit.config_context(n_threads="off"):
            assert causalkit.get_config()["n_threads"] == "off"
        assert causalkit.get_config()["n_threads"] == 3
    assert causalkit.get_config() == before
    for bad in (0, -1, 1.5, "many", True):
        with pytest.raises(ValueError, match="`n_threads` must be 'auto', 'off' or a positive"):
            with causalkit.config_context(n_threads=bad):
                pass


def test_auto_rule_divides_cores_by_workers(monkeypatch):
    monkeypatch.setattr(config, "_cores", lambda: 8)
    for var in config._STANDARD_ENV:
        monkeypatch.delenv(var, raising=False)
    with causalkit.config_context(n_threads="auto"):
        assert config.inner_threads(None) == 8
        assert config.inner_threads(2) == 4
        assert config.inner_threads(3) == 2
        assert config.inner_threads(16) == 1
        with parallel_config(backend="threading", n_jobs=4):
            assert config.inner_threads(None) == 2      # 8 cores, 4 workers: the active config's n_jobs counts
        monkeypatch.setenv("OMP_NUM_THREADS", "2")      # a user's standard variable lowers it
        assert config.inner_threads(None) == 2
        assert config.inner_threads(None, n_rows=2_000) == 1     # small tasks: one thread
        assert config.inner_threads(None, n_rows=config.SMALL_TASK_ROWS) == 2
    with causalkit.config_context(n_threads=5):
        assert config.inner_threads(2) == 5
        assert config.inner_threads(2, n_rows=10) == 5          # an explicit count wins
    with causalkit.config_context(n_threads="off"):
        assert config.inner_threads(2) is None


@pytest.mark.parametrize("backend,n_jobs", [("sequential", None), ("threading", 2), ("loky", 2)])
def test_crossfit_tasks_run_under_the_cap(backend, n_jobs):
    with causalkit.config_context(n_threads=1):
        seen = _seen(n_jobs, backend)
    for openmp, blas in seen:
        assert openmp in (None, 1) and blas in (None, 1), seen


def test_auto_caps_workers_times_threads_at_the_cores():
    cores = config._cores()
    with causalkit.config_context(n_threads="auto"):
        seen = _seen(2, "loky")
    for openmp, blas in seen:
        for k in (openmp, blas):
            assert k is None or 2 * k <= max(2, cores), seen


def test_torch_threads_follow_the_policy():
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    with config.limit_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == old


def test_environment_variable_sets_the_default():
    code = "import causalkit; print(causalkit.get_config()['n_threads'])"
    env = {**os.environ, "CAUSALKIT_NUM_THREADS": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "3"
    env["CAUSALKIT_NUM_THREADS"] = "lots"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "CAUSALKIT_NUM_THREADS must be" in bad.stderr


def test_thread_count_does_not_change_numbers():
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.normal(size=300)
    preds = []
    for k in (1, 2):
        with causalkit.config_context(n_threads=k):
            res = crossfit({"y": Nuisance(HistGradientBoostingRegressor(max_iter=20), y)}, X,
                           cv=3, random_state=0)
        preds.append(res["y"])
    np.testing.assert_allclose(preds[0], preds[1], rtol=1e-12)


def test_lightgbm_fold_models_get_the_policys_thread_count():
    lgb = pytest.importorskip("lightgbm")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(120, 3))
    y = X[:, 0]
    for model, key in ((lgb.LGBMRegressor(n_estimators=5, verbose=-1), "n_jobs"),
                       (make_pipeline(StandardScaler(), lgb.LGBMRegressor(n_estimators=5, verbose=-1)),
                        "lgbmregressor__n_jobs")):
        with causalkit.config_context(n_threads=1):
            res = crossfit({"y": Nuisance(model, y)}, X, cv=2, random_state=0)
        assert {m.get_params()[key] for m in res.models["y"]} == {1}
        assert model.get_params()[key] in (None, -1)   # the user's model is untouched
