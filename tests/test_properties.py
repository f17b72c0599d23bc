"""Property-based tests (hypothesis): random shapes, dtypes and values for core estimators.

Whatever the input, a fit ends in an accepted outcome of the shared battery: a
ValueError/TypeError raised by causalkit that names an argument, or a finite answer.
The fast profile runs here; ``HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py``
(or benchmarks/battery.py --long) runs the longer one.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from causalkit.testing._battery import _classify_error  # noqa: E402

settings.register_profile("fast", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=300, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

_values = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([0.0, 1.0, -1.0, 1e-300, 1e300, -1e300, np.nan, np.inf]),
)


@st.composite
def _design(draw, binary=True):
    n = draw(st.integers(0, 40))
    p = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = rng.normal(size=n)
    for _ in range(draw(st.integers(0, 2))):        # a few hostile values
        if n:
            X[draw(st.integers(0, n - 1)), draw(st.integers(0, p - 1))] = draw(_values)
            y[draw(st.integers(0, n - 1))] = draw(_values)
    coding = draw(st.sampled_from(["01", "bool", "float", "pm1", "12", "const"]))
    t = (rng.random(n) < 0.5).astype(int)
    t = {"01": t, "bool": t.astype(bool), "float": t.astype(float), "pm1": 2 * t - 1,
         "12": t + 1, "const": np.zeros(n, dtype=int)}[coding]
    dtype = draw(st.sampled_from(["float64", "float32", "object"]))
    return X.astype(dtype), y, t


def _check(fit, result, arg_names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est = fit()
            nums = np.atleast_1d(np.asarray(result(est), dtype=float))
        except Exception as exc:  # noqa: BLE001
            code, detail = _classify_error(exc, None, arg_names)
            assert code == "clear_error", detail
            return
    assert np.all(np.isfinite(nums)), nums


@given(_design())
def test_aipw_never_crashes_or_returns_nan(data):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.ate import AIPW

    X, y, t = data
    _check(lambda: AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=0).fit(
        X, y, treatment=t), lambda e: [e.ate().value, e.ate().stderr], {"X", "y", "treatment"})


@given(_design())
def test_ips_never_crashes_or_returns_nan(data):
    from causalkit.ope import IPS

    X, y, t = data
    action = np.asarray(t).astype(float).astype(int) % 2 if np.asarray(t).dtype != object else t
    prop = np.full(len(y), 0.5)
    _check(lambda: IPS().fit(X, y, action=action, propensity=prop),
           lambda e: [e.value(np.full((len(y), 2), 0.5)).value], {"X", "y", "action", "propensity"})


@given(_design())
def test_control_variates_never_crash_or_return_nan(data):
    from causalkit.montecarlo import ControlVariates

    X, y, _ = data
    _check(lambda: ControlVariates().fit(X, y), lambda e: [e.mean().value, e.mean().stderr],
           {"X", "y"})


@given(_design())
def test_linear_calibration_never_crashes_or_returns_nan(data):
    from causalkit.calibration import LinearCalibration

    X, y, _ = data
    _check(lambda: LinearCalibration().fit(X[:, :1], y),
           lambda e: [e.slope_, e.intercept_], {"X", "y"})
