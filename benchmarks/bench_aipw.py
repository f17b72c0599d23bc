"""AIPW: causalkit against DoubleML's IRM and the bare cross-fitted nuisance fits.

Same data, same learners (LightGBM, one thread), same folds; repeats alternate between
candidates; ratios on process CPU time (wall time beside it), every candidate run under
``causalkit.config_context(n_threads=1)``.
Run: python benchmarks/bench_aipw.py [--n 100000] [--repeats 3] [--no-peers]
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


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true", help="skip DoubleML")
    args = parser.parse_args(argv)

    from lightgbm import LGBMClassifier, LGBMRegressor

    import causalkit
    from causalkit._crossfit import make_folds
    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(args.n, n_features=args.p, random_state=0)
    X, y, t = d.X, d.y, d.treatment
    reg = LGBMRegressor(n_estimators=100, num_leaves=31, verbose=-1, n_jobs=1, random_state=0)
    clf = LGBMClassifier(n_estimators=100, num_leaves=15, verbose=-1, n_jobs=1, random_state=0)
    folds = make_folds(args.n, 5, stratify=t, random_state=0)
    out = {}

    def bare():
        from sklearn.base import clone

        for train, test in folds:
            for arm in (0, 1):
                tr = train[t[train] == arm]
                clone(reg).fit(X[tr], y[tr]).predict(X[test])
            clone(clf).fit(X[train], t[train]).predict_proba(X[test])

    def causalkit_aipw():
        out["causalkit"] = AIPW(reg, clf, cv=5, random_state=0).fit(X, y, treatment=t).ate()

    def doubleml_irm():
        import doubleml as dml

        data = dml.DoubleMLData.from_arrays(X, y, t)
        m = dml.DoubleMLIRM(data, ml_g=reg, ml_m=clf, n_folds=5, trimming_threshold=0.01)
        m.set_sample_splitting([(tr, te) for tr, te in folds])
        m.fit()
        out["doubleml"] = (float(m.coef[0]), float(m.se[0]))

    bench = Benchmark("aipw", f"AIPW ATE, n={args.n:,}, p={args.p}, 5 folds, LightGBM nuisances "
                              "(100 trees); same folds for all")
    bench.add("bare nuisance fits", bare).add("causalkit AIPW", causalkit_aipw)
    if not args.no_peers:
        bench.add("DoubleML IRM", doubleml_irm)
    with causalkit.config_context(n_threads=1):
        report = bench.run(repeats=args.repeats, baseline="bare nuisance fits", clock="cpu")
    ck = out["causalkit"]
    note = f"estimates: causalkit {ck.value:.4f} (SE {ck.stderr:.4f})"
    if "doubleml" in out:
        dv, dse = out["doubleml"]
        note += f"; DoubleML {dv:.4f} (SE {dse:.4f})"
    report.notes.append(note + f"; truth {d.true_ate}")
    report.notes.append("clock: process CPU time, one inner thread for every candidate "
                        "(causalkit.config_context(n_threads=1), LightGBM n_jobs=1)")
    path = report.save()
    write_summary()
    print(report.markdown())
    print(f"written to {path}")


if __name__ == "__main__":
    main()
