"""Variance reduction for Monte Carlo and simulation testing: regression control variates."""

from ._cuped import cuped
from ._cv import ControlVariates
from ._sparse import SparseControlVariates

__all__ = ["ControlVariates", "SparseControlVariates", "cuped"]
