"""Every registered estimator passes the conformance checks and its bad-input table."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from causalkit.testing import CHECKS, registered_cases
from causalkit.testing._conformance import run_bad_input

CASES = registered_cases()


def test_every_design_with_examples_registers_a_case():
    assert any(c.name == "ate.AIPW" for c in CASES)
    assert len({c.name for c in CASES}) == len(CASES), "duplicate case names"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case, check):
    check(case)


BAD = [(c, b) for c in CASES for b in c.bad_inputs]


@pytest.mark.parametrize("case,bad", BAD, ids=[f"{c.name}-{b.id}" for c, b in BAD])
def test_bad_input(case, bad):
    run_bad_input(case, bad)


def test_every_case_has_a_bad_input_table():
    for case in CASES:
        ids = {b.id for b in case.bad_inputs}
        assert any("nan" in i.lower() for i in ids), f"{case.name}: no NaN row in its bad-input table"


# scikit-learn's own suite, for the estimators whose fit needs no design variable.
# Estimators whose fit requires `treatment=` (or another design variable) cannot pass
# it: every check calls fit(X, y) alone. For those, the checks above replicate the
# contract (clone, params, pickling, not-fitted errors, pipelines, input validation).
SKLEARN = [c for c in CASES if c.sklearn_checks]

if SKLEARN:
    @parametrize_with_checks(
        [c.estimator() for c in SKLEARN],
        expected_failed_checks=lambda est: next(
            c.sklearn_expected_failed for c in SKLEARN if type(c.estimator()) is type(est)),
    )
    def test_sklearn_compatible(estimator, check):
        check(estimator)
