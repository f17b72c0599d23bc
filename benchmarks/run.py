"""Run every benchmark, then regenerate ``benchmarks/results/SUMMARY.md`` from the JSON results.

Usage::

    python benchmarks/run.py             # every bench_*.py at its full size (hours on 2 cores)
    python benchmarks/run.py --quick     # small sizes, one repeat: minutes on a shared 2-core machine
    python benchmarks/run.py --summary   # only rebuild SUMMARY.md from the JSON already there
    python benchmarks/run.py --only hte,montecarlo

Full runs write to ``benchmarks/results/``; quick runs to ``benchmarks/results/quick/`` (so
they never overwrite the full numbers), each with its own ``SUMMARY.md``. Each benchmark runs
in its own process under a time limit; a failure or timeout is recorded in the summary and
the others still run. ``bench_*.py`` scripts not listed in ``PLAN`` run with no arguments in
full mode and are left out of quick mode unless their source mentions ``--quick``.

SUMMARY.md holds one table per family (the name before the first ``_``): every candidate's
median wall and process CPU time, its ratio to the floor (the report's baseline when that is
not a peer library, else a candidate named ``bare``/``floor``) and to each peer library, on
the clock the report chose; then the machines, library versions and dates the numbers came
from, and the notes each benchmark wrote. The README and the guides quote that file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

PEERS = ("doubleml", "econml", "statsmodels", "obp", "rdrobust", "linearmodels", "ppi",
         "scipy", "pandas")

# script -> (list of full-mode argument lists, list of quick-mode argument lists)
PLAN = {
    # quick: one inner thread only; a 2-thread OpenMP fit on a loaded machine crawls (the
    # point of the full run), past any quick time limit
    "bench_threads.py": ([[]], [["--quick", "--n", "1000", "--budget", "20", "--threads", "1"]]),
    "bench_aipw.py": ([[]], [["--n", "10000", "--repeats", "1"]]),
    "bench_hte.py": (
        [["lgbm", "50000", "--clock", "cpu", "--baseline", "bare+final", "--blp"],
         ["lgbm", "200000", "--clock", "cpu", "--baseline", "bare+final", "--blp", "--no-peers",
          "--repeats", "2", "--no-memory"],
         ["lgbm", "50000", "--learner", "dr", "--clock", "cpu", "--baseline", "bare+final",
          "--blp", "--no-peers"],
         ["lgbm", "200000", "--learner", "dr", "--clock", "cpu", "--baseline", "bare+final",
          "--no-peers", "--repeats", "2", "--no-memory"],
         ["lgbm", "100000", "--final", "linear", "--clock", "cpu"],
         ["linear", "1000000", "--clock", "cpu", "--repeats", "2"]],
        [["lgbm", "20000", "--clock", "cpu", "--baseline", "bare+final", "--blp", "--no-peers",
          "--repeats", "1"],
         ["lgbm", "20000", "--learner", "dr", "--clock", "cpu", "--baseline", "bare+final",
          "--no-peers", "--repeats", "1"],
         ["linear", "100000", "--clock", "cpu", "--repeats", "1", "--no-peers"]]),
    "bench_montecarlo.py": ([["1e6", "1e7"]], [["1e6", "--repeats", "1", "--no-peers"]]),
    "bench_ope.py": ([[]], [["--n", "100000", "--repeats", "1"]]),
    "bench_ope_propensity.py": ([[]], [["--n", "20000", "--repeats", "1"]]),
    "bench_iv.py": ([[]], [["--n", "5000", "--repeats", "1"]]),
    "bench_frontdoor.py": ([[]], [["--repeats", "1", "--n", "200000", "--n-dr", "5000"]]),
    "bench_cfdivae.py": ([[]], [["--quick", "--n", "2000", "--repeats", "1"]]),
    "bench_scaling.py": ([[]], [["--sizes", "1e4,1e5", "--repeats", "1"]]),
    "bench_supt.py": ([[]], [["--repeats", "2"]]),
    "bench_calibration.py": ([[]], [["--m", "100000", "--repeats", "1"]]),
    "bench_sensitivity.py": ([[]], [["--n", "5000", "--repeats", "1"]]),
    "bench_rdd.py": ([[]], []),
    "bench_rdd_batch.py": ([[]], [["20000", "5", "1"]]),
    "bench_rdd_scalar.py": ([[]], [["20000", "1"]]),
    "bench_demo.py": ([["--repeats", "2"]], [["--repeats", "1"]]),
}

# scripts left out of --quick, and why (printed in the quick SUMMARY.md)
QUICK_SKIPS = {
    "bench_rdd.py": "no small size (its one run takes minutes, most of it in the peer)",
    "bench_rdd_compile.py": "writes to benchmarks/results/ whatever the mode (would overwrite "
                            "the full results)",
    "bench_ope_learning.py": "writes to benchmarks/results/ whatever the mode (would overwrite "
                             "the full results)",
}


def plan(quick: bool, only=None):
    """(script, args) pairs to run, every bench_*.py included."""
    jobs = []
    for path in sorted(HERE.glob("bench_*.py")):
        family = path.stem[len("bench_"):]
        if only and family not in only and path.name not in only:
            continue
        full, fast = PLAN.get(path.name, ([[]], None))
        if fast is None:  # a script run.py does not know
            fast = [["--quick"]] if "--quick" in path.read_text() else []
        for args in (fast if quick else full):
            jobs.append((path.name, args))
    return jobs


def run_all(quick: bool, out: Path, only=None, timeout=None) -> list:
    """Run the plan, one process per command; a failure is logged and the rest still run.

    Each command's stdout and stderr go to ``<out>/logs/<script>_<k>.log`` (not committed);
    ``<out>/run_log.json`` records its status, seconds and the last line of its output.
    """
    env = dict(os.environ, CAUSALKIT_BENCH_RESULTS=str(out))
    if quick:
        env["CAUSALKIT_BENCH_QUICK"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / ".gitignore").write_text("*\n")
    log, seen = [], {}
    start_all = time.perf_counter()
    for script, args in plan(quick, only):
        k = seen[script] = seen.get(script, 0) + 1
        cmd = [sys.executable, str(HERE / script), *args]
        logfile = logs / f"{Path(script).stem}_{k}.log"
        print("$", " ".join(cmd[1:]), flush=True)
        start, cpu0 = time.perf_counter(), _children_cpu()
        with open(logfile, "w") as fh:
            try:
                proc = subprocess.run(cmd, env=env, timeout=timeout, stdout=fh,
                                      stderr=subprocess.STDOUT, text=True)
                status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
            except subprocess.TimeoutExpired:
                status = f"timed out after {timeout:.0f} s"
        took, cpu = time.perf_counter() - start, _children_cpu() - cpu0
        tail = ""
        if status != "ok":
            lines = [ln for ln in logfile.read_text(errors="replace").splitlines() if ln.strip()]
            tail = lines[-1][:300] if lines else ""
        print(f"  {status} in {took:.0f} s wall, {cpu:.0f} s CPU (log: {logfile})"
              + (f"\n  last line: {tail}" if tail else ""), flush=True)
        log.append({"script": script, "args": args, "status": status, "seconds": round(took, 1),
                    "cpu_seconds": round(cpu, 1), "last_line": tail,
                    "log": str(logfile.relative_to(out))})
    if only and (out / "run_log.json").exists():  # keep the other scripts' last entries
        old = json.loads((out / "run_log.json").read_text())
        old = old.get("commands", []) if isinstance(old, dict) else old
        done = {e["script"] for e in log}
        log = [e for e in old if e["script"] not in done] + log
    elif quick:
        log += [{"script": s, "args": [], "status": f"skipped in quick mode: {why}",
                 "seconds": 0.0, "cpu_seconds": 0.0, "last_line": "", "log": ""}
                for s, why in QUICK_SKIPS.items()]
    # sums over the commands (with --only, the other scripts' last entries count too)
    total = {"wall_s": round(sum(e["seconds"] for e in log), 1),
             "cpu_s": round(sum(e["cpu_seconds"] for e in log), 1),
             "this_call_wall_s": round(time.perf_counter() - start_all, 1)}
    print(f"all benchmark commands: {total['wall_s']:.0f} s wall, {total['cpu_s']:.0f} s CPU",
          flush=True)
    (out / "run_log.json").write_text(json.dumps(
        {"mode": "quick" if quick else "full", "finished": _now(), "total": total,
         "machine": _facts(), "commands": log}, indent=2))
    return log


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    t = os.times()
    return t.children_user + t.children_system


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _facts() -> dict:
    from harness import machine_facts

    facts = machine_facts()
    try:
        facts["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return facts


# ------------------------------------------------------------------------------ summary


def _is_peer(label: str) -> bool:
    low = label.lower()
    return not low.startswith("causalkit") and any(p in low for p in PEERS)


def _floor(d: dict):
    base = d.get("baseline")
    if base and not _is_peer(base):
        return base
    for label in d["times_s"]:
        low = label.lower()
        if low.startswith(("bare", "floor", "given")):
            return label
    return None


def _median(xs):
    return statistics.median(xs) if xs else None


def _g(x, fmt="{:.3g}"):
    return "" if x is None else fmt.format(x)


def _ratio(x):
    """Two decimals, or three significant digits below 0.1 (so 0.004 does not print as 0.00)."""
    if x is None:
        return ""
    return f"{x:.2f}" if x >= 0.1 else f"{x:.3g}"


def _family(name: str) -> str:
    return name.split("_")[0]


def harness_rows(d: dict):
    """One row per candidate of a harness report, with ratios on the report's clock."""
    clock = d.get("clock") or "wall"
    cpu = d.get("cpu_times_s") or {}
    source = cpu if clock == "cpu" and cpu else d["times_s"]
    med = {k: _median(v) for k, v in source.items()}
    floor = _floor(d)
    peers = [k for k in d["times_s"] if _is_peer(k)]
    rows = []
    for label, times in d["times_s"].items():
        r = {"benchmark": d["name"], "candidate": label, "wall": _median(times),
             "cpu": _median(cpu.get(label, [])), "repeats": len(times), "clock": clock,
             "peak_mib": (d.get("peak_traced_mib") or {}).get(label),
             "floor": floor, "x_floor": None, "x_peer": {}}
        if floor and med.get(floor):
            r["x_floor"] = med[label] / med[floor]
        if not _is_peer(label):
            for p in peers:
                if med.get(p):
                    r["x_peer"][p] = med[label] / med[p]
        rows.append(r)
    return rows


def _machine_line(facts: dict) -> str:
    keys = ("cpu_model", "cpu_count", "mem_total_gib", "python", "platform")
    return ", ".join(f"{k}={facts[k]}" for k in keys if k in facts)


def _date(facts: dict) -> str:
    return str(facts.get("timestamp", ""))[:10]


def summary_markdown(directory: Path, fragments: dict | None = None) -> str:
    """SUMMARY.md's text; ``fragments`` (if given) receives each section without its heading."""
    fragments = {} if fragments is None else fragments
    reports, special, other = {}, {}, []
    for path in sorted(directory.glob("*.json")):
        if path.name == "run_log.json":
            continue
        try:
            d = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            other.append(path.name)
            continue
        if isinstance(d, dict) and "ratio_to_baseline" in d and isinstance(d.get("times_s"), dict):
            reports.setdefault(_family(d["name"]), []).append(d)
        elif isinstance(d, dict) and (d.get("name") in ("threads", "demo")
                                      or str(d.get("name")).startswith("scaling")):
            special[d["name"]] = d
        else:
            other.append(path.name)
    now = _now()
    from harness import library_versions, machine_facts

    here = machine_facts()
    lines = ["# Benchmark results", "",
             f"Generated {now} by `python benchmarks/run.py` from the JSON files in this folder "
             "(do not edit by hand). Each table gives medians over alternating repeats; `x floor` "
             "is the ratio to the least work the task needs (bare nuisance fits, a bare solve, "
             "given propensities), `x <peer>` the ratio to a peer library on the same data, both "
             "on the clock named in the table (process CPU time where the report chose it, which "
             "other jobs on a shared machine do not inflate). Wall times on a shared machine are "
             "inflated by its load.", "",
             f"Machine running this summary: {_machine_line(here)}.", ""]
    log_path = directory / "run_log.json"
    if log_path.exists():
        run = json.loads(log_path.read_text())
        if isinstance(run, list):  # the format before the totals were recorded
            run = {"commands": run}
        log = run["commands"]
        ran = [e for e in log if not e["status"].startswith("skipped")]
        bad = [e for e in ran if e["status"] != "ok"]
        total = run.get("total")
        took = (f" in {total['wall_s']:.0f} s wall, {total['cpu_s']:.0f} s CPU"
                if total else "")
        load = run.get("machine", {}).get("loadavg_at_end")
        lines += [f"Last run ({run.get('mode', '?')}, finished {run.get('finished', '?')}): "
                  f"{len(ran)} benchmark command(s){took}, {len(bad)} not ok"
                  + (f"; load average at the end {load}" if load else "") + "."]
        lines += [f"- `{e['script']} {' '.join(e['args'])}`: **{e['status']}** "
                  f"(`{e.get('log', '')}`) {e['last_line']}" for e in bad]
        lines += [f"- `{e['script']}`: {e['status']}" for e in log
                  if e["status"].startswith("skipped")]
        lines += ["", "| command | status | wall s | CPU s |", "|---|---|---:|---:|"]
        lines += [f"| `{' '.join([e['script'], *e['args']])}` | {e['status']} | "
                  f"{e['seconds']:.0f} | {_g(e.get('cpu_seconds'), '{:.0f}')} |" for e in ran]
        lines.append("")
    versions_seen, machines_seen = {}, {}
    for family in sorted(reports):
        group = reports[family]
        rows = [r for d in group for r in harness_rows(d)]
        peers = sorted({p for r in rows for p in r["x_peer"]})
        lines += [f"## {family}", ""]
        start = len(lines)
        head = "| benchmark | candidate | median wall s | median CPU s | repeats | clock | x floor | "
        head += "".join(f"x {p} | " for p in peers) + "peak traced MiB |"
        lines += [head, "|---|---|---:|---:|---:|---|---:|" + "---:|" * (len(peers) + 1)]
        for r in rows:
            cells = [r["benchmark"], r["candidate"], _g(r["wall"]), _g(r["cpu"]), str(r["repeats"]),
                     r["clock"], _ratio(r["x_floor"])]
            cells += [_ratio(r["x_peer"].get(p)) for p in peers]
            cells.append(_g(r["peak_mib"], "{:.0f}"))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for d in group:
            desc = d.get("description", "").rstrip()
            if desc and not desc.endswith("."):
                desc += "."
            floor = _floor(d)
            lines.append(f"- **{d['name']}** ({_date(d.get('machine', {}))}): {desc}"
                         + (f" Floor: {floor}." if floor else ""))
            lines += [f"  - {n}" for n in d.get("notes", [])]
            machines_seen.setdefault(_machine_line(d.get("machine", {})), []).append(d["name"])
            for k, v in d.get("versions", {}).items():
                versions_seen.setdefault(k, set()).add(v)
        lines.append("")
        fragments[family] = lines[start:]
    if "demo" in special:
        d = special["demo"]
        lines += ["## demo", ""]
        start = len(lines)
        lines += [f"{d['description']} ({_date(d.get('machine', {}))}): median "
                  f"{d['median_wall_s']:.1f} s wall, {d['median_cpu_s']:.1f} s CPU over "
                  f"{len(d['runs'])} run(s) (target: under {d['target_s']:.0f} s); load average "
                  f"before each run: {', '.join(str(r['loadavg_before']) for r in d['runs'])}.", ""]
        lines += [f"- {n}" for n in d.get("notes", [])] + [""]
        fragments["demo"] = lines[start:]
        machines_seen.setdefault(_machine_line(d.get("machine", {})), []).append("demo")
    if "threads" in special:
        d = special["threads"]
        lines += ["## threads", ""]
        start = len(lines)
        lines += [d.get("description", ""), "",
                  "| case | other core | inner threads | repeats | median wall s | median CPU s | "
                  "ATE | load avg at start |", "|---|---|---:|---:|---:|---:|---:|---|"]
        for r in d["rows"]:
            lines.append(f"| {r['case']} | {r['condition']} | {r['n_threads']} | "
                         f"{r.get('repeats', '')} | {_g(r['median_wall_s'])} | "
                         f"{_g(r['median_cpu_s'])} | {r['ate']:.6f} | {r.get('loadavg_at_start')} |")
        lines += [""] + [f"- {n}" for n in d.get("notes", [])] + [""]
        fragments["threads"] = lines[start:]
        machines_seen.setdefault(_machine_line(d.get("machine", {})), []).append("threads")
    for name in sorted(k for k in special if k.startswith("scaling")):
        from bench_scaling import scaling_markdown

        text = scaling_markdown(special[name])
        lines += [text]
        fragments[name] = text.split("\n")[2:]
        machines_seen.setdefault(_machine_line(special[name].get("machine", {})), []).append(name)
    if other:
        lines += ["## Other results", "", "Studies and coverage tables with their own format "
                  "(see the matching .md files): " + ", ".join(other), ""]
    lines += ["## Machines and versions", ""]
    lines += [f"- {m or 'unrecorded'}: {', '.join(names)}" for m, names in machines_seen.items()]
    current = library_versions()
    lines += ["", "Library versions recorded in the results (now installed: "
              + ", ".join(f"{k} {v}" for k, v in current.items()) + "):", ""]
    lines += [f"- {k}: {', '.join(sorted(v))}" for k, v in sorted(versions_seen.items())]
    return "\n".join(lines) + "\n"


def write_summary(directory: Path = RESULTS) -> Path:
    """Write ``SUMMARY.md`` and, under ``summary/``, each section alone (``<family>.md``).

    The guides include those fragments (``.. include:: ../../benchmarks/results/summary/
    hte.md`` with ``:parser: myst_parser.sphinx_``), so they quote the summary rather
    than hand-copied numbers.
    """
    directory = Path(directory)
    path = directory / "SUMMARY.md"
    fragments = {}
    path.write_text(summary_markdown(directory, fragments))
    parts = directory / "summary"
    parts.mkdir(exist_ok=True)
    for name, body in fragments.items():
        text = "\n".join(body).strip() + "\n"
        (parts / f"{name}.md").write_text(
            "<!-- generated by benchmarks/run.py from benchmarks/results/*.json; see SUMMARY.md -->\n\n"
            + text)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--summary", action="store_true", help="only rebuild SUMMARY.md")
    ap.add_argument("--only", default="", help="comma-separated families or scripts")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per benchmark command (default: 900 quick, none full)")
    a = ap.parse_args(argv)
    out = RESULTS / "quick" if a.quick else RESULTS
    if not a.summary:
        only = set(a.only.split(",")) if a.only else None
        timeout = a.timeout if a.timeout is not None else (900 if a.quick else None)
        run_all(a.quick, out, only, timeout)
    path = write_summary(out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
