"""Sensitivity bounds: cost of a 20-value Γ grid and of OVB bounds against one AIPW fit.

The bounds read the fitted AIPW (out-of-fold nuisances, folds) and never refit its
nuisances; only the Γ-bounds' expectile sieve and nu are fitted (linear in X). Candidates
run on the same data in one process, repeats alternating, on the CPU clock.
Run: python benchmarks/bench_sensitivity.py [--n 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from harness import Benchmark, write_summary  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import numpy as np
    from lightgbm import LGBMClassifier, LGBMRegressor

    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data
    from causalkit.sensitivity import gamma_bounds, ovb_bounds

    d = make_ate_data(args.n, n_features=args.p, random_state=0)
    reg = LGBMRegressor(n_estimators=100, num_leaves=31, verbose=-1, n_jobs=1, random_state=0)
    clf = LGBMClassifier(n_estimators=100, num_leaves=15, verbose=-1, n_jobs=1, random_state=0)
    make = (lambda: AIPW(reg, clf, cv=5, random_state=0))
    est = make().fit(d.X, d.y, treatment=d.treatment)
    grid = np.exp(np.linspace(0.0, np.log(5.0), 20))
    out = {}

    bench = Benchmark(
        "sensitivity",
        description=(f"Sensitivity bounds after one AIPW fit, n={args.n:,}, p={args.p}, 5 folds, "
                     "LightGBM nuisances (100 trees, 1 thread); Γ grid of 20 values in [1, 5]"))
    bench.add("AIPW fit", lambda: make().fit(d.X, d.y, treatment=d.treatment))
    bench.add("gamma_bounds, 20 Γ", lambda: out.__setitem__("g", gamma_bounds(est, d.X, gamma=grid)))
    bench.add("ovb_bounds", lambda: out.__setitem__("o", ovb_bounds(est, cf_y=0.03, cf_d=0.03)))
    report = bench.run(repeats=args.repeats, baseline="AIPW fit", clock="cpu")
    g, o = out["g"], out["o"]
    report.notes.append(
        f"ATE {est.ate().value:.4f} (truth {d.true_ate}); Γ=5 bounds [{g.lower.values[-1]:.4f}, "
        f"{g.upper.values[-1]:.4f}]; OVB bounds (0.03, 0.03, 1) [{o.lower.value:.4f}, "
        f"{o.upper.value:.4f}]")
    report.notes.append("AIPW's final stage is a mean of scores (microseconds), so the ratio is "
                        "taken to the whole AIPW fit.")
    path = report.save()
    write_summary()
    print(path.read_text())


if __name__ == "__main__":
    main()
