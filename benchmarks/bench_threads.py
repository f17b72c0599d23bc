"""Fit time at 1 and 2 inner threads, with the other core idle and kept busy.

``AIPW(random_state=0)`` with its default HistGradientBoosting nuisances, and the same
estimator with LightGBM nuisances (LightGBM's default ``n_jobs=None`` and ``n_jobs=-1``), at
``n = 2,000`` by default. The inner thread count is set with
:func:`causalkit.config_context` (``n_threads=1`` and ``n_threads=2``); the "busy"
condition starts a subprocess that spins on one core for the whole measurement (the
script starts and stops it itself). Each cell reports median wall and process CPU time;
the estimates must be the same in every cell, and the script checks that they are.

The machine's load average before and after each condition is recorded: on a machine
shared with other jobs, the "idle" condition is only as idle as the machine was.

Run: python benchmarks/bench_threads.py [--n 2000] [--repeats 3] [--quick]
Writes benchmarks/results/threads.json and threads.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # run from a checkout
from harness import RESULTS, library_versions, machine_facts  # noqa: E402

# spins on one core until its parent (this script) goes away
_SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not available on this platform
        return None


def _time_fit(make, X, y, t, n_threads, repeats, budget):
    import causalkit

    walls, cpus, values = [], [], []
    with causalkit.config_context(n_threads=n_threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same positivity warning in every cell
        w0 = time.perf_counter()
        make().fit(X, y, treatment=t)  # warm-up (imports, OpenMP pool start)
        spent = time.perf_counter() - w0
        for r in range(repeats):
            if r > 0 and spent > budget:  # a cell that crawls: fewer repeats (recorded)
                break
            w0, c0 = time.perf_counter(), time.process_time()
            est = make().fit(X, y, treatment=t)
            walls.append(time.perf_counter() - w0)
            spent += walls[-1]
            cpus.append(time.process_time() - c0)
            values.append(est.ate().value)
    return walls, cpus, values


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--quick", action="store_true", help="1 repeat, HGB only")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds per cell after which no further repeat starts")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--cases", default="hgb,lgbm", help="hgb, lgbm or both")
    parser.add_argument("--conditions", default="idle,busy")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows already in threads.json (other cases or conditions)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    threads = [int(k) for k in args.threads.split(",")]

    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(args.n, random_state=0)
    X, y, t = d.X, d.y, d.treatment
    wanted = set(args.cases.split(","))
    cases = {}
    if "hgb" in wanted:
        cases["AIPW default (HistGradientBoosting)"] = lambda: AIPW(random_state=0)
    if not args.quick and "lgbm" in wanted:
        try:
            from lightgbm import LGBMClassifier, LGBMRegressor

            def lgbm(n_jobs):
                def make():
                    reg = LGBMRegressor(n_estimators=100, verbose=-1, n_jobs=n_jobs, random_state=0)
                    clf = LGBMClassifier(n_estimators=100, verbose=-1, n_jobs=n_jobs, random_state=0)
                    return AIPW(reg, clf, random_state=0)
                return make

            # LightGBM >= 4 turns n_jobs=None into the number of physical cores and
            # n_jobs=-1 into the number of CPUs, and passes either as num_threads: an
            # explicit count that an OpenMP cap (threadpoolctl) does not lower.
            cases["AIPW LightGBM (LightGBM default n_jobs=None)"] = lgbm(None)
            cases["AIPW LightGBM (n_jobs=-1 set in LightGBM)"] = lgbm(-1)
        except ImportError:
            pass

    rows = []
    if args.append and (Path(args.out) / "threads.json").exists():
        old = json.loads((Path(args.out) / "threads.json").read_text())["rows"]
        rows = [r for r in old if not (r["case"] in cases and r["condition"] in
                                       args.conditions.split(","))]
    for condition in args.conditions.split(","):
        spinner = None
        if condition == "busy":
            spinner = subprocess.Popen([sys.executable, "-c", _SPIN])
            time.sleep(1.0)
        try:
            load_before = _loadavg()
            for label, make in cases.items():
                for k in threads:
                    load = _loadavg()
                    walls, cpus, values = _time_fit(make, X, y, t, k, repeats, args.budget)
                    row = {"case": label, "condition": condition, "n_threads": k,
                           "loadavg_at_start": load, "loadavg_at_end": _loadavg(),
                           "repeats": len(walls), "wall_s": walls, "cpu_s": cpus,
                           "median_wall_s": statistics.median(walls),
                           "median_cpu_s": statistics.median(cpus),
                           "ate": values[0], "ate_all_equal": len(set(values)) == 1}
                    rows.append(row)
                    _save(args, repeats, rows, [])
                    print(f"{condition:5s} {k} thread(s) {label}: wall {row['median_wall_s']:.3g} s, "
                          f"CPU {row['median_cpu_s']:.3g} s, ATE {values[0]:.6f}", flush=True)
            load_after = _loadavg()
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
        for row in rows:
            if row["condition"] == condition and row["case"] in cases:
                row["loadavg_before"], row["loadavg_after"] = load_before, load_after

    by_case = {}
    for row in rows:
        by_case.setdefault(row["case"], []).append(row["ate"])
    same = {case: max(v) - min(v) for case, v in by_case.items()}
    notes = [
        "LightGBM >= 4 passes an explicit num_threads (n_jobs=None: physical cores; -1: all "
        "CPUs), so causalkit's threadpoolctl cap does not govern it; only the model's own "
        "n_jobs does.",
        "The machine is shared with other jobs: the load averages (1, 5, 15 min) before and "
        "after each condition are recorded per row; 'idle' means no spinner of ours, not an "
        "idle machine.",
        "max |ATE difference| across thread counts and conditions: "
        + ", ".join(f"{c}: {v:.2e}" for c, v in same.items()),
    ]
    _save(args, repeats, rows, notes)


def _save(args, repeats, rows, notes):
    result = {"name": "threads",
              "description": f"AIPW fit time at n={args.n:,} by inner threads "
                             "(causalkit.config_context) and load",
              "repeats": repeats, "rows": rows, "machine": machine_facts(),
              "versions": library_versions(), "notes": notes}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "threads.json").write_text(json.dumps(result, indent=2))
    lines = ["## threads", "", result["description"], "",
             "| case | other core | inner threads | repeats | median wall s | median CPU s | ATE | "
             "load avg at start (1, 5, 15 min) |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['condition']} | {r['n_threads']} | {r['repeats']} | "
                     f"{r['median_wall_s']:.3g} | {r['median_cpu_s']:.3g} | {r['ate']:.6f} | "
                     f"{r['loadavg_at_start']} |")
    lines += [""] + [f"- {n}" for n in notes]
    (out / "threads.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
