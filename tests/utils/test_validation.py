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
    (lambda: check_vector(np.ones(3), "y", n=4), ValueError, r"`y` has 3 values but `X` has 4; pass one value per row of `X`"),
    (lambda: check_vector("abc", "y"), TypeError, r"`y` must be array-like of numbers"),
    (lambda: check_vector(np.ones(3) + 1j, "y"), ValueError, r"`y` must be real-valued"),
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


# --------------------------------------------------------------------------- pandas rules


def test_check_aligned_refuses_misaligned_pandas_rows():
    import pandas as pd

    from causalkit.utils.validation import check_aligned

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=[10, 11, 12])
    check_aligned(X=X, y=pd.Series([1.0, 2.0, 3.0], index=[10, 11, 12]), treatment=np.ones(3))
    with pytest.raises(ValueError, match=r"`y` is a pandas object whose index differs from that "
                                         r"of `X`.*y.reindex\(X.index\)"):
        check_aligned(X=X, y=pd.Series([1.0, 2.0, 3.0], index=[12, 11, 10]))
    with pytest.raises(ValueError, match=r"`treatment` .*reset_index"):
        check_aligned(X=X, treatment=pd.Series([1, 0, 1]))


def test_check_feature_names_refuses_reordered_or_other_columns():
    import pandas as pd

    from causalkit.utils.validation import check_feature_names

    class Fitted:
        feature_names_in_ = np.array(["a", "b"], dtype=object)

    check_feature_names(Fitted(), pd.DataFrame({"a": [1.0], "b": [2.0]}))
    check_feature_names(Fitted(), np.ones((1, 2)))   # numpy: by position
    with pytest.raises(ValueError, match=r"`X` has the fitted columns in another order"):
        check_feature_names(Fitted(), pd.DataFrame({"b": [1.0], "a": [2.0]}))
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['c'\]"):
        check_feature_names(Fitted(), pd.DataFrame({"a": [1.0], "c": [2.0]}))


def test_pandas_missing_categorical_and_sparse_inputs_get_their_own_messages():
    import pandas as pd
    from scipy import sparse

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]}).astype("Float64")
    X.iloc[1, 0] = pd.NA
    with pytest.raises(ValueError, match=r"`X` contains missing values \(NaN or pd.NA\) in 1 row"):
        check_X(X)
    Xc = pd.DataFrame({"a": pd.Categorical(["u", "v", "u"])})
    with pytest.raises(TypeError, match=r"`X` has a categorical column 'a'"):
        check_X(Xc)
    with pytest.raises(TypeError, match=r"`X` is a scipy sparse matrix.*X.toarray\(\)"):
        check_X(sparse.csr_matrix(np.eye(3)))
    # nullable numbers without missing values are ordinary numbers
    ok, _ = check_X(pd.DataFrame({"a": [1, 2, 3]}).astype("Int64"))
    assert ok.dtype == np.float64 and ok[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_sample_weights_are_relative():
    from causalkit.utils.validation import check_weights

    w = check_weights([1.0, 2.0, 3.0], n=3)
    np.testing.assert_allclose(w, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(check_weights([7.0, 14.0, 21.0], n=3), w)
    np.testing.assert_allclose(check_weights([1.0, 2.0], "weights"), [1.0, 2.0])  # ratios stay


def test_groups_with_missing_labels_are_refused():
    from causalkit.utils.validation import check_groups

    with pytest.raises(ValueError, match=r"`groups` contains missing labels"):
        check_groups(np.array(["a", None, "b"], dtype=object))


def test_check_X_copy_is_private_and_checked_like_the_plain_check():
    import numpy as np
    import pytest

    from causalkit.utils.validation import check_X

    X = np.random.default_rng(0).normal(size=(50_000, 7))
    Xc, _ = check_X(X, "X", copy=True)
    assert not np.shares_memory(Xc, X)
    np.testing.assert_array_equal(Xc, X)
    X[40_000, 3] = np.nan
    with pytest.raises(ValueError, match=r"`X` contains NaN in 1 row\(s\) \(first at row 40000\)"):
        check_X(X, "X", copy=True)
    X[40_000, 3] = 1e120
    with pytest.raises(ValueError, match=r"`X` has values as large as"):
        check_X(X, "X", copy=True)
