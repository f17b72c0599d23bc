"""The benchmark harness: ratios on the chosen clock, alternating repeats, saved reports."""

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "benchmarks" / "harness.py"


@pytest.fixture(scope="module")
def harness():
    if not HARNESS.exists():
        pytest.skip("benchmarks/ is not in this checkout")
    spec = importlib.util.spec_from_file_location("bench_harness", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def _spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_clock_ratio_tracks_work_not_sleep(harness, tmp_path):
    bench = harness.Benchmark("toy", "two candidates")
    bench.add("busy", lambda: _spin(0.02)).add("sleepy", lambda: (_spin(0.02), time.sleep(0.05)))
    calls = []
    bench.add("order", lambda: calls.append(1))
    report = bench.run(repeats=3, baseline="busy", warmup=False, memory=False, verbose=False,
                       clock="cpu")
    assert len(calls) == 3
    assert all(len(v) == 3 for v in report.times.values())
    ratios = report.ratios()
    # Sleeping costs wall time but no CPU time: the CPU ratio stays near one while the
    # wall-clock median is at least the sleep longer.
    assert ratios["sleepy"] == pytest.approx(1.0, abs=0.5)
    assert report.medians["sleepy"] < 0.05
    wall = {k: sorted(v)[1] for k, v in report.times.items()}
    assert wall["sleepy"] >= wall["busy"] + 0.04
    path = report.save(tmp_path)
    saved = json.loads((tmp_path / "toy.json").read_text())
    assert saved["clock"] == "cpu" and set(saved["cpu_times_s"]) == {"busy", "sleepy", "order"}
    assert "(cpu)" in path.read_text()


def test_unknown_clock_and_baseline_are_refused(harness):
    bench = harness.Benchmark("toy").add("a", lambda: None)
    with pytest.raises(ValueError, match="clock"):
        bench.run(repeats=1, clock="gpu", memory=False, verbose=False)
    with pytest.raises(ValueError, match="baseline"):
        bench.run(repeats=1, baseline="b", memory=False, verbose=False)
