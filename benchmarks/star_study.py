"""STAR against the existing MDP estimators on a tabular MDP with an exactly known value.

make_tabular_mdp (6 hidden states seen through noisy 2-D features, 2 actions,
gamma = 0.9, windows of T = 20 steps): the target's infinite-horizon value
d0'(I - gamma P_pi)^-1 r_pi is exact. For n trajectories in {100, 400, 1600} and
--reps replications, fits

* STAR with the default k-means abstraction (k = 2 coarse, k = 6 = the number of
  hidden states) and truncation c in {1, 3, None (full product)};
* MDPEvaluator (no-confounding baselines: "dm", "mis", "dr", 2-fold
  cross-fitting by trajectory) with its default Q features (linear in (1, s, a):
  misspecified for a tabular MDP) and with saturated features (one-hot of a
  6-cluster k-means of the state, times (1, a): a tabular Q),

and reports bias, standard deviation, RMSE and the coverage of the nominal 95%
interval (STAR: trajectory-bootstrap SE with 100 replicates).

Run: python benchmarks/star_study.py [--reps 20]
Writes benchmarks/results/star_study.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout

RESULTS = Path(__file__).resolve().parent / "results"


def _tabular_features(seed):
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.cluster import KMeans

    class TabularQ(TransformerMixin, BaseEstimator):
        """One-hot of a k-means cluster of the state columns, times (1, a)."""

        def __init__(self, k=6, random_state=None):
            self.k = k
            self.random_state = random_state

        def fit(self, Z, y=None):
            self.km_ = KMeans(self.k, n_init=10, random_state=self.random_state).fit(Z[:, :-1])
            return self

        def transform(self, Z):
            import numpy as np

            oh = np.eye(self.k)[self.km_.predict(Z[:, :-1])]
            return np.c_[oh, oh * Z[:, -1:]][:, 1:]  # the evaluator adds its own intercept

    return TabularQ(random_state=seed)


def one(n, seed):
    from causalkit.datasets import make_tabular_mdp
    from causalkit.ope import STAR, MDPEvaluator

    d = make_tabular_mdp(n, horizon=20, random_state=seed)
    kw = dict(action=d.action, next_state=d.next_state, episode=d.episode)
    out = {}
    for k in (2, 6):
        est = STAR(n_abstract_states=k, n_bootstrap=100, random_state=seed).fit(
            d.X, d.y, propensity=d.propensity, **kw)
        for c in (1, 3, None):
            est.set_params(c=c)
            v = est.value(d.policy)
            out[f"STAR k={k} c={'full' if c is None else c}"] = (v.value, *v.conf_int())
    for label, qf in (("", None), (" tabular Q", _tabular_features(seed))):
        mdp = MDPEvaluator(q_features=qf, random_state=seed).fit(d.X, d.y, **kw)
        for m in ("dm", "mis", "dr") if qf is None else ("dm", "dr"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = mdp.value(d.policy, method=m)
            out[f"MDPEvaluator {m}{label}"] = (v.value, *v.conf_int())
    return d.true_value_infinite, out


def main(argv=None):
    import numpy as np
    from harness import library_versions, machine_facts

    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args(argv)
    raw = {}
    truth = None
    for n in (100, 400, 1600):
        for r in range(args.reps):
            truth, out = one(n, 1000 * n + r)
            for name, vals in out.items():
                raw.setdefault(name, {}).setdefault(n, []).append(vals)
    lines = ["# STAR vs the existing MDP estimators (tabular MDP, exact value)", "",
             f"True value {truth:.4f}; {args.reps} replications per n; T = 20 steps per trajectory.", "",
             "| estimator | n | bias | sd | RMSE | 95% coverage |", "|---|---|---|---|---|---|"]
    summary = []
    for name, by_n in raw.items():
        for n, vals in by_n.items():
            v = np.array(vals)
            bias = v[:, 0].mean() - truth
            sd = v[:, 0].std(ddof=1)
            rmse = np.sqrt(np.mean((v[:, 0] - truth) ** 2))
            cov = np.mean((v[:, 1] <= truth) & (truth <= v[:, 2]))
            summary.append({"estimator": name, "n": n, "bias": bias, "sd": sd, "rmse": rmse, "coverage": cov})
            lines.append(f"| {name} | {n} | {bias:+.4f} | {sd:.4f} | {rmse:.4f} | {cov:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "star_study.md").write_text(text)
    (RESULTS / "star_study.json").write_text(json.dumps(
        {"machine": machine_facts(), "versions": library_versions(), "truth": truth, "reps": args.reps,
         "summary": summary}, indent=1, default=float))


if __name__ == "__main__":
    main()
