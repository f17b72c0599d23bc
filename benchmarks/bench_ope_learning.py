"""Policy learner cost: one epoch (bound + gradient over all rounds) and time to convergence.

ExponentialSmoothingLearner on make_bandit_feedback with 20 actions and 10
features. An "epoch" is one full-batch evaluation of the bound and its exact
gradient (what L-BFGS calls once per step); "to convergence" is a whole fit
(L-BFGS to its default tolerance, at most max_iter=200 steps). Process CPU time
and wall time, one thread.

Run: python benchmarks/bench_ope_learning.py [--n 10000 100000] [--fit-n 10000]
Writes benchmarks/results/ope_learning_speed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout

RESULTS = Path(__file__).resolve().parent / "results"


def epoch_time(n, k=20, p=10, reps=2):
    import numpy as np

    from causalkit.datasets import make_bandit_feedback
    from causalkit.ope._learning import _gauss_hermite, _gaussian_policy, _policy_grad

    d = make_bandit_feedback(n, n_actions=k, n_features=p, random_state=0)
    Xt = np.c_[d.X, np.ones(n)]
    M = np.random.default_rng(0).normal(scale=0.1, size=(p + 1, k))
    z, wq = _gauss_hermite(20)
    G = np.random.default_rng(1).normal(size=(n, k))
    out = []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        P, aux = _gaussian_policy(Xt, M, 1.0, z, wq, need_grad=True)
        _policy_grad(G, P, aux, Xt, 1.0)
        out.append((time.perf_counter() - t0, time.process_time() - c0))
    return min(out)


def fit_time(n, k=20, p=10):
    from causalkit.datasets import make_bandit_feedback
    from causalkit.ope import ExponentialSmoothingLearner

    d = make_bandit_feedback(n, n_actions=k, n_features=p, random_state=0)
    t0, c0 = time.perf_counter(), time.process_time()
    est = ExponentialSmoothingLearner().fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    return time.perf_counter() - t0, time.process_time() - c0, est.n_iter_, est.converged_


def main(argv=None):
    from harness import library_versions, machine_facts
    from threadpoolctl import threadpool_limits

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--fit-n", type=int, default=10_000)
    args = ap.parse_args(argv)
    rows = []
    with threadpool_limits(1):
        for n in args.n:
            wall, cpu = epoch_time(n)
            rows.append({"what": "epoch", "n": n, "n_actions": 20, "wall_s": wall, "cpu_s": cpu})
        wall, cpu, nit, conv = fit_time(args.fit_n)
        rows.append({"what": "fit to convergence", "n": args.fit_n, "n_actions": 20, "wall_s": wall,
                     "cpu_s": cpu, "lbfgs_iterations": nit, "converged": conv})
    lines = ["# ExponentialSmoothingLearner cost (20 actions, 10 features, one thread)", "",
             "| what | n | wall s | CPU s | notes |", "|---|---|---|---|---|"]
    for r in rows:
        note = f"{r['lbfgs_iterations']} L-BFGS steps, converged={r['converged']}" if "converged" in r else ""
        lines.append(f"| {r['what']} | {r['n']:,} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {note} |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ope_learning_speed.md").write_text(text)
    (RESULTS / "ope_learning_speed.json").write_text(json.dumps(
        {"machine": machine_facts(), "versions": library_versions(), "rows": rows}, indent=1, default=float))


if __name__ == "__main__":
    main()
