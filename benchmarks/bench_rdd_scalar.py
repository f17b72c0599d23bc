"""Speed of the scalar RDD against rdrobust (Python) and rdrobust-rust on the same data.

Default options everywhere: MSE-optimal bandwidth (mserd), triangular kernel, p = 1,
nearest-neighbour variance, robust bias-corrected interval. Data: ``make_rdd_data``
(the Lee design), sharp. One process, repeats alternating between the three; ratios
use process CPU time (the machine is shared), wall time is reported beside it. BLAS
is held to one thread for every candidate (threadpoolctl), so that CPU time measures
work, not threads waiting for a busy core. The numba kernels are compiled (or loaded
from the disk cache) before timing; ``bench_rdd_compile.py`` reports that cost.

Run: ``python benchmarks/bench_rdd_scalar.py [n] [repeats]`` (default n = 100,000,
5 repeats). Writes ``benchmarks/results/rdd_scalar_<n>.{json,md}``.
"""

from __future__ import annotations

import statistics
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark  # noqa: E402

from causalkit.datasets import make_rdd_data  # noqa: E402
from causalkit.rdd import RDD  # noqa: E402


def main(n=100_000, repeats=5):
    import rdrobust
    import rdrobust_rust
    from threadpoolctl import threadpool_limits

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

    def rust():
        return rdrobust_rust.rdrobust(y, x)

    RDD().fit(x, y)  # compile (or load) the numba kernels outside the timing
    bench.add("causalkit RDD", ck)
    bench.add("rdrobust", peer)
    bench.add("rdrobust-rust", rust)
    a, b = ck(), peer()
    bench.note(f"robust CI causalkit {tuple(float(v) for v in a)}, rdrobust "
               f"{tuple(float(v) for v in b.values[2])}")
    bench.note(f"rdrobust-rust {version('rdrobust-rust')}; BLAS threads held at 1 for all")
    with threadpool_limits(1):
        report = bench.run(repeats=repeats, baseline="rdrobust", clock="cpu")
    med_cpu = {k: statistics.median(v) for k, v in report.cpu_times.items()}
    med_wall = {k: statistics.median(v) for k, v in report.times.items()}
    for peer_name in ("rdrobust", "rdrobust-rust"):
        report.notes.append(
            f"speed-up of causalkit over {peer_name}: "
            f"{med_cpu[peer_name] / med_cpu['causalkit RDD']:.2f}x process CPU, "
            f"{med_wall[peer_name] / med_wall['causalkit RDD']:.2f}x wall (medians)")
    report.save()
    print(report.markdown())
    return report


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
