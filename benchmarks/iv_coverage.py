"""Coverage of 95% confidence intervals of InvalidIV on make_invalid_iv_data (truth 1.0).

For each replication (n = 5,000 by default): the multiply robust estimator with
correct working models (features [X, tanh X], linear probability treatment model,
constant effect), the multiply debiased ML estimator with its default learners
(on X), and 2SLS (which assumes exclusion). Reports bias, the Monte Carlo SD of the
estimates, the mean standard error and coverage, with a Monte Carlo 95% band for
the coverage. Writes benchmarks/results/iv_coverage.md.

Run: python benchmarks/iv_coverage.py [--reps 500] [--n 5000] [--methods mr,mdml]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout

RESULTS = Path(__file__).resolve().parent / "results"


def one(seed, n, methods):
    from sklearn.linear_model import LinearRegression

    from causalkit.datasets import make_invalid_iv_data
    from causalkit.iv import InvalidIV
    from causalkit.iv._classic import tsls

    d = make_invalid_iv_data(n, random_state=seed)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "mr" in methods:
            e = InvalidIV(method="mr", model_treatment=LinearRegression(), effect_model="constant")
            out["MR (correct working models)"] = e.fit(
                d.X_basis, d.y, treatment=d.treatment, instrument=d.instrument).ate()
        if "mdml" in methods:
            e = InvalidIV(random_state=seed)
            out["MDML (default learners)"] = e.fit(
                d.X, d.y, treatment=d.treatment, instrument=d.instrument).ate()
        out["2SLS (assumes exclusion)"] = tsls(d.X, d.y, d.treatment.astype(float),
                                               d.instrument.astype(float))
    return {k: (v.value, v.stderr, *v.conf_int(0.05)) for k, v in out.items()}


def main(argv=None):
    import numpy as np
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--methods", default="mr,mdml")
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    methods = set(args.methods.split(","))
    t0 = time.time()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(one)(s, args.n, methods) for s in range(args.reps))
    elapsed = time.time() - t0
    lines = [f"# InvalidIV coverage, make_invalid_iv_data(n={args.n:,}), truth 1.0, "
             f"{args.reps} replications (seeds 0..{args.reps - 1})", "",
             "| estimator | bias | MC SD | mean SE | coverage of 95% CI | MC band |",
             "|---|---:|---:|---:|---:|---:|"]
    for key in rows[0]:
        a = np.array([r[key] for r in rows])
        cover = np.mean((a[:, 2] <= 1.0) & (1.0 <= a[:, 3]))
        half = 1.96 * np.sqrt(0.95 * 0.05 / len(a))
        lines.append(f"| {key} | {a[:, 0].mean() - 1:+.3f} | {a[:, 0].std(ddof=1):.3f} | "
                     f"{a[:, 1].mean():.3f} | {cover:.3f} | [{0.95 - half:.3f}, {0.95 + half:.3f}] |")
    lines += ["", f"Elapsed {elapsed:.0f} s."]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "iv_coverage.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
