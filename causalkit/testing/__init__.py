"""The conformance suite every causalkit estimator registers into.

A design registers its estimators by defining, in ``causalkit/<design>/_examples.py``,
a function ``conformance_cases()`` that returns a list of :class:`ConformanceCase`.
``tests/test_conformance.py`` runs every check in :data:`CHECKS` on every
registered case, plus a parametrised table of each case's bad inputs. The same
module's ``demo_rows(quick)`` feeds ``causalkit demo`` (see :mod:`causalkit._demo`).
"""

from ._conformance import (
    CHECKS,
    DESIGNS,
    BadInput,
    ConformanceCase,
    iter_design_examples,
    nan_in,
    registered_cases,
    set_arg,
)

__all__ = ["CHECKS", "DESIGNS", "BadInput", "ConformanceCase", "iter_design_examples",
           "registered_cases", "set_arg", "nan_in"]
