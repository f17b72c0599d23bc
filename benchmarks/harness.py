"""A small benchmark harness: peers on the same data, in one process, alternating repeats.

Usage from a benchmark script::

    from harness import Benchmark

    bench = Benchmark("aipw", description="AIPW vs DoubleML IRM, n=100,000")
    bench.add("causalkit", lambda: ...)         # each candidate is a zero-argument callable
    bench.add("doubleml", lambda: ...)
    report = bench.run(repeats=5, baseline="doubleml")
    report.save()                               # benchmarks/results/aipw.json + aipw.md

Repeats alternate between candidates (A B A B ...) so that drift in the machine's
load hits all of them alike; the report gives medians, ratios to the baseline, the
peak traced memory of one extra run of each candidate (numpy and Python
allocations; ``tracemalloc``), library versions and machine facts.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

# benchmarks/run.py --quick points this at results/quick so quick runs never overwrite
RESULTS = Path(os.environ.get("CAUSALKIT_BENCH_RESULTS")
               or Path(__file__).resolve().parent / "results")
# ... and sets CAUSALKIT_BENCH_QUICK=1: then Benchmark.run makes no warm-up and no memory
# run (each would double a quick run's cost); results/quick implies it too
QUICK = os.environ.get("CAUSALKIT_BENCH_QUICK") == "1" or RESULTS.name == "quick"

_LIBS = ("causalkit", "numpy", "scipy", "scikit-learn", "pandas", "numba", "joblib", "torch",
         "lightgbm", "statsmodels", "econml", "doubleml", "rdrobust", "obp")


def machine_facts() -> dict:
    """CPU, cores, memory, Python and BLAS threads: what a reader needs to compare."""
    facts = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        with open("/proc/meminfo") as fh:
            facts["mem_total_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    facts["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:
            facts[var] = os.environ[var]
    return facts


def library_versions(extra=()) -> dict:
    out = {}
    for name in (*_LIBS, *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@dataclass
class Report:
    name: str
    description: str
    times: dict
    peak_mib: dict
    baseline: str | None
    facts: dict
    versions: dict
    notes: list = field(default_factory=list)
    cpu_times: dict = field(default_factory=dict)
    clock: str = "wall"

    @property
    def medians(self) -> dict:
        """Median seconds per candidate on the report's clock (wall or process CPU)."""
        source = self.cpu_times if self.clock == "cpu" else self.times
        return {k: statistics.median(v) for k, v in source.items()}

    def ratios(self) -> dict:
        if self.baseline is None:
            return {}
        base = self.medians[self.baseline]
        return {k: v / base for k, v in self.medians.items()}

    def as_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "times_s": self.times,
                "cpu_times_s": self.cpu_times, "clock": self.clock,
                "median_s": self.medians, "ratio_to_baseline": self.ratios(),
                "baseline": self.baseline, "peak_traced_mib": self.peak_mib,
                "machine": self.facts, "versions": self.versions, "notes": self.notes}

    def markdown(self) -> str:
        ratios = self.ratios()
        lines = [f"## {self.name}", "", self.description, "",
                 "| candidate | median wall s | min wall s | median CPU s | repeats | ratio to "
                 + str(self.baseline) + f" ({self.clock}) | peak traced MiB |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for k, v in self.times.items():
            r = f"{ratios[k]:.3f}" if k in ratios else ""
            peak = self.peak_mib.get(k)
            cpu = self.cpu_times.get(k)
            cpu = f"{statistics.median(cpu):.4g}" if cpu else ""
            lines.append(f"| {k} | {statistics.median(v):.4g} | {min(v):.4g} | {cpu} | {len(v)} | "
                         f"{r} | {'' if peak is None else f'{peak:.1f}'} |")
        lines += ["", "Machine: " + ", ".join(f"{k}={v}" for k, v in self.facts.items()),
                  "", "Versions: " + ", ".join(f"{k} {v}" for k, v in self.versions.items())]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def save(self, directory: Path | str = RESULTS) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{self.name}.json").write_text(json.dumps(self.as_dict(), indent=2))
        path = directory / f"{self.name}.md"
        path.write_text(self.markdown())
        return path


class Benchmark:
    """Time candidates on the same data in one process, alternating repeats."""

    def __init__(self, name: str, description: str = ""):
        self.name = name
        self.description = description
        self.candidates: dict[str, Callable] = {}
        self.notes: list[str] = []

    def add(self, label: str, func: Callable) -> Benchmark:
        self.candidates[label] = func
        return self

    def note(self, text: str) -> Benchmark:
        self.notes.append(text)
        return self

    def run(self, repeats: int = 5, *, baseline: str | None = None, warmup: bool = True,
            memory: bool = True, verbose: bool = True, clock: str = "wall") -> Report:
        """Time every candidate ``repeats`` times, alternating their order.

        ``clock="cpu"`` takes ratios from the process CPU time, which other jobs on a
        shared machine do not inflate; use it for single-threaded candidates only
        (CPU time adds up the threads of a parallel one). Under ``benchmarks/run.py
        --quick`` there is no warm-up and no memory run.
        """
        if QUICK:
            warmup = memory = False
            self.notes.append("quick run (benchmarks/run.py --quick): no warm-up run, no "
                              "memory run")
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
        if baseline is not None and baseline not in self.candidates:
            raise ValueError(f"baseline {baseline!r} is not a candidate: {list(self.candidates)}")
        if warmup:
            for func in self.candidates.values():
                func()
        times = {k: [] for k in self.candidates}
        cpu = {k: [] for k in self.candidates}
        for r in range(repeats):
            order = list(self.candidates) if r % 2 == 0 else list(self.candidates)[::-1]
            for label in order:
                gc.collect()
                start, start_cpu = time.perf_counter(), time.process_time()
                self.candidates[label]()
                times[label].append(time.perf_counter() - start)
                cpu[label].append(time.process_time() - start_cpu)
                if verbose:
                    print(f"  {self.name} repeat {r + 1}/{repeats} {label}: "
                          f"{times[label][-1]:.4g} s", file=sys.stderr, flush=True)
        peaks = {}
        if memory:
            for label, func in self.candidates.items():
                gc.collect()
                tracemalloc.start()
                func()
                peaks[label] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
        return Report(self.name, self.description, times, peaks, baseline, machine_facts(),
                      library_versions(), list(self.notes), cpu_times=cpu, clock=clock)


def write_summary(directory: Path | str = RESULTS) -> Path:
    """Rebuild ``SUMMARY.md`` from the JSON results (see ``benchmarks/run.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import write_summary as _write

    return _write(Path(directory))
