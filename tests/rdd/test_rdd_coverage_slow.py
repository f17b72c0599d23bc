"""Slow Monte Carlo: uniform bands of DistributionalRDD cover the true curve."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("dgp", ["normal", "exponential"])
def test_uniform_band_coverage_near_nominal(dgp):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from mc_rdd_coverage import cell

    res = cell(dgp, 500, "frechet", reps=500)
    # 500 replications: the Monte Carlo standard error of a 95% coverage is 1 point.
    assert 0.90 <= res["coverage studentized"] <= 0.99
    assert res["max |bias|"] < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("bwselect", ["mserd", "cerrd"])
def test_scalar_rdd_interval_coverage(bwselect):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from rdd_scalar_coverage import cell

    res = cell(500, 300, bwselect)
    # 300 replications: MC standard error about 1.3 points around 0.95
    assert 0.90 <= res["coverage"] <= 0.99
    assert abs(res["bias"]) < 0.03
