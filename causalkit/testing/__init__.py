"""The conformance suite and the shared bad-input battery every causalkit estimator runs.

A design registers its estimators by defining, in ``causalkit/<design>/_examples.py``,
a function ``conformance_cases()`` that returns a list of :class:`ConformanceCase`
(and, for public functions, ``function_cases()`` returning :class:`FunctionCase`).
``tests/test_conformance.py`` runs every check in :data:`CHECKS` on every registered
case, each case's own bad-input table, and the shared battery of :func:`battery_cases`
(outcome codes in :data:`ACCEPTED` and :data:`FAILURES`; see :mod:`causalkit.testing._battery`).
The same module's ``demo_rows(quick)`` feeds ``causalkit demo`` (see :mod:`causalkit._demo`).
"""

from ._battery import (
    ACCEPTED,
    FAILURES,
    BatteryCase,
    FunctionCase,
    Outcome,
    battery_cases,
    run_battery,
    run_battery_case,
)
from ._conformance import (
    CHECKS,
    DESIGNS,
    BadInput,
    ConformanceCase,
    iter_design_examples,
    nan_in,
    registered_cases,
    registered_function_cases,
    set_arg,
)

__all__ = ["CHECKS", "DESIGNS", "BadInput", "ConformanceCase", "FunctionCase", "BatteryCase",
           "Outcome", "ACCEPTED", "FAILURES", "battery_cases", "run_battery", "run_battery_case",
           "iter_design_examples", "registered_cases", "registered_function_cases", "set_arg",
           "nan_in"]
