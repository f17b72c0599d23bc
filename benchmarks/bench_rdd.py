"""Speed of DistributionalRDD against rdrobust run once per quantile level.

Data: 100,000 units (running variable U(-1, 1), cutoff 0), 100 observations each
(R3D package DGP 1: N(5 + 5X + 1{X >= 0}, max(|1 + X|, 0.1)^2)), 99 quantile
levels, 1,000 bootstrap draws; "fit + bands" from the raw samples.

The peer is what a Python user does today: compute each unit's quantiles, then call
``rdrobust`` (default MSE-optimal bandwidth, robust bias-corrected interval) once
per quantile level. It gets pointwise intervals only (no uniform band, no
monotone projection). The peer is handed the quantile matrix for free (not timed)
in "rdrobust x 99 (Q given)"; "np.quantile per unit + rdrobust x 99" times the whole
pipeline from the raw samples. causalkit is timed both from the raw samples and from
the same quantile matrix.

Run: ``python benchmarks/bench_rdd.py`` (takes about five minutes, most of it in the peer).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark

from causalkit.rdd import DistributionalRDD
from causalkit.rdd._core import empirical_quantiles


def main(n=100_000, n_obs=100, repeats=3):
    import rdrobust

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

    def peer_full():
        Qp = np.array([np.quantile(s, q) for s in y])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [rdrobust.rdrobust(Qp[:, j], x).coef.iloc[1, 0] for j in range(q.shape[0])]

    bench = Benchmark("rdd", description=f"R3D fit + bands: {n:,} units x {n_obs} obs, 99 quantiles, "
                                         "1,000 bootstrap draws")
    bench.add("causalkit frechet (samples)", ck("frechet", y, "samples"))
    bench.add("causalkit simple (samples)", ck("simple", y, "samples"))
    bench.add("causalkit frechet (Q given)", ck("frechet", Q, "quantiles"))
    bench.add("causalkit simple (Q given)", ck("simple", Q, "quantiles"))
    bench.add("rdrobust x 99 (Q given)", peer)
    bench.add("np.quantile (vectorised) + rdrobust x 99", peer_vectorised)
    bench.add("np.quantile per unit + rdrobust x 99", peer_full)
    bench.note("rdrobust gets the quantile matrix precomputed (untimed); it returns pointwise "
               "robust intervals per quantile, no uniform band.")
    report = bench.run(repeats=repeats, baseline="rdrobust x 99 (Q given)", clock="cpu")
    med = report.medians
    for peer_name in ("np.quantile (vectorised) + rdrobust x 99",
                      "np.quantile per unit + rdrobust x 99"):
        ratio = med[peer_name] / med["causalkit frechet (samples)"]
        report.notes.append(f"R3D ratio, process CPU: ({peer_name}) / (causalkit frechet, "
                            f"samples) = {ratio:.1f}x")
    print(report.markdown())
    report.save()


if __name__ == "__main__":
    if "--scalar" in sys.argv:
        # the three-way scalar table (causalkit, rdrobust, rdrobust-rust)
        from bench_rdd_scalar import main as scalar_main

        for n in (100_000, 1_000_000):
            scalar_main(n)
    else:
        main()
