"""One entry point for the coverage studies of every design family.

Every module ``benchmarks/coverage_studies/<family>.py`` (names not starting with an
underscore) defines ``studies() -> list[Study]`` (see ``coverage_studies/_common.py``).
This script runs their Monte Carlo replications and writes one table:

* ``benchmarks/results/coverage.json``: one record per study (row), with the run's mode,
  replications, seconds and date;
* ``benchmarks/results/coverage.md``: the table (estimator, DGP, n, replications,
  coverage with its Monte Carlo SE, bias, mean width, mean SE / Monte Carlo SD, default?,
  note);
* ``benchmarks/results/coverage_table.rst``: the same table for the docs
  (``docs/guide/coverage.rst`` includes it).

Running one family (``--family ate``) or a subset of rows (``--only AIPW``) replaces
only those rows; the others keep the numbers of their last run. Replication ``r`` of a
study uses the seed ``seed_offset + r``, so the numbers do not depend on ``--n-jobs``.

Usage::

    python benchmarks/coverage.py --quick                 # ~100 replications per study
    python benchmarks/coverage.py --full --n-jobs 2       # >= 500 replications per study
    python benchmarks/coverage.py --quick --family ope --family hte
    python benchmarks/coverage.py --list
    python benchmarks/coverage.py --refresh-notes        # notes from the studies, no run
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

if __name__ == "coverage":
    # Another script in benchmarks/ has this folder on sys.path and something (numba) ran
    # `import coverage`: this file is not the coverage package, so say it is absent.
    raise ImportError("benchmarks/coverage.py is the coverage study runner, not the coverage "
                      "package")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# Run as a script, this file's folder heads sys.path and would shadow the `coverage`
# package (which numba imports): drop it; the checkout root is enough.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# joblib's worker processes import the study modules by name: give them the checkout too
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CAUSALKIT_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from benchmarks.coverage_studies._common import Rep, Study, summarise  # noqa: E402

#: Order of the families in the table (others follow alphabetically).
ORDER = ("ate", "hte", "frontdoor", "cfdivae", "iv", "invalidiv", "rdd", "r3d", "montecarlo",
         "ope", "calibration", "tweedie")
LOW, HIGH = 0.93, 0.97


def family_modules():
    """``{family: module}`` for every study module in ``benchmarks/coverage_studies``."""
    import benchmarks.coverage_studies as pkg

    names = sorted(i.name for i in pkgutil.iter_modules(pkg.__path__) if not i.name.startswith("_"))
    return {name: importlib.import_module(f"benchmarks.coverage_studies.{name}") for name in names}


def row_key(study_or_row) -> str:
    """The identity of a table row: family | estimator | DGP | n."""
    get = (lambda k: study_or_row[k]) if isinstance(study_or_row, dict) else (
        lambda k: getattr(study_or_row, k))
    return f"{get('family')} | {get('estimator')} | {get('dgp')} | {get('n')}"


def _one(one_rep, seed):
    """One replication; a failure becomes a NaN replication (counted as a miss)."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rep = one_rep(seed)
        except Exception as exc:  # noqa: BLE001 - a failed fit is a result, reported as such
            return Rep(np.nan, np.nan, np.nan, np.nan, np.nan), f"{type(exc).__name__}: {exc}"[:200]
    return Rep(float(rep.estimate), float(rep.stderr), float(rep.lo), float(rep.hi),
               float(rep.truth)), None


def run_study(study: Study, reps: int, n_jobs=1, time_limit=None):
    """Run ``reps`` replications of ``study`` (seeds ``seed_offset + r``); return the row dict.

    With ``time_limit`` (seconds) the replications run in batches and no new batch starts
    once the limit has passed: the row then holds the first ``R < reps`` replications
    (seeds ``seed_offset .. seed_offset + R - 1``, so a longer run extends it), and says so
    in ``stopped_early``.
    """
    from joblib import Parallel, delayed

    t0 = time.perf_counter()
    seeds = [study.seed_offset + r for r in range(reps)]
    batch = len(seeds) if time_limit is None else max(1, (n_jobs or 1) * 2)
    out = []
    with (Parallel(n_jobs=n_jobs) if n_jobs not in (None, 1) else _Serial()) as par:
        for start in range(0, len(seeds), batch):
            if time_limit is not None and out and time.perf_counter() - t0 > time_limit:
                break
            out += par(delayed(_one)(study.one_rep, s) for s in seeds[start:start + batch])
    reps_ = [r for r, _ in out]
    row = summarise(study, reps_, time.perf_counter() - t0)
    if len(reps_) < reps:
        row["stopped_early"] = f"time limit reached after {len(reps_)} of {reps} replications"
    _count_unbounded(row, reps_)
    errors = [e for _, e in out if e]
    if errors:
        row["first_error"] = errors[0]
    return row


class _Serial:
    """``joblib.Parallel``'s calling convention, run in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, calls):
        return [f(*a, **k) for f, a, k in calls]


def _count_unbounded(row, reps):
    """An unbounded interval (an end at +-inf, e.g. an Anderson-Rubin or score set that
    cannot reject) is a result, not a failed fit: count it as covering when it contains
    the truth, and average the width over the bounded intervals only."""
    import numpy as np

    est = np.array([r.estimate for r in reps], dtype=float)
    lo = np.array([r.lo for r in reps], dtype=float)
    hi = np.array([r.hi for r in reps], dtype=float)
    truth = np.array([r.truth for r in reps], dtype=float)
    valid = np.isfinite(est) & ~np.isnan(lo) & ~np.isnan(hi)
    unbounded = valid & ~(np.isfinite(lo) & np.isfinite(hi))
    if not unbounded.any():
        return
    c = float(((lo <= truth) & (truth <= hi) & valid).mean())
    bounded = valid & ~unbounded
    row.update(coverage=c, mc_se=float(np.sqrt(c * (1 - c) / len(reps))),
               failed=int((~valid).sum()), unbounded=int(unbounded.sum()),
               mean_width=float(np.mean((hi - lo)[bounded])) if bounded.any() else float("inf"),
               misses_above=int(((lo > truth) & valid).sum()),
               misses_below=int(((hi < truth) & valid).sum()))
    row["note"] = ((row["note"] + "; ") if row["note"] else "") + (
        f"{int(unbounded.sum())} unbounded intervals (width averaged over the bounded ones)")


def select(modules, families=None, only=None):
    """The studies of the chosen families whose row key contains every ``only`` string."""
    chosen = []
    for fam, mod in modules.items():
        if families and fam not in families:
            continue
        for st in mod.studies():
            key = row_key(st)
            if only and not all(s.lower() in key.lower() for s in only):
                continue
            chosen.append(st)
    return chosen


def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load(path: Path) -> list[dict]:
    if path.exists():
        return json.loads(path.read_text())["rows"]
    return []


def merge(old: list[dict], new: list[dict], dropped_families=(), keep_keys=()) -> list[dict]:
    """Replace the rows that were rerun; drop stale rows of families that ran whole."""
    fresh = {row_key(r) for r in new}
    kept = [r for r in old if row_key(r) not in fresh
            and (r["family"] not in dropped_families or row_key(r) in keep_keys)]
    return sort_rows(kept + new)


def refresh_notes(rows: list[dict], modules) -> list[dict]:
    """The rows with each note taken from the study of the same key (rows no study lists
    keep theirs); the measured numbers are untouched."""
    notes = {row_key(st): st.note for mod in modules.values() for st in mod.studies()}
    return [dict(r, note=notes.get(row_key(r), r["note"])) for r in rows]


def sort_rows(rows):
    """Families in ``ORDER``; within a family, the order of the study modules' lists (so an
    option that covers sits beside the default it replaces); rows no module lists last."""
    rank = {f: i for i, f in enumerate(ORDER)}
    try:
        mods = family_modules()
        names = sorted(mods, key=lambda m: (rank.get(m, len(ORDER)), m))
        place = {}
        for m in names:
            for st in mods[m].studies():
                place.setdefault(row_key(st), len(place))
    except Exception:  # noqa: BLE001 - a broken study module must not lose the table
        place = {}
    return sorted(rows, key=lambda r: (rank.get(r["family"], len(ORDER)), r["family"],
                                       place.get(row_key(r), len(place))))


def _fmt(x, spec):
    try:
        return format(x, spec) if x == x else "nan"
    except (TypeError, ValueError):
        return str(x)


def _flag(r):
    """'target' column: whether a default row at a guide size lies in [0.93, 0.97]."""
    if not (r["default"] and r["guide_n"]):
        return ""
    c, se = r["coverage"], r["mc_se"]
    if LOW <= c <= HIGH:
        return "yes"
    if LOW - 2 * se <= c <= HIGH + 2 * se:
        return "no (within 2 MC SE)"
    return "**no**"


COLUMNS = ("family", "estimator", "DGP", "n", "reps", "coverage (MC SE)", "bias", "mean width",
           "mean SE / MC SD", "default?", "in [0.93, 0.97]?", "note")


def _cells(r):
    note = r["note"]
    if r.get("failed"):
        note = (note + "; " if note else "") + f"{r['failed']} failed fits counted as misses"
    if r.get("stopped_early"):
        note = (note + "; " if note else "") + r["stopped_early"]
    return [r["family"], r["estimator"], r["dgp"], f"{r['n']:,}", str(r["reps"]),
            f"{_fmt(r['coverage'], '.3f')} ({_fmt(r['mc_se'], '.3f')})",
            _fmt(r["bias"], "+.4f"), _fmt(r["mean_width"], ".4f"), _fmt(r["se_over_sd"], ".3f"),
            "yes" if r["default"] else "no", _flag(r), note]


def markdown(rows, meta) -> str:
    lines = ["# Coverage of nominal 95% intervals, every design family", "",
             "Generated by `python benchmarks/coverage.py` (do not edit by hand). Each row is one "
             "estimator's interval on one data-generating process; replication r draws fresh data "
             "with seed `seed_offset + r`. Coverage MC SE = sqrt(c (1 - c) / reps). "
             "'default?' says whether the interval is the one the estimator gives with its default "
             "options; 'in [0.93, 0.97]?' is filled for default intervals at a sample size the "
             "family's guide recommends ('within 2 MC SE': outside the band by less than twice "
             "the row's Monte Carlo SE, which more replications would settle). Runs: "
             + "; ".join(f"{k}: {v}" for k, v in sorted(meta.items())) + ".", "",
             "| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---:" if c in ("n", "reps", "bias", "mean width", "mean SE / MC SD")
                            else "---" for c in COLUMNS) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |")
    lines += ["", "Per-row run details (mode, seconds, date, commit) are in `coverage.json`."]
    return "\n".join(lines) + "\n"


def rst_marks(family):
    """The comment lines around one family's table in ``coverage_table.rst``: a family's
    guide includes its rows with ``:start-after:`` / ``:end-before:`` on these."""
    mark = f".. coverage rows of family '{family}'"
    return f"{mark} begin", f"{mark} end"


def rst_table(rows) -> str:
    """One ``list-table`` per family, for ``docs/guide/coverage.rst`` (the whole file) and
    each family's guide (its part, between the :func:`rst_marks` lines)."""

    def esc(s):
        s = str(s).replace("\\", "\\\\").replace("*", "\\*").replace("`", "'").replace("|", "\\|")
        return s.replace("_", "\\_") if s else ".."

    out = []
    families = list(dict.fromkeys(r["family"] for r in rows))
    for fam in families:
        begin, end = rst_marks(fam)
        out += [begin, "", f".. rubric:: Coverage, family {fam}", "",
                ".. list-table::", "   :header-rows: 1",
                "   :widths: 6 18 14 5 4 9 6 6 6 4 5 17", ""]
        for cells in [list(COLUMNS)] + [_cells(r) for r in rows if r["family"] == fam]:
            cells = [c.replace("**", "") for c in cells]
            out.append("   * - " + esc(cells[0]))
            out += ["     - " + esc(c) for c in cells[1:]]
        out += ["", end, ""]
    return "\n".join(out)


def write(rows, meta, out_dir=RESULTS):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "coverage.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (out_dir / "coverage.md").write_text(markdown(rows, meta))
    (out_dir / "coverage_table.rst").write_text(rst_table(rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="quick_reps per study (about 100; default)")
    mode.add_argument("--full", action="store_true", help="full_reps per study (at least 500)")
    ap.add_argument("--family", action="append", default=None, help="run one family (repeatable)")
    ap.add_argument("--only", action="append", default=None,
                    help="run only rows whose 'family | estimator | DGP | n' contains this text")
    ap.add_argument("--exclude", action="append", default=None,
                    help="skip rows whose 'family | estimator | DGP | n' contains this text")
    ap.add_argument("--reps", type=int, default=None, help="override the replications (testing)")
    ap.add_argument("--n-jobs", type=int, default=1, help="joblib workers over replications")
    ap.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                    help="per study: start no new batch of replications after this many "
                         "seconds; the row records how many ran, and the rows after it in "
                         "this run use as many replications")
    ap.add_argument("--list", action="store_true", help="list the studies and exit")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    ap.add_argument("--no-write", action="store_true", help="print the rows, write nothing")
    ap.add_argument("--merge", action="append", default=None, metavar="JSON",
                    help="merge the rows of another run's coverage.json (e.g. families run in "
                         "parallel into other --out folders) into this one, run nothing")
    ap.add_argument("--refresh-notes", action="store_true",
                    help="rewrite the stored rows' notes from the current study definitions "
                         "(a note is text, not a measurement), run nothing")
    args = ap.parse_args(argv)
    if args.refresh_notes:
        path = Path(args.out) / "coverage.json"
        rows = refresh_notes(load(path), family_modules())
        modes = sorted({r.get("mode", "?") for r in rows})
        write(rows, {"modes in table": ", ".join(modes),
                     "last run": max(r.get("date", "") for r in rows)}, Path(args.out))
        print(f"{len(rows)} rows in {path}")
        return rows
    if args.merge:
        path = Path(args.out) / "coverage.json"
        rows = load(path)
        for other in args.merge:
            rows = merge(rows, load(Path(other)))
        modes = sorted({r.get("mode", "?") for r in rows})
        write(rows, {"modes in table": ", ".join(modes),
                     "last run": max(r.get("date", "") for r in rows)}, Path(args.out))
        print(f"{len(rows)} rows in {path}")
        return rows

    modules = family_modules()
    if args.family:
        unknown = sorted(set(args.family) - set(modules))
        if unknown:
            ap.error(f"unknown family {unknown}; known: {sorted(modules)}")
    studies = select(modules, args.family, args.only)
    if args.exclude:
        studies = [s for s in studies
                   if not any(x.lower() in row_key(s).lower() for x in args.exclude)]
    if args.list:
        for st in studies:
            print(f"{row_key(st)}   quick {st.quick_reps}, full {st.full_reps}")
        return []
    kind = "full" if args.full else "quick"
    out_dir = Path(args.out)
    path = out_dir / "coverage.json"
    commit = _git_commit()
    new = []
    cap = None  # after a row stops at the time limit, later rows run as many replications
    for st in studies:
        reps = args.reps or (st.full_reps if args.full else st.quick_reps)
        limit = args.time_limit
        if cap is not None:
            # the same seeds as the row that stopped, so rows sharing fits (an HTE
            # learner's ATE and slope rows) stay comparable and come from a cache
            reps, limit = min(reps, cap), None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            row = run_study(st, reps, args.n_jobs, limit)
        if row.get("stopped_early") and cap is None:
            cap = row["reps"]
        elif limit is None and cap is not None and row["reps"] < (
                args.reps or (st.full_reps if args.full else st.quick_reps)):
            row["stopped_early"] = (f"{row['reps']} replications, as many as the row of this "
                                    "run that reached the time limit")
        mode = kind if not args.reps else f"{args.reps} reps"
        if row.get("stopped_early"):
            mode = f"{kind}, stopped at the time limit"
        row.update(mode=mode, commit=commit,
                   date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   n_jobs=args.n_jobs)
        new.append(row)
        print(f"{row_key(st):90s} reps {row['reps']:4d}  cover {row['coverage']:.3f} ({row['mc_se']:.3f})  "
              f"bias {row['bias']:+.4f}  SE/SD {row['se_over_sd']:.3f}  {row['seconds']:6.1f}s"
              + (f"  [{row['failed']} failed: {row.get('first_error', '')}]" if row["failed"] else ""),
              flush=True)
        if not args.no_write:  # write after every row so an interrupted run keeps what it did
            whole = () if (args.only or args.exclude) else (args.family or tuple(modules))
            rows = merge(load(path), new, dropped_families=whole,
                         keep_keys={row_key(s) for s in studies} if whole else ())
            modes = sorted({r.get("mode", "?") for r in rows})
            write(rows, {"modes in table": ", ".join(modes), "last run": new[-1]["date"]}, out_dir)
    return new


if __name__ == "__main__":
    main()
