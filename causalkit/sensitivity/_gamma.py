r"""Bounds on the CATE and ATE under Γ-selection (Yadlowsky, Namkoong, Basu, Duchi & Tian, 2022).

Sensitivity model: there is an unobserved :math:`U` with :math:`(Y(0), Y(1)) \perp T \mid X, U`
and, for all :math:`x, u, \tilde u`,

.. math::

    \frac{P(T=1 \mid x, u) / P(T=0 \mid x, u)}{P(T=1 \mid x, \tilde u) / P(T=0 \mid x, \tilde u)}
    \le \Gamma .

Then the likelihood ratio between the untreated and treated distributions of :math:`Y(1)`
given :math:`X` varies by at most a factor :math:`\Gamma`, and the smallest
:math:`E[Y(1) \mid X = x, T = 0]` compatible with the data is :math:`\theta^-(x)`, the
minimiser of the weighted squared loss

.. math::

    \ell_\Gamma(\theta; y) = (y - \theta)_+^2 + \Gamma\, (y - \theta)_-^2

over the treated units with :math:`X = x` (a :math:`1/(1+\Gamma)`-expectile). The CATE bounds
are :math:`\tau^-(x) = e\mu_1 + (1-e)\theta_1^- - [(1-e)\mu_0 + e\,\theta_0^+]` and symmetrically
for :math:`\tau^+`. The ATE bounds average the Neyman-orthogonal score

.. math::

    \psi_1^- = T Y + (1 - T)\theta(X) + T \frac{1 - e(X)}{e(X)}
        \frac{1 + (\Gamma - 1) 1\{Y < \theta(X)\}}{1 + (\Gamma - 1)\nu(X)} (Y - \theta(X)),
    \qquad \nu(x) = P(Y < \theta(x) \mid X = x, T = 1),

(the denominator is the derivative of the expectile's estimating equation), with the same
construction on :math:`(-Y, T)`, :math:`(Y, 1 - T)` and :math:`(-Y, 1 - T)` for the other
three one-sided bounds. At :math:`\Gamma = 1` the score is the AIPW score.

Implementation choices (see the guide): the arm means :math:`\mu_t`, propensities
(as clipped in the estimator's score) and folds are the fitted estimator's, never refitted;
:math:`\theta - \mu` is a ridge-penalised linear (or quadratic) sieve in standardised
:math:`X`, fitted by iteratively reweighted least squares on the out-of-fold residuals of the
training folds, minus the same sieve's mean fit (so :math:`\Gamma = 1` returns the
estimator's own ATE exactly); :math:`\nu` is a ridge-penalised logistic regression on the
same sieve. The paper's inner cross-validation of the sieve and its weight cap are not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.linalg import cho_factor, cho_solve

from ..inference import EffectCurve, Estimate
from ..utils.validation import check_alpha as _check_alpha
from ..utils.validation import check_finite_number, check_model, check_X
from ._parts import mean_and_se, score_parts

__all__ = ["GammaBounds", "GammaStar", "gamma_bounds", "gamma_star", "cate_bounds"]


def _check_gamma(gamma):
    if isinstance(gamma, (str, bytes)):
        raise TypeError(f"`gamma` must be a number >= 1 or an array of them; got {gamma!r}.")
    g = np.atleast_1d(np.asarray(gamma, dtype=float))
    if g.ndim != 1 or g.size == 0:
        raise ValueError("`gamma` must be a number or a 1-D grid of numbers >= 1.")
    if not np.all(np.isfinite(g)):
        raise ValueError("`gamma` contains NaN or infinite values; give finite numbers >= 1.")
    if np.any(g < 1):
        raise ValueError(f"`gamma` must be >= 1 (Gamma = 1 is no hidden confounding); got "
                         f"{g[g < 1][0]:g}. Gamma is an odds ratio, not its logarithm.")
    return g


def _features(X, degree):
    Z = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    cols = [np.ones((Z.shape[0], 1)), Z]
    if degree == 2:
        iu = np.triu_indices(Z.shape[1])
        cols.append(Z[:, iu[0]] * Z[:, iu[1]])
    return np.hstack(cols)


def _wls(F, r, w, pen):
    A = (F * w[:, None]).T @ F + pen
    return np.linalg.solve(A, F.T @ (w * r))


class _Fold:
    """One (bound, fold) nuisance problem: training rows of the arm, warm-started over Γ.

    The expectile fit is iteratively reweighted least squares with weight Γ below the fit;
    the weighted Gram matrix is ``G0 + (Γ - 1) Gb`` where ``Gb`` sums the rows below the fit
    and is updated only with the rows that cross it. ``nu`` is a ridge logistic regression
    fitted by Böhning's bounded-Hessian Newton steps (one Cholesky factor per fold).
    """

    def __init__(self, F, r, w, pen, test):
        self.F, self.r, self.w, self.pen, self.test = F, r, w, pen, test
        Fw = F * w[:, None]
        self.G0 = Fw.T @ F + pen
        self.c0 = Fw.T @ r
        self.beta1 = np.linalg.solve(self.G0, self.c0)
        self.below = r < F @ self.beta1
        self._set_below_sums()
        self.chol = cho_factor(0.25 * Fw.T @ F + pen + 1e-10 * np.eye(F.shape[1]))
        self.nu_beta = None

    def _set_below_sums(self):
        Fb, wb = self.F[self.below], self.w[self.below]
        self.Gb = (Fb * wb[:, None]).T @ Fb
        self.cb = Fb.T @ (wb * self.r[self.below])

    def expectile(self, gamma, max_iter=200):
        if gamma == 1.0:
            return self.beta1
        for _ in range(max_iter):
            beta = np.linalg.solve(self.G0 + (gamma - 1.0) * self.Gb, self.c0 + (gamma - 1.0) * self.cb)
            new = self.r < self.F @ beta
            changed = new != self.below
            if not changed.any():
                return beta
            if changed.sum() > 0.25 * changed.size:
                self.below = new
                self._set_below_sums()
                continue
            sign = np.where(new[changed], 1.0, -1.0) * self.w[changed]
            Fc = self.F[changed]
            self.Gb += (Fc * sign[:, None]).T @ Fc
            self.cb += Fc.T @ (sign * self.r[changed])
            self.below = new
        return beta

    def nu(self, target, max_iter=500, tol=1e-8):
        F, w = self.F, self.w
        beta = self.nu_beta
        if beta is None:
            beta = np.zeros(F.shape[1])
            p0 = np.clip(np.sum(w * target) / np.sum(w), 1e-3, 1 - 1e-3)
            beta[0] = np.log(p0 / (1 - p0))
        for _ in range(max_iter):
            p = 1.0 / (1.0 + np.exp(-np.clip(F @ beta, -30, 30)))
            step = cho_solve(self.chol, F.T @ (w * (target - p)) - self.pen @ beta)
            beta = beta + step
            if np.max(np.abs(step)) < tol:
                break
        self.nu_beta = beta
        return beta


class _Engine:
    """Evaluates the four one-sided bounds at any Gamma from one fitted estimator."""

    def __init__(self, est, X, degree, ridge, name="est"):
        if degree not in (1, 2):
            raise ValueError(f"`degree` must be 1 or 2; got {degree!r}.")
        if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)) \
                or not np.isfinite(ridge) or ridge < 0:
            raise ValueError(f"`ridge` must be a non-negative number; got {ridge!r}.")
        p = score_parts(est, name)
        Xa, _ = check_X(X, "X")
        if Xa.shape[0] != p.n_total:
            raise ValueError(f"`X` has {Xa.shape[0]} rows but `{name}` was fitted on {p.n_total}; "
                             "pass the covariates it was fitted on.")
        nf = getattr(est, "n_features_in_", Xa.shape[1])
        if Xa.shape[1] != nf:
            raise ValueError(f"`X` has {Xa.shape[1]} columns but `{name}` was fitted on {nf}.")
        self.p = p
        self.F = _features(Xa[p.keep], degree)
        q = self.F.shape[1]
        self.pen = float(ridge) * np.diag(np.r_[0.0, np.ones(q - 1)])
        self.w = np.ones(p.n) if p.sw is None else p.sw
        # (sign s, arm a): lower bound on E[s Y(a)]
        self.combos = {}
        for s in (1.0, -1.0):
            for a in (1, 0):
                z = p.t if a == 1 else 1 - p.t
                ea = p.e if a == 1 else 1 - p.e
                mu = s * (p.mu1 if a == 1 else p.mu0)
                ys = s * p.y
                folds = []
                for tr, te in p.folds:
                    rows = tr[z[tr] == 1]
                    if rows.size == 0:
                        raise ValueError("A training fold has no units in one arm; the bounds "
                                         "need both arms in every fold.")
                    folds.append(_Fold(self.F[rows], ys[rows] - mu[rows], self.w[rows], self.pen, te))
                self.combos[(s, a)] = (z, ea, mu, ys, folds)

    def _one(self, key, gamma):
        z, ea, mu, ys, folds = self.combos[key]
        theta = np.empty(self.p.n)
        nu = np.zeros(self.p.n)
        for fd in folds:
            shift = fd.expectile(gamma) - fd.beta1
            theta[fd.test] = mu[fd.test] + self.F[fd.test] @ shift
            if gamma != 1.0:
                bn = fd.nu((fd.r < fd.F @ shift).astype(float))
                nu[fd.test] = 1.0 / (1.0 + np.exp(-np.clip(self.F[fd.test] @ bn, -30, 30)))
        W = 1.0 + (gamma - 1.0) * (ys < theta)
        psi = z * ys + (1 - z) * theta + z * (1 - ea) / ea * W / (1.0 + (gamma - 1.0) * nu) * (ys - theta)
        return psi, theta

    def evaluate(self, gamma):
        """Scores of tau- and tau+ and the unit-level CATE bounds at one Gamma."""
        lo1, th_lo1 = self._one((1.0, 1), gamma)
        hi1, th_hi1 = self._one((-1.0, 1), gamma)
        lo0, th_lo0 = self._one((1.0, 0), gamma)
        hi0, th_hi0 = self._one((-1.0, 0), gamma)
        p = self.p
        psi_lo = lo1 + hi0          # lower E[Y(1)] - upper E[Y(0)] (hi0 holds -upper)
        psi_hi = -hi1 - lo0
        cate_lo = (p.e * p.mu1 + (1 - p.e) * th_lo1) - ((1 - p.e) * p.mu0 + p.e * (-th_hi0))
        cate_hi = (p.e * p.mu1 + (1 - p.e) * (-th_hi1)) - ((1 - p.e) * p.mu0 + p.e * th_lo0)
        return psi_lo, psi_hi, cate_lo, cate_hi

    def bound(self, gamma, side):
        psi_lo, psi_hi, _, _ = self.evaluate(gamma)
        return mean_and_se(psi_lo if side == "lower" else psi_hi, self.p.sw, self.p.groups)


def _score_cov(S, sw, groups):
    """Covariance of the means of the columns of ``S`` (influence functions)."""
    w = np.ones(S.shape[0]) if sw is None else sw
    C = w[:, None] * (S - (w @ S) / w.sum())
    scale = 1.0
    if groups is not None:
        C = np.vstack([np.bincount(groups, weights=C[:, j]) for j in range(C.shape[1])]).T
        g = C.shape[0]
        scale = g / (g - 1) if g > 1 else 1.0
    return scale * (C.T @ C) / w.sum() ** 2


@dataclass(frozen=True, eq=False)
class GammaBounds:
    """ATE bounds against Γ, with confidence limits.

    Attributes
    ----------
    gamma : ndarray of shape (G,)
    lower, upper : EffectCurve
        The bounds :math:`\\tau^-(\\Gamma)` and :math:`\\tau^+(\\Gamma)` over the grid, with
        influence-function standard errors and covariances (uniform bands over Γ).
    estimate : Estimate
        The estimator's ATE (Γ = 1).
    alpha : float

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> from causalkit.sensitivity import gamma_bounds
    >>> res = gamma_bounds(est, d.X, gamma=[1, 2])       # a GammaBounds
    >>> res.gamma.tolist(), bool(res.lower.values[1] < res.estimate.value < res.upper.values[1])
    ([1.0, 2.0], True)
    """

    gamma: np.ndarray
    lower: EffectCurve
    upper: EffectCurve
    estimate: Estimate
    alpha: float

    def conf_int(self, alpha: float | None = None, kind: str = "pointwise"):
        """``(lower - z se, upper + z se)`` per Γ with ``z = z_{1-alpha/2}``.

        Covers the identified interval (and so the true ATE) with probability at least
        ``1 - alpha`` at each Γ (``kind="uniform"``: at all Γ of the grid at once).
        """
        a = self.alpha if alpha is None else float(alpha)
        return self.lower.conf_int(a, kind)[0], self.upper.conf_int(a, kind)[1]

    def at(self, gamma: float):
        """``(lower, upper)`` :class:`~causalkit.inference.Estimate` at a grid value."""
        i = np.flatnonzero(np.isclose(self.gamma, gamma))
        if i.size == 0:
            raise ValueError(f"`gamma`={gamma} is not on the grid {self.gamma.tolist()}.")
        i = int(i[0])
        m = self.lower.method
        return (Estimate(self.lower.values[i], self.lower.stderr[i], self.lower.n, m, name=self.lower.name),
                Estimate(self.upper.values[i], self.upper.stderr[i], self.upper.n, m, name=self.upper.name))

    def summary(self, alpha: float | None = None):
        """DataFrame over Γ: bounds, standard errors and confidence limits."""
        import pandas as pd

        lo, hi = self.conf_int(alpha)
        return pd.DataFrame({"gamma": self.gamma, "lower bound": self.lower.values,
                             "se lower": self.lower.stderr, "upper bound": self.upper.values,
                             "se upper": self.upper.stderr, "CI lower": lo, "CI upper": hi})

    def plot(self, ax=None, *, alpha: float | None = None, null: float | None = 0.0):
        """Bounds (lines) and their confidence limits (band) against Γ (log axis)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover
            raise ImportError("Plots need matplotlib: pip install 'causalkit-inference[plot]'.") from exc
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 4))
        lo, hi = self.conf_int(alpha)
        ax.fill_between(self.gamma, lo, hi, color="tab:blue", alpha=0.15,
                        label=f"{1 - (self.alpha if alpha is None else alpha):g} confidence limits")
        ax.plot(self.gamma, self.lower.values, color="tab:blue", label="bounds")
        ax.plot(self.gamma, self.upper.values, color="tab:blue")
        if null is not None:
            ax.axhline(null, color="0.4", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel("Gamma")
        ax.set_ylabel("ATE")
        ax.legend(frameon=False)
        return ax

    def __repr__(self):
        lo, hi = self.conf_int()
        return (f"GammaBounds(ATE {self.estimate.value:.4g}; at Gamma={self.gamma[-1]:g}: bounds "
                f"[{self.lower.values[-1]:.4g}, {self.upper.values[-1]:.4g}], {1 - self.alpha:g} CI "
                f"[{lo[-1]:.4g}, {hi[-1]:.4g}]; {len(self.gamma)} Gamma values)")


def gamma_bounds(est, X, gamma=(1.0, 1.5, 2.0, 3.0), *, alpha=0.05, degree=1, ridge=1.0,
                 subset=None) -> GammaBounds:
    r"""Bounds on the ATE of a fitted back-door estimator under Γ-selection.

    Yadlowsky, Namkoong, Basu, Duchi & Tian (2022): for each Γ the lower bound is the mean
    of the orthogonal score :math:`\psi_1^- - \psi_0^+` (module docstring), whose nuisance
    :math:`\theta` minimises the loss :math:`(y - \theta)_+^2 + \Gamma (y - \theta)_-^2`,
    cross-fitted on the estimator's folds. The estimator's arm means and propensities are
    reused, not refitted; only the expectile sieve :math:`\theta` and :math:`\nu` are fitted.

    Parameters
    ----------
    est : fitted estimator
        :class:`causalkit.ate.AIPW` or a binary-treatment :mod:`causalkit.hte` learner.
    X : array-like of shape (n, p)
        The covariates ``est`` was fitted on (the sieve's features).
    gamma : float or array-like of floats >= 1
        Odds-ratio bound(s) Γ (not log Γ).
    alpha : float, default 0.05
        Level of the confidence limits.
    degree : {1, 2}, default 1
        Sieve for :math:`\theta - \mu`: linear, or with squares and interactions.
    ridge : float, default 1.0
        Ridge penalty of the sieve (intercept unpenalised).
    subset : bool array-like of shape (n,), optional
        Bound the average effect of this subgroup instead (the same scores averaged over
        it; the nuisances still use every unit).

    Returns
    -------
    GammaBounds

    References
    ----------
    Yadlowsky, S., Namkoong, H., Basu, S., Duchi, J. and Tian, L. (2022). Bounds on the
    conditional and average treatment effect with unobserved confounding factors. Annals of
    Statistics 50(5), 2587-2615.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> from causalkit.sensitivity import gamma_bounds
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> res = gamma_bounds(est, d.X, gamma=[1, 2, 4])
    >>> lo1, hi1 = res.at(1)
    >>> abs(lo1.value - est.ate().value) < 1e-10
    True
    >>> bool(res.lower.values[2] < res.lower.values[1] < res.upper.values[1] < res.upper.values[2])
    True
    """
    g = _check_gamma(gamma)
    a = _check_alpha(alpha)
    eng = _Engine(est, X, degree, ridge)
    p = eng.p
    lo_s = np.empty((p.n, g.size))
    hi_s = np.empty((p.n, g.size))
    for j, gj in enumerate(g):
        lo_s[:, j], hi_s[:, j], _, _ = eng.evaluate(float(gj))
    sw, groups, estimate = p.sw, p.groups, est.ate()
    name = "ATE"
    if subset is not None:
        mask = np.asarray(subset)
        if mask.dtype != bool or mask.shape != (p.n_total,):
            raise ValueError(f"`subset` must be a boolean mask of length {p.n_total} (one entry "
                             "per unit `est` was fitted on).")
        sel = mask[p.keep]
        if sel.sum() < 2:
            raise ValueError("`subset` selects fewer than 2 of the estimator's units.")
        lo_s, hi_s = lo_s[sel], hi_s[sel]
        sw = None if sw is None else sw[sel]
        if groups is not None:
            groups = np.unique(groups[sel], return_inverse=True)[1]
        v, se = mean_and_se(p.scores()[sel], sw, groups)
        estimate = Estimate(v, se, n=int(sel.sum()), method="AIPW scores of the subgroup",
                            name="subgroup ATE")
        name = "subgroup ATE"
    cov_lo = _score_cov(lo_s, sw, groups)
    cov_hi = _score_cov(hi_s, sw, groups)
    w = np.ones(lo_s.shape[0]) if sw is None else sw
    val_lo = (w @ lo_s) / w.sum()
    val_hi = (w @ hi_s) / w.sum()
    method = (f"Gamma-selection bounds (Yadlowsky et al. 2022), {len(p.folds)}-fold cross-fitted, "
              "orthogonal score, influence-function SE")
    n = lo_s.shape[0]
    lower = EffectCurve(g, val_lo, np.sqrt(np.diag(cov_lo)), n=n, method=method,
                        name=f"{name} lower bound", grid_name="gamma", cov=cov_lo)
    upper = EffectCurve(g, val_hi, np.sqrt(np.diag(cov_hi)), n=n, method=method,
                        name=f"{name} upper bound", grid_name="gamma", cov=cov_hi)
    return GammaBounds(gamma=g, lower=lower, upper=upper, estimate=estimate, alpha=a)


@dataclass(frozen=True, eq=False)
class GammaStar:
    """The Γ at which the ATE bounds first include the null, with a confidence interval.

    ``value`` solves :math:`\\tau^-(\\Gamma) = \\text{null}` (or :math:`\\tau^+` when the
    estimate is below the null); ``conf_int`` is where the confidence limits
    :math:`\\tau^- \\mp z_{1-\\alpha/2}\\,\\mathrm{se}` reach the null: its lower end is where the
    confidence interval of the bounds first includes the null. ``inf`` means beyond
    ``gamma_max``.

    Examples
    --------
    :func:`gamma_star` returns one (see its example for a fit); the fields read as

    >>> from causalkit.sensitivity import GammaStar
    >>> gs = GammaStar(value=2.4, lower=1.8, upper=3.3, alpha=0.05, null=0.0, side="lower")
    >>> gs.conf_int()       # where the confidence limits of the bounds reach the null
    (1.8, 3.3)
    """

    value: float
    lower: float
    upper: float
    alpha: float
    null: float
    side: str

    def conf_int(self):
        return self.lower, self.upper

    def __repr__(self):
        return (f"GammaStar({self.value:.4g}, {1 - self.alpha:g} CI [{self.lower:.4g}, "
                f"{self.upper:.4g}], where the {self.side} bound reaches {self.null:g})")


def gamma_star(est, X, *, alpha=0.05, null=0.0, gamma_max=50.0, degree=1, ridge=1.0) -> GammaStar:
    """Smallest Γ at which the ATE bounds include ``null``, with its confidence interval.

    Inverts the bound of :func:`gamma_bounds` in Γ by a log-spaced scan and Brent's method.

    Parameters
    ----------
    est, X, degree, ridge
        As for :func:`gamma_bounds`.
    alpha : float, default 0.05
    null : float, default 0.0
    gamma_max : float, default 50.0
        Search up to this Γ; roots beyond it are reported as ``inf``.

    Returns
    -------
    GammaStar

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> from causalkit.sensitivity import gamma_star
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> gs = gamma_star(est, d.X)
    >>> bool(1 <= gs.lower <= gs.value <= gs.upper)
    True
    """
    a = _check_alpha(alpha)
    gmax = check_finite_number(gamma_max, "gamma_max")
    if gmax <= 1:
        raise ValueError(f"`gamma_max` must exceed 1 (the largest odds ratio searched); got {gamma_max}.")
    null = check_finite_number(null, "null")
    eng = _Engine(est, X, degree, ridge)
    z = float(stats.norm.ppf(1 - a / 2))
    theta, _ = eng.p.mean_and_se(eng.p.scores())
    side = "lower" if theta >= null else "upper"
    sgn = 1.0 if side == "lower" else -1.0
    cache = {}

    def bse(lg):
        if lg not in cache:
            cache[lg] = eng.bound(float(np.exp(lg)), side)
        return cache[lg]

    def root(shift):
        f = (lambda lg: sgn * (bse(lg)[0] - null) + shift * bse(lg)[1])
        grid = np.linspace(0.0, np.log(gmax), 41)
        vals = [f(lg) for lg in grid]
        if vals[0] <= 0:
            return 1.0
        for k in range(1, grid.size):
            if vals[k] <= 0:
                return float(np.exp(optimize.brentq(f, grid[k - 1], grid[k], xtol=1e-6)))
        return np.inf

    return GammaStar(value=root(0.0), lower=root(-z), upper=root(z), alpha=a, null=null, side=side)


def cate_bounds(est, X, gamma=2.0, *, X_new=None, model_final=None, degree=1, ridge=1.0):
    r"""Bounds on the CATE under Γ-selection, at the fitted units or at new points.

    At the fitted units (``X_new=None``) the plug-in bounds
    :math:`\tau^-(x) = e\mu_1 + (1 - e)\theta_1^- - [(1 - e)\mu_0 + e\,\theta_0^+]` and
    :math:`\tau^+(x) = e\mu_1 + (1 - e)\theta_1^+ - [(1 - e)\mu_0 + e\,\theta_0^-]`
    (Yadlowsky et al. 2022), with every nuisance predicted out of fold.

    At new points the orthogonal scores :math:`\psi^\mp` of :func:`gamma_bounds`, whose
    conditional means given :math:`X` are :math:`\tau^\mp(X)` at the true nuisances, are
    regressed on ``X`` with ``model_final`` (a DR-learner of each bound, as Kennedy's
    DR-learner regresses the AIPW score; this construction is ours, not the paper's) and
    predicted at ``X_new``.

    Parameters
    ----------
    est, X, degree, ridge
        As for :func:`gamma_bounds`.
    gamma : float >= 1, default 2.0
    X_new : array-like of shape (m, p), optional
        Where to predict the bounds; default the fitted units.
    model_final : regressor, optional
        Second-stage regression for ``X_new`` (cloned; default ``LinearRegression()``).

    Returns
    -------
    lower, upper : ndarray of shape (n,) or (m,)
        Bounds (NaN at fitted units the estimator dropped).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from causalkit.ate import AIPW
    >>> from causalkit.datasets import make_ate_data
    >>> from causalkit.sensitivity import cate_bounds
    >>> d = make_ate_data(1000, random_state=0)
    >>> est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
    ...     d.X, d.y, treatment=d.treatment)
    >>> lo, hi = cate_bounds(est, d.X, gamma=2.0)
    >>> bool((lo <= hi).all())
    True
    >>> lo_new, hi_new = cate_bounds(est, d.X, gamma=2.0, X_new=d.X[:5])
    >>> lo_new.shape
    (5,)
    """
    g = _check_gamma(gamma)
    if g.size != 1:
        raise ValueError("`gamma` must be one number for `cate_bounds`; loop over a grid.")
    check_model(model_final, "model_final")
    eng = _Engine(est, X, degree, ridge)
    psi_lo, psi_hi, lo, hi = eng.evaluate(float(g[0]))
    if X_new is not None:
        from sklearn.base import clone
        from sklearn.linear_model import LinearRegression

        Xn, _ = check_X(X_new, "X_new")
        Xa, _ = check_X(X, "X")
        if Xn.shape[1] != Xa.shape[1]:
            raise ValueError(f"`X_new` has {Xn.shape[1]} columns but `X` has {Xa.shape[1]}.")
        model = LinearRegression() if model_final is None else model_final
        kw = {} if eng.p.sw is None else {"sample_weight": eng.p.sw}
        Xk = Xa[eng.p.keep]
        out = [np.asarray(clone(model).fit(Xk, psi, **kw).predict(Xn), dtype=float)
               for psi in (psi_lo, psi_hi)]
        return out[0], out[1]
    out_lo = np.full(eng.p.n_total, np.nan)
    out_hi = np.full(eng.p.n_total, np.nan)
    out_lo[eng.p.keep], out_hi[eng.p.keep] = lo, hi
    return out_lo, out_hi
