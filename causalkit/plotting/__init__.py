"""Matplotlib figures for causalkit's result types (needs the ``plot`` extra)."""

from ._curves import plot_effect_curve, plot_estimates

__all__ = ["plot_effect_curve", "plot_estimates"]
