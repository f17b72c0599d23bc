"""Monte Carlo studies (deselected by default; run with ``-m slow``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_ate_coverage_over_500_replications():
    out = _load("hte_coverage").run(reps=500, n=1000)
    for name, rec in out.items():
        assert 0.93 <= np.mean(rec["cov_ate"]) <= 0.97, name
        assert 0.93 <= np.mean(rec["cov_slope"]) <= 0.97, name


@pytest.mark.slow
def test_fisher_orderings():
    pytest.importorskip("lightgbm")
    study = _load("hte_fisher_study")
    table = study.run_study("ABCDEF", n=1000, reps=20, verbose=False, tune=True)
    checks = dict(study.check_orderings(table))
    # (i)-(iii) are the paper's claims about the weights. (iv), "the T-learner wins in D, E
    # and F", holds here in D only: in E and F the IVW learners beat the T-learner
    # (benchmarks/results/hte_fisher_tuned.md), so it is reported, not asserted.
    for claim, ok in checks.items():
        if not claim.startswith("(iv)"):
            assert ok, claim
