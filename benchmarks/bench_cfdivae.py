"""CFDiVAE training speed and memory on the CPU.

Target: 20,000 rows x 30 epochs in under a minute on this 2-core CPU. Candidates, on
the same data (make_cfd_data: 2 covariates, 4 proxies): the default width (100) and
the CEVAE width (200), each with one torch thread and with torch's default threads.
The paper trains with Pyro SVI; here batches are slices of tensors held on the device
(no Python loop over rows). Memory: the peak resident set size of a fresh process
fitting 1 epoch at N = 20k, 80k and 320k rows; the growth is the data itself
(N x 7 float64 inputs plus float32 copies), not the training loop.

Run: ``python benchmarks/bench_cfdivae.py`` (writes ``benchmarks/results/cfdivae.md``);
``--quick`` (what ``benchmarks/run.py --quick`` uses) keeps one torch thread and the
default width and skips the memory probes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from harness import Benchmark

_RSS = r"""
import resource, sys, warnings
sys.path.insert(0, {root!r})
import numpy as np
from causalkit.datasets import make_cfd_data
from causalkit.frontdoor import CFDiVAE
d = make_cfd_data({n}, random_state=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    CFDiVAE(epochs=1, n_boot=2, random_state=0).fit(d.X, d.y, treatment=d.treatment,
                                                     proxies=d.proxies)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before / 1024, after / 1024)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--quick", action="store_true",
                    help="width 100 with one torch thread only, no memory probes")
    a = ap.parse_args()
    import torch

    from causalkit.datasets import make_cfd_data
    from causalkit.frontdoor import CFDiVAE

    d = make_cfd_data(a.n, random_state=0)
    default_threads = torch.get_num_threads()

    def fit(hidden, threads):
        def run():
            torch.set_num_threads(threads)
            try:
                CFDiVAE(hidden=hidden, n_boot=50, random_state=0).fit(
                    d.X, d.y, treatment=d.treatment, proxies=d.proxies)
            finally:
                torch.set_num_threads(default_threads)
        return run

    bench = Benchmark("cfdivae", f"CFDiVAE training, {a.n:,} rows x 30 epochs (batch 256), "
                                 "plus the linear two-step and a 50-replicate bootstrap.")
    for hidden in (100,) if a.quick else (100, 200):
        bench.add(f"width {hidden}, 1 torch thread", fit(hidden, 1))
        if not a.quick:
            bench.add(f"width {hidden}, {default_threads} torch threads",
                      fit(hidden, default_threads))
    report = bench.run(repeats=a.repeats, warmup=False, memory=False)
    rss = []
    for n in () if a.quick else (20_000, 80_000, 320_000):
        out = subprocess.run([sys.executable, "-c", _RSS.format(root=str(HERE.parent), n=n)],
                             capture_output=True, text=True, check=True).stdout.split()
        rss.append((n, float(out[0]), float(out[1])))
    if rss:
        report.notes.append("Peak RSS of a fresh process (MiB), before -> after fitting 1 epoch: "
                            + "; ".join(f"N={n:,}: {b:.0f} -> {c:.0f} (+{c - b:.0f})"
                                        for n, b, c in rss))
    report.notes.append(f"Machine load at the time: os.getloadavg() = "
                        f"{tuple(round(x, 1) for x in os.getloadavg())} (wall times include "
                        "other jobs' contention; the CPU column does not).")
    path = report.save()
    print(report.markdown())
    print("saved", path)


if __name__ == "__main__":
    main()
