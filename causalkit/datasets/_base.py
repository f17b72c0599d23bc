"""The container every generator returns."""

from __future__ import annotations

from sklearn.utils import Bunch

__all__ = ["Dataset"]


class Dataset(Bunch):
    """A dict with attribute access holding data and its known truth.

    Generators return at least ``X`` and ``y`` plus their design variables
    (``treatment``, ``instrument``...) and the true estimand(s) under keys that
    start with ``true_`` (``true_ate``, ``true_cate``...), and a ``description``.
    """

    def fit_kwargs(self, *names: str) -> dict:
        """The named design variables as keyword arguments for ``fit``."""
        return {k: self[k] for k in names}
