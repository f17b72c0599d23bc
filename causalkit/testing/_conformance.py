"""Checks that every causalkit estimator must pass, and the registry feeding them."""

from __future__ import annotations

import copy
import importlib
import inspect
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import parallel_config
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

__all__ = ["DESIGNS", "BadInput", "ConformanceCase", "CHECKS", "registered_cases",
           "iter_design_examples", "set_arg", "nan_in"]

#: Design subpackages, in the order the demo prints them.
DESIGNS = ("ate", "hte", "frontdoor", "iv", "rdd", "montecarlo", "ope", "calibration")


@dataclass
class BadInput:
    """One row of a bad-input table.

    Parameters
    ----------
    id : str
        Short label shown in the test id.
    mutate : callable
        Takes the fit arguments as a dict (``X``, ``y`` and design variables) and
        returns a new dict (never mutate the one given). May also return
        ``(estimator_params, fit_args)`` to change hyperparameters.
    error : exception type or tuple
        Expected exception (or warning class when ``warns`` is true).
    match : str
        Regular expression the message must match (it should name the argument).
    warns : bool
        The input is a statistical hazard: expect a warning, not an error.

    Examples
    --------
    >>> from causalkit.testing import BadInput, nan_in
    >>> row = BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN")
    >>> row.mutate({"X": [[1.0]] * 5, "y": [0.0] * 5})["X"][3]
    array([nan])
    """

    id: str
    mutate: Callable[[dict], Any]
    error: Any
    match: str
    warns: bool = False


@dataclass
class ConformanceCase:
    """An estimator registered into the conformance suite with an example fit.

    Parameters
    ----------
    name : str
        Test id, e.g. ``"ate.AIPW"``.
    estimator : callable
        ``() -> estimator``: a quick configuration (small models, few folds).
    data : callable
        ``(seed) -> dict`` of fit arguments: ``X``, ``y`` and design variables.
    result : callable
        ``(fitted) -> array-like`` of numbers that summarise a fit; compared
        across refits, pickling, pipelines and backends.
    before_fit : sequence of callables
        ``(estimator, data) -> Any`` calls that must raise ``NotFittedError``
        on an unfitted estimator.
    bad_inputs : sequence of BadInput
        The estimator's bad-input table.
    pipeline : bool
        Run the Pipeline checks (the estimator as the last step).
    dataframe : bool
        Check that DataFrame ``X`` gives the same numbers and ``feature_names_in_``.
    sklearn_checks : bool
        Also run scikit-learn's ``parametrize_with_checks`` on this estimator.
    sklearn_expected_failed : dict
        Check name -> reason, for ``expected_failed_checks``.
    rtol : float
        Relative tolerance of "the same numbers" (floating-point reordering only).
    roles : dict
        Role of a fit argument in the shared battery when its name does not say it
        (defaults by name: ``treatment``/``instrument`` binary, ``propensity``,
        ``action``/``groups``/``strata``/``episode`` labels; a "binary" argument with
        more than two values is read as continuous).
    nan_ok : tuple of str
        Arguments where NaN gives a finite, documented answer instead of an error.
    documented : dict
        Battery case id -> reason, for behaviours left on purpose (listed in the docs).

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> case = next(c for c in registered_cases() if c.name == "montecarlo.ControlVariates")
    >>> est = case.estimator().fit(**case.data(0))          # the quick example fit
    >>> len(case.result(est)) > 0, [b.id for b in case.bad_inputs][:2]
    (True, ['nan-X', 'nan-y'])
    """

    name: str
    estimator: Callable[[], Any]
    data: Callable[[int], dict]
    result: Callable[[Any], Any]
    before_fit: Sequence[Callable] = ()
    bad_inputs: Sequence[BadInput] = ()
    pipeline: bool = True
    dataframe: bool = True
    sklearn_checks: bool = False
    sklearn_expected_failed: dict = field(default_factory=dict)
    rtol: float = 1e-9
    roles: dict = field(default_factory=dict)
    nan_ok: tuple = ()
    documented: dict = field(default_factory=dict)

    def __repr__(self):
        return self.name


def iter_design_examples():
    """Yield ``(design, module)`` for every design with an ``_examples`` module.

    Examples
    --------
    >>> from causalkit.testing import iter_design_examples
    >>> designs = dict(iter_design_examples())
    >>> designs["ate"].__name__
    'causalkit.ate._examples'
    """
    for design in DESIGNS:
        try:
            mod = importlib.import_module(f"causalkit.{design}._examples")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"causalkit.{design}", f"causalkit.{design}._examples"):
                raise
            continue
        yield design, mod


def registered_cases() -> list[ConformanceCase]:
    """Every :class:`ConformanceCase` the designs register.

    Examples
    --------
    >>> from causalkit.testing import registered_cases
    >>> names = [c.name for c in registered_cases()]
    >>> "ate.AIPW" in names and "rdd.RDD" in names
    True
    """
    cases = []
    for _, mod in iter_design_examples():
        if hasattr(mod, "conformance_cases"):
            cases.extend(mod.conformance_cases())
    return cases


def registered_function_cases() -> list:
    """Every public function the designs register into the battery (``function_cases()``).

    Examples
    --------
    >>> from causalkit.testing import registered_function_cases
    >>> "montecarlo.cuped" in [c.name for c in registered_function_cases()]
    True
    """
    cases = []
    for _, mod in iter_design_examples():
        if hasattr(mod, "function_cases"):
            cases.extend(mod.function_cases())
    return cases


# --------------------------------------------------------------------------- bad-input helpers


def set_arg(key, value):
    """A :class:`BadInput` mutation replacing fit argument ``key``.

    ``value`` is the new value, or a callable taking the fit arguments and returning it.

    Examples
    --------
    >>> from causalkit.testing import set_arg
    >>> mutate = set_arg("treatment", lambda args: [2] * len(args["y"]))   # not binary
    >>> args = {"y": [0.0, 1.0], "treatment": [0, 1]}
    >>> mutate(args)["treatment"], args["treatment"]      # a new dict; the one given is kept
    ([2, 2], [0, 1])
    """
    return lambda a: {**a, key: value(a) if callable(value) else value}


def nan_in(key, row: int = 3):
    """A :class:`BadInput` mutation putting NaN in row ``row`` of fit argument ``key``.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.testing import nan_in
    >>> out = nan_in("y", row=1)({"y": np.zeros(3)})
    >>> out["y"]
    array([ 0., nan,  0.])
    """
    def mutate(a):
        v = np.array(a[key], dtype=float)
        v[(row,) if v.ndim == 1 else (row, 0)] = np.nan
        return {**a, key: v}
    return mutate


# --------------------------------------------------------------------------- helpers


def _split(args: dict):
    args = dict(args)
    X = args.pop("X")
    y = args.pop("y")
    return X, y, args


def _fit(est, args):
    X, y, kw = _split(args)
    return est.fit(X, y, **kw)


def _numbers(case, est):
    return np.atleast_1d(np.asarray(case.result(est), dtype=float))


def _assert_same(case, a, b, what):
    np.testing.assert_allclose(a, b, rtol=case.rtol, atol=1e-12,
                               err_msg=f"{case.name}: {what} changed the numbers")


def _param_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if hasattr(a, "get_params") and hasattr(b, "get_params"):
        return type(a) is type(b) and repr(a) == repr(b)
    if isinstance(a, dict) and isinstance(b, dict):  # e.g. {block: [candidate estimators]}
        return a.keys() == b.keys() and all(_param_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _param_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) or (a is None and b is None)
    except Exception:
        return repr(a) == repr(b)


def _copy_args(args: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in args.items()}


def _assert_args_equal(before: dict, after: dict, name: str):
    for k in before:
        a, b = before[k], after[k]
        if hasattr(a, "equals"):
            assert a.equals(b), f"{name}: fit modified its input `{k}`"
        elif isinstance(a, (list, tuple)):
            for i, (ai, bi) in enumerate(zip(a, b)):
                assert np.array_equal(np.asarray(ai), np.asarray(bi), equal_nan=True), (
                    f"{name}: fit modified `{k}[{i}]`")
        elif a is not None:
            assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True), (
                f"{name}: fit modified its input `{k}`")


# --------------------------------------------------------------------------- checks


def check_clone_and_params(case):
    """``clone`` and ``get_params``/``set_params`` round-trip; defaults construct."""
    est = case.estimator()
    params = est.get_params(deep=False)
    cloned = clone(est)
    assert cloned is not est
    cloned_params = cloned.get_params(deep=False)
    assert set(params) == set(cloned_params)
    for k in params:
        assert _param_equal(params[k], cloned_params[k]), f"{case.name}: clone changed `{k}`"
    assert est.set_params(**params) is est
    sig = inspect.signature(type(est).__init__)
    assert set(params) == {p for p in sig.parameters if p != "self"}, (
        f"{case.name}: get_params does not list exactly the __init__ arguments")
    type(est)()  # every hyperparameter has a default


def check_sklearn_init_contract(case):
    """scikit-learn's own checks that need no fit: nothing set or validated in __init__."""
    from sklearn.utils import estimator_checks as ec

    est = case.estimator()
    name = type(est).__name__
    ec.check_no_attributes_set_in_init(name, est)
    ec.check_get_params_invariance(name, est)
    ec.check_set_params(name, est)
    ec.check_parameters_default_constructible(name, est)


def check_fit_returns_self(case):
    """``fit`` returns the estimator itself."""
    est = case.estimator()
    assert _fit(est, case.data(0)) is est, f"{case.name}.fit must return self"


def check_not_fitted(case):
    """Result methods raise ``NotFittedError`` before ``fit``."""
    assert case.before_fit, f"{case.name} registers no before_fit calls"
    data = case.data(0)
    for call in case.before_fit:
        est = case.estimator()
        try:
            call(est, data)
        except NotFittedError:
            continue
        raise AssertionError(f"{case.name}: a result method did not raise NotFittedError before fit")


def check_pickle(case):
    """A fitted estimator survives pickling with the same results."""
    est = _fit(case.estimator(), case.data(0))
    again = pickle.loads(pickle.dumps(est))
    _assert_same(case, _numbers(case, est), _numbers(case, again), "pickling")


def check_same_seed_same_numbers(case):
    """Two fits with the same seed give the same numbers; inputs are not modified."""
    data = case.data(0)
    before = _copy_args(data)
    a = _numbers(case, _fit(case.estimator(), data))
    _assert_args_equal(before, data, case.name)
    b = _numbers(case, _fit(case.estimator(), case.data(0)))
    _assert_same(case, a, b, "refitting with the same seed")


def check_backend_invariance(case):
    """``n_jobs`` and the joblib backend do not change the numbers."""
    est = case.estimator()
    if "n_jobs" not in est.get_params():
        return
    data = case.data(0)
    ref = _numbers(case, _fit(est, data))
    with parallel_config(backend="threading"):
        par = _numbers(case, _fit(clone(est).set_params(n_jobs=2), data))
    _assert_same(case, ref, par, "n_jobs=2 on the threading backend")


def _pipe(est):
    return Pipeline([("identity", FunctionTransformer()), ("est", est)])


def check_pipeline_routing(case):
    """As the last step of a Pipeline, design variables routed as ``est__name``."""
    if not case.pipeline:
        return
    data = case.data(0)
    ref = _numbers(case, _fit(case.estimator(), data))
    X, y, kw = _split(data)
    pipe = _pipe(case.estimator()).fit(X, y, **{f"est__{k}": v for k, v in kw.items()})
    _assert_same(case, ref, _numbers(case, pipe[-1]), "fitting inside a Pipeline")


def check_metadata_routing(case):
    """With metadata routing on, ``set_fit_request`` routes the design variables."""
    if not case.pipeline:
        return
    data = case.data(0)
    ref = _numbers(case, _fit(case.estimator(), data))
    X, y, kw = _split(data)
    with config_context(enable_metadata_routing=True):
        est = case.estimator().set_fit_request(**{k: True for k in kw})
        if hasattr(est, "set_transform_request"):
            # a last step with transform(X, *, design variables) must say so for transform too
            params = inspect.signature(est.transform).parameters
            est = est.set_transform_request(**{k: True for k in kw if k in params})
        pipe = _pipe(est).fit(X, y, **kw)
    _assert_same(case, ref, _numbers(case, pipe[-1]), "metadata routing")


def check_dataframe_input(case):
    """DataFrame ``X`` gives the same numbers and sets ``feature_names_in_``."""
    if not case.dataframe:
        return
    import pandas as pd

    data = case.data(0)
    X = np.asarray(data["X"])
    if X.ndim != 2:
        return
    cols = [f"col{j}" for j in range(X.shape[1])]
    ref = _numbers(case, _fit(case.estimator(), data))
    est = _fit(case.estimator(), {**data, "X": pd.DataFrame(X, columns=cols)})
    _assert_same(case, ref, _numbers(case, est), "a DataFrame X")
    assert list(est.feature_names_in_) == cols, f"{case.name}: feature_names_in_ not kept"


def check_parameter_constraints(case):
    """The class declares ``_parameter_constraints`` for exactly its ``__init__`` arguments,
    and ``fit`` rejects a value outside each constraint with scikit-learn's
    ``InvalidParameterError`` naming the argument (as scikit-learn's own
    ``check_param_validation``, on the case's data with its design variables)."""
    from ..utils._param_validation import (
        InvalidParameterError,
        generate_invalid_param_val,
        make_constraint,
    )

    est = case.estimator()
    cls = type(est)
    name = cls.__name__
    declared = getattr(cls, "_parameter_constraints", None)
    assert isinstance(declared, dict), f"{case.name}: no `_parameter_constraints` dict"
    params = set(est.get_params(deep=False))
    assert set(declared) == params, (
        f"{case.name}: `_parameter_constraints` must cover exactly the __init__ arguments; "
        f"missing {sorted(params - set(declared))}, unexpected {sorted(set(declared) - params)}")
    data = case.data(0)
    bad_type = type("BadType", (), {})()

    def expect_error(param, value):
        bad = clone(est).set_params(**{param: value})
        try:
            _fit(bad, _copy_args(data))
        except InvalidParameterError as exc:
            assert f"The '{param}' parameter of {name} must be" in str(exc), (
                f"{case.name}: the error for `{param}`={value!r} names another parameter: {exc}")
            return
        raise AssertionError(f"{case.name}: fit accepted `{param}`={value!r} "
                             "(outside its _parameter_constraints)")

    for param, constraints in declared.items():
        if constraints == "no_validation":
            continue
        expect_error(param, bad_type)
        for constraint in (make_constraint(c) for c in constraints):
            try:
                value = generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue
            expect_error(param, value)


#: Every check, run on every registered case by tests/test_conformance.py.
CHECKS = (
    check_clone_and_params,
    check_sklearn_init_contract,
    check_fit_returns_self,
    check_not_fitted,
    check_pickle,
    check_same_seed_same_numbers,
    check_backend_invariance,
    check_pipeline_routing,
    check_metadata_routing,
    check_dataframe_input,
    check_parameter_constraints,
)


def run_bad_input(case: ConformanceCase, bad: BadInput):
    """Fit on ``bad.mutate(data)`` and assert the expected error or warning."""
    import pytest

    data = case.data(0)
    out = bad.mutate(_copy_args(data))
    params, args = out if isinstance(out, tuple) else ({}, out)
    est = case.estimator().set_params(**params)
    if bad.warns:
        with pytest.warns(bad.error, match=bad.match):
            _fit(est, args)
    else:
        with pytest.raises(bad.error, match=bad.match):
            _fit(est, args)
