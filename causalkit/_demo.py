"""``causalkit demo``: fit every estimator family on data with a known truth.

Each design registers its rows in ``demo_rows()`` of its ``_examples`` module. A row
fits one estimator and returns ``(Estimate, truth)``; the demo prints one table with
the estimate, its standard error and 95% interval (digits chosen from the standard
error), the truth, whether the interval covers it and the seconds the row took, then a
total. A row whose optional dependency is missing is listed as skipped with the reason;
the named statistical warnings (:class:`causalkit.utils.validation.CausalkitWarning`
and its subclasses) a row raises are printed once per row.

The demo runs under ``causalkit.config_context(n_threads=...)``, by default one inner
thread, because small fits on a shared machine are fastest that way (see
:mod:`causalkit.config`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from .inference._format import decimals

__all__ = ["DemoRow", "run_demo", "format_estimate", "format_seconds", "collect_rows"]


@dataclass
class DemoRow:
    """One line of the demo table.

    ``run(quick)`` fits the estimator and returns ``(Estimate, truth)``. ``needs`` names
    the optional modules the row imports (the row is skipped, with a note, when one is
    missing) and ``extra`` the project extra that installs them.
    """

    design: str
    estimator: str
    data: str
    run: Callable
    needs: tuple = ()
    extra: str | None = None
    family: str = field(default="", compare=False)

    def missing(self) -> list[str]:
        """The modules in ``needs`` that are not installed."""
        return [m for m in self.needs if importlib.util.find_spec(m) is None]


def collect_rows(families=None) -> list[DemoRow]:
    """Every registered demo row, optionally only those of ``families`` (e.g. ``["rdd"]``)."""
    from .testing import iter_design_examples

    designs = [name for name, _ in iter_design_examples()]
    if families is not None:
        families = [families] if isinstance(families, str) else list(families)
        unknown = sorted(set(families) - set(designs))
        if unknown:
            raise ValueError(f"`family` must be among {designs}; got {unknown}.")
    rows = []
    for name, mod in iter_design_examples():
        if families is not None and name not in families:
            continue
        for row in getattr(mod, "demo_rows", lambda: [])():
            row.family = name
            rows.append(row)
    return rows


def format_estimate(est, truth: float | None = None, alpha: float = 0.05) -> dict:
    """Estimate, SE, interval and truth as strings with digits chosen from the SE.

    The standard error is shown to two significant digits and the estimate, the interval
    ends and the truth to the same decimal place, so an interval never prints as a point.

    Examples
    --------
    >>> from causalkit.inference import Estimate
    >>> format_estimate(Estimate(1.71828, 0.000412, n=2000, method="CV"), truth=1.718282)
    {'estimate': '1.71828', 'SE': '0.00041', '95% CI': '[1.71747, 1.71909]', 'truth': '1.71828'}
    >>> format_estimate(Estimate(0.9, 0.06, n=500, method="AIPW"))["95% CI"]
    '[0.782, 1.018]'
    """
    d = decimals(est.stderr, est.value)
    lo, hi = est.conf_int(alpha)
    out = {"estimate": f"{est.value:.{d}f}", "SE": f"{est.stderr:.{d}f}",
           f"{100 * (1 - alpha):g}% CI": f"[{lo:.{d}f}, {hi:.{d}f}]"}
    if truth is not None:
        out["truth"] = f"{truth:.{d}f}"
    return out


def format_seconds(secs: float) -> str:
    """Seconds with a precision that suits their size.

    Examples
    --------
    >>> format_seconds(0.0004), format_seconds(0.234), format_seconds(12.345), format_seconds(125.0)
    ('<0.01', '0.23', '12.3', '125')
    """
    if secs < 0.01:
        return "<0.01"
    if secs < 10:
        return f"{secs:.2f}"
    if secs < 100:
        return f"{secs:.1f}"
    return f"{secs:.0f}"


_LEFT = ("design", "estimator", "estimand")


def _format_table(table: list[dict]) -> str:
    """Text columns left-aligned, numbers right-aligned, every cell whole."""
    if not table:
        return "(no rows)"
    cols = list(table[0])
    skipped = [r for r in table if str(r.get("estimate", "")).startswith("skipped")]
    fitted = [r for r in table if r not in skipped]
    width = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in (table if c in _LEFT else fitted)])
             for c in cols}

    def line(cells):
        return "  ".join(f"{cells[c]:<{width[c]}}" if c in _LEFT else f"{cells[c]:>{width[c]}}"
                         for c in cols).rstrip()

    rows = [line({c: c for c in cols})]
    for r in table:
        if r in skipped:  # the reason runs across the number columns
            head = "  ".join(f"{str(r[c]):<{width[c]}}" for c in _LEFT)
            rows.append(f"{head}  {r['estimate']}")
        else:
            rows.append(line({c: str(r.get(c, "")) for c in cols}))
    return "\n".join(rows)


def _show_warnings(caught, progress) -> list[str]:
    """Print each named causalkit warning once; return the lines printed."""
    from .utils.validation import CausalkitWarning

    seen, lines = set(), []
    for w in caught:
        if not issubclass(w.category, CausalkitWarning):
            continue
        key = (w.category.__name__, str(w.message))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"{w.category.__name__}: {w.message}")
        print(f"      warning: {lines[-1]}", file=progress, flush=True)
    return lines


def run_demo(quick: bool = False, out=None, progress=None, *, families=None,
             n_threads=1) -> list[dict]:
    """Fit every registered demo row, print one table and a total; return the rows as dicts.

    Parameters
    ----------
    quick : bool, default False
        Small samples and small, fast nuisance models, under a minute on two cores
        (measured by ``benchmarks/bench_demo.py``; see ``benchmarks/results/SUMMARY.md``).
    out, progress : file-like, optional
        Where the table (default ``sys.stdout``) and the per-row progress, warnings and
        training logs (default ``sys.stderr``) go.
    families : str or list of str, optional
        Only these designs (``"ate"``, ``"rdd"``...); default all.
    n_threads : int, "auto" or "off", default 1
        The thread policy the demo runs under (:func:`causalkit.config_context`).

    Returns
    -------
    list of dict
        One dict per row: ``design``, ``estimator``, ``estimand``, ``estimate``, ``stderr``,
        ``ci_low``, ``ci_high``, ``truth``, ``covers``, ``seconds``, ``cpu_seconds``,
        ``status`` (``"ok"`` or ``"skipped: ..."``) and ``warnings``.
    """
    from ._lazy import install_hint
    from .config import config_context

    out = out or sys.stdout
    progress = progress or sys.stderr
    rows = collect_rows(families)
    results, table = [], []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    print(f"causalkit demo{' --quick' if quick else ''}: {len(rows)} rows, "
          f"inner threads per task: {n_threads} (causalkit.config_context(n_threads={n_threads!r}))",
          file=progress, flush=True)
    with config_context(n_threads=n_threads):
        for i, row in enumerate(rows, 1):
            head = f"[{i}/{len(rows)}] {row.design}: {row.estimator} on {row.data}"
            missing = row.missing()
            if missing:
                why = f"skipped: needs {', '.join(missing)}"
                hint = f" ({install_hint(row.extra)})" if row.extra else ""
                print(f"{head} ... {why}{hint}", file=progress, flush=True)
                results.append({"design": row.design, "estimator": row.estimator,
                                "status": why, "warnings": []})
                table.append({"design": row.design, "estimator": row.estimator,
                              "estimand": "", "estimate": why + hint, "SE": "", "95% CI": "",
                              "truth": "", "covers": "", "seconds": ""})
                continue
            print(f"{head} ...", file=progress, flush=True)
            start, cstart = time.perf_counter(), time.process_time()
            with warnings.catch_warnings(record=True) as caught, \
                    contextlib.redirect_stderr(progress):
                warnings.simplefilter("always")
                est, truth = row.run(quick)
            secs, cpu = time.perf_counter() - start, time.process_time() - cstart
            shown = _show_warnings(caught, progress)
            lo, hi = est.conf_int(0.05)
            covers = bool(lo <= truth <= hi)
            print(f"      done in {format_seconds(secs)} s", file=progress, flush=True)
            results.append({
                "design": row.design, "estimator": row.estimator, "estimand": est.name,
                "estimate": est.value, "stderr": est.stderr, "ci_low": lo, "ci_high": hi,
                "truth": float(truth), "covers": covers, "seconds": secs, "cpu_seconds": cpu,
                "status": "ok", "warnings": shown,
            })
            table.append({"design": row.design, "estimator": row.estimator, "estimand": est.name,
                          **format_estimate(est, truth), "covers": "yes" if covers else "NO",
                          "seconds": format_seconds(secs)})
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(_format_table(table), file=out)
    fitted = [r for r in results if r["status"] == "ok"]
    n_cover = sum(r["covers"] for r in fitted)
    skipped = len(results) - len(fitted)
    print(f"\n{len(fitted)} row{'' if len(fitted) == 1 else 's'} fitted, {n_cover} of "
          f"{len(fitted)} 95% intervals cover the truth"
          + (f", {skipped} skipped" if skipped else "")
          + f". Total {format_seconds(wall)} s wall, {format_seconds(cpu)} s CPU.", file=out)
    return results
