"""scikit-learn's declarative hyperparameter validation, imported in one place.

``sklearn.utils._param_validation`` and ``sklearn.base._fit_context`` are private
scikit-learn API. Every causalkit estimator imports them from here, so a move upstream
breaks one module (and ``tests/utils/test_param_validation.py``), not thirty.

Estimators declare ``_parameter_constraints`` (a dict: every ``__init__`` argument ->
list of constraints) and decorate ``fit`` with ``_fit_context``; a bad hyperparameter then
raises scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and ``TypeError``)
worded as scikit-learn words it: "The 'alpha' parameter of Ridge must be a float in the
range [0.0, inf). Got -1 instead." Cross-parameter rules and design variables stay in
:mod:`causalkit.utils.validation`.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    RealNotInt,
    StrOptions,
    generate_invalid_param_val,
    make_constraint,
    validate_parameter_constraints,
    validate_params,
)

__all__ = [
    "HasMethods", "Hidden", "Integral", "Interval", "InvalidParameterError", "Options", "Real",
    "RealNotInt", "StrOptions", "_fit_context", "generate_invalid_param_val", "make_constraint",
    "validate_parameter_constraints", "validate_params", "PARAM_ERROR",
    "NONNEG_REAL", "POS_REAL", "POS_INT", "NONNEG_INT", "UNIT_OPEN", "CV", "SEED", "N_JOBS",
    "REGRESSOR", "CLASSIFIER", "ESTIMATOR",
]

#: Regular expression of scikit-learn's message for one bad hyperparameter (group 1: its name).
PARAM_ERROR = r"The '([A-Za-z_][A-Za-z0-9_]*)' parameter of \w+ must be"

# Shorthands for the constraints most estimators share.
NONNEG_REAL = Interval(Real, 0, float("inf"), closed="left")  # finite
POS_REAL = Interval(Real, 0, float("inf"), closed="neither")  # finite
POS_INT = Interval(Integral, 1, None, closed="left")
NONNEG_INT = Interval(Integral, 0, None, closed="left")
UNIT_OPEN = Interval(Real, 0, 1, closed="neither")
#: ``cv``: a number of folds (at least 2), a splitter or an iterable of (train, test) pairs.
CV = ["cv_object"]
SEED = ["random_state"]
N_JOBS = [Integral, None]
REGRESSOR = HasMethods(["fit", "predict"])
CLASSIFIER = HasMethods(["fit", "predict_proba"])
ESTIMATOR = HasMethods(["fit"])
