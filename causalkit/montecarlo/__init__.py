"""Variance reduction for Monte Carlo and simulation testing: regression control variates."""

from ._cv import ControlVariates

__all__ = ["ControlVariates"]
