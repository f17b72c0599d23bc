"""Real logged data: value of the uniform-random policy from Thompson-sampling logs.

Open Bandit Dataset sample (load_open_bandit; obp 0.4.1 bundles it): for each
campaign, every bandit estimator evaluates the uniform-random policy
(pi(a|x) = 1/n_items in each slot) from the Bernoulli Thompson-sampling logs, and
the random logs' mean click rate (with its binomial SE) is the on-policy truth.
Each row is one (round, slot); the propensity is the logging probability of the
item in that slot, and the reward models see the context and item, not the slot.

Run: python benchmarks/obd_study.py
Writes benchmarks/results/obd_study.json and .md.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout

RESULTS = Path(__file__).resolve().parent / "results"


def main():
    import numpy as np
    from harness import library_versions, machine_facts

    from causalkit.datasets import load_open_bandit
    from causalkit.ope import (
        IPS,
        SNIPS,
        DirectMethod,
        DoublyRobust,
        ExponentialSmoothingIPS,
        SelfNormalizedDR,
        SwitchDR,
    )

    estimators = {
        "IPS": IPS(),
        "IPS clip 100": IPS(clip=100.0),
        "SNIPS": SNIPS(),
        "ES-IPS beta=0.5": ExponentialSmoothingIPS(beta=0.5),
        "ES-IPS beta=0.9": ExponentialSmoothingIPS(beta=0.9),
        "DM": DirectMethod(cv=2, random_state=0),
        "DR": DoublyRobust(cv=2, random_state=0),
        "SNDR": SelfNormalizedDR(cv=2, random_state=0),
        "Switch-DR tau=100": SwitchDR(tau=100.0, cv=2, random_state=0),
    }
    out = {"machine": machine_facts(), "versions": library_versions(extra=("obp",)), "campaigns": {}}
    lines = ["# Uniform-random policy from Bernoulli Thompson-sampling logs (Open Bandit Dataset sample)", "",
             "Truth: the random campaign's mean click rate (on-policy, binomial SE). Estimates: causalkit "
             "estimators on the BTS logs of the same campaign (10,000 rows each), 95% CIs.", ""]
    for campaign in ("all", "men", "women"):
        rnd = load_open_bandit("random", campaign)
        bts = load_open_bandit("bts", campaign)
        k = bts.n_actions
        truth = float(rnd.y.mean())
        truth_se = float(np.sqrt(truth * (1 - truth) / len(rnd.y)))
        pi = np.full((len(bts.y), k), 1.0 / k)
        w = (1.0 / k) / bts.propensity
        res = {"truth": truth, "truth_se": truth_se, "max_weight": float(w.max()),
               "ess": float(w.sum() ** 2 / np.dot(w, w)),
               "share_of_ips_from_top_weight": float(np.max(w * bts.y) / max(np.sum(w * bts.y), 1e-300)),
               "estimates": {}}
        lines += [f"## Campaign '{campaign}' ({k} items)", "",
                  f"Truth {truth:.5f} (SE {truth_se:.5f}). Weights of the random policy on the BTS logs: "
                  f"max {w.max():.4g}, effective sample size {res['ess']:.1f} of {len(w)}; the largest "
                  f"single term makes up {100 * res['share_of_ips_from_top_weight']:.0f}% of the IPS sum.", "",
                  "| estimator | estimate | SE | 95% CI | covers truth |", "|---|---|---|---|---|"]
        qhat = None
        for name, est in estimators.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # one cross-fitted reward model (DM's) is shared by the model-based estimators
                extra = {} if qhat is None or name in ("DM",) or "IPS" in name else {"estimated_rewards": qhat}
                est.set_params(n_actions=k).fit(bts.X, bts.y, action=bts.action, propensity=bts.propensity,
                                                **extra)
                if name == "DM":
                    qhat = est.estimated_rewards_
                v = est.value(pi)
            lo, hi = v.conf_int()
            res["estimates"][name] = {"value": v.value, "se": v.stderr, "ci": [lo, hi]}
            lines.append(f"| {name} | {v.value:.5f} | {v.stderr:.5f} | [{lo:.5f}, {hi:.5f}] | "
                         f"{'yes' if lo <= truth <= hi else 'no'} |")
        lines.append("")
        out["campaigns"][campaign] = res
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "obd_study.md").write_text(text)
    (RESULTS / "obd_study.json").write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
