"""Quick coverage of the intervals changed so that they cover (slow: Monte Carlo).

Each test runs one row of a coverage study in ``benchmarks/coverage_studies`` for its
quick number of replications (seeds fixed by the study) and asserts that the default 95%
interval covers the truth in [0.90, 0.99] of them. A test has too few replications for the
[0.93, 0.97] target; ``benchmarks/coverage.py --full`` holds that.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _studies(family):
    if not (ROOT / "benchmarks" / "coverage_studies").is_dir():
        pytest.skip("benchmarks/ is not in this checkout")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.coverage_studies._common import summarise

    return importlib.import_module(f"benchmarks.coverage_studies.{family}").studies(), summarise


def _quick_coverage(study, summarise, reps=None):
    reps = study.quick_reps if reps is None else reps
    row = summarise(study, [study.one_rep(study.seed_offset + s) for s in range(reps)])
    assert row["failed"] == 0
    return row


def _default(studies, n=None, dgp=None):
    rows = [s for s in studies if s.default and (n is None or s.n == n)
            and (dgp is None or dgp in s.dgp)]
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("dgp", ["normal", "exponential"])
def test_r3d_uniform_band_covers_at_200_units(dgp):
    studies, summarise = _studies("r3d")
    row = _quick_coverage(_default(studies, n=200, dgp=f"'{dgp}'"), summarise)
    assert 0.90 <= row["coverage"] <= 0.99, row


def test_tweedie_ate_interval_covers():
    pytest.importorskip("scipy")
    studies, summarise = _studies("tweedie")
    row = _quick_coverage(_default(studies), summarise)
    assert 0.90 <= row["coverage"] <= 0.99, row
    # the smoothing bias (-0.044 with the plain kernel score) is gone: |bias| < 3 Monte
    # Carlo SEs (the SD of the estimates is the mean SE over se_over_sd)
    sd = row["mean_width"] / (2 * 1.959964) / row["se_over_sd"]
    assert abs(row["bias"]) < 3 * sd / row["reps"] ** 0.5, row


def test_invalidiv_mdml_interval_covers():
    studies, summarise = _studies("invalidiv")
    row = _quick_coverage(_default(studies), summarise)
    assert 0.90 <= row["coverage"] <= 0.99, row


@pytest.mark.xfail(strict=False, reason=(
    "measured 0.875 over 40 replications at N = 4,000 (Monte Carlo SE 0.05) and 0.904 over "
    "52 in benchmarks/results/coverage.md: the learned representation leaves an upward bias "
    "of about 1% of the ATE; see docs/guide/cfdivae.rst"))
def test_cfdivae_default_interval_covers():
    pytest.importorskip("torch")
    studies, summarise = _studies("cfdivae")
    row = _quick_coverage(_default(studies), summarise)
    assert 0.90 <= row["coverage"] <= 0.99, row


def test_invalidiv_variance_formula_is_exact_at_the_true_nuisances():
    """At the true nuisance functions of make_invalid_iv_data the MDML scores' SE matches
    the Monte Carlo SD of their mean (the SE of an SD over 400 draws is about 3.5%, so the
    band is about three SEs): the formula double-counts nothing, and the default
    interval's conservatism at n = 5,000 comes from the estimated nuisances."""
    if not (ROOT / "benchmarks" / "coverage_studies").is_dir():
        pytest.skip("benchmarks/ is not in this checkout")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.coverage_studies.invalidiv import oracle_check

    out = oracle_check(400)
    assert 0.9 <= out["mean_se"] / out["mc_sd"] <= 1.1, out
    assert 0.92 <= out["coverage"] <= 0.98, out
