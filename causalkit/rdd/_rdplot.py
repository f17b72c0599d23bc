"""RD plots: binned means with data-driven bin counts and global polynomial fits.

Calonico, Cattaneo and Titiunik (2015, JASA, "Optimal data-driven regression
discontinuity plots"): evenly spaced (ES) or quantile spaced (QS) bins on each side, their
number chosen to minimise the integrated MSE of the binned means as an estimator of the
regression function (IMSE), or so that the binned means mimic the variability of the data
(mimicking variance, MV).
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..utils.validation import check_aligned, check_bool, check_vector
from ._r3d import check_running_variable
from ._scalar import MassPointsWarning

__all__ = ["RDPlot", "rd_plot"]

_MASSPOINTS = ("adjust", "check", "off")
BINSELECT = ("es", "espr", "esmv", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr")
_P = np.polynomial.polynomial


@dataclass(frozen=True)
class RDPlot:
    """What :func:`rd_plot` computed (and drew, in ``ax``).

    Attributes
    ----------
    bins : pandas.DataFrame
        One row per bin: ``side``, ``left``/``right`` edges, ``mid`` (midpoint),
        ``x_mean``, ``y_mean``, ``se`` (standard error of the mean), ``n``,
        ``ci_low``/``ci_high`` (t interval with ``n - 1`` degrees of freedom).
    n_bins : tuple of int
        Bins used ``(J_left, J_right)``.
    n_bins_imse, n_bins_mv : tuple of int
        IMSE-optimal and mimicking-variance bin counts (both always reported).
    bin_width_mean, bin_width_median : tuple of float
        Average and median width of the bins that hold units, per side.
    scale_implied : tuple of float
        ``n_bins / n_bins_imse`` per side.
    coef : pandas.DataFrame
        Global polynomial coefficients on ``x - cutoff`` (columns ``left``, ``right``).
    fit : pandas.DataFrame
        The global polynomial fit on a grid (``x``, ``side``, ``y``, ``ci_low``,
        ``ci_high``; pointwise heteroskedasticity-robust HC1 intervals).
    binselect : str
        The method used: the ``binselect`` asked for, with the suffix "pr" added
        where ``masspoints="adjust"`` found mass points.
    ax : matplotlib axes or None

    Examples
    --------
    >>> from causalkit.datasets import make_rdd_data
    >>> from causalkit.rdd import RDPlot, rd_plot
    >>> d = make_rdd_data(1000, effect=0.5, random_state=0)
    >>> plot = rd_plot(d.X, d.y, draw=False)
    >>> isinstance(plot, RDPlot), plot.ax is None
    (True, True)
    >>> all(j > 0 for j in plot.n_bins) and len(plot.bins) > 0
    True
    """

    bins: pd.DataFrame
    n_bins: tuple
    n_bins_imse: tuple
    n_bins_mv: tuple
    bin_width_mean: tuple
    bin_width_median: tuple
    scale_implied: tuple
    coef: pd.DataFrame
    fit: pd.DataFrame
    binselect: str
    ax: object = None


_K_SELECT = 4  # order of the global polynomials behind the bin-count constants


def _poly_fit(u, v, k):
    """Least-squares polynomial of order ``k`` (increasing coefficients) in ``u``."""
    scale = float(np.max(np.abs(u))) or 1.0
    coef = np.linalg.lstsq(np.vander(u / scale, k + 1, increasing=True), v, rcond=None)[0]
    return coef / scale ** np.arange(k + 1)


def _side_constants(xs, ys, c, k, edge, n_total):
    r"""IMSE and MV bin counts (unrounded) of one side, sorted by ``x``.

    Calonico, Cattaneo and Titiunik (2015, Theorems 1-2 and sec. 4), with
    :math:`n_\pm` the units of the side, :math:`n` those of both sides, the
    spacings :math:`\Delta x_i = x_{(i)} - x_{(i-1)}`,
    :math:`\Delta y_i = y_{(i)} - y_{(i-1)}`, midpoints :math:`\bar x_i`, the side's
    length :math:`L` from the cutoff to the extreme value, and :math:`\hat\mu`,
    :math:`\hat\mu_2` global polynomials of order ``k`` fitted to ``y`` and
    ``y**2`` (:math:`\hat\sigma^2 = \hat\mu_2 - \hat\mu^2`, replaced by the
    side's sample variance where negative).

    IMSE-optimal :math:`J = \lceil (2 B / V)^{1/3} \rceil` with
    ES: :math:`2B = L^2 \sum_i \hat\mu'(x_i)^2 / 6`,
    :math:`V = (2L)^{-1} \sum \Delta x_i \Delta y_i^2` (spacings) or
    :math:`L^{-1} \sum \Delta x_i \hat\sigma^2(\bar x_i)` ("pr");
    QS: :math:`2B = n_\pm^2 \sum \Delta x_i^2 \hat\mu'(\bar x_i)^2 / 12` (the
    squared scaled spacing :math:`(n_\pm \Delta x_i)^2` has mean :math:`2/f^2`),
    :math:`V = (2 n_\pm)^{-1} \sum \Delta y_i^2` or
    :math:`n_\pm^{-1} \sum \hat\sigma^2(x_i)`. Mimicking variance:
    :math:`J = \lceil \widehat{\mathrm{Var}}(y) / V \cdot n / \log(n)^2 \rceil`.
    """
    n = xs.shape[0]
    u = xs - c
    coef = _poly_fit(u, ys, k)
    coef2 = _poly_fit(u, ys**2, k)
    d1 = _P.polyder(coef)
    dx, dy = np.diff(xs), np.diff(ys)
    mid = (u[1:] + u[:-1]) / 2
    vy = float(np.var(ys, ddof=1))

    def s2(at):
        v = _P.polyval(at, coef2) - _P.polyval(at, coef) ** 2
        return np.where(v < 0, vy, v)

    length = abs(edge - c)
    two_b = {"es": length**2 * float(np.sum(_P.polyval(u, d1) ** 2)) / 6,
             "qs": n**2 * float(np.sum(dx**2 * _P.polyval(mid, d1) ** 2)) / 12}
    V = {"es": float(np.sum(dx * dy**2)) / (2 * length), "qs": float(np.sum(dy**2)) / (2 * n),
         "espr": float(np.sum(dx * s2(mid))) / length, "qspr": float(np.sum(s2(u))) / n}
    mv_rate = n_total / math.log(n_total) ** 2
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for key, v in V.items():
            out[key] = ((two_b[key[:2]] / v) ** (1 / 3), vy / v * mv_rate)
    return out, vy


def _edges(xs, c, J, spacing, right):
    if spacing == "es":
        lo, hi = (c, float(xs[-1])) if right else (float(xs[0]), c)
        return np.linspace(lo, hi, J + 1)
    return np.quantile(xs, np.linspace(0, 1, J + 1))


def _count(value, name):
    msg = f"`{name}` must be a positive integer or a pair (left, right) of them; got {value!r}."
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        vals = (int(value), int(value))
    else:
        try:
            vals = tuple(value)
        except TypeError:
            raise ValueError(msg) from None
        if len(vals) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                     for v in vals):
            raise ValueError(msg)
        vals = (int(vals[0]), int(vals[1]))
    if min(vals) < 1:
        raise ValueError(msg)
    return vals


def rd_plot(X, y, *, cutoff=0.0, p=4, n_bins=None, binselect="esmv", scale=1.0, level=95.0,
            masspoints="adjust", ax=None, draw=True):
    r"""RD plot: binned means of ``y`` on each side with global polynomial fits (like rdplot).

    The number of bins per side is chosen by ``binselect`` (Calonico, Cattaneo and
    Titiunik 2015): "es" IMSE-optimal evenly spaced, "qs" IMSE-optimal quantile
    spaced, "esmv"/"qsmv" mimicking variance (the default "esmv", many bins that show
    the noise in the data), each with spacings estimators of the conditional
    variance or, with the suffix "pr", polynomial regression estimators. The global
    fits are order-``p`` least squares on ``x - cutoff`` of each side.

    Parameters
    ----------
    X : array-like of shape (n,) or (n, 1)
        Running variable.
    y : array-like of shape (n,)
        Outcome.
    cutoff : float, default 0.0
    p : int, default 4
        Order of the global polynomials.
    n_bins : int, pair of int or None
        Bins per side ``(J_left, J_right)``; None selects them by ``binselect``.
    binselect : str, default "esmv"
        One of "es", "espr", "esmv", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr".
    scale : float, default 1.0
        Multiplies the selected bin counts.
    level : float, default 95
        Confidence level (percent) of the per-bin intervals and of the fit's band.
    masspoints : {"adjust", "check", "off"}, default "adjust"
        Mass points are declared when 20% or more of the units of either side repeat
        a value there. "adjust" then replaces the spacings estimators of the variance
        by the polynomial-regression ones (``binselect`` gains the suffix "pr"; the
        spacings between tied values say nothing about the variance), "check" warns
        with :class:`MassPointsWarning` and changes nothing, "off" does neither.
    ax : matplotlib axes, optional
    draw : bool, default True
        Draw the plot (needs matplotlib); False only computes.

    Returns
    -------
    RDPlot
        Bins, bin counts (selected, IMSE and MV), widths, coefficients and the fit.

    Notes
    -----
    The bin counts (selected, IMSE-optimal and mimicking-variance, for all eight
    ``binselect`` choices and each ``masspoints`` setting), the bins, the per-bin
    intervals and the polynomial coefficients agree with rdplot (rdrobust 2.1.1),
    also on running variables with many ties. The constants behind the counts come
    from global polynomials of order 4 (as in rdplot), whatever ``p``. Two
    deliberate differences: a bin holding a single unit has a NaN standard error
    and interval (rdplot reports 0), and the average bin width is over the bins of
    its own side that hold units (rdplot's can mix in bins of the other side).

    Examples
    --------
    >>> from causalkit.datasets import make_rdd_data
    >>> from causalkit.rdd import rd_plot
    >>> d = make_rdd_data(2000, effect=0.5, random_state=0)
    >>> r = rd_plot(d.X, d.y, binselect="es", draw=False)
    >>> r.n_bins, r.n_bins_imse == r.n_bins
    ((18, 9), True)
    """
    check_aligned(X=X, y=y)
    x, _ = check_running_variable(X, cutoff)
    yv = check_vector(y, "y", n=x.shape[0])
    if isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 0:
        raise ValueError(f"`p` must be an integer >= 0; got {p!r}.")
    p = int(p)
    if binselect not in BINSELECT:
        raise ValueError(f"`binselect` must be one of {BINSELECT}; got {binselect!r}.")
    check_bool(draw, "draw")
    if (isinstance(scale, bool) or not isinstance(scale, numbers.Real)
            or not (np.isfinite(scale) and scale > 0)):
        raise ValueError(f"`scale` must be a positive number; got {scale!r}.")
    if (isinstance(level, bool) or not isinstance(level, numbers.Real)
            or not 1 < level < 100):
        raise ValueError("`level` must be a confidence level in percent, strictly between 1 "
                         f"and 100 (e.g. 95, not 0.95); got {level!r}.")
    if masspoints not in _MASSPOINTS:
        raise ValueError(f"`masspoints` must be one of {_MASSPOINTS}; got {masspoints!r}.")
    fixed = None if n_bins is None else _count(n_bins, "n_bins")
    c = float(cutoff)
    sides = []
    for right in (False, True):
        m = x >= c if right else x < c
        xm, ym = x[m], yv[m]
        # units tied in x enter the spacings estimators in the order of numpy's default
        # sort of each side, the order rdplot uses (a stable sort would differ from it
        # on tied data; with masspoints="adjust" heavily tied data use no spacings)
        o = np.argsort(xm)
        sides.append((xm[o], ym[o], right))
    xs_all = np.r_[sides[0][0], sides[1][0]]
    for xs, _, right in sides:
        nd = np.unique(xs).shape[0]
        if nd < p + 2:
            raise ValueError(
                f"`X` has {nd} distinct value(s) {'at or above' if right else 'below'} the "
                f"cutoff; a global polynomial of order `p` = {p} (and its variance) needs at "
                f"least {p + 2}. Lower `p`.")
    dup = [1 - np.unique(xs).shape[0] / xs.shape[0] for xs, _, _ in sides]
    if masspoints != "off" and max(dup) >= 0.2:
        if masspoints == "check":
            warnings.warn(
                f"The running variable has mass points ({dup[0]:.0%} of the units below the "
                f"cutoff and {dup[1]:.0%} at or above it repeat a value); the spacings "
                "estimators of the bin counts assume distinct values. Use "
                "masspoints='adjust' (or a binselect ending in 'pr').", MassPointsWarning,
                stacklevel=2)
        elif not binselect.endswith("pr"):
            binselect += "pr"
    spacing = binselect[:2]
    key = spacing + ("pr" if binselect.endswith("pr") else "")
    mv = "mv" in binselect
    # the constants use global polynomials of order 4 (fewer where a side has fewer
    # distinct values), whatever the order ``p`` of the plotted fit
    k_sel = min(_K_SELECT, min(np.unique(xs).shape[0] for xs, _, _ in sides) - 1)
    z_lvl = 1 - (1 - level / 100) / 2
    edges = (float(xs_all[0]), float(xs_all[-1]))
    imse, mvj, used, coefs, rows, widths, fit_rows = [], [], [], {}, [], [], []
    for (xs, ys, right) in sides:
        consts, vy = _side_constants(xs, ys, c, k_sel, edges[int(right)], x.shape[0])
        j_imse, j_mv = (int(math.ceil(v)) if np.isfinite(v) else 1 for v in consts[key])
        imse.append(max(j_imse, 1))
        mvj.append(max(j_mv, 1))
        if fixed:
            J = fixed[int(right)]
        elif vy == 0:  # a constant outcome: one bin
            J = 1
        else:  # the scaled count, rounded down (as rdplot does)
            J = int((j_mv if mv else j_imse) * scale)
        J = max(J, 1)
        used.append(J)
        coef = _P.polyfit(xs - c, ys, p)
        coefs["right" if right else "left"] = coef
        e = _edges(xs, c, J, spacing, right)
        # bins are [e_j, e_{j+1}); the outermost includes the extreme value
        idx = np.clip(np.searchsorted(e, xs, "right") - 1, 0, J - 1)
        cnt = np.bincount(idx, minlength=J)
        for j in range(J):
            m = idx == j
            nj = int(cnt[j])
            if nj == 0:
                continue
            ym = float(ys[m].mean())
            se = float(ys[m].std(ddof=1) / math.sqrt(nj)) if nj > 1 else np.nan
            tq = stats.t.ppf(z_lvl, nj - 1) if nj > 1 else np.nan
            rows.append(("right" if right else "left", e[j], e[j + 1], (e[j] + e[j + 1]) / 2,
                         float(xs[m].mean()), ym, se, nj, ym - tq * se, ym + tq * se))
        widths.append(np.diff(e)[cnt > 0])  # bins that hold units
        # global fit with a pointwise HC1 band
        u = xs - c
        R = np.vander(u, p + 1, increasing=True)
        res = ys - R @ coef
        A = np.linalg.pinv(R.T @ R)
        meat = (R * res[:, None] ** 2).T @ R * (xs.shape[0] / max(xs.shape[0] - p - 1, 1))
        cov = A @ meat @ A
        grid = np.linspace(xs[0] if not right else c, c if not right else xs[-1], 200)
        G = np.vander(grid - c, p + 1, increasing=True)
        yhat = G @ coef
        sef = np.sqrt(np.einsum("ij,jk,ik->i", G, cov, G))
        zq = stats.norm.ppf(z_lvl)
        for gx, gy, gs in zip(grid, yhat, sef):
            fit_rows.append(("right" if right else "left", gx, gy, gy - zq * gs, gy + zq * gs))
    bins = pd.DataFrame(rows, columns=["side", "left", "right", "mid", "x_mean", "y_mean", "se",
                                       "n", "ci_low", "ci_high"])
    fit = pd.DataFrame(fit_rows, columns=["side", "x", "y", "ci_low", "ci_high"])
    out = RDPlot(bins=bins, n_bins=tuple(used), n_bins_imse=tuple(imse), n_bins_mv=tuple(mvj),
                 bin_width_mean=tuple(float(w.mean()) for w in widths),
                 bin_width_median=tuple(float(np.median(w)) for w in widths),
                 scale_implied=tuple(u / i for u, i in zip(used, imse)),
                 coef=pd.DataFrame(coefs), fit=fit, binselect=binselect)
    if not draw:
        return out
    from .._lazy import require

    plt = require("matplotlib.pyplot", extra="plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for side, color in (("left", "C0"), ("right", "C1")):
        b = bins[bins.side == side]
        ax.scatter(b.mid, b.y_mean, s=14, color=color)
        f = fit[fit.side == side]
        ax.plot(f.x, f.y, color=color)
        ax.fill_between(f.x, f.ci_low, f.ci_high, color=color, alpha=0.15)
    ax.axvline(c, color="0.5", ls="--", lw=0.8)
    ax.set_xlabel("running variable")
    ax.set_ylabel("outcome")
    ax.set_title(f"{binselect}: {used[0]} + {used[1]} bins")
    return RDPlot(**{**out.__dict__, "ax": ax})
