"""scikit-learn's private parameter-validation API, as causalkit uses it.

``causalkit.utils._param_validation`` is the one module importing
``sklearn.utils._param_validation`` and ``sklearn.base._fit_context``. If scikit-learn
moves or changes them, these tests fail first, with the name of what moved.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from sklearn.base import BaseEstimator

from causalkit.testing import DESIGNS


def test_the_private_api_is_where_causalkit_imports_it():
    from causalkit.utils import _param_validation as pv

    for name in pv.__all__:
        assert hasattr(pv, name), f"scikit-learn no longer provides {name}"
    assert issubclass(pv.InvalidParameterError, ValueError)
    assert issubclass(pv.InvalidParameterError, TypeError)
    assert callable(pv._fit_context(prefer_skip_nested_validation=True))


def test_the_message_format_the_battery_reads():
    """The battery reads the parameter's name from scikit-learn's wording (PARAM_ERROR)."""
    import re

    from causalkit.utils._param_validation import PARAM_ERROR, Interval, InvalidParameterError, Real
    from causalkit.utils._param_validation import validate_parameter_constraints as validate

    with pytest.raises(InvalidParameterError) as info:
        validate({"alpha": [Interval(Real, 0, None, closed="left")]}, {"alpha": -1.0}, "Thing")
    assert re.search(PARAM_ERROR, str(info.value)).group(1) == "alpha"
    assert "Got -1.0 instead." in str(info.value)


def _public_estimators():
    out = []
    for design in DESIGNS:
        mod = importlib.import_module(f"causalkit.{design}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                out.append(obj)
    return out


ESTIMATORS = _public_estimators()


def test_every_public_estimator_is_found():
    assert len(ESTIMATORS) >= 29


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_public_estimator_declares_its_constraints(cls):
    """Every public estimator, registered in the conformance suite or not: constraints for
    exactly its __init__ arguments, defaults valid, and fit wrapped by _fit_context."""
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    declared = cls.__dict__.get("_parameter_constraints", None)
    declared = cls._parameter_constraints if declared is None else declared
    assert set(declared) == params, (set(declared) ^ params)
    cls()._validate_params()
    assert hasattr(cls.fit, "__wrapped__"), f"{cls.__name__}.fit is not wrapped by _fit_context"


def test_a_bad_hyperparameter_gets_scikit_learns_wording():
    from causalkit.ate import AIPW
    from causalkit.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError,
                       match=r"The 'trimming_threshold' parameter of AIPW must be a float in the "
                             r"range \[0.0, 0.5\)\. Got 0.7 instead\."):
        AIPW(trimming_threshold=0.7).fit([[0.0]] * 20, [0.0] * 20, treatment=[0, 1] * 10)
