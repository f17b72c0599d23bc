"""OPE with estimated logging propensities: the default logit against the cross-fitted one.

IPS on n logged rounds x p covariates x k actions (default 10^5 x 20 x 10) from a
softmax-linear logging policy, propensities not given. Candidates:

* ``given propensities``: the same fit with the true propensities (the floor);
* ``default (one logit)``: ``IPS()``, whose default logging model is one multinomial
  logistic regression on standardised features fitted on all rounds;
* ``cross-fitted logit``: ``IPS(model_propensity=LogisticRegression(), cv=5)`` (the
  previous default: five fold fits).

Process CPU time, one inner thread. Run: python benchmarks/bench_ope_propensity.py
[--n 100000] [--p 20] [--actions 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from harness import Benchmark  # noqa: E402


def make(n, p, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    logits = X @ (0.5 * rng.normal(size=(p, k)))
    pi0 = np.exp(logits - logits.max(axis=1, keepdims=True))
    pi0 /= pi0.sum(axis=1, keepdims=True)
    a = np.minimum((pi0.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1), k - 1)
    q = 1 / (1 + np.exp(-(X[:, :k] if p >= k else X[:, :1])))
    y = (rng.random(n) < q[np.arange(n), a % q.shape[1]]).astype(float)
    target = np.full((n, k), 1.0 / k)
    return X, y, a, pi0[np.arange(n), a], target


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--actions", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    import causalkit
    from causalkit.ope import IPS

    X, y, act, p0, target = make(a.n, a.p, a.actions)
    out = {}

    def given():
        out["given"] = IPS(n_actions=a.actions).fit(X, y, action=act, propensity=p0).value(target)

    def default():
        out["default"] = IPS(n_actions=a.actions, random_state=0).fit(X, y, action=act).value(target)

    def crossfit():
        out["crossfit"] = IPS(n_actions=a.actions, model_propensity=LogisticRegression(), cv=5,
                              random_state=0).fit(X, y, action=act).value(target)

    bench = Benchmark("ope_propensity", f"IPS with estimated logging propensities, n={a.n:,}, "
                                        f"p={a.p}, {a.actions} actions")
    bench.add("given propensities", given).add("default (one logit)", default)
    bench.add("cross-fitted logit (5 folds)", crossfit)
    with causalkit.config_context(n_threads=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = bench.run(repeats=a.repeats, baseline="given propensities", memory=False,
                           clock="cpu")
    report.notes.append("values: " + ", ".join(f"{k} {v.value:.5f} (SE {v.stderr:.5f})"
                                              for k, v in out.items()))
    report.save()
    print(report.markdown())


if __name__ == "__main__":
    main()
