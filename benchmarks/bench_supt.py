"""Joint (sup-t) intervals against the fit they come from, at n = 10^4.

An R-learner with linear nuisances and a linear final model (the cheapest fit, so the
hardest ratio) is fitted on n rows; then joint intervals are asked for three ways:
the group effects (6 rows), the CATE coefficients (p + 1 rows) and a uniform band
for the CATE at 1,000 new rows. The sup-t cache is cleared before every call, so
each one pays for its Monte Carlo draws (100,000 by default). ``previous`` is the
former implementation (multivariate normal draws in the dimension of the table, a
full quantile), kept here as a reference. Process CPU time, one inner thread.

Run: python benchmarks/bench_supt.py [--n 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

# One OpenMP/BLAS thread from the start: a pool started with more threads and capped
# later keeps an idle thread spinning, which inflates CPU time on a busy machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from harness import Benchmark  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)

    from sklearn.linear_model import LinearRegression, LogisticRegression

    import causalkit
    from causalkit.datasets import make_cate_data
    from causalkit.hte import RLearner
    from causalkit.inference import _results

    d = make_cate_data(a.n, random_state=0)

    def fit():
        return RLearner(LinearRegression(), LogisticRegression(), LinearRegression(), cv=5,
                        random_state=0).fit(d.X, d.y, treatment=d.treatment)

    est = fit()
    gates, coefs = est.group_effects(), est.coef_table()
    Xnew = d.X[:1000]

    def fresh(f):
        def run():
            _results._SUP_T_CACHE.clear()
            return f()
        return run

    def previous():
        cov = gates.cov
        sd = np.sqrt(np.diag(cov))
        z = np.random.default_rng(0).multivariate_normal(
            np.zeros(len(sd)), cov / np.outer(sd, sd), size=100_000, method="eigh")
        return float(np.quantile(np.abs(z).max(axis=1), 0.95))

    bench = Benchmark("supt", f"Joint intervals after an R-learner fit (linear nuisances and "
                              f"final model), n={a.n:,}, p={d.X.shape[1]}")
    bench.add("fit", fit)
    bench.add("joint: group effects (6 rows)", fresh(lambda: gates.conf_int(joint=True)))
    bench.add("joint: coefficients", fresh(lambda: coefs.conf_int(joint=True)))
    bench.add("uniform band: CATE at 1,000 rows",
              fresh(lambda: est.cate_inference(Xnew).conf_int(kind="uniform")))
    bench.add("previous: group effects (6 rows)", previous)
    with causalkit.config_context(n_threads=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = bench.run(repeats=a.repeats, baseline="fit", memory=False, clock="cpu")
    report.notes.append("target: every joint interval <= 0.5 x the fit (process CPU time)")
    report.save()
    print(report.markdown())


if __name__ == "__main__":
    main()
