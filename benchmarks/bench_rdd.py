"""Regression discontinuity speed: the three-way scalar table and the R3D ratio.

1. Scalar ``RDD`` with the defaults (mserd bandwidth, nearest-neighbour variance,
   robust interval) beside rdrobust (Python) and rdrobust-rust at 100,000 and
   1,000,000 units (``bench_rdd_scalar.py``; results ``rdd_scalar_<n>``).
2. ``DistributionalRDD`` (R3D) against rdrobust run once per quantile level. Data:
   100,000 units (running variable U(-1, 1), cutoff 0), 100 observations each (R3D
   package DGP 1: N(5 + 5X + 1{X >= 0}, max(|1 + X|, 0.1)^2)), 99 quantile levels,
   1,000 bootstrap draws; "fit + bands" from the raw samples. The fair peer is what a
   Python user does today: one vectorised ``np.quantile`` over the units' samples,
   then ``rdrobust`` (default MSE-optimal bandwidth, robust bias-corrected interval)
   once per quantile level; it gets pointwise intervals only (no uniform band, no
   monotone projection). "rdrobust x 99 (Q given)" is handed the quantile matrix for
   free. causalkit is timed from the raw samples (a list of arrays, one per unit) and
   from the same quantile matrix. (A per-unit ``np.quantile`` loop, the slower peer
   of earlier runs, and the ``"simple"`` method are left out to keep the run short;
   no warm-up round and no traced-memory round for the same reason.)

Process CPU time, repeats alternating, BLAS held at one thread for every candidate.
Run: ``python benchmarks/bench_rdd.py [--scalar | --r3d]`` (both by default; the R3D
part takes about four minutes, most of it in the peer). Writes
``benchmarks/results/rdd.{json,md}`` and ``rdd_scalar_<n>.{json,md}``.
"""

from __future__ import annotations

import statistics
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark  # noqa: E402

from causalkit.rdd import DistributionalRDD  # noqa: E402
from causalkit.rdd._core import empirical_quantiles  # noqa: E402


def r3d(n=100_000, n_obs=100, repeats=3):
    import rdrobust
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, n)
    Y = rng.normal(5 + 5 * x[:, None] + (x[:, None] >= 0), np.maximum(np.abs(1 + x), 0.1)[:, None],
                   (n, n_obs))
    y = list(Y)
    q = np.arange(1, 100) / 100
    Q = empirical_quantiles(y, q)

    def ck(method, data, kind):
        return lambda: DistributionalRDD(method=method, q_grid=q, n_boot=1000, random_state=0,
                                         y_kind=kind).fit(x, data)

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [rdrobust.rdrobust(Q[:, j], x).coef.iloc[1, 0] for j in range(q.shape[0])]

    def peer_vectorised():
        # the fair peer: one vectorised quantile call for all units (equal sample sizes)
        Qv = np.quantile(Y, q, axis=1).T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [rdrobust.rdrobust(Qv[:, j], x).coef.iloc[1, 0] for j in range(q.shape[0])]

    bench = Benchmark("rdd", description=f"R3D fit + bands: {n:,} units x {n_obs} obs, 99 "
                                         "quantiles, 1,000 bootstrap draws")
    bench.add("causalkit frechet (samples)", ck("frechet", y, "samples"))
    bench.add("causalkit frechet (Q given)", ck("frechet", Q, "quantiles"))
    for f in list(bench.candidates.values()):
        f()  # compile (or load) the kernels; the peers need no warm-up
    bench.add("rdrobust x 99 (Q given)", peer)
    bench.add("np.quantile (vectorised) + rdrobust x 99", peer_vectorised)
    bench.note("rdrobust returns pointwise robust intervals per quantile, no uniform band; "
               "BLAS threads held at 1 for all")
    with threadpool_limits(1):
        report = bench.run(repeats=repeats, baseline="rdrobust x 99 (Q given)", clock="cpu",
                           warmup=False, memory=False)
    cpu = {k: statistics.median(v) for k, v in report.cpu_times.items()}
    wall = {k: statistics.median(v) for k, v in report.times.items()}
    for mine, theirs in (("causalkit frechet (samples)", "np.quantile (vectorised) + rdrobust x 99"),
                         ("causalkit frechet (Q given)", "rdrobust x 99 (Q given)")):
        report.notes.append(f"R3D ratio ({theirs}) / ({mine}): {cpu[theirs] / cpu[mine]:.1f}x "
                            f"process CPU, {wall[theirs] / wall[mine]:.1f}x wall (medians)")
    print(report.markdown())
    report.save()
    return report


def scalar():
    from bench_rdd_scalar import main as scalar_main

    return [scalar_main(n, reps) for n, reps in ((100_000, 7), (1_000_000, 5))]


if __name__ == "__main__":
    if "--r3d" not in sys.argv:
        scalar()
    if "--scalar" not in sys.argv:
        r3d()
