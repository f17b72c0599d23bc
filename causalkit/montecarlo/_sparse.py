"""Sparse control variates for importance-sampled testing, stratified by critical count."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..inference import Diagnostics, Estimate
from ..utils._param_validation import (
    NONNEG_REAL,
    POS_INT,
    SEED,
    Integral,
    Interval,
    Real,
    _fit_context,
)
from ..utils.validation import FewObservationsWarning, check_aligned, check_vector
from ._cv import ControlVariates

__all__ = ["SparseControlVariates"]


def _check_logs(X):
    """Ragged per-test logs -> (flat (K, m) array, counts (n,))."""
    if X is None or isinstance(X, (str, bytes)):
        raise ValueError("`X` must be a list with one array of shape (k_i, m) per test; got "
                         f"{type(X).__name__}.")
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 3:  # every test has the same number of critical steps
            X = list(X)
        else:
            raise ValueError(
                "`X` must be a list with one array of shape (k_i, m) per test (the controls of "
                f"its k_i critical steps); got an array of shape {X.shape}.")
    rows, counts, m = [], [], None
    for i, xi in enumerate(X):
        a = np.asarray(xi, dtype=float) if len(np.shape(xi)) else None
        if a is None:
            raise ValueError(f"`X[{i}]` must be an array of shape (k_i, m); got a scalar.")
        if a.ndim == 1:
            a = a[:, None] if a.size else a.reshape(0, m or 1)
        if a.ndim != 2:
            raise ValueError(f"`X[{i}]` must be 2-D (k_i critical steps, m controls); got shape {a.shape}.")
        if a.shape[0]:
            if m is None:
                m = a.shape[1]
            elif a.shape[1] != m:
                raise ValueError(f"`X[{i}]` has {a.shape[1]} controls per step but earlier tests have {m}; "
                                 "log the same controls at every critical step.")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"`X[{i}]` contains NaN or infinite values; fix the log of test {i}.")
            rows.append(a)
        counts.append(a.shape[0])
    if not counts:
        raise ValueError("`X` is empty; pass one log per test.")
    flat = np.concatenate(rows) if rows else np.zeros((0, 1))
    return flat, np.asarray(counts, dtype=np.int64), (m or 1)


class SparseControlVariates(BaseEstimator):
    r"""Rare-event rate from importance-sampled tests with sparse control variates.

    Each test :math:`i` is logged by the controls of its :math:`k_i` critical
    steps, :math:`\zeta_{i1}, \dots, \zeta_{ik_i} \in \mathbb R^m` in time order,
    each with known mean zero under the sampling law given :math:`k_i` (for
    example :math:`w_j - 1`, :math:`w_j = p(u_j|s_j)/q(u_j|s_j)`). Tests are
    stratified by :math:`k`; in stratum :math:`k < K` the :math:`km` controls of
    the :math:`k` steps are the regressors, and all tests with :math:`k \ge K`
    form one pooled stratum whose :math:`m` regressors are the sums of each
    control over the test's critical steps (still mean zero).
    Stratum :math:`k = 0` has no regressors. Within each stratum the output
    :math:`Y_i = w_i y_i` is regressed on the controls (:class:`ControlVariates`),
    and the estimate is :math:`\hat\mu = \sum_k (n_k / n)\,\hat\mu_k`, with the
    influence-function variance of the adjusted outputs.

    The pooling threshold :math:`K` is the smallest :math:`k \ge 2` whose stratum
    has fewer than ``min_tests_per_coef`` tests with a nonzero output per
    coefficient (:math:`n^{+}_k < c\,(km + 1)`; with rare crashes the tests
    without a crash say little about the slopes), capped at ``max_strata``. A stratum that still
    has fewer tests than its regressors need is averaged without controls (with a
    warning).

    This is a reconstruction of the sparse control variates of Yang et al.
    (2022, 2023) from their published descriptions (controls only for the
    critical variables, strata by their number, multiple linear regression per
    stratum); the exact control functions and pooling rule of the papers may
    differ.

    When the probabilities :math:`\pi_k = P(k)` of the critical counts under the
    sampling law are known (``stratum_probs``), the strata are combined with them,
    :math:`\hat\mu = \sum_k \pi_k \hat\mu_k` and
    :math:`\widehat{Var} = \sum_k \pi_k^2 \hat\sigma^2_k / n_k` (this removes the
    between-strata variance that the estimated shares :math:`n_k/n` carry).

    Parameters
    ----------
    stratum_probs : array-like or None, default None
        Known :math:`P(k = 0), P(k = 1), \dots` under the sampling law (summing
        to 1); ``None`` uses the observed shares :math:`n_k / n`.
    min_tests_per_coef : int, default 10
        Pooling rule: strata need this many tests per coefficient to stand alone.
    max_strata : int or None, default None
        Largest :math:`K` (``None``: no cap).
    alpha : float, default 0.0
        Ridge penalty on the slopes (helps tiny strata with few crashes).
    cv : int or None, default None
        Cross-fit the slopes within each stratum over ``cv`` folds.
    random_state : int, RandomState or None, default None
        Seeds the folds.

    Attributes
    ----------
    mean_ : Estimate
        The sparse-control-variate estimate of the rate.
    plain_ : Estimate
        The plain importance-sampling estimate.
    variance_reduction_ : float
        Estimated variance of plain IS over that of the sparse CV estimate.
    n_pooled_from_ : int
        :math:`K`: tests with :math:`k \ge K` share one stratum.
    diagnostics_ : dict
        ``strata`` (DataFrame per stratum: n, share, regressors, estimate, R^2),
        ``effective_sample_size`` (Kish, of the weights), ``variance_reduction``.

    References
    ----------
    Yang, J., He, H., Zhang, Y., Feng, S. and Liu, H. X. (2022). Adaptive testing for
    connected and automated vehicles with sparse control variates in overtaking
    scenarios. ITSC (arXiv:2207.09259).

    Yang, J., Sun, H., He, H., Zhang, Y., Feng, S. and Liu, H. X. (2023). Adaptive safety
    evaluation for connected and automated vehicles with sparse control variates.
    IEEE T-ITS (arXiv:2212.00517).

    Examples
    --------
    >>> from causalkit.datasets import make_overtaking_tests
    >>> from causalkit.montecarlo import SparseControlVariates
    >>> d = make_overtaking_tests(20_000, random_state=0)
    >>> scv = SparseControlVariates().fit(d.X, d.y, weights=d.weights)
    >>> est = scv.mean()
    >>> bool(abs(est.value - d.true_rate) < 3 * est.stderr)
    True
    >>> bool(scv.variance_reduction_ > 1)
    True
    """

    _parameter_constraints: dict = {
        "stratum_probs": ["array-like", None],
        "min_tests_per_coef": [Interval(Real, 1, None, closed="left")],
        "max_strata": [POS_INT, None],
        "alpha": [NONNEG_REAL],
        "cv": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": SEED,
    }

    def __init__(self, *, stratum_probs=None, min_tests_per_coef=10, max_strata=None, alpha=0.0, cv=None,
                 random_state=None):
        self.stratum_probs = stratum_probs
        self.min_tests_per_coef = min_tests_per_coef
        self.max_strata = max_strata
        self.alpha = alpha
        self.cv = cv
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, weights=None):
        """Stratify the tests, fit the per-stratum regressions and combine.

        Parameters
        ----------
        X : list of n arrays of shape (k_i, m)
            Per test, the controls of its critical steps in time order (an empty
            array for a test without critical steps).
        y : array-like of shape (n,)
            Outcome of each test (crash indicator).
        weights : array-like of shape (n,), optional
            Importance ratio of each test.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, weights=weights)
        c = self.min_tests_per_coef
        flat, k, m = _check_logs(X)
        n = k.shape[0]
        yv = check_vector(y, "y", n=n)
        if n < 2:
            raise ValueError(f"`X` has {n} test(s); an estimate with a standard error needs at least 2.")
        if weights is not None:
            w = check_vector(weights, "weights", n=n)
            if (w < 0).any():
                raise ValueError(f"`weights` must be non-negative importance ratios; {int((w < 0).sum())} "
                                 f"value(s) are negative (min {w.min():.4g}).")
            Y = yv * w
            ess = float(w.sum() ** 2 / (w ** 2).sum()) if (w > 0).any() else 0.0
        else:
            w, Y, ess = None, yv, float(n)
        # tests with a nonzero output carry the information on the slopes (rare crashes)
        counts = np.bincount(k, weights=(Y != 0).astype(float))
        K = len(counts)  # default: no pooling needed
        for kk in range(2, len(counts)):
            if counts[kk] < c * (kk * m + 1):
                K = kk
                break
        if self.max_strata is not None:
            K = min(K, int(self.max_strata))
        K = max(K, 1)
        stratum = np.minimum(k, K)
        start = np.r_[0, np.cumsum(k)[:-1]]
        psi = np.empty(n)
        rows, n_coef, table_p = [], 0, {}
        for s in np.unique(stratum):
            idx = np.flatnonzero(stratum == s)
            ns = idx.size
            pooled = s == K and (k[idx] > K).any()
            label = f">={K}" if s == K and pooled else str(int(s))
            p_s = m if pooled else int(s) * m
            if pooled:
                # pooled stratum: the sums over all critical steps of each control (still mean zero)
                Z = np.zeros((ns, m))
                rep = np.repeat(np.arange(ns), k[idx])
                pos = np.repeat(start[idx], k[idx]) + (np.arange(k[idx].sum()) - np.repeat(
                    np.cumsum(k[idx]) - k[idx], k[idx]))
                np.add.at(Z, rep, flat[pos])
            elif s > 0:
                # regressors: the controls of steps 1..s, in time order
                Z = np.zeros((ns, p_s))
                for j in range(int(s)):
                    Z[:, j * m:(j + 1) * m] = flat[start[idx] + j]
            enough = s > 0 and ns >= p_s + 2 + (0 if self.cv is None else p_s + 2)
            if s > 0 and not enough:
                warnings.warn(
                    f"Stratum k={label} has {ns} test(s), fewer than its {p_s} regressors need; "
                    "its outputs are averaged without controls (unbiased, no variance reduction). "
                    "Lower `max_strata` to pool more strata or run more tests.",
                    FewObservationsWarning, stacklevel=2)
            if enough:
                fit = ControlVariates(alpha=self.alpha, cv=self.cv, random_state=self.random_state).fit(
                    Z, Y[idx])
                psi[idx] = fit.scores_
                n_coef += p_s + 1 if self.cv is None else 1
                r2 = fit.diagnostics_["r2"]
            else:
                psi[idx] = Y[idx]
                n_coef += 1
                p_s, r2 = 0, np.nan
            table_p[s] = p_s
            rows.append({"stratum": label, "n": int(ns), "share": ns / n, "regressors": p_s,
                         "estimate": float(psi[idx].mean()), "plain": float(Y[idx].mean()),
                         "r2": r2, "n_nonzero": int((Y[idx] != 0).sum())})
        if self.stratum_probs is None:
            value = float(psi.mean())
            dof = max(n - n_coef, 1)
            se = float(np.sqrt(np.sum((psi - value) ** 2) / (n * dof)))
        else:
            pi = np.asarray(self.stratum_probs, dtype=float)
            if pi.ndim != 1 or not np.all(np.isfinite(pi)) or (pi < 0).any() or abs(pi.sum() - 1) > 1e-6:
                raise ValueError("`stratum_probs` must be a 1-D array of probabilities P(k=0), P(k=1), ... "
                                 f"summing to 1; got {np.shape(self.stratum_probs)} summing to {np.nansum(pi):.6g}.")
            if k.max() >= pi.shape[0] or (pi[k] == 0).any():
                raise ValueError(f"`stratum_probs` gives probability zero to an observed critical count "
                                 f"(max observed k = {k.max()}, {pi.shape[0]} probabilities given).")
            pis = np.r_[pi[:K], pi[K:].sum()]
            value, var = 0.0, 0.0
            for s in np.unique(stratum):
                ps = psi[stratum == s]
                value += pis[s] * ps.mean()
                dof_s = ps.size - (table_p[s] + 1 if self.cv is None else 1)
                var += pis[s] ** 2 * (np.sum((ps - ps.mean()) ** 2) / dof_s / ps.size if dof_s > 0 else 0.0)
            if pis[np.setdiff1d(np.arange(K + 1), stratum)].sum() > 0:
                warnings.warn("Some critical counts with positive `stratum_probs` were never observed; "
                              "their contribution is missing from the estimate. Run more tests.",
                              FewObservationsWarning, stacklevel=2)
            se = float(np.sqrt(var))
            value = float(value)
        plain_se = float(Y.std(ddof=1) / np.sqrt(n))
        method = f"sparse control variates, {len(rows)} strata by critical count (pooled from k>={K})"
        if self.cv is not None:
            method += f", {self.cv}-fold cross-fitted slopes"
        method += ", known stratum probabilities" if self.stratum_probs is not None else ", estimated stratum shares"
        self.mean_ = Estimate(value, se, n=n, method=method, name="rate")
        self.plain_ = Estimate(float(Y.mean()), plain_se, n=n, method="importance-sampling mean", name="rate")
        self.variance_reduction_ = float(plain_se ** 2 / se ** 2) if se > 0 else np.inf
        self.n_pooled_from_ = int(K)
        self.scores_ = psi
        import pandas as pd

        self.diagnostics_ = Diagnostics({"strata": pd.DataFrame(rows).set_index("stratum"),
                             "effective_sample_size": ess,
                             "variance_reduction": self.variance_reduction_})
        return self

    def mean(self) -> Estimate:
        """The estimated rate as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "mean_")
        return self.mean_

    def plain_mean(self) -> Estimate:
        """The plain importance-sampling estimate, for comparison."""
        check_is_fitted(self, "mean_")
        return self.plain_

    def relative_half_width(self, alpha=0.05, *, plain=False) -> float:
        r"""Relative half-width :math:`z_{1-\alpha/2}\,\widehat{SE}/\hat\mu` of the interval."""
        check_is_fitted(self, "mean_")
        est = self.plain_ if plain else self.mean_
        if est.value == 0:
            return np.inf
        return float(stats.norm.ppf(1 - alpha / 2) * est.stderr / abs(est.value))

    def n_tests_needed(self, target=0.3, alpha=0.05, *, plain=False) -> int:
        r"""Tests needed for a relative half-width of ``target``.

        The half-width scales as :math:`1/\sqrt n`, so
        :math:`n^* = n\,(\mathrm{RHW}_n / \mathrm{target})^2`.
        """
        check_is_fitted(self, "mean_")
        if not 0 < target:
            raise ValueError(f"`target` must be a positive relative half-width; got {target}.")
        rhw = self.relative_half_width(alpha, plain=plain)
        return int(np.ceil(self.mean_.n * (rhw / target) ** 2))
