"""Off-policy evaluation on Dask: IPS, SNIPS and DR over logged rounds generated chunk by chunk.

Logged bandit feedback with ``n`` rounds and 10 actions is generated block by block
inside the Dask graph (one seed per block, so the data are the same on every pass and
in every process) and never materialised: each estimator's ``fit_compare`` (the checks
of ``fit`` and the sums of the policy's value in one pass) regenerates the blocks it reads.
The cluster is a ``distributed.LocalCluster`` of 2 worker processes with one thread
each, started afresh for every size. For every size the script reports

* wall time and CPU time of ``fit_compare`` (fit + value of one policy) per estimator,
  and of a pass that only generates the blocks (the cost of the data source itself).
  CPU time is summed over every process that works: the client process (which also runs
  the scheduler of a ``LocalCluster``), the worker processes and their nannies;
* the peak resident memory of each worker process, sampled every 10 ms by a thread in
  the worker (psutil), separately for the generate-only pass and for the estimators,
  beside its memory right after start-up: flat in ``n`` when nothing of length ``n`` is
  gathered. (``ru_maxrss`` is not used: a process started by fork + exec inherits its
  parent's high-water mark, so a worker's reads the client's memory at start-up.)
* the machine's load average before and after (the machine may be shared).

At ``--in-memory-n`` (default 10^7) the same estimators also run on numpy arrays
holding the same rounds, in a child process that builds them once; the two paths take
turns (Dask, numpy, Dask, numpy, ...; ``--repeats`` rounds) and the report gives the
median times, their ratio and the largest relative difference of value and standard
error between the two paths. Other sizes run ``--size-repeats`` rounds.

Results are written after every size, so a long run that is stopped keeps what it
finished.

Usage::

    python benchmarks/bench_dask.py                       # 1e6, 1e7 (+ numpy), 3e7, 1e8
    python benchmarks/bench_dask.py --sizes 1e6 1e7 --in-memory-n 1e7
    python benchmarks/bench_dask.py --sizes 1e8 --append  # add a size to the report
    python benchmarks/bench_dask.py --quick               # about a minute

Results: benchmarks/results/dask.json and dask.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
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
ESTIMATORS = ("IPS", "SNIPS", "DR")


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
#: the logging CDF of context level r, shifted to (r, r + 1]: one sorted array, so an
#: action is drawn for every row by one searchsorted of ``level + u``
_CDF_FLAT = (np.cumsum(_PI0, axis=1) + np.arange(LEVELS)[:, None]).ravel()
_POLICY = 0.8 * _softmax(_GRID[:, None] * np.linspace(1.0, -1.0, K)) + 0.2 / K
_LOGIT = _GRID[:, None] * np.cos(_J) + 0.2 * np.sin(_J)
_QHAT = 1 / (1 + np.exp(-_LOGIT))
#: reward means by (level of x_0, action, level of x_1)
_MEAN = (1 / (1 + np.exp(-(_LOGIT[:, :, None] + 0.3 * _GRID[None, None, :])))).ravel()


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
    action = np.searchsorted(_CDF_FLAT, i0 + rng.random(rows)) - i0 * K
    np.clip(action, 0, K - 1, out=action)
    X = np.empty((rows, P_FEAT))
    X[:, 0] = _GRID[i0]
    X[:, 1] = _GRID[i1]
    cell = i0 * K + action
    propensity = _PI0.ravel()[cell]
    policy = _POLICY[i1]
    qhat = _QHAT[i0]
    y = (rng.random(rows) < _MEAN[cell * LEVELS + i1]).astype(np.float64)
    return X, y, action, propensity, policy, qhat


def _layout(n, rows):
    return [rows] * (n // rows) + ([n % rows] if n % rows else [])


def dask_data(n: int, rows: int):
    """The six arrays as Dask arrays whose blocks are generated on the workers.

    The generator is taken from the module ``bench_dask`` (importable on the workers, see
    :func:`on_dask`), never from ``__main__``: a function of the script being run is
    pickled by value with the globals it reads (here 5 MB of look-up tables), once into
    every task, where an importable function travels as its name.
    """
    import dask
    import dask.array as da

    import bench_dask

    gen = dask.delayed(bench_dask.generate_block, pure=True, nout=6)
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


def _make(name):
    from causalkit.ope import IPS, SNIPS, DoublyRobust

    return {"IPS": IPS, "SNIPS": SNIPS, "DR": DoublyRobust}[name]()


def run_estimators(data, cpu, only=None):
    """fit + value (``fit_compare``) of IPS, SNIPS and DR: {name: {wall and CPU seconds,
    value, stderr}}. On Dask one pass per estimator, on numpy fit then value.

    ``cpu()`` returns the CPU seconds used so far by every process doing the work.
    """
    X, y, a, p, P, q = data
    out = {}
    for name in ESTIMATORS:
        if only and name not in only:
            continue
        est = _make(name)
        kw = {"estimated_rewards": q} if name == "DR" else {}
        c0, t0 = cpu(), time.perf_counter()
        (v,) = est.fit_compare(X, y, action=a, propensity=p, policies={"pi": P}, **kw).estimates
        c1, t1 = cpu(), time.perf_counter()
        out[name] = {"seconds": t1 - t0, "cpu_seconds": c1 - c0, "value": v.value,
                     "stderr": v.stderr}
    return out


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _start_sampler(dask_worker=None):
    """Start a thread sampling this process's resident memory and the bytes of task
    results the worker holds (its managed memory) every 10 ms; returns the resident MiB
    now. :func:`_take_peak` reads and resets the peaks."""
    import builtins
    import threading

    import psutil

    proc = psutil.Process()
    state = builtins.__dict__.setdefault("_bench_dask_rss", {"peak": 0, "managed": 0})

    def loop():
        while True:
            r = proc.memory_info().rss
            if r > state["peak"]:
                state["peak"] = r
            m = dask_worker.state.nbytes if dask_worker is not None else 0
            if m > state["managed"]:
                state["managed"] = m
            time.sleep(0.01)

    threading.Thread(target=loop, daemon=True, name="bench-rss").start()
    return proc.memory_info().rss / 2**20


def _take_peak():
    """The sampled peaks (resident MiB, managed MiB) since the last call (then reset)."""
    import builtins

    state = builtins.__dict__["_bench_dask_rss"]
    peak, state["peak"] = state["peak"], 0
    managed, state["managed"] = state["managed"], 0
    return peak / 2**20, managed / 2**20


def _worker_cpu():
    """CPU seconds of this worker process and of its nanny (its parent)."""
    import psutil

    nanny = psutil.Process(os.getppid()).cpu_times()
    return time.process_time() + nanny.user + nanny.system


# --------------------------------------------------------------------------- numpy side


def _numpy_child(n, rows, conn):
    """Build the rounds once, then run the estimators each time the parent asks."""
    t0 = time.perf_counter()
    data = numpy_data(n, rows)
    gen = time.perf_counter() - t0
    run_estimators(data, time.process_time)  # warm-up round (imports, first calls), not timed
    conn.send({"generate_seconds": gen,
               "data_mib": sum(x.nbytes for x in data) / 2**20})
    while conn.recv() == "run":
        conn.send(run_estimators(data, time.process_time))
    conn.send({"peak_rss_mib": _peak_rss_mib()})
    conn.close()


class NumpySide:
    """The in-memory path in a child process (spawned: the parent runs a cluster)."""

    def __init__(self, n, rows):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_numpy_child, args=(n, rows, child))
        self.proc.start()
        self.info = self.conn.recv()

    def run(self):
        self.conn.send("run")
        return self.conn.recv()

    def close(self):
        self.conn.send("stop")
        self.info.update(self.conn.recv())
        self.proc.join()
        return self.info


# --------------------------------------------------------------------------- Dask side


def on_dask(n, rows, *, workers=2, only=None, repeats=1, numpy_side=None):
    """One cluster for size ``n``: a generate-only pass, then ``repeats`` rounds of the
    estimators (alternating with the numpy side's rounds when one is given)."""
    import dask.array as da
    import distributed

    load0 = os.getloadavg()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit=None) as cluster, \
            distributed.Client(cluster) as client:
        here = str(Path(__file__).resolve().parent)
        client.run(lambda: sys.path.insert(0, here) if here not in sys.path else None)
        client.run(lambda: __import__("causalkit.ope") and __import__("bench_dask"))  # warm imports
        start_rss = client.run(_start_sampler)
        inherited = client.run(_peak_rss_mib)

        def cpu():
            return time.process_time() + sum(client.run(_worker_cpu).values())

        data = dask_data(n, rows)
        c0, t0 = cpu(), time.perf_counter()
        total = float(da.sum(data[1]).compute())
        gen_pass = time.perf_counter() - t0
        gen_cpu = cpu() - c0
        gen_peaks = sorted(client.run(_take_peak).values())
        rounds, numpy_rounds = [], []
        for _ in range(repeats):
            rounds.append(run_estimators(data, cpu, only))
            print(f"  Dask round: {json.dumps(_brief(rounds[-1]))}", flush=True)
            if numpy_side is not None:
                numpy_rounds.append(numpy_side.run())
                print(f"  numpy round: {json.dumps(_brief(numpy_rounds[-1]))}", flush=True)
        peaks = sorted(client.run(_take_peak).values())
        maxrss = client.run(_peak_rss_mib)
    out = {"n": n, "rows_per_block": rows, "blocks": len(_layout(n, rows)), "workers": workers,
           "generate_only_pass_seconds": gen_pass, "generate_only_pass_cpu_seconds": gen_cpu,
           "mean_reward": total / n, "repeats": repeats,
           "estimators": _median(rounds), "rounds": rounds,
           "worker_rss_after_start_mib": sorted(start_rss.values()),
           "worker_peak_rss_generate_pass_mib": [g[0] for g in gen_peaks],
           "worker_peak_managed_generate_pass_mib": [g[1] for g in gen_peaks],
           "worker_peak_rss_mib": [g[0] for g in peaks],
           "worker_peak_managed_mib": [g[1] for g in peaks],
           "worker_ru_maxrss_at_start_mib": sorted(inherited.values()),
           "worker_ru_maxrss_at_end_mib": sorted(maxrss.values()),
           "load_average_before": load0, "load_average_after": os.getloadavg()}
    return out, numpy_rounds


def _brief(res):
    return {k: [round(v["seconds"], 2), round(v["cpu_seconds"], 2)] for k, v in res.items()}


def _median(rounds):
    """Per estimator: the median of every timing over rounds (values are identical)."""
    out = {}
    for name in rounds[0]:
        rs = [r[name] for r in rounds]
        out[name] = {k: (statistics.median(x[k] for x in rs) if k.endswith("seconds") else rs[0][k])
                     for k in rs[0]}
    return out


def compare(dask_run, numpy_run):
    cmp = {}
    for name, m in numpy_run["estimators"].items():
        d = dask_run["estimators"].get(name)
        if d is None:
            continue
        gen, gen_cpu = dask_run["generate_only_pass_seconds"], dask_run["generate_only_pass_cpu_seconds"]
        cmp[name] = {
            "dask_over_numpy_time": d["seconds"] / m["seconds"],
            "dask_over_numpy_cpu": d["cpu_seconds"] / m["cpu_seconds"],
            "dask_minus_one_generate_pass_over_numpy_time": (d["seconds"] - gen) / m["seconds"],
            "dask_minus_one_generate_pass_over_numpy_cpu":
                (d["cpu_seconds"] - gen_cpu) / m["cpu_seconds"],
            "value_rel_diff": abs(d["value"] - m["value"]) / abs(m["value"]),
            "stderr_rel_diff": abs(d["stderr"] - m["stderr"]) / m["stderr"]}
    return cmp


def breakdown(n, rows, repeats=3):
    """Where the Dask path's CPU goes, in one process (Dask's synchronous scheduler, no
    cluster): a generate-only pass, then per estimator the ``fit`` and ``value`` passes on
    generated blocks and on the same rounds held in memory as Dask blocks, beside the
    numpy path. Minimum CPU seconds over ``repeats``."""
    import dask
    import dask.array as da

    def best(f):
        out = np.inf
        for _ in range(repeats):
            t = time.process_time()
            f()
            out = min(out, time.process_time() - t)
        return out

    res = {"n": n, "rows_per_block": rows, "repeats": repeats}
    with dask.config.set(scheduler="synchronous"):
        dd = dask_data(n, rows)
        res["generate_only_pass_cpu_seconds"] = best(lambda: da.sum(dd[1]).compute())
        nd = numpy_data(n, rows)
        # the Dask path on blocks already in memory: its own work, without a data source
        mem = [da.from_array(x, chunks=(rows,) + x.shape[1:]) for x in nd]
        for name in ESTIMATORS:
            row = {}
            for label, data in (("dask", dd), ("dask_in_memory_blocks", mem), ("numpy", nd)):
                X, y, a, p, P, q = data
                kw = {"estimated_rewards": q} if name == "DR" else {}
                est = _make(name).fit(X, y, action=a, propensity=p, **kw)
                row[f"{label}_fit_cpu_seconds"] = best(
                    lambda: est.fit(X, y, action=a, propensity=p, **kw))  # noqa: B023
                row[f"{label}_value_cpu_seconds"] = best(lambda: est.value(P))  # noqa: B023
            g = res["generate_only_pass_cpu_seconds"]
            row["dask_minus_two_generate_passes_over_numpy"] = (
                (row["dask_fit_cpu_seconds"] + row["dask_value_cpu_seconds"] - 2 * g)
                / (row["numpy_fit_cpu_seconds"] + row["numpy_value_cpu_seconds"]))
            row["dask_in_memory_blocks_over_numpy"] = (
                (row["dask_in_memory_blocks_fit_cpu_seconds"]
                 + row["dask_in_memory_blocks_value_cpu_seconds"])
                / (row["numpy_fit_cpu_seconds"] + row["numpy_value_cpu_seconds"]))
            res[name] = row
    return res


def idle_cluster_cpu(seconds=10.0, workers=2):
    """CPU seconds per wall second of an idle LocalCluster (client + scheduler, workers,
    nannies): heartbeats and monitors, a cost proportional to wall time."""
    import distributed

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit=None) as cluster, \
            distributed.Client(cluster) as client:
        def cpu():
            return time.process_time() + sum(client.run(_worker_cpu).values())
        c0, t0 = cpu(), time.perf_counter()
        time.sleep(seconds)
        return (cpu() - c0) / (time.perf_counter() - t0)


def _save(report, out):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{out}.json").write_text(json.dumps(report, indent=1))
    (RESULTS / f"{out}.md").write_text(markdown(report))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7, 3e7, 1e8],
                    help="logged rounds per Dask run (default 1e6 1e7 3e7 1e8)")
    ap.add_argument("--in-memory-n", type=float, default=1e7,
                    help="rounds for the numpy comparison (0 skips it; must be one of --sizes)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="alternating Dask/numpy rounds at --in-memory-n (other sizes run once)")
    ap.add_argument("--size-repeats", type=int, default=1,
                    help="rounds at the other sizes")
    ap.add_argument("--rows-per-block", type=int, default=500_000)
    ap.add_argument("--out", default="dask")
    ap.add_argument("--only", nargs="+", choices=list(ESTIMATORS),
                    help="run only these estimators on Dask")
    ap.add_argument("--append", action="store_true",
                    help="add the runs to the existing report instead of replacing it")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes (2e5 and 1e6 on Dask, 1e6 in memory) for benchmarks/run.py --quick")
    ap.add_argument("--breakdown", type=float, default=0,
                    help="instead: the in-process CPU breakdown at this n (and the idle CPU of "
                         "a cluster), written to <out>_breakdown.json")
    args = ap.parse_args(argv)
    if args.breakdown:
        res = breakdown(int(args.breakdown), args.rows_per_block)
        res["idle_cluster_cpu_per_second"] = idle_cluster_cpu()
        res["machine"] = machine_facts()
        res["load_average_after"] = os.getloadavg()
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{args.out}_breakdown.json").write_text(json.dumps(res, indent=1))
        print(json.dumps(res, indent=1))
        return
    if args.quick:
        args.sizes, args.in_memory_n, args.rows_per_block, args.repeats = [2e5, 1e6], 1e6, 100_000, 2
    rows = args.rows_per_block
    old = RESULTS / f"{args.out}.json"
    report = json.loads(old.read_text()) if args.append and old.exists() else None
    if report is not None:
        report.setdefault("appended_runs_machine", []).append(machine_facts())
    report = report or {
        "description": "IPS + SNIPS + DR (fit + value in one pass: fit_compare) on 10-action logged bandit feedback "
                       "generated block by block on a LocalCluster of 2 worker processes (1 thread "
                       "each); in-memory numpy path for the ratio, in alternating rounds",
        "machine": machine_facts(), "versions": library_versions(("dask", "distributed")),
        "dask": [], "in_memory": None}
    nm = int(args.in_memory_n)
    for n in (int(s) for s in args.sizes):
        side = None
        if nm and n == nm:
            print(f"numpy side, n = {n:,}: building the data ...", flush=True)
            side = NumpySide(n, rows)
        print(f"Dask, n = {n:,} ...", flush=True)
        r, numpy_rounds = on_dask(n, rows, only=args.only, numpy_side=side,
                                  repeats=args.repeats if side is not None else args.size_repeats)
        report["dask"] = [x for x in report["dask"] if x["n"] != n] + [r]
        report["dask"].sort(key=lambda x: x["n"])
        if side is not None:
            mem = side.close()
            mem.update({"n": n, "repeats": len(numpy_rounds),
                        "estimators": _median(numpy_rounds), "rounds": numpy_rounds})
            report["in_memory"] = mem
            report["comparison_at_in_memory_n"] = compare(r, mem)
        print(json.dumps({k: v for k, v in r.items() if k != "rounds"}, indent=1), flush=True)
        _save(report, args.out)
    print((RESULTS / f"{args.out}.md").read_text())


def markdown(rep):
    lines = ["# OPE on Dask collections (IPS, SNIPS, DR)", "", rep["description"] + ".", "",
             f"Machine: {rep['machine'].get('cpu_count')} cores, "
             f"{rep['machine'].get('mem_total_gib')} GiB, {rep['machine'].get('timestamp')}; "
             f"dask {rep['versions'].get('dask')}, distributed {rep['versions'].get('distributed')}.",
             "", "Wall seconds / CPU seconds (all processes) of `fit_compare` (fit + value of "
             "one policy, one pass over the data); worker resident memory sampled every 10 ms:", "",
             "| n | blocks | rounds | generate-only pass | IPS | SNIPS | DR | worker RSS after "
             "start (MiB) | peak, generate pass | peak, estimators | load avg (1 min) before, "
             "after |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rep["dask"]:
        e = {k: f"{v['seconds']:.1f} / {v['cpu_seconds']:.1f}" for k, v in r["estimators"].items()}
        lines.append(f"| {r['n']:,} | {r['blocks']} | {r['repeats']} | "
                     f"{r['generate_only_pass_seconds']:.1f} / "
                     f"{r.get('generate_only_pass_cpu_seconds', float('nan')):.1f} | "
                     f"{e.get('IPS', '-')} | {e.get('SNIPS', '-')} | {e.get('DR', '-')} | "
                     f"{', '.join(f'{v:.0f}' for v in r['worker_rss_after_start_mib'])} | "
                     f"{', '.join(f'{v:.0f}' for v in r['worker_peak_rss_generate_pass_mib'])} | "
                     f"{', '.join(f'{v:.0f}' for v in r['worker_peak_rss_mib'])} | "
                     f"{r['load_average_before'][0]:.1f}, {r['load_average_after'][0]:.1f} |")
    lines += ["", "Each estimator's time is one pass (the checks of `fit` and the sums of "
              "`value` together); every pass regenerates the blocks, so it includes about one "
              "generate-only pass of data-source cost. Medians over the rounds."]
    m = rep.get("in_memory")
    if m:
        lines += ["", f"In memory (numpy, n = {m['n']:,}, median of {m['repeats']} rounds "
                  f"alternating with the Dask rounds): data {m['data_mib']:.0f} MiB, process "
                  f"peak RSS {m['peak_rss_mib']:.0f} MiB, generation {m['generate_seconds']:.1f} s "
                  "(not timed); wall / CPU seconds "
                  + ", ".join(f"{k} {v['seconds']:.2f} / {v['cpu_seconds']:.2f}"
                              for k, v in m["estimators"].items()) + "."]
    cmp = rep.get("comparison_at_in_memory_n")
    if cmp:
        lines += ["", "| estimator | Dask / numpy wall | Dask / numpy CPU | "
                  "(Dask - 1 generate pass) / numpy, wall | same, CPU | "
                  "value rel. diff | SE rel. diff |", "|---|---|---|---|---|---|---|"]
        for k, v in cmp.items():
            lines.append(f"| {k} | {v['dask_over_numpy_time']:.2f} | {v['dask_over_numpy_cpu']:.2f} | "
                         f"{v['dask_minus_one_generate_pass_over_numpy_time']:.2f} | "
                         f"{v['dask_minus_one_generate_pass_over_numpy_cpu']:.2f} | "
                         f"{v['value_rel_diff']:.1e} | {v['stderr_rel_diff']:.1e} |")
    if rep.get("notes"):
        lines += ["", "Notes:", ""] + [f"* {t}" for t in rep["notes"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
