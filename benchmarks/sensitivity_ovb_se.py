"""Monte Carlo check of the OVB bounds' standard errors (ours against DoubleML's convention).

The lower bound theta - c S has influence function IF(theta) - c IF(S) (delta method).
DoubleML 0.11 builds its lower-bound SE from IF(theta) + c IF(S) (the score divided by
mean(psi_a) = -1, minus the bias term), so its lower and upper SEs are our upper and lower.
This script compares both with the Monte Carlo SD of the bounds over replicates.
Run: python benchmarks/sensitivity_ovb_se.py [--reps 300]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from harness import RESULTS, library_versions, machine_facts, write_summary  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)

    import warnings

    import numpy as np
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data
    from causalkit.sensitivity import ovb_bounds

    warnings.simplefilter("ignore")
    rows = []
    for cf in (0.1, 0.3):
        lo, hi, se_lo, se_hi = [], [], [], []
        for r in range(args.reps):
            d = make_ate_data(args.n, random_state=500 + r)
            est = AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=r).fit(
                d.X, d.y, treatment=d.treatment)
            b = ovb_bounds(est, cf_y=cf, cf_d=cf, rho=1.0)
            lo.append(b.lower.value)
            hi.append(b.upper.value)
            se_lo.append(b.lower.stderr)
            se_hi.append(b.upper.stderr)
        sd_lo, sd_hi = float(np.std(lo, ddof=1)), float(np.std(hi, ddof=1))
        rows.append({"cf_y=cf_d": cf, "reps": args.reps, "mc_sd_lower": sd_lo,
                     "mc_sd_lower_se": sd_lo / np.sqrt(2 * (args.reps - 1)),
                     "mean_se_lower_ours": float(np.mean(se_lo)),
                     "mean_se_lower_doubleml_convention": float(np.mean(se_hi)),
                     "mc_sd_upper": sd_hi, "mean_se_upper_ours": float(np.mean(se_hi)),
                     "mean_se_upper_doubleml_convention": float(np.mean(se_lo))})
        print(rows[-1], flush=True)
    out = {"name": "sensitivity_ovb_se", "n": args.n, "rows": rows, "machine": machine_facts(),
           "versions": library_versions()}
    (RESULTS / "sensitivity_ovb_se.json").write_text(json.dumps(out, indent=2))
    lines = ["## sensitivity_ovb_se", "",
             f"SE of the OVB bounds (rho = 1), make_ate_data n={args.n}, AIPW with linear "
             "nuisances, 2 folds. Monte Carlo SD of the bound (± its own MC SE) against the mean "
             "reported SE, ours (delta method) and DoubleML 0.11's sign convention.", "",
             "| cf_y = cf_d | reps | MC SD lower | mean SE lower, ours | mean SE lower, DoubleML "
             "convention | MC SD upper | mean SE upper, ours | mean SE upper, DoubleML convention |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['cf_y=cf_d']:g} | {r['reps']} | {r['mc_sd_lower']:.4f} ± "
                     f"{r['mc_sd_lower_se']:.4f} | {r['mean_se_lower_ours']:.4f} | "
                     f"{r['mean_se_lower_doubleml_convention']:.4f} | {r['mc_sd_upper']:.4f} | "
                     f"{r['mean_se_upper_ours']:.4f} | {r['mean_se_upper_doubleml_convention']:.4f} |")
    (RESULTS / "sensitivity_ovb_se.md").write_text("\n".join(lines) + "\n")
    write_summary()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
