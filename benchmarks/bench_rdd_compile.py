"""First-call cost of the RDD numba kernels: compile with an empty cache, then load from
the on-disk cache, each in a fresh process.

Each child process imports causalkit, times its first fit (import of the kernels plus
compile or cache load plus the fit) and a second identical fit (the fit alone); the
difference is the one-off cost. A small ``RDD`` fit compiles one kernel (the
nearest-neighbour residuals); a side of 40,000 units or more also takes its window
moments from a compiled kernel, whose cost the last row shows (the earlier rows
already paid for numba's import and the first kernel). The numba cache directory is a fresh temporary folder,
so the first child compiles and the second loads what the first wrote.

Run: ``python benchmarks/bench_rdd_compile.py``. Writes
``benchmarks/results/rdd_compile.{json,md}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"

CHILD = r"""
import json, sys, time
import numpy as np
from causalkit.datasets import make_r3d_data, make_rdd_data
from causalkit.rdd import RDD, DistributionalRDD
d = make_rdd_data(2000, effect=0.5, random_state=0)
big = make_rdd_data(100_000, effect=0.5, random_state=0)
r = make_r3d_data(300, n_obs=20, delta=1.0, random_state=0)
out = {}
for name, f in (("RDD", lambda: RDD().fit(d.X, d.y)),
                ("DistributionalRDD", lambda: DistributionalRDD(q_grid=r.q_grid, n_boot=100,
                                                                random_state=0).fit(r.X, r.y)),
                ("RDD, 100,000 units (after the above)", lambda: RDD().fit(big.X, big.y))):
    t0 = time.process_time(); f(); t1 = time.process_time(); f(); t2 = time.process_time()
    out[name] = {"first_s": t1 - t0, "second_s": t2 - t1, "one_off_s": (t1 - t0) - (t2 - t1)}
print(json.dumps(out))
"""


def main():
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        runs = {}
        for label in ("empty cache (compile)", "warm on-disk cache"):
            res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                                 text=True, check=True)
            runs[label] = json.loads(res.stdout.strip().splitlines()[-1])
    lines = ["## rdd_compile", "", "One-off cost of the first fit in a fresh process "
             "(process CPU seconds; first fit minus a second identical fit).", "",
             "| estimator | cache | first fit s | second fit s | one-off s |",
             "|---|---|---:|---:|---:|"]
    for label, res in runs.items():
        for est, v in res.items():
            lines.append(f"| {est} | {label} | {v['first_s']:.3f} | {v['second_s']:.3f} | "
                         f"{v['one_off_s']:.3f} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rdd_compile.json").write_text(json.dumps(runs, indent=2))
    (RESULTS / "rdd_compile.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
