"""FrontDoor: each estimator against the plainest peer computation on the same data.

- ``plugin`` (n = 1,000,000, discrete design) against Theorem 3 computed with pandas
  group-bys (point estimate only; FrontDoor also computes the influence-function SE);
- ``linear`` (n = 1,000,000, two mediators) against the two OLS fits in statsmodels with
  HC0 covariances (point estimate and per-stage SEs, no delta method);
- ``dr`` (n = 20,000) against the bare cross-fitted nuisance fits it needs (the same
  learners and folds in a plain loop, no score), i.e. FrontDoor's overhead.

Repeats alternate between candidates; ratios are on process CPU time (wall time beside
it), every candidate under ``causalkit.config_context(n_threads=1)``.

Run: python benchmarks/bench_frontdoor.py [--repeats 3] [--n 1000000] [--n-dr 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# One OpenMP/BLAS thread from the start: a pool started with more threads and capped
# later keeps an idle thread spinning, which inflates CPU time on a busy machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from harness import Benchmark, write_summary  # noqa: E402


def _save(report):
    report.notes.append("clock: process CPU time, one inner thread for every candidate "
                        "(causalkit.config_context(n_threads=1))")
    report.save()


def _pandas_plugin(df):
    pw = df.groupby(["w1", "w2"]).size() / len(df)
    pt = df.groupby(["w1", "w2"])["t"].mean()
    mu = df.groupby(["w1", "w2", "t", "m"])["y"].mean()
    fm = df.groupby(["w1", "w2", "t"])["m"].value_counts(normalize=True)
    psi = [0.0, 0.0]
    for (w1, w2, s, m), f in fm.items():
        p1 = pt[(w1, w2)]
        inner = mu[(w1, w2, 1, m)] * p1 + mu[(w1, w2, 0, m)] * (1 - p1)
        psi[int(s)] += pw[(w1, w2)] * f * inner
    return psi[1] - psi[0]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("plugin", "linear", "dr"), default=None)
    parser.add_argument("--n", type=int, default=1_000_000, help="rows of the plugin and linear runs")
    parser.add_argument("--n-dr", type=int, default=20_000, help="rows of the dr run")
    args = parser.parse_args(argv)
    run = (lambda part: args.only in (None, part))  # noqa: E731

    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    import causalkit
    from causalkit._crossfit import make_folds
    from causalkit.datasets import make_frontdoor_data, make_frontdoor_linear_data
    from causalkit.frontdoor import FrontDoor

    with causalkit.config_context(n_threads=1):
        if run("plugin"):
            _plugin(args, make_frontdoor_data, FrontDoor, pd)
        if run("linear"):
            _linear(args, make_frontdoor_linear_data, FrontDoor, np, sm)
        if run("dr"):
            _dr(args, make_frontdoor_linear_data, FrontDoor, np, clone, make_folds,
                HistGradientBoostingRegressor, HistGradientBoostingClassifier)
    write_summary()


def _plugin(args, make_frontdoor_data, FrontDoor, pd):
    d = make_frontdoor_data(args.n, random_state=0)
    df = pd.DataFrame({"w1": d.X[:, 0], "w2": d.X[:, 1], "t": d.treatment, "m": d.mediator,
                       "y": d.y})
    ck = FrontDoor(method="plugin").fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator)
    assert abs(ck.ate().value - _pandas_plugin(df)) < 1e-10
    b = Benchmark("frontdoor_plugin", description=f"Theorem-3 plug-in, n = {args.n:,}")
    b.add("causalkit", lambda: FrontDoor(method="plugin").fit(
        d.X, d.y, treatment=d.treatment, mediator=d.mediator).ate())
    b.add("pandas groupby", lambda: _pandas_plugin(df))
    _save(b.run(repeats=args.repeats, baseline="pandas groupby", clock="cpu"))



def _linear(args, make_frontdoor_linear_data, FrontDoor, np, sm):
    d = make_frontdoor_linear_data(args.n, random_state=0)
    t, W, M, y = d.treatment, d.X, d.mediator, d.y

    def sm_twostage():
        D1 = sm.add_constant(np.c_[t, W])
        a = [sm.OLS(M[:, k], D1).fit(cov_type="HC0").params[1] for k in range(M.shape[1])]
        r2 = sm.OLS(y, sm.add_constant(np.c_[M, t, W])).fit(cov_type="HC0")
        return float(np.dot(a, r2.params[1:1 + M.shape[1]]))

    ck = FrontDoor(method="linear").fit(W, y, treatment=t, mediator=M).ate()
    assert abs(ck.value - sm_twostage()) < 1e-8
    b = Benchmark("frontdoor_linear", description=f"product of coefficients, n = {args.n:,}, "
                                                  "two mediators")
    b.add("causalkit", lambda: FrontDoor(method="linear").fit(W, y, treatment=t, mediator=M).ate())
    b.add("statsmodels OLS x3", sm_twostage)
    _save(b.run(repeats=args.repeats, baseline="statsmodels OLS x3", clock="cpu"))



def _dr(args, make_frontdoor_linear_data, FrontDoor, np, clone, make_folds,
        HistGradientBoostingRegressor, HistGradientBoostingClassifier):
    n = args.n_dr
    d = make_frontdoor_linear_data(n, random_state=0)
    t, W, M, y = d.treatment, d.X, d.mediator, d.y
    reg = HistGradientBoostingRegressor(max_iter=60, random_state=0)
    clf = HistGradientBoostingClassifier(max_iter=60, random_state=0)
    folds = make_folds(n, 5, stratify=t, random_state=0)

    def bare():
        TMW, MW = np.c_[t, M, W], np.c_[M, W]
        for tr, te in folds:
            m = clone(reg).fit(TMW[tr], y[tr])
            m.predict(np.c_[np.zeros(len(te)), M[te], W[te]])
            m.predict(np.c_[np.ones(len(te)), M[te], W[te]])
            clone(clf).fit(W[tr], t[tr]).predict_proba(W[te])
            clone(clf).fit(MW[tr], t[tr]).predict_proba(MW[te])
            for s in (0, 1):
                for _ in (0, 1):
                    k = tr[t[tr] == s]
                    clone(reg).fit(W[k], y[k]).predict(W[te])

    b = Benchmark("frontdoor_dr", description=f"one-step estimator, n = {n:,}, HGB learners, "
                                              "5 folds")
    b.add("causalkit", lambda: FrontDoor(method="dr", model_y=reg, model_t=clf, model_tm=clf,
                                         model_nested=reg, cv=5, random_state=0).fit(
        W, y, treatment=t, mediator=M).ate())
    b.add("bare nuisance fits", bare)
    _save(b.run(repeats=args.repeats, baseline="bare nuisance fits", clock="cpu"))


if __name__ == "__main__":
    main()
