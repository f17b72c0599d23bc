"""AIPW: causalkit against DoubleML's IRM and the bare cross-fitted nuisance fits.

Same data, same learners (LightGBM), same number of folds; repeats alternate.
Run: python benchmarks/bench_aipw.py [--n 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from harness import Benchmark, write_summary  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import doubleml as dml
    from lightgbm import LGBMClassifier, LGBMRegressor

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
        data = dml.DoubleMLData.from_arrays(X, y, t)
        m = dml.DoubleMLIRM(data, ml_g=reg, ml_m=clf, n_folds=5, trimming_threshold=0.01)
        m.set_sample_splitting([(tr, te) for tr, te in folds])
        m.fit()
        out["doubleml"] = (float(m.coef[0]), float(m.se[0]))

    bench = Benchmark("aipw", f"AIPW ATE, n={args.n:,}, p={args.p}, 5 folds, LightGBM nuisances "
                              "(100 trees); same folds for all")
    bench.add("bare nuisance fits", bare).add("causalkit AIPW", causalkit_aipw)
    bench.add("DoubleML IRM", doubleml_irm)
    report = bench.run(repeats=args.repeats, baseline="bare nuisance fits")
    ck, (dv, dse) = out["causalkit"], out["doubleml"]
    report.notes.append(f"estimates: causalkit {ck.value:.4f} (SE {ck.stderr:.4f}); "
                        f"DoubleML {dv:.4f} (SE {dse:.4f}); truth {d.true_ate}")
    path = report.save()
    write_summary()
    print(report.markdown())
    print(f"written to {path}")


if __name__ == "__main__":
    main()
