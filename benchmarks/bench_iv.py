"""InvalidIV (multiply debiased ML) against the bare cost of its cross-fitted nuisance fits.

Same data, same LightGBM learners (one thread), same folds; repeats alternate; ratios on
process CPU time, wall time beside it. The bare loop fits
the three nuisances (instrument, treatment on [X, Z], outcome on [X, A, Z]) on every
training fold and makes the same held-out predictions InvalidIV needs (the treatment
model at Z = 0, 1; the outcome model at the four (A, Z) cells), with nothing else.
With ``--selective`` it also times selective ML over three candidates per block
against the bare fits of all nine candidates.

Run: python benchmarks/bench_iv.py [--n 100000] [--p 20] [--repeats 3] [--selective]
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


def _bare(folds, X, y, a, z, learners):
    import numpy as np
    from sklearn.base import clone

    n = X.shape[0]
    XZ = np.c_[X, z]
    Xz = [np.c_[X, np.full(n, float(v))] for v in (0, 1)]
    XAZ = np.c_[X, a, z]
    Xaz = [np.c_[X, np.full(n, float(u)), np.full(n, float(v))] for u in (0, 1) for v in (0, 1)]
    for train, test in folds:
        for m in learners["instrument"]:
            clone(m).fit(X[train], z[train]).predict_proba(X[test])
        for m in learners["treatment"]:
            f = clone(m).fit(XZ[train], a[train])
            for M in Xz:
                f.predict_proba(M[test])
        for m in learners["outcome"]:
            f = clone(m).fit(XAZ[train], y[train])
            for M in Xaz:
                f.predict(M[test])


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--selective", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np
    from lightgbm import LGBMClassifier, LGBMRegressor

    from causalkit._crossfit import make_folds
    from causalkit.datasets import make_invalid_iv_data
    from causalkit.iv import InvalidIV

    d = make_invalid_iv_data(args.n, random_state=0)
    rng = np.random.default_rng(0)
    X = np.c_[d.X, rng.normal(size=(args.n, args.p - 1))]  # the confounder plus noise columns
    y, a, z = d.y, d.treatment.astype(float), d.instrument.astype(float)
    clf = LGBMClassifier(n_estimators=100, num_leaves=8, min_child_samples=200, learning_rate=0.05,
                         verbose=-1, n_jobs=1, random_state=0)
    reg = LGBMRegressor(n_estimators=100, num_leaves=15, min_child_samples=100, learning_rate=0.05,
                        verbose=-1, n_jobs=1, random_state=0)
    folds = make_folds(args.n, 5, stratify=(2 * z + a).astype(int), random_state=0)
    single = {"instrument": [clf], "treatment": [clf], "outcome": [reg]}
    out = {}

    def causalkit_mdml():
        out["mdml"] = InvalidIV(clf, clf, reg, cv=folds, random_state=0).fit(
            X, y, treatment=a, instrument=z).ate()

    bench = Benchmark("iv", f"InvalidIV MDML, n={args.n:,}, p={args.p}, 5 folds, LightGBM "
                            "nuisances (100 trees); same folds for both")
    bench.add("bare nuisance fits", lambda: _bare(folds, X, y, a, z, single))
    bench.add("causalkit InvalidIV (mdml)", causalkit_mdml)
    report = bench.run(repeats=args.repeats, baseline="bare nuisance fits", clock="cpu")
    e = out["mdml"]
    report.notes.append(f"estimate {e.value:.4f} (SE {e.stderr:.4f}); truth {d.true_ate}")
    path = report.save()
    print(report.markdown())
    print(f"written to {path}")

    if args.selective:
        cands = {
            "instrument": [clf, LGBMClassifier(n_estimators=50, num_leaves=4, min_child_samples=400,
                                               verbose=-1, n_jobs=1, random_state=0),
                           LGBMClassifier(n_estimators=200, num_leaves=8, min_child_samples=200,
                                          learning_rate=0.025, verbose=-1, n_jobs=1, random_state=0)],
            "treatment": [clf, LGBMClassifier(n_estimators=50, num_leaves=4, min_child_samples=400,
                                              verbose=-1, n_jobs=1, random_state=0),
                          LGBMClassifier(n_estimators=200, num_leaves=8, min_child_samples=200,
                                         learning_rate=0.025, verbose=-1, n_jobs=1, random_state=0)],
            "outcome": [reg, LGBMRegressor(n_estimators=50, num_leaves=7, verbose=-1, n_jobs=1,
                                           random_state=0),
                        LGBMRegressor(n_estimators=200, num_leaves=15, learning_rate=0.025,
                                      verbose=-1, n_jobs=1, random_state=0)],
        }

        def selective():
            est = InvalidIV(learners=cands, cv=folds, random_state=0).fit(
                X, y, treatment=a, instrument=z)
            out["sel"] = (est.ate(), est.diagnostics_["n_fits"])

        sb = Benchmark("iv_selective", f"InvalidIV selective ML, 3 candidates per block (27 "
                                       f"combinations), n={args.n:,}, p={args.p}, 5 folds")
        sb.add("bare fits of the 9 candidates", lambda: _bare(folds, X, y, a, z, cands))
        sb.add("causalkit InvalidIV (selective)", selective)
        rep = sb.run(repeats=max(1, args.repeats - 1), baseline="bare fits of the 9 candidates",
                     clock="cpu")
        est, fits = out["sel"]
        rep.notes.append(f"{fits} model fits (5 folds x 9 candidates); refitting each of the 27 "
                         f"combinations would need 405. Selected estimate {est.value:.4f} "
                         f"(SE {est.stderr:.4f}); truth {d.true_ate}")
        print(rep.markdown())
        print(f"written to {rep.save()}")
    write_summary()


if __name__ == "__main__":
    main()
