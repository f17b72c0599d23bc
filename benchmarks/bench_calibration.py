"""Tweedie's correction for 10^6 predictions: binned-KDE analytic score vs scipy's gaussian_kde.

Data: Y ~ N(0, 1), predictions lam * Y + noise (lam = 0.6), a calibration set of
n_cal = 10,000 labelled units and m = 10^6 downstream predictions.

Candidates (same data, one process, alternating repeats):

* ``causalkit linear``: ``LinearCalibration().fit`` on the calibration set, ``transform``
  of the 10^6 predictions.
* ``causalkit tweedie``: ``TweedieCorrection().fit`` (KDE on the calibration predictions)
  and ``transform`` of the 10^6 predictions.
* ``causalkit tweedie downstream``: the same, with the KDE fitted on the 10^6 downstream
  predictions themselves (``score_fit_on="downstream"``).
* ``scipy gaussian_kde (subsample)``: ``scipy.stats.gaussian_kde`` on the calibration
  predictions and the score by a central finite difference of ``logpdf`` (the usual
  implementation), evaluated on a 10^4 subsample of the queries: its cost is
  n_cal x m, linear in m, so the full-size time is extrapolated by m / 10^4 (said in the
  notes; the scipy run on all 10^6 queries would take minutes here).

Accuracy: the maximum absolute difference between the two corrected values on the
subsample is printed and saved in the notes.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_calibration.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark
from scipy.stats import gaussian_kde

from causalkit.calibration import LinearCalibration, TweedieCorrection


def main(m=1_000_000, n_cal=10_000, sub=10_000, repeats=5):
    rng = np.random.default_rng(0)
    lam = 0.6

    def draw(n):
        y = rng.normal(size=n)
        return lam * y + np.sqrt(lam * (1 - lam)) * rng.normal(size=n), y

    pc, yc = draw(n_cal)
    pred, _ = draw(m)
    q = pred[:sub]

    def scipy_tweedie(x):
        kde = gaussian_kde(pc)
        sigma2 = np.var(pc - yc)
        d = 1e-3 * np.std(pc)
        score = (kde.logpdf(x + d) - kde.logpdf(x - d)) / (2 * d)
        return x - sigma2 * score

    bench = Benchmark("calibration", description=(
        f"Corrections of m={m:,} predictions (calibration n={n_cal:,}); scipy on a {sub:,} subsample"))
    bench.add("causalkit linear", lambda: LinearCalibration().fit(pc, yc).transform(pred))
    bench.add("causalkit tweedie", lambda: TweedieCorrection().fit(pc, yc).transform(pred))
    bench.add("causalkit tweedie downstream",
              lambda: TweedieCorrection(score_fit_on="downstream").fit(pc, yc).transform(pred))
    bench.add("scipy gaussian_kde (subsample)", lambda: scipy_tweedie(q))
    report = bench.run(repeats=repeats, baseline="scipy gaussian_kde (subsample)")
    med = report.medians
    scipy_full = med["scipy gaussian_kde (subsample)"] * m / sub
    ours = TweedieCorrection().fit(pc, yc).transform(q)
    err = float(np.max(np.abs(ours - scipy_tweedie(q))))
    bench_notes = [
        f"scipy time extrapolated to all {m:,} queries (linear in the number of queries): {scipy_full:.1f} s",
        f"speed-up of causalkit tweedie over extrapolated scipy: {scipy_full / med['causalkit tweedie']:.0f}x",
        f"speed-up of causalkit tweedie downstream (KDE on 10^6 points) over extrapolated scipy on the "
        f"10^4-point calibration KDE: {scipy_full / med['causalkit tweedie downstream']:.0f}x",
        f"max |causalkit - scipy| corrected value on the subsample: {err:.2e}",
    ]
    report.notes.extend(bench_notes)
    path = report.save()
    print(report.markdown())
    print("saved", path)


if __name__ == "__main__":
    main()
