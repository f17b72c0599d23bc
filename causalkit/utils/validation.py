"""Input checks shared by every causalkit design.

Every function here turns bad input into a :class:`ValueError` or :class:`TypeError`
whose message names the offending argument and says how to fix it. Statistical
hazards that still allow an answer raise one of the named warnings below instead.

All checks return new arrays (or views that are never written to); no input is
modified in place.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

__all__ = [
    "CausalkitWarning",
    "PositivityWarning",
    "WeakInstrumentWarning",
    "FewObservationsWarning",
    "check_X",
    "check_nuisance_X",
    "allows_nan",
    "check_vector",
    "check_consistent_length",
    "check_binary",
    "check_treatment",
    "as_float_array",
    "check_propensity",
    "check_weights",
    "check_groups",
    "check_fraction",
    "check_alpha",
    "check_integer",
    "check_bool",
    "check_finite_number",
    "check_n_jobs",
    "check_model",
    "warn_positivity",
    "feature_names",
    "check_aligned",
    "check_feature_names",
]


class CausalkitWarning(UserWarning):
    """Base class of the statistical warnings causalkit raises.

    Examples
    --------
    >>> import warnings
    >>> from causalkit.utils import CausalkitWarning, PositivityWarning
    >>> issubclass(PositivityWarning, CausalkitWarning)
    True
    >>> with warnings.catch_warnings():                   # every causalkit hazard as an error
    ...     warnings.simplefilter("error", CausalkitWarning)
    ...     try:
    ...         warnings.warn("weak overlap", PositivityWarning)
    ...     except CausalkitWarning as exc:
    ...         print(type(exc).__name__, exc)
    PositivityWarning weak overlap
    """


class PositivityWarning(CausalkitWarning):
    """Some units have (near) zero probability of one of the treatment arms.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from causalkit.utils import PositivityWarning
    >>> from causalkit.utils.validation import warn_positivity
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     n_out = warn_positivity(np.array([0.001, 0.3, 0.5, 0.999]), 0.01)
    >>> n_out, caught[0].category is PositivityWarning
    (2, True)
    """


class WeakInstrumentWarning(CausalkitWarning):
    """The instrument barely moves the treatment: identification is weak.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from causalkit.iv import TSLS
    >>> from causalkit.utils import WeakInstrumentWarning
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=500); t = rng.normal(size=500); y = t + rng.normal(size=500)
    >>> with warnings.catch_warnings(record=True) as caught:   # z does not move t
    ...     warnings.simplefilter("always")
    ...     _ = TSLS().fit(None, y, treatment=t, instrument=z)
    >>> any(issubclass(w.category, WeakInstrumentWarning) for w in caught)
    True
    """


class FewObservationsWarning(CausalkitWarning):
    """Too few units where the estimate draws its information (a stratum, a cutoff).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from causalkit.montecarlo import ControlVariates
    >>> from causalkit.utils import FewObservationsWarning
    >>> u = np.random.default_rng(0).uniform(size=200)
    >>> strata = np.where(np.arange(200) < 2, 1, 0)       # stratum 1 has only 2 draws
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = ControlVariates(control_means=0.5).fit(u[:, None], np.exp(u), strata=strata)
    >>> any(issubclass(w.category, FewObservationsWarning) for w in caught)
    True
    """


def _is_pandas(obj) -> bool:
    mod = type(obj).__module__
    return mod.startswith("pandas")


def feature_names(X) -> np.ndarray | None:
    """Column names of a DataFrame as an object array, else ``None``."""
    if _is_pandas(X) and hasattr(X, "columns"):
        names = np.asarray([str(c) for c in X.columns], dtype=object)
        return names
    return None


def _pandas_to_numpy(x, name: str):
    """A pandas object as a numpy array, with messages that say what is wrong."""
    import pandas as pd

    frame = x.to_frame() if isinstance(x, pd.Series) else x
    if isinstance(frame, pd.DataFrame):
        for col, dt in frame.dtypes.items():
            if isinstance(dt, pd.CategoricalDtype):
                raise TypeError(
                    f"`{name}` has a categorical column {col!r}; causalkit needs numbers here. "
                    "Encode it first (e.g. pandas.get_dummies or OneHotEncoder).")
        missing = frame.isna().to_numpy()
        if missing.any():
            rows = np.flatnonzero(missing.any(axis=1))
            raise ValueError(
                f"`{name}` contains missing values (NaN or pd.NA) in {len(rows)} row(s) (first at "
                f"row {int(rows[0])}). Drop or impute those rows before fitting.")
        if all(pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)
               for dt in frame.dtypes):
            return frame.to_numpy(dtype=np.float64) if isinstance(x, pd.DataFrame) else (
                x.to_numpy(dtype=np.float64) if not pd.api.types.is_bool_dtype(x.dtype)
                else x.to_numpy(dtype=bool))
    return x.to_numpy()


def _to_numeric(x, name: str, dtype):
    if isinstance(x, (str, bytes)):
        raise TypeError(f"`{name}` must be array-like of numbers; got a string.")
    if hasattr(x, "tocsr") and hasattr(x, "nnz"):  # scipy sparse
        raise TypeError(
            f"`{name}` is a scipy sparse matrix; causalkit needs a dense array here. Pass "
            f"`{name}.toarray()` (or select fewer columns first if it does not fit in memory).")
    if _is_pandas(x):
        x = _pandas_to_numpy(x, name)
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - defensive
        raise TypeError(f"`{name}` could not be converted to an array: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "USV":
        try:
            arr = arr.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`{name}` must hold numbers; found values of type "
                f"{type(arr.flat[0]).__name__ if arr.size else 'unknown'} ({exc}). Encode "
                "categories as numbers (e.g. with OneHotEncoder) before fitting."
            ) from exc
    elif arr.dtype.kind == "c":
        raise ValueError(f"`{name}` must be real-valued (Complex data not supported); pass the "
                         "real part or the modulus.")
    elif dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


#: Largest magnitude accepted in numeric inputs: sums of squares of larger values overflow.
MAX_MAGNITUDE = 1e100


def _check_finite(arr: np.ndarray, name: str, allow_nan: bool = False) -> None:
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return
    # fast path: no temporaries (one sum, one max, one min) when everything is finite
    with np.errstate(all="ignore"):
        total = arr.sum()
    if np.isfinite(total):
        hi, lo = float(arr.max()), float(arr.min())
        big = max(abs(hi), abs(lo))
    else:
        bad = ~np.isfinite(arr)
        if allow_nan:
            bad &= ~np.isnan(arr)
        if bad.any():
            rows = np.flatnonzero(bad.reshape(arr.shape[0], -1).any(axis=1)) if arr.ndim else [0]
            kind = "NaN" if np.isnan(arr[bad]).any() else "infinite values"
            raise ValueError(
                f"`{name}` contains {kind} in {len(rows)} row(s) (first at row {int(rows[0])}). "
                "Drop or impute those rows before fitting."
            )
        with np.errstate(invalid="ignore"):
            big = float(np.nanmax(np.abs(arr))) if not np.isnan(arr).all() else 0.0
    _check_magnitude(big, name)


def _check_magnitude(big: float, name: str) -> None:
    """Refuse data whose largest magnitude ``big`` under- or overflows second moments
    (shared by the in-memory and the chunked checks, so both say the same)."""
    if 0.0 < big < 1.0 / MAX_MAGNITUDE:
        raise ValueError(
            f"`{name}` has no value larger than {big:.3g} in magnitude; squares of such numbers "
            f"underflow to zero in double precision. Rescale `{name}` (e.g. change its units).")
    if big > MAX_MAGNITUDE:
        raise ValueError(
            f"`{name}` has values as large as {big:.3g}; variances of numbers beyond "
            f"{MAX_MAGNITUDE:.0e} overflow in double precision. Rescale `{name}` (e.g. divide "
            "by its standard deviation, or change its units) and scale the result back.")


#: Elements per block of :func:`_finite_copy` (2 MiB of float64, so the checks read the
#: block from cache: copy and check cost one pass over memory instead of four).
_COPY_BLOCK = 1 << 18


def _finite_copy(arr: np.ndarray, name: str, allow_nan: bool = False) -> np.ndarray:
    """A private float64 copy of ``arr`` with the checks of :func:`_check_finite`, done
    block by block while each block of the copy is in cache."""
    arr = np.asarray(arr, dtype=np.float64)
    out = np.empty(arr.shape)
    if arr.size == 0 or arr.ndim == 0:
        out[...] = arr
        _check_finite(out, name, allow_nan)
        return out
    n = arr.shape[0]
    step = max(1, _COPY_BLOCK // max(1, arr.size // n))
    total, big = 0.0, 0.0
    with np.errstate(all="ignore"):
        for lo in range(0, n, step):
            blk = out[lo:lo + step]
            blk[...] = arr[lo:lo + step]
            total += float(blk.sum())
            big = max(big, float(blk.max()), -float(blk.min()))
    if not np.isfinite(total) or (big != 0 and not 1.0 / MAX_MAGNITUDE <= big <= MAX_MAGNITUDE):
        _check_finite(out, name, allow_nan)  # raises with the full message (or allows the NaN)
    return out


def as_float_array(x, name: str) -> np.ndarray:
    """``x`` as a float64 array, with a message naming ``name`` for strings, sparse,
    categorical or missing values (no shape or finiteness check)."""
    return _to_numeric(x, name, np.float64)


def check_vector(
    x,
    name: str,
    *,
    dtype=np.float64,
    allow_nan: bool = False,
    n: int | None = None,
    min_length: int = 1,
    n_name: str = "X",
) -> np.ndarray:
    """Validate a 1-D array (a column vector ``(n, 1)`` is accepted and flattened).

    Parameters
    ----------
    x : array-like
        The values.
    name : str
        The argument's name, used in error messages.
    dtype : numpy dtype or None
        Target dtype (``None`` keeps the input's).
    allow_nan : bool
        Whether NaN is allowed.
    n : int, optional
        Required length.
    min_length : int
        Smallest length accepted.
    """
    if x is None:
        raise ValueError(f"`{name}` is required; got None.")
    arr = _to_numeric(x, name, dtype)
    if arr.ndim == 0:
        raise ValueError(f"`{name}` must be a 1-D array; got a scalar. Pass one value per unit.")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be 1-D with one value per unit; got shape {arr.shape}."
        )
    if arr.shape[0] < min_length:
        raise ValueError(f"`{name}` needs at least {min_length} value(s); got {arr.shape[0]}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"`{name}` has {arr.shape[0]} values but `{n_name}` has {n}; pass one value per "
            f"row of `{n_name}`."
        )
    _check_finite(arr, name, allow_nan)
    return arr


def check_X(
    X,
    name: str = "X",
    *,
    dtype=np.float64,
    allow_nan: bool = False,
    ensure_2d: bool = True,
    min_samples: int = 1,
    copy: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate a design matrix; return ``(array, feature_names or None)``.

    A 1-D input is read as one feature when ``ensure_2d`` is true. With ``copy`` the
    array returned is a private copy (never the caller's memory), checked as it is
    copied (for a fitted estimator that stores ``X``).
    """
    if X is None:
        raise ValueError(f"`{name}` is required; got None.")
    names = feature_names(X)
    arr = _to_numeric(X, name, dtype)
    if arr.ndim == 1 and ensure_2d:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"`{name}` must be 2-D (n_samples, n_features); got shape {arr.shape}. "
            "Reshape a single feature with X.reshape(-1, 1)."
        )
    if arr.shape[0] < min_samples:
        raise ValueError(f"`{name}` needs at least {min_samples} rows; got {arr.shape[0]}.")
    if arr.shape[1] == 0:
        raise ValueError(f"`{name}` has no columns: 0 feature(s) (shape={arr.shape}) while a "
                         "minimum of 1 is required. Pass at least one feature.")
    if copy and dtype == np.float64:
        return _finite_copy(arr, name, allow_nan), names
    _check_finite(arr, name, allow_nan)
    return (arr.copy() if copy else arr), names


def _nan_handling(model) -> tuple[bool, bool]:
    """``(accepts NaN, removes NaN)`` for a model, a Pipeline or a ColumnTransformer."""
    if model is None or (isinstance(model, str) and model == "passthrough"):
        return True, False
    if isinstance(model, str) and model == "drop":
        return True, True
    if type(model).__module__.startswith("sklearn.impute"):
        return True, True
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and hasattr(model, "named_steps"):  # a Pipeline
        for step in steps:
            accepts, removes = _nan_handling(step[1])
            if not accepts:
                return False, False
            if removes:
                return True, True
        return True, False
    parts = getattr(model, "transformers", None)
    if isinstance(parts, list) and hasattr(model, "remainder"):  # a ColumnTransformer
        handled = [_nan_handling(t[1]) for t in parts] + [_nan_handling(model.remainder)]
        return all(a for a, _ in handled), all(r for _, r in handled)
    try:
        from sklearn.utils import get_tags

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(get_tags(model).input_tags.allow_nan), False
    except Exception:
        return False, False


def allows_nan(model) -> bool:
    """Whether ``model`` can be fitted on features with NaN.

    Read from the scikit-learn tag ``input_tags.allow_nan``. A Pipeline accepts NaN
    when its steps accept it up to an imputer (``sklearn.impute``), or all the way
    (``make_pipeline(SimpleImputer(), LinearRegression())`` does); a
    ColumnTransformer when each of its transformers does. A model without
    scikit-learn tags is taken not to accept NaN (give it a ``__sklearn_tags__``
    with ``input_tags.allow_nan = True`` if it does).

    Examples
    --------
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from causalkit.utils.validation import allows_nan
    >>> allows_nan(HistGradientBoostingRegressor()), allows_nan(LinearRegression())
    (True, False)
    >>> allows_nan(make_pipeline(SimpleImputer(), LinearRegression()))
    True
    """
    return _nan_handling(model)[0]


def _nan_refused(name, rows, refusing):
    listed = ", ".join(refusing)
    return ValueError(
        f"`{name}` contains NaN or missing values in {len(rows)} row(s) (first at row "
        f"{int(rows[0])}), and the nuisance model(s) {listed} do not accept missing values "
        "(their scikit-learn tag `allow_nan` is false). Drop or impute those rows before "
        "fitting, or use models that handle missing values (HistGradientBoosting*, LightGBM, "
        "a Pipeline that starts with SimpleImputer).")


def check_nuisance_X(X, models, name: str = "X", *, min_samples: int = 1):
    """Validate features that only nuisance models see; return ``(X for the models, names)``.

    The rule for features that go to cross-fitted nuisance models only (the final
    estimate does no linear algebra on them):

    - a DataFrame stays a DataFrame: every fold gets its rows by position (``iloc``),
      with the column names and dtypes the user gave, so a ``ColumnTransformer`` that
      selects columns by name works and categorical or string columns reach models that
      encode them (a nuisance model that cannot use them fails with a TypeError naming
      ``X``); any other input becomes a float array;
    - NaN (or ``pd.NA``) is let through only when every model in ``models`` declares
      ``allow_nan`` (:func:`allows_nan`); otherwise a ValueError names ``X`` and the
      models that refuse;
    - infinite values, and numbers too large or too small for double precision, are
      always refused in numeric columns; so are sparse matrices and non-2-D input.

    Parameters
    ----------
    X : array-like or DataFrame
    models : dict of str to estimator
        The nuisance models that will be fitted on ``X``, by the name the user knows
        them by (``"model_y"``...).
    name : str
        The argument's name in messages.
    min_samples : int
        Fewest rows accepted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> from causalkit.utils.validation import check_nuisance_X
    >>> X = np.array([[1.0, np.nan], [2.0, 3.0]])
    >>> Xn, _ = check_nuisance_X(X, {"model_y": HistGradientBoostingRegressor()})
    >>> bool(np.isnan(Xn).any())
    True
    """
    if X is None:
        raise ValueError(f"`{name}` is required; got None.")
    refusing = [f"`{k}` ({type(m).__name__})" for k, m in models.items() if not allows_nan(m)]
    if not (_is_pandas(X) and hasattr(X, "columns")):
        arr, names = check_X(X, name, allow_nan=True, min_samples=min_samples)
        if refusing:
            bad = np.isnan(arr)
            if bad.any():
                raise _nan_refused(name, np.flatnonzero(bad.any(axis=1)), refusing)
        return arr, names
    import pandas as pd

    names = feature_names(X)
    if X.shape[0] < min_samples:
        raise ValueError(f"`{name}` needs at least {min_samples} rows; got {X.shape[0]}.")
    if X.shape[1] == 0:
        raise ValueError(f"`{name}` has no columns: 0 feature(s) (shape={X.shape}) while a "
                         "minimum of 1 is required. Pass at least one feature.")
    if len(set(names)) < len(names):
        raise ValueError(f"`{name}` has duplicated column names; give every column its own "
                         "name.")
    missing = X.isna().to_numpy()
    if missing.any() and refusing:
        raise _nan_refused(name, np.flatnonzero(missing.any(axis=1)), refusing)
    for col, dt in X.dtypes.items():
        if isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt):
            continue
        if pd.api.types.is_numeric_dtype(dt):
            if pd.api.types.is_complex_dtype(dt):
                raise ValueError(f"`{name}` column {col!r} is complex; pass real numbers.")
            v = X[col].to_numpy(dtype=np.float64, na_value=np.nan)
            _check_finite(v, name, allow_nan=True)
    return X, names


def check_consistent_length(**arrays) -> int:
    """Check that all given arrays (``None`` skipped) have the same number of rows."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"`{k}` has {v}" for k, v in lengths.items())
        raise ValueError(f"Inputs have inconsistent numbers of rows: {desc}. Pass one row per unit.")
    return next(iter(lengths.values())) if lengths else 0


def check_binary(x, name: str = "treatment", *, n: int | None = None,
                 n_name: str = "X") -> np.ndarray:
    """Validate a binary 0/1 (or boolean) vector; return it as ``int8`` 0/1."""
    arr = check_vector(x, name, dtype=None, n=n, n_name=n_name)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if arr.dtype.kind == "f":
        _check_finite(arr, name)
    values = np.unique(arr)
    if not np.all(np.isin(values, (0, 1))):
        shown = ", ".join(str(v) for v in values[:5]) + (", ..." if len(values) > 5 else "")
        raise ValueError(
            f"`{name}` must be binary, coded 0/1; got {len(values)} distinct values "
            f"[{shown}]. Recode it (e.g. `({name} == level).astype(int)`)."
        )
    if len(values) < 2:
        raise ValueError(
            f"`{name}` takes only the value {values[0]}; both arms (0 and 1) must be present."
        )
    return arr.astype(np.int8)


def check_treatment(x, name: str = "treatment", *, binary: bool, n: int | None = None) -> np.ndarray:
    """The library's one rule for treatment codings.

    A binary treatment is coded 0/1 (or bool; floats 0.0/1.0 are the same). A continuous
    treatment (``binary=False``) may take any real values, but one with exactly two
    distinct values other than 0 and 1 (say -1/+1 or 1/2) is refused: it is almost always
    a binary treatment in another coding, and reading it as a dose changes the estimand
    (an effect per unit of dose) without a word.
    """
    if binary:
        return check_binary(x, name, n=n)
    arr = check_vector(x, name, n=n)
    values = np.unique(arr)
    if values.size == 2 and not np.array_equal(values, [0.0, 1.0]):
        raise ValueError(
            f"`{name}` takes exactly two values {values.tolist()}; causalkit reads a binary "
            f"treatment only when it is coded 0/1. Recode it, e.g. `({name} == {values[1]:g})."
            "astype(int)`; for a dose with two levels, divide the effect by their difference.")
    return arr


def check_propensity(p, name: str = "propensity", *, n: int | None = None, n_name: str = "X",
                     ndim: tuple = (1, 2)) -> np.ndarray:
    """Validate probabilities in (0, 1]; 2-D arrays (n, k) are checked elementwise.

    ``ndim=(1,)`` asks for one propensity per unit (a binary treatment).
    """
    arr = _to_numeric(p, name, np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in ndim:
        want = "1-D (one probability per unit)" if tuple(ndim) == (1,) else "1-D or 2-D"
        raise ValueError(f"`{name}` must be {want}; got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"`{name}` has {arr.shape[0]} rows but `{n_name}` has {n}; pass one per "
                         "unit.")
    _check_finite(arr, name)
    bad = (arr <= 0) | (arr > 1)
    if not bad.any() and arr.size and float(arr.min()) < 1.0 / MAX_MAGNITUDE:
        raise ValueError(
            f"`{name}` has values as small as {float(arr.min()):.3g}: their inverse weights "
            "overflow double precision. Such a unit was (almost) never going to receive its "
            "logged treatment or action; check the logging, or drop or trim those units.")
    if bad.any():
        raise ValueError(
            f"`{name}` must lie in (0, 1]; {int(bad.sum())} value(s) fall outside "
            f"(min {arr.min():.4g}, max {arr.max():.4g}). A zero propensity means the "
            "logged/observed choice was impossible: fix the logging or drop those units."
        )
    return arr


def check_weights(w, name: str = "sample_weight", *, n: int | None = None,
                  normalize: bool | None = None) -> np.ndarray | None:
    """Validate non-negative finite weights (``None`` passes through).

    Sample weights are relative: with ``normalize`` (the default for ``sample_weight``)
    they are returned divided by their mean, so multiplying every weight by the same
    constant never changes a result (penalised nuisance models included).
    """
    if w is None:
        return None
    arr = check_vector(w, name, n=n)
    if (arr < 0).any():
        raise ValueError(
            f"`{name}` must be non-negative; {int((arr < 0).sum())} value(s) are negative "
            f"(min {arr.min():.4g})."
        )
    if not (arr > 0).any():
        raise ValueError(f"`{name}` are all zero; at least one unit needs positive weight.")
    if normalize is None:
        normalize = name == "sample_weight"
    if normalize:
        scale = float(np.mean(arr / arr.max())) * arr.max()
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"`{name}` cannot be normalised (mean {scale}); rescale them.")
        arr = arr / scale
    return arr


def check_groups(groups, name: str = "groups", *, n: int | None = None) -> np.ndarray | None:
    """Validate cluster labels; return integer codes 0..G-1 (``None`` passes through)."""
    if groups is None:
        return None
    arr = np.asarray(groups.to_numpy() if _is_pandas(groups) else groups)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D (one label per unit); got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"`{name}` has {arr.shape[0]} labels but X has {n} rows.")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"`{name}` contains NaN; give every unit a cluster label.")
    if arr.dtype == object:
        import pandas as pd

        if pd.isna(arr).any():
            raise ValueError(f"`{name}` contains missing labels (None/NaN); give every unit a "
                             "cluster label.")
        if len({type(v) for v in arr}) > 1:  # mixed label types cannot be sorted
            arr = arr.astype(str)
    _, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64)


def check_fraction(value, name: str, *, low: float = 0.0, high: float = 0.5, closed: str = "left"):
    """Check a scalar lies in an interval, e.g. a trimming threshold in [0, 0.5)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number; got {type(value).__name__}.")
    ok_low = value >= low if closed in ("left", "both") else value > low
    ok_high = value <= high if closed in ("right", "both") else value < high
    if not (ok_low and ok_high):
        lb = "[" if closed in ("left", "both") else "("
        rb = "]" if closed in ("right", "both") else ")"
        raise ValueError(f"`{name}` must lie in {lb}{low}, {high}{rb}; got {value}.")
    return float(value)


def check_alpha(alpha, name: str = "alpha") -> float:
    """Check a significance level is a number in (0, 1) (a bool or NaN is refused).

    Examples
    --------
    >>> from causalkit.utils.validation import check_alpha
    >>> check_alpha(0.05)
    0.05
    """
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"`{name}` must be a number in (0, 1); got {alpha!r}. Use 0.05 for 95% "
                        "coverage.")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"`{name}` must lie in (0, 1); got {alpha}. Use 0.05 for 95% coverage.")
    return float(alpha)


def check_integer(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Check an integer option (a bool is refused) lies in ``[low, high]``; return it as int.

    Examples
    --------
    >>> from causalkit.utils.validation import check_integer
    >>> check_integer(200, "n_boot", low=1)
    200
    >>> check_integer(1.5, "n_boot", low=1)
    Traceback (most recent call last):
    ...
    TypeError: `n_boot` must be a positive integer; got 1.5.
    """
    if low is not None and high is not None:
        what = f"an integer in [{low}, {high}]"
    elif low == 1:
        what = "a positive integer"
    elif low is not None:
        what = f"an integer >= {low}"
    elif high is not None:
        what = f"an integer <= {high}"
    else:
        what = "an integer"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {what}; got {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"`{name}` must be {what}; got {value!r}.")
    return int(value)


def check_bool(value, name: str) -> bool:
    """Check a flag is ``True`` or ``False`` (numpy bools too); a string such as ``"yes"`` or
    a number is refused rather than read by its truth value."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {value!r}.")
    return bool(value)


def check_finite_number(value, name: str) -> float:
    """Check a scalar option is a finite real number; return it as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a finite number; got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number; got {value!r}.")
    return float(value)


def check_n_jobs(n_jobs, name: str = "n_jobs"):
    """``n_jobs`` is None or a non-zero integer (joblib's convention: -1 is every core)."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise (ValueError if isinstance(n_jobs, numbers.Integral) else TypeError)(
            f"`{name}` must be None or a non-zero integer (-1 uses every core); got {n_jobs!r}.")
    return int(n_jobs)


def check_model(model, name: str, methods=("fit", "predict")):
    """A model given by the user (``None`` is left to the caller's default) must have
    ``methods``; refused early, with the argument's name, rather than deep inside a fit."""
    if model is None:
        return None
    missing = [m for m in methods if not callable(getattr(model, m, None))]
    if missing:
        raise TypeError(f"`{name}` must be an estimator with {' and '.join(methods)}; "
                        f"got {model!r} (no {', '.join(missing)}).")
    return model


def warn_positivity(p: np.ndarray, threshold: float, name: str = "propensity") -> int:
    """Warn (:class:`PositivityWarning`) when estimated propensities leave [t, 1 - t].

    Returns the number of units outside the band.
    """
    outside = int(((p < threshold) | (p > 1 - threshold)).sum())
    if outside:
        warnings.warn(
            f"{outside} of {len(p)} units have estimated {name} outside "
            f"[{threshold:g}, {1 - threshold:g}] (min {p.min():.3g}, max {p.max():.3g}); "
            "overlap is weak and the estimate leans on few units.",
            PositivityWarning,
            stacklevel=3,
        )
    return outside


def check_aligned(**arrays) -> None:
    """The library's rule for pandas rows: positions pair units, so indexes must agree.

    When two or more of the given inputs are pandas objects and their row indexes differ,
    raise a ValueError naming the argument; causalkit never pairs misaligned rows
    silently and never reorders them for you. ``None`` and numpy inputs are skipped.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalkit.utils.validation import check_aligned
    >>> X = pd.DataFrame({"a": [1.0, 2.0]}, index=[0, 1])
    >>> check_aligned(X=X, y=pd.Series([1.0, 2.0], index=[0, 1]))
    >>> check_aligned(X=X, y=pd.Series([2.0, 1.0], index=[1, 0]))
    Traceback (most recent call last):
    ...
    ValueError: `y` is a pandas object whose index differs from that of `X` ...
    """
    ref_name, ref = None, None
    for name, v in arrays.items():
        if v is None or not _is_pandas(v) or not hasattr(v, "index"):
            continue
        if ref is None:
            ref_name, ref = name, v.index
            continue
        if len(v.index) == len(ref) and not v.index.equals(ref):
            same_labels = v.index.sort_values().equals(ref.sort_values()) if (
                v.index.is_unique and ref.is_unique) else False
            hint = (f"Align it first, e.g. `{name}.reindex({ref_name}.index)`" if same_labels
                    else "Give both the same index (e.g. `.reset_index(drop=True)`)")
            raise ValueError(
                f"`{name}` is a pandas object whose index differs from that of `{ref_name}` "
                "(same length, other row labels or order); causalkit pairs rows by position "
                f"and will not guess. {hint}, or pass `.to_numpy()` if the positions already "
                "match.")


def store_feature_names(estimator, names) -> None:
    """Set ``feature_names_in_`` to ``names`` (an object array), or remove a stale one
    left by an earlier fit on a DataFrame when ``names`` is None."""
    if names is not None:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def check_feature_names(estimator, X, name: str = "X") -> None:
    """At predict time, ``X`` must have the columns seen in ``fit``, in the same order.

    A DataFrame whose columns differ in names or order from ``feature_names_in_`` raises
    a ValueError that lists the difference (as scikit-learn does); a numpy ``X`` given
    to an estimator fitted on a DataFrame is accepted by position.
    """
    fitted = getattr(estimator, "feature_names_in_", None)
    names = feature_names(X)
    if fitted is None or names is None:
        return
    fitted = [str(c) for c in fitted]
    got = [str(c) for c in names]
    if got == fitted:
        return
    if sorted(got) == sorted(fitted):
        raise ValueError(
            f"`{name}` has the fitted columns in another order ({got[:5]}... vs {fitted[:5]}...). "
            f"Reorder them: `{name}[estimator.feature_names_in_]`.")
    missing = [c for c in fitted if c not in got]
    extra = [c for c in got if c not in fitted]
    raise ValueError(
        f"`{name}` does not have the columns seen in fit: missing {missing[:5]}, unexpected "
        f"{extra[:5]}. Pass the same columns as in fit, in the same order.")
