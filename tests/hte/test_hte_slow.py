"""Monte Carlo studies (deselected by default; run with ``-m slow``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_ate_coverage_over_500_replications():
    """The linear-nuisance rows of the ``hte`` coverage family (benchmarks/coverage.py)."""
    import sys

    sys.path.insert(0, str(BENCH.parent))
    from benchmarks.coverage import run_study
    from benchmarks.coverage_studies import hte

    rows = [s for s in hte.studies() if s.default and s.dgp == "make_cate_data"
            and "nuisances]" not in s.estimator]
    assert len(rows) == 4  # ATE and slope of the two learners
    for study in rows:
        cov = run_study(study, 500)["coverage"]
        assert 0.93 <= cov <= 0.97, (study.estimator, cov)


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
