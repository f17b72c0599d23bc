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
    # The same candidate's wall time includes the sleep: at least 0.05 s on every repeat, however
    # loaded the machine (a comparison with "busy"'s wall time would depend on the load).
    assert min(report.times["sleepy"]) >= 0.05
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


def _load(name):
    path = HARNESS.parent / f"{name}.py"
    sys.path.insert(0, str(HARNESS.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}_mod", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(HARNESS.parent))


def test_summary_has_ratios_to_floor_and_peers_on_the_reports_clock(harness, tmp_path):
    run = _load("run")
    bench = harness.Benchmark("fam_toy", "toy family")
    bench.add("bare fits", lambda: _spin(0.01)).add("causalkit", lambda: _spin(0.02))
    bench.add("econml", lambda: _spin(0.04))
    report = bench.run(repeats=3, baseline="econml", warmup=False, memory=False, verbose=False,
                       clock="cpu")
    report.save(tmp_path)
    (tmp_path / "study.json").write_text(json.dumps({"A": [1, 2]}))
    text = run.write_summary(tmp_path).read_text()
    assert "## fam" in text and "x econml" in text and "study.json" in text
    row = next(r for r in run.harness_rows(json.loads((tmp_path / "fam_toy.json").read_text()))
               if r["candidate"] == "causalkit")
    med = {k: sorted(v)[1] for k, v in report.cpu_times.items()}
    # the floor is the bare fits, not the peer the report used as its baseline
    assert row["floor"] == "bare fits" and row["clock"] == "cpu"
    assert row["x_floor"] == pytest.approx(med["causalkit"] / med["bare fits"])
    assert row["x_peer"]["econml"] == pytest.approx(med["causalkit"] / med["econml"])
    assert 1.3 < row["x_floor"] < 3.5 and 0.25 < row["x_peer"]["econml"] < 0.8


def test_every_benchmark_script_is_planned_and_quick_mode_is_small():
    run = _load("run")
    scripts = {p.name for p in HARNESS.parent.glob("bench_*.py")}
    assert {s for s, _ in run.plan(quick=False)} == scripts
    quick = run.plan(quick=True)
    assert quick and all(s in scripts for s, _ in quick)
    hte = [args for s, args in quick if s == "bench_hte.py"]
    assert all(int(args[1]) <= 100_000 for args in hte)


def test_scaling_exponents_flag_quadratic_growth():
    scaling = _load("bench_scaling")
    sizes = [10**4, 10**5, 10**6]
    lin = scaling.exponents(sizes, [0.01, 0.1, 1.0])
    quad = scaling.exponents(sizes, [0.01, 1.0, 100.0])
    assert lin == pytest.approx([1.0, 1.0]) and quad == pytest.approx([2.0, 2.0])
    assert scaling.exponents(sizes, [0.01, None, 1.0]) == [None, None]
