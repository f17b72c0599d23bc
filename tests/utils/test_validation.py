"""Validation: each bad input gets an error naming the argument; inputs are never modified."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalkit.utils.validation import (
    CausalkitWarning,
    FewObservationsWarning,
    PositivityWarning,
    WeakInstrumentWarning,
    check_binary,
    check_consistent_length,
    check_fraction,
    check_groups,
    check_propensity,
    check_vector,
    check_weights,
    check_X,
    warn_positivity,
)

BAD = [
    (lambda: check_X(np.array([[1.0, np.nan]]), "X"), ValueError, r"`X` contains NaN in 1 row\(s\) \(first at row 0\)"),
    (lambda: check_X(np.array([[1.0, np.inf]]), "X"), ValueError, r"`X` contains infinite"),
    (lambda: check_X(np.ones((2, 2, 2)), "X"), ValueError, r"`X` must be 2-D"),
    (lambda: check_X(np.ones((3, 0)), "X"), ValueError, r"`X` has no columns"),
    (lambda: check_X(None, "X"), ValueError, r"`X` is required"),
    (lambda: check_X([["a", "b"]], "X"), TypeError, r"`X` must hold numbers"),
    (lambda: check_vector(np.ones((3, 2)), "y"), ValueError, r"`y` must be 1-D"),
    (lambda: check_vector(3.0, "y"), ValueError, r"`y` must be a 1-D array; got a scalar"),
    (lambda: check_vector(np.ones(3), "y", n=4), ValueError, r"`y` has 3 values but X has 4 rows"),
    (lambda: check_vector("abc", "y"), TypeError, r"`y` must be array-like of numbers"),
    (lambda: check_vector(np.ones(3) + 1j, "y"), TypeError, r"`y` must be real-valued"),
    (lambda: check_binary([0, 1, 2], "treatment"), ValueError, r"`treatment` must be binary, coded 0/1; got 3 distinct"),
    (lambda: check_binary([0.0, 0.5, 1.0], "treatment"), ValueError, r"`treatment` must be binary"),
    (lambda: check_binary([1, 1, 1], "instrument"), ValueError, r"`instrument` takes only the value 1"),
    (lambda: check_binary([0, np.nan, 1], "treatment"), ValueError, r"`treatment` contains NaN"),
    (lambda: check_propensity([0.0, 0.5], "propensity"), ValueError, r"`propensity` must lie in \(0, 1\]"),
    (lambda: check_propensity([0.5, 1.2], "propensity"), ValueError, r"`propensity` must lie in \(0, 1\]"),
    (lambda: check_propensity([0.5, np.nan], "propensity"), ValueError, r"`propensity` contains NaN"),
    (lambda: check_weights([1.0, -1.0], "weights"), ValueError, r"`weights` must be non-negative"),
    (lambda: check_weights([0.0, 0.0], "weights"), ValueError, r"`weights` are all zero"),
    (lambda: check_weights([1.0, np.nan], "weights"), ValueError, r"`weights` contains NaN"),
    (lambda: check_consistent_length(X=np.ones(3), y=np.ones(2)), ValueError, r"`X` has 3, `y` has 2"),
    (lambda: check_groups(np.ones((2, 2))), ValueError, r"`groups` must be 1-D"),
    (lambda: check_groups([1.0, np.nan]), ValueError, r"`groups` contains NaN"),
    (lambda: check_fraction(0.6, "trimming_threshold"), ValueError, r"`trimming_threshold` must lie in \[0.0, 0.5\)"),
    (lambda: check_fraction("a", "alpha"), TypeError, r"`alpha` must be a number"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[m for _, _, m in BAD])
def test_bad_inputs_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_good_inputs_pass_and_keep_names():
    df = pd.DataFrame({"age": [1.0, 2.0], "income": [3.0, 4.0]})
    arr, names = check_X(df)
    assert arr.shape == (2, 2) and list(names) == ["age", "income"]
    assert check_X(np.arange(3.0))[0].shape == (3, 1)
    assert check_X(np.ones((2, 2)))[1] is None
    np.testing.assert_array_equal(check_binary([True, False, True]), [1, 0, 1])
    np.testing.assert_array_equal(check_binary(pd.Series([1.0, 0.0])), [1, 0])
    assert check_vector(np.ones((4, 1)), "y").shape == (4,)
    assert check_propensity([1.0, 0.2]).tolist() == [1.0, 0.2]
    np.testing.assert_array_equal(check_groups(["b", "a", "b"]), [1, 0, 1])
    assert check_weights(None) is None
    assert check_vector([1.0, np.nan], "y", allow_nan=True).shape == (2,)


def test_inputs_are_not_modified():
    X = np.array([[1, 2], [3, 4]], dtype=np.int64)
    t = np.array([True, False])
    Xc, tc = X.copy(), t.copy()
    out, _ = check_X(X)
    out[0, 0] = 100.0
    check_binary(t)[0] = 0
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(t, tc)


def test_warnings_are_named_subclasses():
    for w in (PositivityWarning, WeakInstrumentWarning, FewObservationsWarning):
        assert issubclass(w, CausalkitWarning) and issubclass(w, UserWarning)
    with pytest.warns(PositivityWarning, match="2 of 4 units"):
        assert warn_positivity(np.array([0.001, 0.5, 0.5, 0.999]), 0.01) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_positivity(np.array([0.2, 0.8]), 0.01) == 0
