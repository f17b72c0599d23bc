"""Variance reduction for Monte Carlo and simulation testing: regression control variates."""

from ._cuped import cuped
from ._cv import ControlVariates

__all__ = ["ControlVariates", "cuped"]
