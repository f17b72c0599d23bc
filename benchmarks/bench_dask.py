"""Off-policy evaluation on Dask: IPS, SNIPS and DR over logged rounds generated chunk by chunk.

Logged bandit feedback with ``n`` rounds and 10 actions is generated block by block
inside the Dask graph (one seed per block, so the data are the same on every pass and
in every process) and never materialised: each estimator's ``fit`` (one pass of
checks) and ``value(policy)`` (one pass of sums) regenerate the blocks they read.
The cluster is a ``distributed.LocalCluster`` of 2 worker processes with one thread
each. For every size the script reports

* wall time of ``fit`` + ``value`` per estimator, and of a pass that only generates
  the blocks (the cost of the data source itself);
* the peak resident memory of each worker process (``ru_maxrss``) beside its memory
  right after start-up: flat in ``n`` when nothing of length ``n`` is gathered;

and at ``--in-memory-n`` (default 10^7) the same estimators on numpy arrays holding
the same rounds (built block by block in a child process, whose peak memory is
reported too), with the ratio of times and the largest relative difference of value
and standard error between the two paths.

Usage::

    python benchmarks/bench_dask.py                       # n = 10^8 (and 10^7), in-memory 10^7
    python benchmarks/bench_dask.py --sizes 1e6 1e7 --in-memory-n 1e7
    python benchmarks/bench_dask.py --sizes 3e7 --only IPS --append   # add a larger Dask-only run
    python benchmarks/bench_dask.py --quick                           # minutes

Results: benchmarks/results/dask.json and dask.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CAUSALKIT_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RESULTS, library_versions, machine_facts  # noqa: E402

K = 10          # actions
P_FEAT = 2      # context features
SEED = 20260


def _softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


#: contexts take LEVELS values per feature, so the policies and the reward model are
#: table look-ups (the data source stays cheap beside the estimators it feeds)
LEVELS = 256
_GRID = np.linspace(-2.5, 2.5, LEVELS)
_J = np.arange(K)
_PI0 = 0.9 * _softmax(_GRID[:, None] * np.linspace(-1.5, 1.5, K)) + 0.1 / K
_CDF0 = np.cumsum(_PI0, axis=1)
_POLICY = 0.8 * _softmax(_GRID[:, None] * np.linspace(1.0, -1.0, K)) + 0.2 / K
_LOGIT = _GRID[:, None] * np.cos(_J) + 0.2 * np.sin(_J)
_QHAT = 1 / (1 + np.exp(-_LOGIT))


def generate_block(block: int, rows: int):
    """One block of logged rounds: ``(X, y, action, propensity, policy, rewards_hat)``.

    Contexts ``x_0, x_1`` uniform on a grid of ``LEVELS`` points in [-2.5, 2.5];
    logging policy ``0.9 softmax(x_0 a_j) + 0.1 / K``; target policy
    ``0.8 softmax(x_1 b_j) + 0.2 / K``; reward Bernoulli with mean
    ``expit(x_0 cos(j) + 0.2 sin(j) + 0.3 x_1)``; the reward model omits the ``x_1`` term.
    """
    rng = np.random.default_rng(np.random.SeedSequence([SEED, block]))
    i0 = rng.integers(0, LEVELS, rows)
    i1 = rng.integers(0, LEVELS, rows)
    X = np.column_stack([_GRID[i0], _GRID[i1]])
    u = rng.uniform(size=(rows, 1))
    action = np.minimum((_CDF0[i0] < u).sum(axis=1), K - 1)
    propensity = _PI0[i0, action]
    policy = _POLICY[i1]
    qhat = _QHAT[i0]
    mean = 1 / (1 + np.exp(-(_LOGIT[i0, action] + 0.3 * X[:, 1])))
    y = (rng.uniform(size=rows) < mean).astype(np.float64)
    return X, y, action, propensity, policy, qhat


def _layout(n, rows):
    sizes = [rows] * (n // rows) + ([n % rows] if n % rows else [])
    return sizes


def dask_data(n: int, rows: int):
    """The six arrays as Dask arrays whose blocks are generated on the workers."""
    import dask
    import dask.array as da

    gen = dask.delayed(generate_block, pure=True, nout=6)
    cols = [[] for _ in range(6)]
    shapes = [lambda m: (m, P_FEAT), lambda m: (m,), lambda m: (m,), lambda m: (m,),
              lambda m: (m, K), lambda m: (m, K)]
    dtypes = [np.float64, np.float64, np.int64, np.float64, np.float64, np.float64]
    for b, m in enumerate(_layout(n, rows)):
        parts = gen(b, m)
        for c in range(6):
            cols[c].append(da.from_delayed(parts[c], shape=shapes[c](m), dtype=dtypes[c]))
    return [da.concatenate(c, axis=0) for c in cols]


def numpy_data(n: int, rows: int):
    """The same rounds as numpy arrays (filled block by block)."""
    out = [np.empty((n, P_FEAT)), np.empty(n), np.empty(n, dtype=np.int64), np.empty(n),
           np.empty((n, K)), np.empty((n, K))]
    start = 0
    for b, m in enumerate(_layout(n, rows)):
        for arr, part in zip(out, generate_block(b, m)):
            arr[start:start + m] = part
        start += m
    return out


def run_estimators(X, y, a, p, P, q, only=None):
    """fit + value of IPS, SNIPS and DR; returns {name: (seconds, value, stderr)}."""
    from causalkit.ope import IPS, SNIPS, DoublyRobust

    out = {}
    for name, est, kw in (("IPS", IPS(), {}), ("SNIPS", SNIPS(), {}),
                          ("DR", DoublyRobust(), {"estimated_rewards": q})):
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        v = est.fit(X, y, action=a, propensity=p, **kw).value(P)
        out[name] = {"seconds": time.perf_counter() - t0, "value": v.value, "stderr": v.stderr}
    return out


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_memory_child(n, rows, queue):
    t0 = time.perf_counter()
    data = numpy_data(n, rows)
    gen = time.perf_counter() - t0
    res = run_estimators(*data)
    queue.put({"generate_seconds": gen, "estimators": res, "peak_rss_mib": _peak_rss_mib(),
               "data_mib": sum(x.nbytes for x in data) / 2**20})


def in_memory(n, rows):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_in_memory_child, args=(n, rows, q))
    proc.start()
    out = q.get()
    proc.join()
    return out


def on_dask(n, rows, workers=2, only=None):
    import dask.array as da
    import distributed

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit=None) as cluster, \
            distributed.Client(cluster) as client:
        start_rss = client.run(_peak_rss_mib)
        client.run(lambda: __import__("causalkit.ope"))  # warm the workers' imports
        X, y, a, p, P, q = dask_data(n, rows)
        t0 = time.perf_counter()
        total = float(da.sum(y).compute())
        gen_pass = time.perf_counter() - t0
        res = run_estimators(X, y, a, p, P, q, only)
        peaks = client.run(_peak_rss_mib)
    return {"n": n, "rows_per_block": rows, "blocks": len(_layout(n, rows)),
            "generate_only_pass_seconds": gen_pass, "mean_reward": total / n,
            "estimators": res,
            "worker_rss_after_start_mib": sorted(start_rss.values()),
            "worker_peak_rss_mib": sorted(peaks.values())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e7, 1e8],
                    help="logged rounds per Dask run (default 1e7 1e8)")
    ap.add_argument("--in-memory-n", type=float, default=1e7,
                    help="rounds for the numpy comparison (0 skips it)")
    ap.add_argument("--rows-per-block", type=int, default=250_000)
    ap.add_argument("--out", default="dask")
    ap.add_argument("--only", nargs="+", choices=["IPS", "SNIPS", "DR"],
                    help="run only these estimators on Dask (a larger size in less time)")
    ap.add_argument("--append", action="store_true",
                    help="add the Dask runs to the existing report instead of replacing it")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes (2e5 and 1e6 on Dask, 1e6 in memory) for benchmarks/run.py --quick")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.in_memory_n, args.rows_per_block = [2e5, 1e6], 1e6, 100_000
    rows = args.rows_per_block
    old = RESULTS / f"{args.out}.json"
    if args.append and old.exists():
        report = json.loads(old.read_text())
        report.setdefault("appended_runs_machine", []).append(machine_facts())
        args.in_memory_n = 0
    else:
        report = None
    report = report or {"description": "IPS + SNIPS + DR (fit + value) on 10-action logged bandit feedback "
                             "generated block by block on a LocalCluster of 2 worker processes "
                             "(1 thread each); in-memory numpy path for the ratio",
              "machine": machine_facts(), "versions": library_versions(("dask", "distributed")),
              "dask": [], "in_memory": None}
    for n in (int(s) for s in args.sizes):
        print(f"Dask, n = {n:,} ...", flush=True)
        r = on_dask(n, rows, only=args.only)
        report["dask"].append(r)
        print(json.dumps(r, indent=1), flush=True)
    nm = int(args.in_memory_n)
    if nm:
        print(f"in memory, n = {nm:,} ...", flush=True)
        mem = in_memory(nm, rows)
        mem["n"] = nm
        report["in_memory"] = mem
        print(json.dumps(mem, indent=1), flush=True)
        same = [r for r in report["dask"] if r["n"] == nm]
        if same:
            r = same[0]
            cmp = {}
            for name, m in mem["estimators"].items():
                d = r["estimators"][name]
                est_only = d["seconds"] - 2 * r["generate_only_pass_seconds"]
                cmp[name] = {
                    "dask_over_numpy_time": d["seconds"] / m["seconds"],
                    "dask_minus_two_generate_passes_over_numpy_time": est_only / m["seconds"],
                    "value_rel_diff": abs(d["value"] - m["value"]) / abs(m["value"]),
                    "stderr_rel_diff": abs(d["stderr"] - m["stderr"]) / m["stderr"]}
            report["comparison_at_in_memory_n"] = cmp
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=1))
    (RESULTS / f"{args.out}.md").write_text(markdown(report))
    print((RESULTS / f"{args.out}.md").read_text())


def markdown(rep):
    lines = ["# OPE on Dask collections (IPS, SNIPS, DR)", "", rep["description"] + ".", "",
             f"Machine: {rep['machine'].get('cpu_count')} cores, "
             f"{rep['machine'].get('mem_total_gib')} GiB, {rep['machine'].get('timestamp')}; "
             f"dask {rep['versions'].get('dask')}, distributed {rep['versions'].get('distributed')}.",
             "", "| n | blocks | generate-only pass (s) | IPS (s) | SNIPS (s) | DR (s) | "
             "worker RSS after start (MiB) | worker peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rep["dask"]:
        e = {k: f"{v['seconds']:.1f}" for k, v in r["estimators"].items()}
        lines.append(f"| {r['n']:,} | {r['blocks']} | {r['generate_only_pass_seconds']:.1f} | "
                     f"{e.get('IPS', '-')} | {e.get('SNIPS', '-')} | {e.get('DR', '-')} | "
                     f"{', '.join(f'{v:.0f}' for v in r['worker_rss_after_start_mib'])} | "
                     f"{', '.join(f'{v:.0f}' for v in r['worker_peak_rss_mib'])} |")
    lines += ["", "Each estimator's time is `fit` (one pass of checks) + `value` (one pass of sums); "
              "every pass regenerates the blocks, so it includes about one generate-only pass "
              "of data-source cost."]
    m = rep.get("in_memory")
    if m:
        lines += ["", f"In memory (numpy, n = {m['n']:,}): data {m['data_mib']:.0f} MiB, process "
                  f"peak RSS {m['peak_rss_mib']:.0f} MiB, generation {m['generate_seconds']:.1f} s; "
                  + ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in m["estimators"].items()) + "."]
    cmp = rep.get("comparison_at_in_memory_n")
    if cmp:
        lines += ["", "| estimator | Dask / numpy time | (Dask - 2 generate passes) / numpy | "
                  "value rel. diff | SE rel. diff |", "|---|---|---|---|---|"]
        for k, v in cmp.items():
            lines.append(f"| {k} | {v['dask_over_numpy_time']:.2f} | "
                         f"{v['dask_minus_two_generate_passes_over_numpy_time']:.2f} | "
                         f"{v['value_rel_diff']:.1e} | {v['stderr_rel_diff']:.1e} |")
    if rep.get("notes"):
        lines += ["", "Notes:", ""] + [f"* {t}" for t in rep["notes"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
