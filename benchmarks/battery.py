"""Run the shared bad-input battery on every registered estimator and function.

Writes ``benchmarks/results/battery.csv`` (one row per estimator x case, with its outcome
code) and ``benchmarks/results/battery_table.rst`` (estimator x case family, the page
included in the docs' reliability guide). ``--long`` also runs the long hypothesis profile.

    python benchmarks/battery.py [--only PREFIX] [--long]
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("CAUSALKIT_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd

from causalkit.testing import (
    ACCEPTED,
    battery_cases,
    registered_cases,
    registered_function_cases,
    run_battery_case,
)

RESULTS = Path(__file__).resolve().parent / "results"

#: Case id prefix -> column of the docs table.
FAMILIES = [
    ("nan", "NaN"), ("pdNA", "NaN"), ("inf", "inf"), ("short", "length"), ("empty", "rows"),
    ("one-row", "rows"), ("two-rows", "rows"), ("2d", "shape"), ("3d", "shape"),
    ("string", "type"), ("object", "type"), ("categorical", "type"), ("sparse", "type"),
    ("huge", "scale"), ("tiny", "scale"), ("outlier", "scale"), ("misaligned", "pandas index"),
    ("coding", "coding"), ("zero", "propensity"), ("above-one", "propensity"),
    ("extreme", "propensity"), ("leaky", "folds"), ("incomplete", "folds"),
    ("overlapping", "folds"), ("weights", "weights"), ("columns", "columns"),
    ("mutate", "ownership"),
]
COLUMNS = list(dict.fromkeys(col for _, col in FAMILIES))
SYMBOL = {"clear_error": "E", "ok": "ok", "same": "=", "warned": "W", "documented": "D"}


def family(case_id):
    for prefix, col in FAMILIES:
        if case_id.startswith(prefix):
            return col
    return "other"


def table(df):
    lines = []
    header = ["estimator / function", *COLUMNS]
    rows = []
    for name, g in df.groupby("estimator", sort=False):
        cells = []
        for col in COLUMNS:
            sub = g[g.case.map(family) == col]
            if sub.empty:
                cells.append("")
                continue
            bad = sub[~sub.passed]
            if len(bad):
                cells.append("**" + ", ".join(sorted(set(bad.code))) + "**")
            else:
                cells.append("/".join(sorted({SYMBOL[c] for c in sub.code})))
        rows.append([name, *cells])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    sep = " ".join("=" * w for w in widths)
    lines += [sep, " ".join(h.ljust(w) for h, w in zip(header, widths)), sep]
    lines += [" ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(sep)
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--long", action="store_true", help="also run the long hypothesis profile")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    cases = [c for c in registered_cases() + registered_function_cases()
             if c.name.startswith(args.only)]
    rows, start = [], time.perf_counter()
    for case in cases:
        for bc in battery_cases(case):
            rows.append(run_battery_case(case, bc, timeout=args.timeout).__dict__)
        print(f"{case.name}: done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    df.to_csv(RESULTS / "battery.csv", index=False)
    stamp = datetime.date.today().isoformat()
    n_fail = int((~df.passed).sum())
    (RESULTS / "battery_table.rst").write_text(
        f"Run of {stamp}: {len(df)} cases on {df.estimator.nunique()} estimators and functions, "
        f"{n_fail} failing. Symbols: E clear error naming the argument, ok finite answer, "
        "= same numbers as the equivalent input, W warned, D documented; failures in bold.\n\n"
        + table(df) + "\n")
    print(df.code.value_counts().to_string())
    print(f"{len(df)} cases, {n_fail} failing, {time.perf_counter() - start:.0f} s")
    print("accepted codes:", ", ".join(ACCEPTED))
    if args.long:
        env = {**os.environ, "HYPOTHESIS_PROFILE": "long"}
        subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_properties.py"],
                       env=env, check=False, cwd=Path(__file__).resolve().parents[1])
    return 0 if n_fail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
