"""Speed of the scalar RDD against rdrobust (Python) and rdrobust-rust on the same data.

Default options everywhere: MSE-optimal bandwidth (mserd), triangular kernel, p = 1,
nearest-neighbour variance, robust bias-corrected interval. Data: ``make_rdd_data``
(the Lee design), sharp. Ratios use process CPU time (the machine is shared).

Run: ``python benchmarks/bench_rdd_scalar.py [n] [repeats]`` (default n = 100,000,
3 repeats). Writes ``benchmarks/results/rdd_scalar_<n>.{json,md}``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark  # noqa: E402

from causalkit.datasets import make_rdd_data  # noqa: E402
from causalkit.rdd import RDD  # noqa: E402


def main(n=100_000, repeats=3):
    import rdrobust

    d = make_rdd_data(n, effect=0.5, random_state=0)
    x, y = np.ascontiguousarray(d.X[:, 0]), np.ascontiguousarray(d.y)
    bench = Benchmark(f"rdd_scalar_{n}",
                      description=f"scalar RDD, defaults (mserd, nn, robust CI), n={n:,}")

    def ck():
        return RDD().fit(x, y).effect().conf_int()

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rdrobust.rdrobust(y, x).ci

    RDD().fit(x[:2000], y[:2000])  # compile the numba kernels outside the timing
    bench.add("causalkit RDD", ck)
    bench.add("rdrobust", peer)
    try:
        import rdrobust_rust

        bench.add("rdrobust-rust", lambda: rdrobust_rust.rdrobust(y, x))
    except ImportError:
        bench.note("rdrobust-rust is not installed: left out")
    a, b = ck(), peer()
    bench.note(f"robust CI causalkit {a}, rdrobust {tuple(b.values[2])}")
    report = bench.run(repeats=repeats, baseline="rdrobust", clock="cpu")
    report.save()
    print(report.markdown())


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
