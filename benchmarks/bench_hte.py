"""Speed and memory of the R-learner against the bare nuisance fits, EconML and DoubleML.

Same data, same folds and same nuisance models for every candidate, p = 20 covariates:

* ``bare``: ``cross_val_predict`` of the outcome and propensity models on the folds;
* ``bare+final``: the same plus one weighted fit of the final model (the least work
  any R-learner must do);
* ``causalkit``: ``RLearner(crossfit_final=False)`` (the lean configuration);
* ``causalkit-default``: ``RLearner()`` (its per-fold final fits, for the BLP, the group
  effects and the ATE score, are made on first need; ``--blp`` adds
  ``causalkit-default+blp``, which calls ``blp()`` after the fit);
* ``econml``: ``NonParamDML`` (LightGBM runs) or ``LinearDML`` (linear runs);
* ``doubleml``: ``DoubleMLPLR`` (nuisances and the average effect only).

Usage::

    python benchmarks/bench_hte.py lgbm 100000
    python benchmarks/bench_hte.py linear 1000000 --repeats 2
    python benchmarks/bench_hte.py lgbm 1000000 --repeats 1 --only bare,bare+final,causalkit,econml
    python benchmarks/bench_hte.py lgbm 100000 --final linear --clock cpu
    python benchmarks/bench_hte.py lgbm 50000 --learner dr --baseline bare+final --clock cpu

``--learner dr`` times ``WeightedPseudoOutcomeLearner(pseudo="dr", weights="ivw_x")``
(its defaults) instead of the R-learner: ``bare`` is then the outcome model fitted per
arm and the propensity model on the same folds, ``bare+final`` adds one weighted fit of
the final model on the DR pseudo-outcome; EconML's peer is ``DRLearner``.

``--final linear`` keeps the LightGBM nuisances but fits a linear final model (for
every candidate alike), so the ratios show the library's own overhead rather than
the cost of a boosted final model, which is one more fit of nuisance size.
``--clock cpu`` takes ratios from process CPU time, which other jobs on a shared
machine do not inflate (every candidate here is single-threaded).

Results go to ``benchmarks/results/hte_<kind>_<n>[_linfinal].md`` (medians, ratios to
``bare``, peak traced memory: numpy and Python allocations).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from harness import Benchmark
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_predict

from causalkit._crossfit import make_folds
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner


def make_data(n, p=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    e = 1 / (1 + np.exp(-(0.8 * X[:, 0] - 0.5 * X[:, 1])))
    t = (rng.random(n) < e).astype(np.int64)
    y = np.sin(X[:, 0]) + X[:, 1] ** 2 / 2 + X[:, 2] + t * (1 + X[:, 0]) + rng.normal(size=n)
    return X, y, t


def models(kind):
    if kind == "lgbm":
        import lightgbm as lgb

        kw = {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31, "verbose": -1, "n_jobs": 1,
                  "random_state": 0}
        return lgb.LGBMRegressor(**kw), lgb.LGBMClassifier(**kw), lgb.LGBMRegressor(**kw)
    return LinearRegression(), LogisticRegression(), LinearRegression()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["lgbm", "linear"])
    ap.add_argument("n", type=int)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--final", choices=["same", "linear"], default="same",
                    help="final model: the nuisances' kind (default) or linear regression")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    ap.add_argument("--only", default="", help="comma-separated candidates to keep (default: all)")
    ap.add_argument("--baseline", choices=["bare", "bare+final"], default="bare")
    ap.add_argument("--no-memory", action="store_true", help="skip the traced-memory run")
    ap.add_argument("--learner", choices=["r", "dr"], default="r",
                    help="RLearner (default) or WeightedPseudoOutcomeLearner(pseudo='dr')")
    ap.add_argument("--blp", action="store_true",
                    help="add 'causalkit-default+blp': the default fit, then blp() (which makes "
                         "the out-of-fold final fits on first need)")
    a = ap.parse_args()
    X, y, t = make_data(a.n)
    folds = make_folds(a.n, 5, stratify=t, random_state=0)
    my, mt, mf = models(a.kind)
    if a.final == "linear":
        mf = LinearRegression()
    suffix = "_linfinal" if a.final == "linear" and a.kind != "linear" else ""
    dr = a.learner == "dr"
    if dr:
        suffix = "_dr" + suffix

    def arm_predictions():
        """Outcome model per arm, fitted on the training folds, predicted on the test fold."""
        mu0, mu1 = np.empty(a.n), np.empty(a.n)
        for train, test in folds:
            for arm, mu in ((0, mu0), (1, mu1)):
                rows = train[t[train] == arm]
                mu[test] = clone(my).fit(X[rows], y[rows]).predict(X[test])
        return mu0, mu1

    def bare():
        if dr:
            arm_predictions()
        else:
            cross_val_predict(my, X, y, cv=folds)
        cross_val_predict(mt, X, t, cv=folds, method="predict_proba")

    def bare_final():
        e = cross_val_predict(mt, X, t, cv=folds, method="predict_proba")[:, 1]
        if dr:
            mu0, mu1 = arm_predictions()
            e = np.clip(e, 1e-12, 1 - 1e-12)
            phi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
            mf.fit(X, phi, sample_weight=e * (1 - e))
            return
        ry = y - cross_val_predict(my, X, y, cv=folds)
        rt = t - e
        rt = np.sign(rt) * np.maximum(np.abs(rt), 1e-12)
        mf.fit(X, ry / rt, sample_weight=rt**2)

    def ours(crossfit_final):
        if dr:
            return lambda: WeightedPseudoOutcomeLearner(
                my, mt, mf, pseudo="dr", weights="ivw_x", cv=folds, crossfit_final=crossfit_final,
                trimming_threshold=0.0).fit(X, y, treatment=t)
        return lambda: RLearner(my, mt, mf, cv=folds, crossfit_final=crossfit_final,
                                trimming_threshold=0.0).fit(X, y, treatment=t)

    final_kind = "linear" if a.final == "linear" else a.kind
    what = ("DR-learner (WeightedPseudoOutcomeLearner, pseudo='dr', weights='ivw_x')" if dr
            else "R-learner")
    bench = Benchmark(f"hte_{a.kind}_{a.n}{suffix}",
                      f"{what} with {a.kind} nuisances and a {final_kind} final model, "
                      f"n={a.n:,}, p=20, "
                      f"5 folds; X is {X.nbytes / 2**20:.0f} MiB.")
    bench.add("bare", bare).add("bare+final", bare_final)
    bench.add("causalkit", ours(False)).add("causalkit-default", ours(True))
    if a.blp:
        bench.add("causalkit-default+blp", lambda: ours(True)().blp())
    if not a.no_peers:
        import doubleml as dml
        import pandas as pd
        from econml.dml import LinearDML, NonParamDML
        from econml.dr import DRLearner

        def econml_run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if dr:
                    DRLearner(model_regression=my, model_propensity=mt, model_final=mf,
                              cv=folds, min_propensity=1e-12).fit(y, t, X=X)
                elif a.kind == "lgbm":
                    NonParamDML(model_y=my, model_t=mt, model_final=mf, discrete_treatment=True,
                                cv=folds).fit(y, t, X=X)
                else:
                    LinearDML(model_y=my, model_t=mt, discrete_treatment=True, cv=folds).fit(y, t, X=X)

        def doubleml_run():
            df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
            df["y"], df["t"] = y, t
            data = dml.DoubleMLData(df, "y", "t")
            plr = dml.DoubleMLPLR(data, my, mt, n_folds=5, draw_sample_splitting=False)
            plr.set_sample_splitting([[(tr, te) for tr, te in folds]])
            plr.fit()

        bench.add("econml", econml_run)
        if not dr:
            bench.add("doubleml", doubleml_run)
    if a.only:
        keep = set(a.only.split(","))
        bench.candidates = {k: v for k, v in bench.candidates.items() if k in keep}
    if dr:
        bench.note("bare = the outcome model fitted per arm and the propensity model on the same "
                   "folds; bare+final adds one fit of the final model on the DR pseudo-outcome "
                   "with weights e(1-e).")
    else:
        bench.note("bare = cross_val_predict of the outcome and propensity models on the same "
                   "folds; bare+final adds one weighted final fit.")
    bench.note(f"X size {X.nbytes / 2**20:.1f} MiB; memory target: causalkit peak <= bare+final "
               "peak + 2 x size(X).")
    bench.note("causalkit-default makes one final fit in fit(); the per-fold final fits behind "
               "blp(), group_effects() and the ATE score are made on their first call "
               "(causalkit-default+blp).")
    report = bench.run(repeats=a.repeats, baseline=a.baseline, warmup=a.repeats > 1,
                       memory=not a.no_memory,
                       clock=a.clock)
    path = report.save()
    print(report.markdown())
    print("saved", path)


if __name__ == "__main__":
    main()
