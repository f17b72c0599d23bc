r"""Omitted-variable-bias bounds for the ATE (Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis, 2022).

With an omitted confounder :math:`A`, the "long" ATE :math:`\theta` (adjusting for
:math:`X` and :math:`A`) and the "short" one :math:`\theta_s` estimated from :math:`X` alone
differ by at most (their Theorem 2 and Corollary 2)

.. math::

    |\theta_s - \theta| \le |\rho| \, C_{y,d} \, S, \qquad
    S^2 = \sigma^2 \nu^2, \qquad C_{y,d}^2 = \frac{c_y \, c_d}{1 - c_d},

where :math:`\sigma^2 = E[(Y - g(T, X))^2]` is the short outcome regression's residual
variance, :math:`\nu^2 = E[\alpha(T, X)^2] = E[2\, m(W; \alpha) - \alpha^2]` the second moment
of the Riesz representer :math:`\alpha = T/e(X) - (1 - T)/(1 - e(X))` (with
:math:`m(W; \alpha) = 1/e + 1/(1 - e)`), :math:`c_y` the share of the outcome's residual
variance the confounder explains, :math:`c_d` its share of the Riesz representer's variation
(:math:`1 - R^2_{\alpha \sim \alpha_s}`), and :math:`\rho` the correlation of the two errors.
Every piece comes from the fitted estimator's out-of-fold nuisances; nothing is refitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ..inference import Estimate
from ..utils.validation import check_alpha as _check_alpha
from ..utils.validation import check_finite_number, check_integer
from ._parts import folds_from_ids, mean_and_se, score_parts

__all__ = ["OVBBounds", "OVBBenchmark", "ovb_bounds", "ovb_benchmark", "plot_ovb_contour"]


def _check_share(value, name, *, allow_one=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number in [0, 1); got {type(value).__name__}.")
    v = float(value)
    ok = 0.0 <= v <= 1.0 if allow_one else 0.0 <= v < 1.0
    if not ok or np.isnan(v):
        rng = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"`{name}` must lie in {rng} (a share of explained variation); got {value}.")
    return v


def _check_rho(rho):
    if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, (int, float, np.integer, np.floating)):
        raise TypeError(f"`rho` must be a number in [-1, 1]; got {type(rho).__name__}.")
    r = float(rho)
    if not (-1.0 <= r <= 1.0):
        raise ValueError(f"`rho` must lie in [-1, 1] (a correlation); got {rho}. Use 1.0 for the "
                         "worst case.")
    return r


class _Core:
    """Sensitivity elements of the fitted AIPW score (Chernozhukov et al. 2022, Section 4)."""

    def __init__(self, parts):
        self.parts = parts
        w = np.ones(parts.n) if parts.sw is None else parts.sw
        wmean = (lambda a: float(np.sum(w * a) / np.sum(w)))
        psi = parts.scores()
        self.theta = wmean(psi)
        self.phi = psi - self.theta
        res2 = parts.residual() ** 2
        self.sigma2 = wmean(res2)
        rr = parts.riesz()
        m_alpha = 1.0 / parts.e + 1.0 / (1.0 - parts.e)
        nu_el = 2.0 * m_alpha - rr**2
        self.nu2 = wmean(nu_el)
        if self.sigma2 <= 0 or self.nu2 <= 0:
            raise ValueError(
                f"The estimated sensitivity elements are not positive (sigma2={self.sigma2:.4g}, "
                f"nu2={self.nu2:.4g}); the nuisance fits are degenerate. Refit with other models.")
        self.scale = float(np.sqrt(self.sigma2 * self.nu2))
        # Influence function of S = sqrt(sigma2 nu2) (delta method).
        self.psi_scale = (self.sigma2 * (nu_el - self.nu2) + self.nu2 * (res2 - self.sigma2)) / (2 * self.scale)
        self.w = w
        self.riesz = rr

    def strength(self, cf_y, cf_d, rho):
        return abs(rho) * np.sqrt(cf_y * cf_d / (1.0 - cf_d))

    def bounds(self, c):
        """Point bounds and their influence-function SEs for confounding strength ``c``."""
        p = self.parts
        lo = self.theta - c * self.scale
        hi = self.theta + c * self.scale
        se_lo = mean_and_se(self.phi - c * self.psi_scale, p.sw, p.groups)[1]
        se_hi = mean_and_se(self.phi + c * self.psi_scale, p.sw, p.groups)[1]
        return lo, hi, se_lo, se_hi

    def robustness_value(self, rho, null):
        """Closed form of ``cf_y = cf_d = v`` that moves the bound onto ``null``."""
        gap = abs(self.theta - null)
        if abs(rho) == 0:
            return 1.0
        a2 = (gap / (abs(rho) * self.scale)) ** 2
        return float((-a2 + np.sqrt(a2 * a2 + 4 * a2)) / 2)

    def robustness_value_ci(self, rho, null, z):
        """``v`` at which the confidence bound reaches ``null`` (0 if it already does)."""
        side = -1.0 if self.theta > null else 1.0

        def edge(v):
            c = self.strength(v, v, rho)
            lo, hi, se_lo, se_hi = self.bounds(c)
            return (lo - z * se_lo - null) if side < 0 else (null - hi - z * se_hi)

        if edge(0.0) <= 0:
            return 0.0
        if abs(rho) == 0:
            return 1.0
        top = 1.0 - 1e-12
        if edge(top) > 0:
            return 1.0
        return float(optimize.brentq(edge, 0.0, top, xtol=1e-12, rtol=1e-12))


@dataclass(frozen=True, eq=False)
class OVBBounds:
    """Bounds on the ATE under omitted confounding of a given strength.

    Attributes
    ----------
    estimate : Estimate
        The estimator's ATE (no confounding).
    lower, upper : Estimate
        Point bounds ``theta -+ |rho| C S`` with influence-function standard errors.
    cf_y, cf_d, rho : float
        The confounding scenario.
    sigma2, nu2 : float
        Residual variance of the outcome and second moment of the Riesz representer.
    rv, rva : float
        Robustness values: the common ``cf_y = cf_d`` at which the bound (``rv``) or the
        confidence bound at level ``alpha`` (``rva``) reaches ``null`` (given ``rho``).
    null, alpha : float

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> from causalkit.sensitivity import ovb_bounds
    >>> b = ovb_bounds(est, cf_y=0.03, cf_d=0.03)        # an OVBBounds
    >>> bool(b.lower.value < b.estimate.value < b.upper.value), b.cf_y
    (True, 0.03)
    """

    estimate: Estimate
    lower: Estimate
    upper: Estimate
    cf_y: float
    cf_d: float
    rho: float
    sigma2: float
    nu2: float
    rv: float
    rva: float
    null: float
    alpha: float

    def conf_int(self, alpha: float | None = None) -> tuple[float, float]:
        """``(lower - z se_lower, upper + z se_upper)`` with ``z = z_{1 - alpha/2}``.

        Both one-sided limits hold with probability ``1 - alpha/2``, so the interval covers
        the whole identified set (and the true effect) with probability at least
        ``1 - alpha``. (DoubleML's ``level`` is ``1 - alpha/2``.)
        """
        a = self.alpha if alpha is None else _check_alpha(alpha)
        z = float(stats.norm.ppf(1 - a / 2))
        return (self.lower.value - z * self.lower.stderr, self.upper.value + z * self.upper.stderr)

    def summary(self):
        """One-row DataFrame: scenario, bounds, confidence limits and robustness values."""
        import pandas as pd

        lo, hi = self.conf_int()
        return pd.DataFrame({
            "cf_y": [self.cf_y], "cf_d": [self.cf_d], "rho": [self.rho],
            "estimate": [self.estimate.value], "lower bound": [self.lower.value],
            "upper bound": [self.upper.value], f"CI lower ({1 - self.alpha:g})": [lo],
            f"CI upper ({1 - self.alpha:g})": [hi], "RV": [self.rv], "RVa": [self.rva],
        }, index=[self.estimate.name])

    def __repr__(self):
        lo, hi = self.conf_int()
        return (f"OVBBounds(ATE {self.estimate.value:.4g}, bounds [{self.lower.value:.4g}, "
                f"{self.upper.value:.4g}], {1 - self.alpha:g} CI [{lo:.4g}, {hi:.4g}] at cf_y="
                f"{self.cf_y:g}, cf_d={self.cf_d:g}, rho={self.rho:g}; RV {self.rv:.3g}, "
                f"RVa {self.rva:.3g})")


def ovb_bounds(est, cf_y=0.03, cf_d=0.03, rho=1.0, *, null=0.0, alpha=0.05) -> OVBBounds:
    r"""Bounds on the ATE of a fitted back-door estimator under omitted confounding.

    The bias of the short ATE is at most :math:`|\rho| \sqrt{c_y c_d / (1 - c_d)}\, S`
    with :math:`S^2 = \sigma^2 \nu^2` (Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis
    2022, Theorem 2 and Corollary 2). :math:`\sigma^2` and :math:`\nu^2` are estimated from
    the estimator's out-of-fold outcome residuals and Riesz representer
    :math:`T/e - (1 - T)/(1 - e)` (propensities as clipped in its score), and the standard
    errors of the bounds from their influence functions
    :math:`\psi - \theta \mp |\rho| C_{y,d}\, \psi_S`, where :math:`\psi_S` is the delta-method
    influence function of :math:`S` (their Section 4). Nothing is refitted.

    Parameters
    ----------
    est : fitted estimator
        :class:`causalkit.ate.AIPW`, or a binary-treatment learner of
        :mod:`causalkit.hte` (``RLearner``, ``WeightedPseudoOutcomeLearner``).
    cf_y : float in [0, 1), default 0.03
        Share of the outcome's residual variance explained by the omitted confounder.
    cf_d : float in [0, 1), default 0.03
        Share of the Riesz representer's variation explained by it,
        :math:`1 - R^2_{\alpha \sim \alpha_s}`.
    rho : float in [-1, 1], default 1.0
        Correlation of the two errors; only :math:`|\rho|` matters, 1 is the worst case.
    null : float, default 0.0
        Value the robustness values refer to.
    alpha : float, default 0.05
        Level of :meth:`OVBBounds.conf_int` and of the robustness value ``rva``.

    Returns
    -------
    OVBBounds

    References
    ----------
    Chernozhukov, V., Cinelli, C., Newey, W., Sharma, A. and Syrgkanis, V. (2022). Long story
    short: omitted variable bias in causal machine learning. NBER Working Paper 30302.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> from causalkit.sensitivity import ovb_bounds
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> b = ovb_bounds(est, cf_y=0.03, cf_d=0.03)
    >>> bool(b.lower.value < est.ate().value < b.upper.value)
    True
    >>> 0 < b.rv < 1
    True
    """
    cf_y = _check_share(cf_y, "cf_y")
    cf_d = _check_share(cf_d, "cf_d")
    rho = _check_rho(rho)
    alpha = _check_alpha(alpha)
    null = check_finite_number(null, "null")
    core = _Core(score_parts(est))
    c = core.strength(cf_y, cf_d, rho)
    lo, hi, se_lo, se_hi = core.bounds(c)
    n = core.parts.n
    ate = est.ate()
    scen = f"cf_y={cf_y:g}, cf_d={cf_d:g}, rho={rho:g}"
    method = f"OVB bound (Chernozhukov et al. 2022), {scen}; influence-function SE"
    z = float(stats.norm.ppf(1 - alpha / 2))
    return OVBBounds(
        estimate=ate,
        lower=Estimate(lo, se_lo, n=n, method=method, name="ATE lower bound"),
        upper=Estimate(hi, se_hi, n=n, method=method, name="ATE upper bound"),
        cf_y=cf_y, cf_d=cf_d, rho=rho, sigma2=core.sigma2, nu2=core.nu2,
        rv=core.robustness_value(rho, null), rva=core.robustness_value_ci(rho, null, z),
        null=null, alpha=alpha)


@dataclass(frozen=True, eq=False)
class OVBBenchmark:
    """Confounding strength of an observed covariate group, as a yardstick.

    ``cf_y = (sigma2_short - sigma2_long) / sigma2_long`` and
    ``cf_d = (nu2_long - nu2_short) / nu2_short`` (both clipped to [0, 1]) are the gains
    from adding the group back, ``rho = delta / sqrt((sigma2_short - sigma2_long)
    (nu2_long - nu2_short))`` (clipped to [-1, 1]) with ``delta = theta_short - theta_long``
    (Chernozhukov et al. 2022, Section 6.2; DoubleML's ``gain_statistics`` convention).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> from causalkit.sensitivity import ovb_benchmark
    >>> bm = ovb_benchmark(est, d.X, d.y, treatment=d.treatment, drop=[0])   # an OVBBenchmark
    >>> bm.dropped, 0 <= bm.cf_y <= 1, -1 <= bm.rho <= 1
    ((0,), True, True)
    """

    dropped: tuple
    cf_y: float
    cf_d: float
    rho: float
    delta_theta: float
    theta_short: float

    def bounds(self, est, *, null=0.0, alpha=0.05) -> OVBBounds:
        """:func:`ovb_bounds` of ``est`` at this benchmark's strength."""
        return ovb_bounds(est, cf_y=min(self.cf_y, 1 - 1e-12), cf_d=min(self.cf_d, 1 - 1e-12),
                          rho=self.rho, null=null, alpha=alpha)

    def summary(self):
        import pandas as pd

        return pd.DataFrame({"cf_y": [self.cf_y], "cf_d": [self.cf_d], "rho": [self.rho],
                             "delta_theta": [self.delta_theta]},
                            index=[", ".join(str(c) for c in self.dropped)])


def _drop_columns(X, drop):
    if isinstance(drop, (str, int, np.integer)):
        drop = [drop]
    if not isinstance(drop, (list, tuple, np.ndarray, range)):
        raise TypeError(f"`drop` must be a column name or position, or a list of them; got {drop!r}.")
    drop = list(drop)
    if not drop:
        raise ValueError("`drop` is empty; name at least one covariate to leave out.")
    if hasattr(X, "columns"):
        missing = [c for c in drop if c not in X.columns]
        if missing:
            raise ValueError(f"`drop` names columns {missing} that `X` does not have; its columns "
                             f"are {list(X.columns)}.")
        if len(set(drop)) >= X.shape[1]:
            raise ValueError("`drop` leaves no covariate; keep at least one column.")
        return X.drop(columns=drop), tuple(drop)
    Xa = np.asarray(X)
    if Xa.ndim != 2:
        raise ValueError(f"`X` must be 2-D; got {Xa.ndim} dimension(s).")
    if not all(isinstance(c, (int, np.integer)) for c in drop):
        raise TypeError("`drop` must hold column positions (ints) when `X` is an array without names.")
    bad = [c for c in drop if not -Xa.shape[1] <= c < Xa.shape[1]]
    if bad:
        raise ValueError(f"`drop` has positions {bad} outside `X`'s {Xa.shape[1]} columns.")
    keep = np.setdiff1d(np.arange(Xa.shape[1]), np.asarray(drop) % Xa.shape[1])
    if keep.size == 0:
        raise ValueError("`drop` leaves no covariate; keep at least one column.")
    return Xa[:, keep], tuple(int(c) for c in drop)


def ovb_benchmark(est, X, y, *, treatment, drop, sample_weight=None, groups=None) -> OVBBenchmark:
    """How strong an observed covariate group is, as a confounder (leave it out and compare).

    Fits a clone of ``est`` without the columns ``drop`` (on the same folds and seeds) and
    compares its sensitivity elements with those of ``est``; ``est`` itself is not refitted.
    The result gives ``cf_y``, ``cf_d`` and ``rho`` that a hidden confounder "as strong as
    ``drop``" would have (Chernozhukov et al. 2022, Section 6.2).

    Parameters
    ----------
    est : fitted estimator
        As for :func:`ovb_bounds`.
    X, y, treatment, sample_weight, groups
        The data ``est`` was fitted on (``y`` and ``treatment`` are checked against it).
    drop : column name, position, or list of them
        The covariate group to leave out.

    Returns
    -------
    OVBBenchmark

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> from causalkit.sensitivity import ovb_benchmark
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> bm = ovb_benchmark(est, d.X, d.y, treatment=d.treatment, drop=[0])
    >>> 0 <= bm.cf_y <= 1 and 0 <= bm.cf_d <= 1
    True
    """
    from sklearn.base import clone

    long = _Core(score_parts(est))
    raw = est._score_parts_
    yv = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=float).ravel()
    tv = np.asarray(treatment.to_numpy() if hasattr(treatment, "to_numpy") else treatment).ravel()
    if yv.shape != raw["y"].shape or not np.array_equal(yv, raw["y"]):
        raise ValueError("`y` differs from the outcome `est` was fitted on; pass the same data.")
    if tv.shape != raw["treatment"].shape or not np.array_equal(tv.astype(float), raw["treatment"]):
        raise ValueError("`treatment` differs from the treatment `est` was fitted on; pass the same data.")
    if getattr(X, "shape", (None,))[0] != yv.shape[0]:
        raise ValueError(f"`X` must have the {yv.shape[0]} rows `est` was fitted on.")
    X_short, dropped = _drop_columns(X, drop)
    short = clone(est).set_params(cv=folds_from_ids(raw["fold_id"]))
    short.fit(X_short, y, treatment=treatment, sample_weight=sample_weight, groups=groups)
    s = _Core(score_parts(short))
    var_g = s.sigma2 - long.sigma2
    var_a = long.nu2 - s.nu2
    cf_y = float(np.clip(var_g / long.sigma2, 0, 1))
    cf_d = float(np.clip(var_a / s.nu2, 0, 1))
    delta = s.theta - long.theta
    denom = np.sqrt(var_g * var_a) if (var_g > 0 and var_a > 0) else 0.0
    rho = float(np.sign(delta) * (np.clip(abs(delta) / denom, 0, 1) if denom > 0 else 1.0))
    return OVBBenchmark(dropped=dropped, cf_y=cf_y, cf_d=cf_d, rho=rho, delta_theta=float(delta),
                        theta_short=s.theta)


def _grid(values, name):
    """A contour grid of shares: default 0 to 0.15 in 31 steps."""
    if values is None:
        return np.linspace(0, 0.15, 31)
    try:
        g = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        g = None
    if g is None or g.ndim != 1 or g.size < 2 or not np.all(np.isfinite(g)) or np.any((g < 0) | (g >= 1)):
        raise ValueError(f"`{name}` must be a 1-D grid of at least 2 values in [0, 1); got {values!r}. "
                         "Leave it as None for 0 to 0.15.")
    return g


def plot_ovb_contour(est, *, cf_y=None, cf_d=None, rho=1.0, which="lower", bound="point",
                     alpha=0.05, null=0.0, benchmarks=(), ax=None, levels=12):
    """Contour plot of an ATE bound over a grid of ``(cf_d, cf_y)``.

    Parameters
    ----------
    est : fitted estimator
        As for :func:`ovb_bounds`.
    cf_y, cf_d : array-like, optional
        Grid values (default 0 to 0.15 in 31 steps each).
    rho : float, default 1.0
    which : {"lower", "upper"}, default "lower"
    bound : {"point", "ci"}, default "point"
        Plot the point bound or its confidence limit at level ``alpha``.
    null : float, default 0.0
        The contour drawn in red (where the conclusion flips).
    benchmarks : sequence of OVBBenchmark
        Marked on the plot with their labels.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> from causalkit.sensitivity import plot_ovb_contour
    >>> ax = plot_ovb_contour(est, levels=6)
    >>> ax.get_xlabel() != ""
    True
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Contour plots need matplotlib: pip install 'causalkit-inference[plot]'.") from exc
    if which not in ("lower", "upper"):
        raise ValueError(f"`which` must be 'lower' or 'upper'; got {which!r}.")
    if bound not in ("point", "ci"):
        raise ValueError(f"`bound` must be 'point' or 'ci'; got {bound!r}.")
    rho = _check_rho(rho)
    alpha = _check_alpha(alpha)
    null = check_finite_number(null, "null")
    if isinstance(levels, (int, np.integer, bool, np.bool_, str)):
        check_integer(levels, "levels", low=1)
    elif not (np.ndim(levels) == 1 and np.size(levels) >= 1
              and np.issubdtype(np.asarray(levels).dtype, np.number)):
        raise TypeError(f"`levels` must be a number of contour lines (int >= 1) or a 1-D array of "
                        f"bound values; got {levels!r}.")
    core = _Core(score_parts(est))
    gy = _grid(cf_y, "cf_y")
    gd = _grid(cf_d, "cf_d")
    z = float(stats.norm.ppf(1 - alpha / 2))
    Z = np.empty((gy.size, gd.size))
    for i, vy in enumerate(gy):
        for j, vd in enumerate(gd):
            lo, hi, se_lo, se_hi = core.bounds(core.strength(vy, vd, rho))
            if which == "lower":
                Z[i, j] = lo - (z * se_lo if bound == "ci" else 0.0)
            else:
                Z[i, j] = hi + (z * se_hi if bound == "ci" else 0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    cs = ax.contour(gd, gy, Z, levels=levels, colors="0.35", linewidths=0.8)
    ax.clabel(cs, fontsize=7)
    if Z.min() < null < Z.max():
        ax.contour(gd, gy, Z, levels=[null], colors="red", linewidths=1.6)
    for bm in benchmarks:
        ax.plot(bm.cf_d, bm.cf_y, "D", color="tab:blue")
        ax.annotate(", ".join(str(c) for c in bm.dropped), (bm.cf_d, bm.cf_y),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("cf_d (share of Riesz representer variation)")
    ax.set_ylabel("cf_y (share of outcome residual variance)")
    kind = "confidence limit" if bound == "ci" else "bound"
    ax.set_title(f"ATE {which} {kind}, rho = {rho:g}")
    return ax
