"""Many outcomes on one running variable: ``rd_batch`` against a loop of ``RDD`` fits.

Both give the same numbers (each outcome its own bandwidth); ``rd_batch`` validates,
sorts and splits the data once. Data: ``make_rdd_data`` with ``k`` outcomes (the Lee
outcome plus noise and a linear term). Ratios use process CPU time; BLAS is held
at one thread.

Run: ``python benchmarks/bench_rdd_batch.py [n] [k] [repeats]`` (default 100,000, 10,
3). Writes ``benchmarks/results/rdd_batch_<n>.{json,md}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark  # noqa: E402

from causalkit.datasets import make_rdd_data  # noqa: E402
from causalkit.rdd import RDD, rd_batch  # noqa: E402


def main(n=100_000, k=10, repeats=3):
    d = make_rdd_data(n, effect=0.5, random_state=0)
    rng = np.random.default_rng(0)
    x = np.ascontiguousarray(d.X[:, 0])
    Y = d.y[:, None] + 0.3 * rng.normal(size=(n, k)) + x[:, None] * rng.normal(size=k)
    bench = Benchmark(f"rdd_batch_{n}",
                      description=f"{k} outcomes on one running variable, defaults, n={n:,}")
    RDD().fit(x, Y[:, 0])  # compile (or load) the numba kernels outside the timing
    bench.add("causalkit rd_batch", lambda: rd_batch(x, Y))
    bench.add("loop of RDD().fit", lambda: [RDD().fit(x, Y[:, j]).effect() for j in range(k)])
    a = rd_batch(x, Y).values
    b = np.array([RDD().fit(x, Y[:, j]).effect().value for j in range(k)])
    bench.note(f"largest difference between the two: {np.max(np.abs(a - b)):.2e}")
    from threadpoolctl import threadpool_limits

    bench.note("BLAS threads held at 1 for both")
    with threadpool_limits(1):
        report = bench.run(repeats=repeats, baseline="loop of RDD().fit", clock="cpu")
    report.save()
    print(report.markdown())


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
