"""Scaling: fit time at 10^4, 10^5 and 10^6 rows for every estimator with cheap nuisances.

Linear and logistic nuisance models (no boosting), one inner thread, process CPU time
beside wall time (the best of ``--repeats`` runs at each size). For each estimator the
growth exponent between consecutive sizes is ``log(t2 / t1) / log(n2 / n1)``; linear
growth gives 1 (less at small n, where fixed costs dominate). An exponent above
``--flag`` (default 1.2) between the two largest sizes is flagged as super-linear.

Run: python benchmarks/bench_scaling.py [--sizes 1e4,1e5,1e6] [--repeats 2] [--only AIPW,...]
Writes benchmarks/results/scaling.json and scaling.md (``--name scaling_recheck`` writes
``scaling_recheck.*``, e.g. for a focused rerun of flagged rows with
``--repeats-largest 3``). On a loaded machine the CPU time of a memory-bound fit at the
largest size is itself inflated (cold caches after context switches), so a flag from a
single run there is worth a rerun.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

# One OpenMP/BLAS thread from the start: a pool started with more threads and capped
# later keeps an idle thread spinning, which inflates CPU time on a busy machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))
from harness import RESULTS, library_versions, machine_facts  # noqa: E402


def cases():
    """name -> (make_data(n), fit(data)); every nuisance is linear or logistic."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit import datasets as ds
    from causalkit.ate import AIPW
    from causalkit.frontdoor import FrontDoor
    from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner
    from causalkit.iv import DMLIV, TSLS
    from causalkit.montecarlo import ControlVariates
    from causalkit.ope import IPS, DoublyRobust
    from causalkit.rdd import RDD

    lin, logit = LinearRegression, LogisticRegression

    def ate(n):
        return ds.make_ate_data(n, 10, random_state=0)

    def cate(n):
        return ds.make_cate_data(n, 10, random_state=0)

    def cv_data(n):
        rng = np.random.default_rng(0)
        Z = rng.uniform(size=(n, 20))
        return {"X": Z, "y": np.exp(Z[:, 0]) + Z[:, 1:] @ np.linspace(0.1, 1, 19)}

    def bandit(n):
        return ds.make_bandit_feedback(n, random_state=0)

    return {
        "AIPW": (ate, lambda d: AIPW(lin(), logit(), random_state=0).fit(
            d.X, d.y, treatment=d.treatment)),
        "RLearner (linear final)": (cate, lambda d: RLearner(lin(), logit(), lin(), random_state=0)
                                    .fit(d.X, d.y, treatment=d.treatment)),
        "DR-learner (linear final)": (cate, lambda d: WeightedPseudoOutcomeLearner(
            lin(), logit(), lin(), pseudo="dr", random_state=0).fit(d.X, d.y, treatment=d.treatment)),
        "TSLS": (lambda n: ds.make_invalid_iv_data(n, random_state=0),
                 lambda d: TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)),
        "DMLIV": (lambda n: ds.make_invalid_iv_data(n, random_state=0),
                  lambda d: DMLIV(lin(), logit(), logit(), random_state=0).fit(
                      d.X, d.y, treatment=d.treatment, instrument=d.instrument)),
        "FrontDoor (dr)": (lambda n: ds.make_frontdoor_data(n, random_state=0),
                           lambda d: FrontDoor(model_y=lin(), model_t=logit(), model_tm=logit(),
                                               model_nested=lin(), random_state=0).fit(
                               d.X, d.y, treatment=d.treatment, mediator=d.mediator)),
        "RDD (mserd, nn)": (lambda n: ds.make_rdd_data(n, random_state=0),
                            lambda d: RDD().fit(d.X, d.y)),
        "ControlVariates (p=20)": (cv_data, lambda d: ControlVariates(control_means=0.5).fit(
            d["X"], d["y"])),
        "IPS (given propensities)": (bandit, lambda d: IPS().fit(
            d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)),
        "DoublyRobust (given propensities and rewards)": (bandit, lambda d: DoublyRobust().fit(
            d.X, d.y, action=d.action, propensity=d.propensity,
            estimated_rewards=d.expected_reward).value(d.target_policy)),
    }


def _time(fit, data, repeats):
    best_wall = best_cpu = math.inf
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fit(data)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu


def exponents(sizes, cpu):
    """Growth exponents between consecutive sizes (process CPU time)."""
    out = []
    for (n1, t1), (n2, t2) in zip(zip(sizes, cpu), zip(sizes[1:], cpu[1:])):
        ok = t1 is not None and t2 is not None and t1 > 0 and t2 > 0
        out.append(math.log(t2 / t1) / math.log(n2 / n1) if ok else None)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e4,1e5,1e6")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--flag", type=float, default=1.2)
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--name", default="scaling", help="result file stem (scaling*)")
    ap.add_argument("--repeats-largest", type=int, default=1,
                    help="runs at sizes >= 10^6 (best of them is kept)")
    a = ap.parse_args(argv)
    sizes = [int(float(s)) for s in a.sizes.split(",")]
    import causalkit

    table = cases()
    if a.only:
        keep = set(a.only.split(","))
        table = {k: v for k, v in table.items() if k in keep}
    rows = []
    with causalkit.config_context(n_threads=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (make, fit) in table.items():
            wall, cpu, error = [], [], None
            for n in sizes:
                try:
                    data = make(n)
                    if n == sizes[0]:
                        fit(data)  # warm-up: imports and first-call costs
                    w, c = _time(fit, data, a.repeats if n < 10**6 else a.repeats_largest)
                except Exception as exc:  # recorded, the other estimators still run
                    w = c = None
                    error = f"{type(exc).__name__}: {exc}"[:300]
                wall.append(w)
                cpu.append(c)
                print(f"{name} n={n:,}: wall {w} CPU {c}", file=sys.stderr, flush=True)
                if error:
                    break
            wall += [None] * (len(sizes) - len(wall))
            cpu += [None] * (len(sizes) - len(cpu))
            exps = exponents(sizes, cpu)
            last = exps[-1] if exps else None
            rows.append({"estimator": name, "sizes": sizes, "wall_s": wall, "cpu_s": cpu,
                         "exponents": exps,
                         "super_linear": bool(last is not None and last > a.flag),
                         "error": error})
            _save(a, sizes, rows)
    print((Path(a.out) / f"{a.name}.md").read_text())


def _save(a, sizes, rows):
    largest = ("one run" if a.repeats_largest == 1 else f"best of {a.repeats_largest}")
    result = {"name": a.name, "description": "fit time by rows, cheap (linear/logistic) "
              f"nuisances, one inner thread, best of {a.repeats} runs ({largest} at 10^6)",
              "sizes": sizes, "flag_exponent": a.flag, "rows": rows,
              "machine": machine_facts(), "versions": library_versions(),
              "notes": ["Growth exponent = log(t2/t1)/log(n2/n1) on process CPU time; "
                        f"flagged super-linear above {a.flag} between the two largest sizes."]}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{a.name}.json").write_text(json.dumps(result, indent=2))
    (out / f"{a.name}.md").write_text(scaling_markdown(result))


def _f(x, fmt="{:.3g}"):
    return "" if x is None else fmt.format(x)


def scaling_markdown(result) -> str:
    sizes = result["sizes"]
    head = " | ".join(f"CPU s n={n:.0e}".replace("+0", "") for n in sizes)
    exps = " | ".join(f"exp {a:.0e}->{b:.0e}".replace("+0", "") for a, b in zip(sizes, sizes[1:]))
    lines = [f"## {result['name']}", "", result["description"], "",
             f"| estimator | {head} | {exps} | wall s at largest | super-linear? |",
             "|---|" + "---:|" * (len(sizes) + len(sizes) - 1 + 1) + "---|"]
    for r in result["rows"]:
        cells = " | ".join(_f(c) for c in r["cpu_s"])
        ex = " | ".join(_f(e, "{:.2f}") for e in r["exponents"])
        flag = "**yes**" if r["super_linear"] else ("error: " + r["error"] if r["error"] else "no")
        lines.append(f"| {r['estimator']} | {cells} | {ex} | {_f(r['wall_s'][-1])} | {flag} |")
    lines += [""] + [f"- {n}" for n in result.get("notes", [])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
