"""Coverage of the 95% intervals of the R-learner and the IVW DR-learner.

``make_cate_data(n=1000)`` (tau(X) = 1 + X1, ATE = 1, confounded binary treatment),
linear outcome models (misspecified), logistic propensity (correct), linear final
model, 5 folds. Reported per learner: coverage of the ATE interval and of the
slope of tau on X1 (true value 1), mean standard error vs the Monte Carlo standard
deviation. Run: ``python benchmarks/hte_coverage.py --reps 500``; writes
``benchmarks/results/hte_coverage.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_cate_data
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner


def learners(models="linear"):
    if models == "linear":
        lin = {"model_y": LinearRegression(), "model_t": LogisticRegression(),
                   "model_final": LinearRegression(), "cv": 5}
    else:  # flexible nuisances (gradient boosting), linear final model for the slope
        from sklearn.ensemble import (
            HistGradientBoostingClassifier,
            HistGradientBoostingRegressor,
        )

        lin = {"model_y": HistGradientBoostingRegressor(max_iter=100, learning_rate=0.05),
                   "model_t": HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05),
                   "model_final": LinearRegression(), "cv": 5}
    return {"RLearner": lambda s: RLearner(**lin, random_state=s),
            "DR, IVW": lambda s: WeightedPseudoOutcomeLearner(**lin, pseudo="dr", weights="ivw_x",
                                                               random_state=s)}


def run(reps=500, n=1000, models="linear"):
    out = {k: {"ate": [], "ate_se": [], "cov_ate": [], "slope": [], "slope_se": [], "cov_slope": []}
           for k in learners(models)}
    for r in range(reps):
        d = make_cate_data(n, random_state=r)
        for name, make in learners(models).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = make(r).fit(d.X, d.y, treatment=d.treatment)
            a = est.ate()
            lo, hi = a.conf_int()
            s = est.coef_table()["x0"]
            slo, shi = s.conf_int()
            rec = out[name]
            rec["ate"].append(a.value)
            rec["ate_se"].append(a.stderr)
            rec["cov_ate"].append(lo <= 1.0 <= hi)
            rec["slope"].append(s.value)
            rec["slope_se"].append(s.stderr)
            rec["cov_slope"].append(slo <= 1.0 <= shi)
    return out


def markdown(out, reps, n, elapsed, models="linear"):
    kind = ("linear/logistic nuisances" if models == "linear"
            else "gradient-boosting nuisances (HistGradientBoosting, 100 trees)")
    lines = [f"## hte_coverage ({models} nuisances)", "",
             (f"make_cate_data(n={n}), {reps} replications, {kind}, linear final "
             "model, 5 folds; nominal 95% intervals (binomial MC error of a coverage near 0.95 "
             f"is {np.sqrt(0.95 * 0.05 / reps):.3f})."), "",
             "| learner | ATE coverage | ATE bias | mean SE / MC sd | slope coverage | slope mean SE / MC sd |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, rec in out.items():
        ate = np.array(rec["ate"])
        sl = np.array(rec["slope"])
        lines.append(
            f"| {name} | {np.mean(rec['cov_ate']):.3f} | {ate.mean() - 1:+.4f} | "
            f"{np.mean(rec['ate_se']):.4f} / {ate.std(ddof=1):.4f} | {np.mean(rec['cov_slope']):.3f} | "
            f"{np.mean(rec['slope_se']):.4f} / {sl.std(ddof=1):.4f} |")
    lines += ["", f"Run time {elapsed:.0f} s (`python benchmarks/hte_coverage.py --reps {reps}`)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--models", choices=["linear", "hgb"], default="linear")
    a = ap.parse_args()
    t0 = time.perf_counter()
    res = run(a.reps, a.n, a.models)
    md = markdown(res, a.reps, a.n, time.perf_counter() - t0, a.models)
    md = md.replace("hte_coverage.py --reps", f"hte_coverage.py --models {a.models} --reps")
    suffix = "" if a.models == "linear" else "_hgb"
    path = ROOT / "benchmarks" / "results" / f"hte_coverage{suffix}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(md)
    print(md)
