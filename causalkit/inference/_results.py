"""Result types shared by every design: Estimate, EstimateTable, EffectCurve.

They are small and immutable: an estimator computes them once, and users read,
print, summarise or plot them. Intervals always say what they cover.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, special, stats

from ._format import decimals, format_pvalue, summary_frame

__all__ = ["Estimate", "EstimateTable", "EffectCurve"]


def _check_alpha(alpha: float) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise TypeError(f"`alpha` must be a number in (0, 1); got {alpha!r}. Use 0.05 for a 95% "
                        "interval.") from None
    if not (0.0 < a < 1.0):
        raise ValueError(f"`alpha` must lie in (0, 1); got {alpha}. Use 0.05 for a 95% interval.")
    return a


def _crit(alpha: float, dof: float | None) -> float:
    if dof is None or not np.isfinite(dof):
        return float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.t.ppf(1 - alpha / 2, dof))


_SUP_T_CACHE: dict = {}
_SUP_T_CACHE_SIZE = 64
_EINSUM_MAX = 1024      # rows x rank below which a plain loop beats a threaded BLAS call
_BLOCK_ELEMENTS = 1 << 22
_SUP_T_MIN_DRAWS = 4096
_SUP_T_REL_TOL = 2e-3   # stop drawing when the critical value's Monte Carlo SE <= this x c


def _unit_factor_from_cov(cov: np.ndarray) -> np.ndarray:
    """``F`` with ``F F' = corr(cov)`` and unit rows (rank-reduced by eigh)."""
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    sd = np.where(sd > 0, sd, 1.0)
    corr = cov / np.outer(sd, sd)
    lam, vec = np.linalg.eigh((corr + corr.T) / 2)
    keep = lam > max(lam.max(), 0.0) * 1e-12
    return vec[:, keep] * np.sqrt(lam[keep])


def _direction_maxima(A: np.ndarray, rng, n: int) -> np.ndarray:
    """``h(v) = max_g |A_g . v|`` for ``n`` directions ``v`` uniform on the unit sphere."""
    G, r = A.shape
    out = np.empty(n, dtype=float)
    block = max(1024, min(n, _BLOCK_ELEMENTS // G))
    for start in range(0, n, block):
        b = min(block, n - start)
        u = rng.standard_normal((r, b), dtype=np.float32)
        z = np.einsum("gr,rb->gb", A, u) if G * r <= _EINSUM_MAX else A @ u
        np.abs(z, out=z)
        norm = np.sqrt(np.einsum("rb,rb->b", u, u, dtype=np.float64))
        out[start:start + b] = z.max(axis=0) / np.maximum(norm, 1e-300)
    return np.maximum(out, 1e-12)


def _rb_quantile(h: np.ndarray, r: int, level: float, lo: float, hi: float):
    """Solve ``mean_j P(chi_r <= c / h_j) = level`` for ``c``; return ``(c, its MC SE)``."""
    a = 0.5 * r

    def cdf(c):
        return special.gammainc(a, 0.5 * (c / h) ** 2)

    if np.mean(cdf(lo)) >= level:
        c = lo
    elif np.mean(cdf(hi)) <= level:
        c = hi
    else:
        c = optimize.brentq(lambda c: np.mean(cdf(c)) - level, lo, hi, xtol=1e-10)
    # delta method: SE of the averaged CDF at c over its derivative in c
    t = 0.5 * (c / h) ** 2
    dens = np.exp((a - 1) * np.log(t) - t - special.gammaln(a)) * c / h**2
    slope = float(np.mean(dens))
    se = float(np.std(cdf(c), ddof=1) / np.sqrt(h.shape[0]) / slope) if slope > 0 else 0.0
    return float(c), se


def sup_t_gaussian(factor, alpha: float = 0.05, *, n_draws: int = 100_000,
                   random_state=0) -> float:
    """Sup-t critical value ``c``: ``P(max_g |(F u)_g| / ||F_g|| <= c) = 1 - alpha``.

    ``u ~ N(0, I_r)``, so ``F u`` is a Gaussian vector with covariance ``F F'`` and the
    band ``estimate_g +/- c se_g`` covers all ``G`` coordinates jointly (Montiel Olea
    and Plagborg-Moller, 2019, sup-t bands).

    The maximum factors as ``||u|| h(u / ||u||)`` with ``h(v) = max_g |F_g . v| /
    ||F_g||``, and ``||u||`` (a chi variable with ``r`` degrees of freedom) is
    independent of the direction ``u / ||u||``. So only directions are drawn, and the
    distribution of the maximum is the average over directions of the chi law's CDF
    at ``c / h`` (a Rao-Blackwellised Monte Carlo estimate). It has a far smaller
    Monte Carlo error per draw than counting maxima. Directions are drawn in doubling
    batches, from 4,096, until the Monte Carlo standard error of ``c`` is at most
    0.2% of ``c`` (about the error of 100,000 counted maxima) or ``n_draws``
    directions are used. Draws are in the rank ``r`` of the covariance, not in
    ``G``; rows with zero norm (no uncertainty) are dropped; one row, or rows along
    one direction, gives the normal quantile exactly; the
    answer always lies between the normal quantile and the chi quantile. Results for
    an int ``random_state`` are cached.

    Parameters
    ----------
    factor : ndarray of shape (G, r)
        A square-root factor of the covariance (only the direction of each row matters).
    alpha : float
    n_draws : int
        The most Monte Carlo directions drawn.
    random_state : int or Generator

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference._results import sup_t_gaussian
    >>> round(sup_t_gaussian(np.eye(1)), 4)          # one coordinate: 1.96
    1.96
    >>> c = sup_t_gaussian(np.eye(3), 0.05, random_state=0)
    >>> bool(abs(c - 2.3877) < 0.005)                 # Sidak for 3 independent coordinates
    True
    """
    alpha = _check_alpha(alpha)
    F = np.asarray(factor, dtype=float)
    if F.ndim == 1:
        F = F[:, None]
    norms = np.sqrt((F**2).sum(axis=1))
    F = F[norms > 0] / norms[norms > 0, None]
    G, r = F.shape
    if G <= 1 or r == 0:
        return float(stats.norm.ppf(1 - alpha / 2))
    n_draws = int(n_draws)
    if n_draws < 1:
        raise ValueError(f"`n_draws` must be a positive integer; got {n_draws}.")
    key = None
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        key = (F.shape, F.tobytes(), alpha, n_draws, int(random_state))
        if key in _SUP_T_CACHE:
            return _SUP_T_CACHE[key]
    rng = np.random.default_rng(random_state)
    A = F.astype(np.float32)
    lo = float(stats.norm.ppf(1 - alpha / 2))          # one coordinate alone
    hi = float(np.sqrt(stats.chi2.ppf(1 - alpha, r)))  # the whole vector's norm
    h = _direction_maxima(A, rng, min(_SUP_T_MIN_DRAWS, n_draws))
    while True:
        c, se = _rb_quantile(h, r, 1 - alpha, lo, hi)
        if se <= _SUP_T_REL_TOL * c or h.shape[0] >= n_draws:
            break
        more = min(h.shape[0], n_draws - h.shape[0])
        h = np.concatenate([h, _direction_maxima(A, rng, more)])
    if key is not None:
        if len(_SUP_T_CACHE) >= _SUP_T_CACHE_SIZE:
            _SUP_T_CACHE.pop(next(iter(_SUP_T_CACHE)))
        _SUP_T_CACHE[key] = c
    return c


def _fmt(x: float, d: int | None = None) -> str:
    if x is None or not np.isfinite(x):
        return "nan"
    return f"{x:.4g}" if d is None else f"{x:.{d}f}"


def _p(p: float) -> str:
    text = format_pvalue(p)
    return text if text.startswith("<") else f"= {text}"


@dataclass(frozen=True, eq=False)
class Estimate:
    """One estimated number with its uncertainty.

    Parameters
    ----------
    value : float
        The point estimate.
    stderr : float
        Its standard error.
    n : int
        Number of units the estimate uses.
    method : str
        How it was computed, including the kind of standard error.
    name : str, default "estimate"
        What is estimated (``"ATE"``, ``"mean"``, ``"V(pi)"``...).
    dof : float, optional
        Degrees of freedom for t-based intervals; ``None`` uses the normal law.
    center : float, optional
        Centre of the confidence interval and of the test when it differs from
        ``value`` (e.g. a bias-corrected centre with a robust standard error).
    null : float, default 0.0
        Value under the null hypothesis used by :attr:`pvalue`.

    Examples
    --------
    >>> from causalkit.inference import Estimate
    >>> est = Estimate(1.02, 0.05, n=400, method="AIPW", name="ATE")
    >>> lo, hi = est.conf_int(0.05)
    >>> round(lo, 3), round(hi, 3)
    (0.922, 1.118)
    >>> est.pvalue < 1e-10
    True
    """

    value: float
    stderr: float
    n: int
    method: str
    name: str = "estimate"
    dof: float | None = None
    center: float | None = None
    null: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "stderr", float(self.stderr))
        object.__setattr__(self, "n", int(self.n))
        if self.stderr < 0 or np.isnan(self.stderr):
            raise ValueError(f"`stderr` must be non-negative; got {self.stderr}.")

    @property
    def _center(self) -> float:
        return self.value if self.center is None else float(self.center)

    @property
    def zstat(self) -> float:
        """Test statistic ``(center - null) / stderr``."""
        if self.stderr == 0:
            return np.inf if self._center != self.null else np.nan
        return (self._center - self.null) / self.stderr

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of ``H0: estimand == null``."""
        z = abs(self.zstat)
        if np.isnan(z):
            return 1.0
        if self.dof is None:
            return float(2 * stats.norm.sf(z))
        return float(2 * stats.t.sf(z, self.dof))

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        """Two-sided ``1 - alpha`` confidence interval ``(lower, upper)``."""
        c = _crit(_check_alpha(alpha), self.dof)
        return (self._center - c * self.stderr, self._center + c * self.stderr)

    def summary(self, alpha: float = 0.05):
        """A one-row :class:`pandas.DataFrame` with estimate, SE, test and interval.

        The frame holds full-precision numbers; it prints whole (never cut to the
        display width), rounded from the standard error, with p-values below double
        precision's resolution as ``< 1e-16`` and the method under the table.
        """
        lo, hi = self.conf_int(alpha)
        return summary_frame(
            {
                "estimate": [self.value],
                "std err": [self.stderr],
                "z": [self.zstat],
                "P>|z|": [self.pvalue],
                f"[{alpha / 2:g}": [lo],
                f"{1 - alpha / 2:g}]": [hi],
                "n": [self.n],
                "method": [self.method],
            },
            index=[self.name],
        )

    def __repr__(self) -> str:
        lo, hi = self.conf_int(0.05)
        d = decimals(self.stderr, self.value)
        return (
            f"Estimate({self.name} = {_fmt(self.value, d)}, SE {_fmt(self.stderr, d)}, "
            f"95% CI [{_fmt(lo, d)}, {_fmt(hi, d)}], p {_p(self.pvalue)}, n={self.n}, "
            f"method={self.method!r})"
        )

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __float__(self) -> float:
        return self.value

    def _replace(self, **changes) -> Estimate:
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class EstimateTable:
    """Several estimates side by side (per policy, per stratum, per coefficient).

    Parameters
    ----------
    estimates : sequence of Estimate
        The rows; their ``name`` values label them and must be unique.
    cov : ndarray of shape (k, k), optional
        Covariance of the estimates, used for joint (simultaneous) intervals.

    Examples
    --------
    >>> from causalkit.inference import Estimate, EstimateTable
    >>> tab = EstimateTable([Estimate(1.0, 0.1, 100, "ols", name="a"),
    ...                      Estimate(2.0, 0.2, 100, "ols", name="b")])
    >>> tab["b"].value
    2.0
    >>> list(tab.summary().index)
    ['a', 'b']
    """

    estimates: tuple
    cov: np.ndarray | None = None
    title: str = ""

    def __post_init__(self):
        ests = tuple(self.estimates)
        if not all(isinstance(e, Estimate) for e in ests):
            raise TypeError("`estimates` must be a sequence of Estimate objects.")
        names = [e.name for e in ests]
        if len(set(names)) != len(names):
            raise ValueError(f"Estimate names must be unique in a table; got {names}.")
        object.__setattr__(self, "estimates", ests)
        if self.cov is not None:
            cov = np.asarray(self.cov, dtype=float)
            if cov.shape != (len(ests), len(ests)):
                raise ValueError(f"`cov` must have shape {(len(ests), len(ests))}; got {cov.shape}.")
            object.__setattr__(self, "cov", cov)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.estimates]

    @property
    def values(self) -> np.ndarray:
        return np.array([e.value for e in self.estimates])

    @property
    def stderrs(self) -> np.ndarray:
        return np.array([e.stderr for e in self.estimates])

    def __len__(self) -> int:
        return len(self.estimates)

    def __iter__(self) -> Iterator[Estimate]:
        return iter(self.estimates)

    def __getitem__(self, key) -> Estimate:
        if isinstance(key, str):
            for e in self.estimates:
                if e.name == key:
                    return e
            raise KeyError(f"No estimate named {key!r}; names are {self.names}.")
        return self.estimates[key]

    def conf_int(self, alpha: float = 0.05, *, joint: bool = False, n_draws: int = 100_000,
                 random_state=0):
        """Intervals as a DataFrame; ``joint=True`` gives simultaneous (sup-t) coverage.

        Joint intervals need ``cov`` and use the ``1 - alpha`` quantile of
        ``max_j |Z_j|`` for ``Z ~ N(0, corr)`` (simulated with ``random_state``).
        """
        import pandas as pd

        alpha = _check_alpha(alpha)
        if joint:
            if self.cov is None:
                raise ValueError("Joint intervals need the estimates' covariance; this table has none.")
            c = sup_t_gaussian(_unit_factor_from_cov(self.cov), alpha, n_draws=n_draws,
                               random_state=random_state)
            centers = np.array([e._center for e in self.estimates])
            lo, hi = centers - c * self.stderrs, centers + c * self.stderrs
        else:
            bounds = np.array([e.conf_int(alpha) for e in self.estimates])
            lo, hi = bounds[:, 0], bounds[:, 1]
        return pd.DataFrame({"lower": lo, "upper": hi}, index=self.names)

    def summary(self, alpha: float = 0.05):
        """All rows' :meth:`Estimate.summary` stacked into one DataFrame (printed as
        :meth:`Estimate.summary` prints: whole, rounded row by row from each SE)."""
        import pandas as pd

        return summary_frame(pd.concat([pd.DataFrame(e.summary(alpha)) for e in self.estimates]))

    def __repr__(self) -> str:
        head = f"EstimateTable: {self.title}" if self.title else "EstimateTable"
        return head + "\n" + str(self.summary())

    def _repr_html_(self) -> str:
        import html

        head = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        return head + self.summary()._repr_html_()


@dataclass(frozen=True, eq=False)
class EffectCurve:
    """An estimated function on a grid with pointwise and uniform confidence bands.

    Parameters
    ----------
    grid : ndarray of shape (G,)
        Where the function is evaluated (quantile levels, feature values...).
    values : ndarray of shape (G,)
        Estimates at each grid point.
    stderr : ndarray of shape (G,)
        Pointwise standard errors.
    draws : ndarray of shape (B, G), optional
        Bootstrap (or multiplier) replicates of ``estimate* - estimate``. When
        given, uniform bands use the sup-t critical value
        ``quantile_{1-alpha} max_g |draws_g| / stderr_g``.
    cov : ndarray of shape (G, G), optional
        Covariance used for the uniform band when ``draws`` is absent.
    cov_factor : ndarray of shape (G, r), optional
        A factor ``F`` of that covariance (``cov = F F'``), e.g. the design rows times a
        root of a coefficient covariance; cheaper than ``cov`` when ``G`` exceeds ``r``.
    n : int
        Number of units.
    method : str
        How it was computed.
    name : str
        What the curve is (``"tau(q)"``, ``"CATE"``).
    grid_name : str
        Label of the grid (``"quantile"``, a feature's name).
    dof : float, optional
        Degrees of freedom of Student-t critical values for the pointwise band (for
        example ``G - 1`` with a cluster-robust SE over ``G`` clusters); ``None`` uses
        normal ones. The uniform band's sup-t critical value is not affected.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference import EffectCurve
    >>> rng = np.random.default_rng(0)
    >>> curve = EffectCurve(grid=np.linspace(0.1, 0.9, 9), values=np.ones(9),
    ...                     stderr=np.full(9, 0.1), draws=rng.normal(0, 0.1, (500, 9)),
    ...                     n=200, method="demo")
    >>> lo_p, hi_p = curve.conf_int(0.05, kind="pointwise")
    >>> lo_u, hi_u = curve.conf_int(0.05, kind="uniform")
    >>> bool(np.all(lo_u <= lo_p))
    True
    """

    grid: np.ndarray
    values: np.ndarray
    stderr: np.ndarray
    n: int
    method: str
    name: str = "effect"
    grid_name: str = "grid"
    draws: np.ndarray | None = field(default=None, repr=False)
    cov: np.ndarray | None = field(default=None, repr=False)
    cov_factor: np.ndarray | None = field(default=None, repr=False)
    dof: float | None = None

    def __post_init__(self):
        grid = np.asarray(self.grid, dtype=float).ravel()
        vals = np.asarray(self.values, dtype=float).ravel()
        se = np.asarray(self.stderr, dtype=float).ravel()
        if not (grid.shape == vals.shape == se.shape):
            raise ValueError(
                f"`grid`, `values` and `stderr` must have one entry per grid point; got "
                f"{grid.shape}, {vals.shape}, {se.shape}."
            )
        for nm, arr in (("grid", grid), ("values", vals), ("stderr", se)):
            arr.setflags(write=False)
            object.__setattr__(self, nm, arr)
        if self.draws is not None:
            d = np.asarray(self.draws, dtype=float)
            if d.ndim != 2 or d.shape[1] != grid.shape[0]:
                raise ValueError(f"`draws` must have shape (B, {grid.shape[0]}); got {d.shape}.")
            d.setflags(write=False)
            object.__setattr__(self, "draws", d)
        if self.cov_factor is not None:
            f = np.asarray(self.cov_factor, dtype=float)
            if f.ndim == 1:
                f = f[:, None]
            if f.ndim != 2 or f.shape[0] != grid.shape[0]:
                raise ValueError(f"`cov_factor` must have shape ({grid.shape[0]}, r); got {f.shape}.")
            f.setflags(write=False)
            object.__setattr__(self, "cov_factor", f)
        object.__setattr__(self, "n", int(self.n))

    def uniform_critical_value(self, alpha: float = 0.05, *, random_state=0,
                               n_draws: int = 100_000) -> float:
        """Sup-t critical value giving simultaneous ``1 - alpha`` coverage."""
        alpha = _check_alpha(alpha)
        se = np.where(self.stderr > 0, self.stderr, np.inf)
        if self.draws is not None:
            tmax = np.abs(self.draws / se).max(axis=1)
            return float(np.quantile(tmax, 1 - alpha))
        if self.cov_factor is not None:
            return sup_t_gaussian(self.cov_factor, alpha, n_draws=n_draws, random_state=random_state)
        if self.cov is not None:
            return sup_t_gaussian(_unit_factor_from_cov(self.cov), alpha, n_draws=n_draws,
                                  random_state=random_state)
        raise ValueError(
            "A uniform band needs bootstrap `draws`, a covariance `cov` or its factor "
            "`cov_factor`; this curve has none of them. "
            "Refit with inference that stores them."
        )

    def conf_int(self, alpha: float = 0.05, kind: str = "pointwise"):
        """Band ``(lower, upper)`` arrays; ``kind`` is "pointwise" or "uniform"."""
        if kind == "pointwise":
            c = _crit(_check_alpha(alpha), self.dof)
        elif kind == "uniform":
            c = self.uniform_critical_value(alpha)
        else:
            raise ValueError(f"`kind` must be 'pointwise' or 'uniform'; got {kind!r}.")
        return self.values - c * self.stderr, self.values + c * self.stderr

    def summary(self, alpha: float = 0.05):
        """DataFrame over the grid with estimates, SEs and both bands (printed whole,
        rounded row by row from each SE)."""
        lo, hi = self.conf_int(alpha, "pointwise")
        out = {self.grid_name: self.grid, "estimate": self.values, "std err": self.stderr,
               "pointwise lower": lo, "pointwise upper": hi}
        if self.draws is not None or self.cov is not None or self.cov_factor is not None:
            ulo, uhi = self.conf_int(alpha, "uniform")
            out["uniform lower"] = ulo
            out["uniform upper"] = uhi
        return summary_frame(out)

    def plot(self, ax=None, *, alpha: float = 0.05, uniform: bool = True, label=None, **kwargs):
        """Plot the curve with its pointwise (dark) and uniform (light) bands."""
        from causalkit.plotting import plot_effect_curve

        return plot_effect_curve(self, ax=ax, alpha=alpha, uniform=uniform, label=label, **kwargs)

    def __len__(self) -> int:
        return len(self.grid)

    def __str__(self) -> str:
        return (f"{self.name} over {len(self.grid)} {self.grid_name} points (n={self.n}; "
                f"{self.method})\n" + str(self.summary()))

    def _repr_html_(self) -> str:
        import html

        head = (f"{self.name} over {len(self.grid)} {self.grid_name} points "
                f"(n={self.n}; {self.method})")
        return f"<p>{html.escape(head)}</p>" + self.summary()._repr_html_()

    def __repr__(self) -> str:
        return (
            f"EffectCurve({self.name} over {len(self.grid)} {self.grid_name} points, "
            f"range of estimates [{_fmt(self.values.min())}, {_fmt(self.values.max())}], "
            f"n={self.n}, method={self.method!r})"
        )


def estimates_from_arrays(values: Sequence[float], stderrs: Sequence[float], names: Sequence[str],
                          *, n: int, method: str, cov=None, title: str = "") -> EstimateTable:
    """Build an :class:`EstimateTable` from parallel arrays.

    Examples
    --------
    >>> from causalkit.inference import estimates_from_arrays
    >>> tab = estimates_from_arrays([1.0, 2.0], [0.1, 0.5], ["a", "b"], n=100, method="OLS")
    >>> tab.names, float(tab["b"].stderr)
    (['a', 'b'], 0.5)
    """
    ests = [Estimate(v, s, n=n, method=method, name=str(nm)) for v, s, nm in zip(values, stderrs, names)]
    return EstimateTable(tuple(ests), cov=cov, title=title)
