"""Coverage of 95% intervals with and without the calibration step's uncertainty.

``make_calibration_data`` (shrinkage 0.5, noise 0.5, true ATE 1, true mean 0.5):
3,000 downstream units and a small calibration set of 200 units per replication.
For LinearCalibration and TweedieCorrection, Hajek ATE with the true propensities,
and for LinearCalibration the mean, the interval from ``calibration_uncertainty=True``
(downstream influence function + calibration bootstrap, 100 refits) and ``False``
(calibration held fixed, as in the original method).

Run:  OMP_NUM_THREADS=1 python benchmarks/calibration_coverage.py [reps]   (300 reps: ~3 min)
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causalkit.calibration import LinearCalibration, TweedieCorrection, corrected_ate, corrected_mean  # noqa: E402
from causalkit.datasets import make_calibration_data  # noqa: E402


def main(reps=300):
    warnings.simplefilter("ignore")
    t0 = time.time()
    keys = ["ATE linear", "ATE tweedie", "mean linear"]
    res = {(k, cu): [] for k in keys for cu in (True, False)}
    for r in range(reps):
        d = make_calibration_data(3000, n_calibration=200, ate=1.0, random_state=r)
        for name, c in (("linear", LinearCalibration()), ("tweedie", TweedieCorrection(grid_size=1024))):
            c.fit(d.calibration_predictions, d.calibration_truth)
            for cu in (True, False):
                e = corrected_ate(c, d.predictions, d.treatment, propensity=d.propensity,
                                  calibration_uncertainty=cu, n_boot=100, random_state=r)
                lo, hi = e.conf_int()
                res[("ATE " + name, cu)].append((lo < d.true_ate < hi, e.value - d.true_ate, e.stderr))
                if name == "linear":
                    e = corrected_mean(c, d.predictions, calibration_uncertainty=cu, n_boot=100, random_state=r)
                    lo, hi = e.conf_int()
                    res[("mean linear", cu)].append((lo < d.true_mean < hi, e.value - d.true_mean, e.stderr))
    lines = ["## Calibration: coverage with and without calibration uncertainty", "",
             f"{reps} replications, n = 3000 downstream, 200 calibration units; {time.time() - t0:.0f} s.", "",
             "| target, correction | SE | coverage | bias | sd of estimate | mean SE |", "|---|---|---:|---:|---:|---:|"]
    for k in keys:
        for cu in (True, False):
            v = np.array(res[(k, cu)], dtype=float)
            lines.append(f"| {k} | {'with calibration' if cu else 'held fixed'} | {v[:, 0].mean():.3f} | "
                         f"{v[:, 1].mean():+.4f} | {v[:, 1].std():.4f} | {v[:, 2].mean():.4f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).resolve().parent / "results" / "calibration_coverage.md"
    out.write_text(text)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
