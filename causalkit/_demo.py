"""``causalkit demo``: fit every estimator family on data with a known truth."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DemoRow", "run_demo"]


@dataclass
class DemoRow:
    """One line of the demo table.

    ``run(quick)`` fits the estimator and returns ``(Estimate, truth)``.
    """

    design: str
    estimator: str
    data: str
    run: Callable


def collect_rows():
    from .testing import iter_design_examples

    rows = []
    for _, mod in iter_design_examples():
        if hasattr(mod, "demo_rows"):
            rows.extend(mod.demo_rows())
    return rows


def run_demo(quick: bool = False, out=None, progress=None) -> list[dict]:
    """Fit every registered demo row and print one table; return the rows as dicts."""
    import pandas as pd

    out = out or sys.stdout
    progress = progress or sys.stderr
    rows = collect_rows()
    results = []
    for i, row in enumerate(rows, 1):
        print(f"[{i}/{len(rows)}] {row.design}: fitting {row.estimator} on {row.data} ...",
              file=progress, flush=True)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est, truth = row.run(quick)
        secs = time.perf_counter() - start
        lo, hi = est.conf_int(0.05)
        results.append({
            "design": row.design, "estimator": row.estimator, "estimand": est.name,
            "estimate": est.value, "95% CI": f"[{lo:.3f}, {hi:.3f}]", "truth": truth,
            "covers": bool(lo <= truth <= hi), "seconds": round(secs, 2),
        })
    table = pd.DataFrame(results)
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False), file=out)
    return results
