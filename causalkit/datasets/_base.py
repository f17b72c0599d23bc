"""The container every generator returns."""

from __future__ import annotations

from sklearn.utils import Bunch

from ..utils._param_validation import (
    NONNEG_INT,
    NONNEG_REAL,
    POS_INT,
    Integral,
    Interval,
    Real,
    validate_params,
)

__all__ = ["Dataset"]


class Dataset(Bunch):
    """A dict with attribute access holding data and its known truth.

    Generators return at least ``X`` and ``y`` plus their design variables
    (``treatment``, ``instrument``...) and the true estimand(s) under keys that
    start with ``true_`` (``true_ate``, ``true_cate``...), and a ``description``.

    Examples
    --------
    >>> from causalkit.datasets import Dataset, make_ate_data
    >>> d = make_ate_data(200, random_state=0)
    >>> isinstance(d, Dataset), d.X.shape, d.true_ate
    (True, (200, 5), 1.0)
    >>> Dataset(X=[[0.0]], y=[1.0]).y     # keys read as attributes
    [1.0]
    """

    def fit_kwargs(self, *names: str) -> dict:
        """The named design variables as keyword arguments for ``fit``."""
        return {k: self[k] for k in names}


#: Constraints of the generators' arguments (scikit-learn's, as for estimator parameters).
#: An integer whose range the generator checks itself, with its own message.
INT = Interval(Integral, None, None, closed="neither")
#: A finite number (NaN and infinity refused).
FINITE = Interval(Real, None, None, closed="neither")
SIZE, COUNT, SCALE, FLAG = POS_INT, NONNEG_INT, NONNEG_REAL, "boolean"


def checked(**constraints):
    """Validate a generator's arguments: a bad one raises ``InvalidParameterError`` naming it."""
    return validate_params({k: [v] for k, v in constraints.items()},
                           prefer_skip_nested_validation=True)


def read_packaged_file(package: str, path: str, sha256: str, *, loader: str, what: str,
                       install: str) -> bytes:
    """The bytes of a data file that an installed package bundles, checked against its card.

    ``loader`` (the calling function) and ``what`` (e.g. "the IHDP file bundled with
    EconML") name it in messages; ``install`` is the command that installs ``package``. Raises ImportError when the
    package or file is missing and ValueError when the SHA-256 differs from the card's.
    """
    import hashlib
    from importlib import resources

    try:
        raw = (resources.files(package) / path).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ImportError(f"{loader} reads {what}; install it with `{install}`.") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise ValueError(f"{what[0].upper()}{what[1:]} (installed `{package}`) has SHA-256 "
                         f"{digest}, not {sha256}; its contents changed, so the card no longer "
                         "describes it.")
    return raw
