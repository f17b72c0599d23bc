"""Speed of the corrections on 10^6 predictions, against a scipy ``gaussian_kde`` score.

The score of Tweedie's correction, d/dy log p(y), is computed by causalkit on a linearly
binned grid with the kernel's analytic derivative: O(n + G log G). The reference
computation is the direct one: ``scipy.stats.gaussian_kde`` fitted on the same
predictions and its ``logpdf`` differenced centrally (two evaluations, O(n_fit * n_query)
each). The direct computation on 10^6 queries would take minutes to hours, so it is timed
on the first ``--scipy-queries`` queries and scaled linearly in the number of queries
(its cost is exactly linear in them); the report says so.

Cases, with the calibration density (the default, fitted on ``--n-cal`` calibration
predictions) and with the downstream density (fitted on the 10^6 predictions themselves,
where the direct cost is quadratic).

Run: ``python benchmarks/bench_calibration.py`` (writes ``benchmarks/results/calibration.md``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from harness import Benchmark
from scipy.stats import gaussian_kde

from causalkit.calibration import LinearCalibration, TweedieCorrection


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--n-cal", type=int, default=10_000)
    ap.add_argument("--scipy-queries", type=int, default=2_000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    y_cal = rng.normal(size=a.n_cal)
    p_cal = 0.6 * y_cal + 0.5 * rng.normal(size=a.n_cal)
    pred = 0.6 * rng.normal(size=a.n) + 0.5 * rng.normal(size=a.n)
    q = pred[:a.scipy_queries]
    delta = 1e-3 * np.std(p_cal)

    def scipy_score(fit_on, query):
        kde = gaussian_kde(fit_on)
        return (kde.logpdf(query + delta) - kde.logpdf(query - delta)) / (2 * delta)

    bench = Benchmark("calibration",
                      f"Corrections of {a.n:,} predictions (calibration set {a.n_cal:,}); scipy "
                      f"timed on {a.scipy_queries:,} queries.")
    bench.add("linear calibration: fit + transform",
              lambda: LinearCalibration().fit(p_cal, y_cal).transform(pred))
    bench.add("Tweedie, calibration density: fit + transform",
              lambda: TweedieCorrection().fit(p_cal, y_cal).transform(pred))
    bench.add("Tweedie, downstream density: fit + transform",
              lambda: TweedieCorrection(score_fit_on="downstream").fit(p_cal, y_cal).transform(pred))
    bench.add(f"scipy score, calibration density, {a.scipy_queries:,} queries",
              lambda: scipy_score(p_cal, q))
    sub = pred[:a.scipy_queries]
    bench.add(f"scipy score, downstream density, {a.scipy_queries:,} x {a.scipy_queries:,}",
              lambda: scipy_score(sub, sub))
    report = bench.run(repeats=a.repeats, warmup=True, clock="cpu", memory=False,
                       baseline="Tweedie, calibration density: fit + transform")

    med = report.medians
    labels = list(med)
    ours_cal, ours_down = med[labels[1]], med[labels[2]]
    scale = a.n / a.scipy_queries
    scipy_cal = med[labels[3]] * scale
    scipy_down = med[labels[4]] * scale**2
    # accuracy: our score against the direct one on the timed queries
    tw = TweedieCorrection().fit(p_cal, y_cal)
    err = np.max(np.abs(tw.score(q) - scipy_score(p_cal, q)))
    report.notes += [
        f"scipy extrapolated to {a.n:,} queries: calibration density {scipy_cal:.1f} s "
        f"(x{scale:.0f}, linear in queries) -> causalkit is {scipy_cal / ours_cal:.0f}x faster; "
        f"downstream density {scipy_down:.0f} s (x{scale**2:.0f}, quadratic) -> "
        f"{scipy_down / ours_down:.0f}x.",
        f"Largest absolute difference of the scores on the timed queries: {err:.2e} "
        "(binning + interpolation against central differences of the exact density).",
        "Target: corrections of 10^6 predictions in under one second.",
    ]
    path = report.save()
    print(report.markdown())
    print("saved", path)


if __name__ == "__main__":
    main()
