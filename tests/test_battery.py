"""The shared bad-input battery (causalkit.testing) on every registered estimator and function.

Each (estimator, case) pair must end in an accepted outcome code: a clear error that names
the argument, a finite documented answer, or the same numbers as the equivalent well-formed
input. Pairs listed in ``battery_known.json`` are defects still open (with the code the
battery found); they are expected to fail, and a pair that starts passing must be removed
from the list (the test says so), so the list only shrinks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from causalkit.testing import (
    ACCEPTED,
    FAILURES,
    battery_cases,
    registered_cases,
    registered_function_cases,
    run_battery_case,
)

KNOWN_FILE = Path(__file__).with_name("battery_known.json")
KNOWN = json.loads(KNOWN_FILE.read_text()) if KNOWN_FILE.exists() else {}
CASES = registered_cases() + registered_function_cases()
ITEMS = [(c, bc) for c in CASES for bc in battery_cases(c)]


@pytest.mark.parametrize("case,bc", ITEMS, ids=[f"{c.name}::{b.id}" for c, b in ITEMS])
def test_battery(case, bc):
    out = run_battery_case(case, bc, timeout=120)
    assert out.code in ACCEPTED + FAILURES
    key = f"{case.name}::{bc.id}"
    if key in KNOWN:
        if out.passed:
            pytest.fail(f"{key} now passes ({out.code}); remove it from {KNOWN_FILE.name}")
        pytest.xfail(f"known defect {KNOWN[key]}: {out.code} {out.detail}")
    assert out.passed, f"{key}: {out.code} ({bc.expect} expected): {out.detail}"


def test_known_defects_name_real_cases():
    names = {f"{c.name}::{b.id}" for c, b in ITEMS}
    stale = sorted(set(KNOWN) - names)
    assert not stale, f"{KNOWN_FILE.name} lists cases that no longer exist: {stale[:5]}"
    assert set(KNOWN.values()) <= set(FAILURES)


def test_every_estimator_gets_the_shared_cases():
    for case in registered_cases():
        ids = {b.id for b in battery_cases(case)}
        # RDDensity fits the running variable alone: it has no `y` to poison
        required = {"empty", "one-row"} | (set() if case.name == "rdd.RDDensity" else {"nan-y"})
        assert required <= ids or case.name.startswith("montecarlo.Sparse"), (
            case.name, sorted(ids))
        assert "mutate-after-fit" in ids


def test_the_battery_catches_a_silent_wrong_number():
    """A deliberately broken estimator (pairs pandas rows by position, keeps the caller's
    array, swallows NaN) is caught under the right codes."""
    import numpy as np
    from sklearn.base import BaseEstimator

    from causalkit.testing import ConformanceCase

    class Careless(BaseEstimator):
        def fit(self, X, y, *, treatment):
            self.y_ = y if isinstance(y, np.ndarray) else np.asarray(y)
            self.t_ = np.asarray(treatment, dtype=float)
            return self

        def value(self):
            return float(np.nanmean(self.y_[self.t_ == 1]) - np.nanmean(self.y_[self.t_ == 0]))

    rng = np.random.default_rng(0)

    def data(seed):
        t = (rng.random(100) < 0.5).astype(int)
        X = np.random.default_rng(seed).normal(size=(100, 2))
        return {"X": X, "y": X[:, 0] + t, "treatment": t}

    case = ConformanceCase("Careless", Careless, data, lambda e: [e.value()])
    codes = {bc.id: run_battery_case(case, bc).code for bc in battery_cases(case)}
    assert codes["nan-y"] == "silent_accept"
    assert codes["mutate-after-fit"] == "aliasing"
    assert codes["coding-pm1-treatment"] in ("reinterpreted", "nonfinite")


def test_ownership_checks_every_result_method_and_fitted_attribute():
    """The case's own result may be computed at fit time; a result method computed later
    from a kept reference, or a fitted attribute that is the caller's array, is aliasing."""
    import numpy as np
    from sklearn.base import BaseEstimator

    from causalkit.testing import ConformanceCase

    class LazyCareless(BaseEstimator):
        def __init__(self, keep_attribute=False):
            self.keep_attribute = keep_attribute

        def fit(self, X, y):
            y = np.asarray(y, dtype=float)
            self.mean_ = float(y.mean())           # computed now: the case's result is safe
            self._y = y.copy() if self.keep_attribute else y
            if self.keep_attribute:
                self.y_ = y                        # ...but the caller's array is kept
            return self

        def value(self):
            return self.mean_

        def spread(self):                          # computed on demand from what was kept
            return float(self._y.std())

    def data(seed):
        X = np.random.default_rng(seed).normal(size=(50, 2))
        return {"X": X, "y": X[:, 0] + 1.0}

    for keep, detail in ((False, "spread"), (True, "attribute y_")):
        case = ConformanceCase("LazyCareless", lambda k=keep: LazyCareless(k), data,
                               lambda e: [e.value()])
        bc = next(b for b in battery_cases(case) if b.id == "mutate-after-fit")
        out = run_battery_case(case, bc)
        assert out.code == "aliasing" and detail in out.detail, out
