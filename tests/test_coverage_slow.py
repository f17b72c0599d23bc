"""Coverage is a property of the library: the quick coverage study of each family's key
default intervals must lie in [0.90, 0.99].

The studies are those of ``benchmarks/coverage_studies`` (the same code as
``python benchmarks/coverage.py --quick``), with the same seeds, so a failure here is
reproduced by ``python benchmarks/coverage.py --quick --family <family> --only <row>``.
A test has too few replications for the tight [0.93, 0.97] band (the benchmark's table
holds that); these bounds catch an interval that breaks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: family -> substrings of 'family | estimator | DGP | n' row keys (all must match one row)
ROWS = {
    "ate": ["AIPW().ate() | make_ate_data | 2000",
            "AIPW().fit(groups=) | clustered, 30 clusters x 40 | 1200"],
    "hte": ["RLearner.ate() | make_cate_data | 1000",
            "RLearner.coef_table()['x0'] (CATE slope) | make_cate_data | 1000",
            "weights='ivw_x').coef_table()['x0'] (CATE slope) | make_cate_data | 1000",
            # the learner's own default (boosting) nuisances
            "RLearner [default nuisances].coef_table()['x0'] (CATE slope) | make_cate_data"],
    "frontdoor": ["FrontDoor(method='plugin') | make_frontdoor_data (discrete) | 2000",
                  "FrontDoor(method='linear') | make_frontdoor_linear_data (2 mediators) | 2000",
                  "FrontDoor(method='linear').fit(groups=) | clustered linear"],
    "iv": ["TSLS().effect() | make_linear_iv_data, 2 instruments | 2000",
           "DMLIV().effect() | make_linear_iv_data, 2 instruments | 2000"],
    "rdd": ["rdd | RDD().effect() | make_rdd_data (Lee) | 500",
            "RDD().fit(groups=).effect() | make_rdd_data, 40 clusters | 2000"],
    "montecarlo": ["ControlVariates(control_means=0.5) | exp(u1) + u2^2 | 1000",
                   "cuped() | randomised, one pre-period covariate | 1000"],
    "ope": ["ope | IPS().value() | make_bandit_feedback | 2000",
            "SNIPS().value() | make_bandit_feedback, harsh overlap | 2000",
            "SNIPS().value() | make_bandit_feedback, harsh overlap | 500",
            "DoublyRobust().value() | make_bandit_feedback | 2000"],
    "calibration": ["corrected_ate(LinearCalibration()) | make_calibration_data, 3,000 + 200 "
                    "calibration | 3000",
                    "ppi_mean() | make_calibration_data, 3,000 + 200 calibration, 100 labelled | 3000"],
}


def _studies(family):
    from benchmarks.coverage import family_modules, row_key

    mod = family_modules()[family]
    out = []
    for key in ROWS[family]:
        # a key ending in the sample size names that size only (``| 500`` is not ``| 5000``)
        found = [s for s in mod.studies() if key in row_key(s)
                 and (not key[-1].isdigit() or row_key(s).endswith(key))]
        assert len(found) == 1, f"{key!r} matches {len(found)} studies of {family}"
        out.append(found[0])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(ROWS))
def test_quick_coverage_of_default_intervals(family):
    from benchmarks.coverage import row_key, run_study

    bad = []
    for study in _studies(family):
        row = run_study(study, study.quick_reps)
        assert row["failed"] == 0, row.get("first_error")
        if not 0.90 <= row["coverage"] <= 0.99:
            bad.append(f"{row_key(study)}: {row['coverage']:.3f} over {row['reps']} replications")
    assert not bad, "quick coverage outside [0.90, 0.99]: " + "; ".join(bad)


def test_every_listed_row_exists():
    """The row keys above name existing studies (fast: builds the study lists only)."""
    for family in ROWS:
        assert len(_studies(family)) == len(ROWS[family])


def _normal_rep(seed):
    """An exact 95% interval for a normal mean with known SE 1: covers 0.95 by construction."""
    import numpy as np

    from benchmarks.coverage_studies._common import Rep

    x = float(np.random.default_rng(seed).normal())
    return Rep(x, 1.0, x - 1.959964, x + 1.959964, 0.0)


def test_runner_coverage_and_time_limit():
    """The runner's coverage of an exact interval is 0.95 within 3 Monte Carlo SE; with a
    time limit it stops after the first batch and the row says how many replications ran
    (fast: no estimator is fitted)."""
    from benchmarks.coverage import run_study
    from benchmarks.coverage_studies._common import Study

    st = Study("test", "exact", "N(0, 1)", 1, _normal_rep)
    row = run_study(st, 2000)
    assert row["reps"] == 2000 and "stopped_early" not in row
    assert abs(row["coverage"] - 0.95) <= 3 * (0.95 * 0.05 / 2000) ** 0.5
    assert abs(row["se_over_sd"] - 1.0) <= 0.1
    short = run_study(st, 2000, time_limit=0.0)
    assert short["reps"] == 2  # one batch of 2 * n_jobs replications, then the limit
    assert short["stopped_early"] == "time limit reached after 2 of 2000 replications"


def test_refresh_notes_changes_notes_only():
    """``--refresh-notes`` takes each row's note from the study of the same key and leaves
    the measured numbers, and rows no study lists, as they were (fast: no fit)."""
    from types import SimpleNamespace

    from benchmarks.coverage import refresh_notes, run_study
    from benchmarks.coverage_studies._common import Study

    old = Study("test", "exact", "N(0, 1)", 1, _normal_rep, note="old note")
    row = run_study(old, 20)
    orphan = dict(row, estimator="gone", note="kept")
    new = Study("test", "exact", "N(0, 1)", 1, _normal_rep, note="the option that covers: X")
    mods = {"test": SimpleNamespace(studies=lambda: [new])}
    out = refresh_notes([row, orphan], mods)
    assert out[0]["note"] == "the option that covers: X"
    assert {k: v for k, v in out[0].items() if k != "note"} == {
        k: v for k, v in row.items() if k != "note"}
    assert out[1] == orphan and row["note"] == "old note"  # inputs not mutated


def test_every_family_guide_includes_its_coverage_rows():
    """Each family of the stored table has its marked part in ``coverage_table.rst``, and a
    guide in ``docs/guide`` includes that part (fast: reads files)."""
    import json

    from benchmarks.coverage import rst_marks

    results = ROOT / "benchmarks" / "results"
    table = (results / "coverage_table.rst").read_text()
    guides = "\n".join(p.read_text() for p in (ROOT / "docs" / "guide").glob("*.rst"))
    families = {r["family"] for r in json.loads((results / "coverage.json").read_text())["rows"]}
    assert families
    for fam in sorted(families):
        begin, end = rst_marks(fam)
        assert begin in table and end in table, fam
        assert f":start-after: {begin}" in guides and f":end-before: {end}" in guides, fam
