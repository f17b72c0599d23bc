"""Figures for EffectCurve and EstimateTable results."""

from __future__ import annotations

import numpy as np

from .._lazy import require


def _axes(ax):
    plt = require("matplotlib.pyplot", extra="plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def plot_effect_curve(curve, ax=None, *, alpha=0.05, uniform=True, label=None, color=None, **kwargs):
    """Draw an :class:`~causalkit.inference.EffectCurve` with its bands.

    The pointwise band is drawn darker, the uniform band (when available and
    ``uniform``) lighter; the legend says which is which.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from causalkit.inference import EffectCurve
    >>> from causalkit.plotting import plot_effect_curve
    >>> curve = EffectCurve(grid=np.linspace(0.1, 0.9, 9), values=np.linspace(0, 1, 9),
    ...                     stderr=np.full(9, 0.1), cov=0.01 * np.eye(9), n=500, method="demo")
    >>> ax = plot_effect_curve(curve, label="effect")
    >>> ax.get_xlabel()
    'grid'
    """
    ax = _axes(ax)
    line, = ax.plot(curve.grid, curve.values, label=label or curve.name, color=color, **kwargs)
    c = line.get_color()
    lo, hi = curve.conf_int(alpha, "pointwise")
    ax.fill_between(curve.grid, lo, hi, color=c, alpha=0.3,
                    label=f"{100 * (1 - alpha):g}% pointwise")
    if uniform and (curve.draws is not None or curve.cov is not None):
        ulo, uhi = curve.conf_int(alpha, "uniform")
        ax.fill_between(curve.grid, ulo, uhi, color=c, alpha=0.12,
                        label=f"{100 * (1 - alpha):g}% uniform")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(curve.grid_name)
    ax.set_ylabel(curve.name)
    ax.legend(frameon=False)
    return ax


def plot_estimates(table, ax=None, *, alpha=0.05, truth=None, **kwargs):
    """Forest plot of an :class:`~causalkit.inference.EstimateTable` (optionally with truths).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from causalkit.inference import Estimate, EstimateTable
    >>> from causalkit.plotting import plot_estimates
    >>> tab = EstimateTable([Estimate(1.0, 0.1, 100, "OLS", name="a"),
    ...                      Estimate(2.0, 0.2, 100, "OLS", name="b")])
    >>> ax = plot_estimates(tab, truth=[1.0, 2.0])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b']
    """
    ax = _axes(ax)
    ci = table.conf_int(alpha)
    ypos = np.arange(len(table))[::-1]
    ax.errorbar(table.values, ypos, xerr=[table.values - ci["lower"], ci["upper"] - table.values],
                fmt="o", capsize=3, label=f"estimate, {100 * (1 - alpha):g}% CI", **kwargs)
    if truth is not None:
        ax.scatter(np.asarray(truth, dtype=float), ypos, marker="x", color="k", zorder=3, label="truth")
    ax.set_yticks(ypos)
    ax.set_yticklabels(table.names)
    ax.legend(frameon=False)
    return ax
