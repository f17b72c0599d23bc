"""Instrumental-variable estimates that assume the exclusion restriction.

Two-stage least squares, and DML-IV: the cross-fitted doubly robust Wald ratio
(the local average treatment effect) for a binary treatment and instrument, or
the partially linear IV model for continuous treatments and several
instruments. They sit beside :class:`InvalidIV` so that a user can see how much
the exclusion assumption moves the answer.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit
from ..inference import ConfidenceSet, Diagnostics, Estimate, EstimateTable
from ..utils._param_validation import (
    CV,
    ESTIMATOR,
    N_JOBS,
    REGRESSOR,
    SEED,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    WeakInstrumentWarning,
    check_aligned,
    check_consistent_length,
    check_nuisance_X,
    check_treatment,
    check_vector,
    check_X,
    feature_names,
    store_feature_names,
    warn_positivity,
)
from ._ar import ar_test, check_ar_args, line_set, projection_set
from ._linear import iv_core

__all__ = ["TSLS", "DMLIV", "tsls"]

#: First-stage F below which a WeakInstrumentWarning is raised (Staiger and Stock, 1997).
WEAK_F = 10.0
SCORES = ("auto", "LATE", "partialling out")


# --------------------------------------------------------------------------- validation


def _validate(X, y, treatment, instrument, models=None, multi=False):
    """Arrays for the IV estimators; ``X=None`` means no covariates.

    The treatment may be binary or continuous; the instrument may have several
    columns, binary or continuous. With ``models`` (the nuisance models, by name),
    ``X`` goes to those models only and follows
    :func:`~causalkit.utils.validation.check_nuisance_X` (a DataFrame stays one; NaN
    only when every model allows it).
    """
    yv = check_vector(y, "y")
    shape = np.shape(treatment) if treatment is not None else ()
    if multi and len(shape) == 2 and shape[1] > 1:  # several endogenous treatments (TSLS)
        d, _ = check_X(treatment, "treatment")
        for j in range(d.shape[1]):
            if d[:, j].min() == d[:, j].max():
                raise ValueError(f"`treatment` (column {j}) takes only the value {d[0, j]:g}; "
                                 "each treatment must vary. Drop that column.")
    else:
        d = check_treatment(treatment, "treatment", binary=False)
    Z, _ = check_X(instrument, "instrument")
    if X is None:
        Xa, names = np.empty((yv.shape[0], 0)), None
    elif models is not None:
        Xa, names = check_nuisance_X(X, models, "X")
    else:
        Xa, names = check_X(X, "X")
    check_consistent_length(X=None if X is None else Xa, y=yv, treatment=d, instrument=Z)
    if d.ndim == 1 and d.min() == d.max():
        raise ValueError(f"`treatment` takes only the value {d[0]:g}; it must vary for its "
                         "effect to be identified.")
    for j in range(Z.shape[1]):
        if Z[0, j] == Z[:, j].min() == Z[:, j].max():
            where = "" if Z.shape[1] == 1 else f" (column {j})"
            raise ValueError(f"`instrument`{where} takes only the value {Z[0, j]:g}; an "
                             "instrument must vary. Drop that column.")
    return Xa, names, yv, d, Z


def _is_binary(v):
    return np.all((v == 0) | (v == 1))


def _hc0_wald(F, target, cols):
    """OLS of ``target`` on ``F``; HC0 Wald statistic of the coefficients ``cols``."""
    coef, *_ = np.linalg.lstsq(F, target, rcond=None)
    u = target - F @ coef
    bread = np.linalg.pinv(F.T @ F)
    V = bread @ ((F * u[:, None] ** 2).T @ F) @ bread
    b = coef[cols]
    Vb = V[np.ix_(cols, cols)]
    wald = float(b @ np.linalg.pinv(Vb) @ b)
    return wald, coef, u


def _warn_weak(F, k, where, stacklevel=3):
    if not np.isfinite(F) or F < WEAK_F:
        warnings.warn(
            f"Weak instrument: the {where} F statistic is {F:.3g} (< {WEAK_F:g}; Staiger and "
            f"Stock, 1997) with {k} instrument(s). The estimate is biased toward the "
            "confounded regression and its normal interval undercovers.",
            WeakInstrumentWarning, stacklevel=stacklevel)


# --------------------------------------------------------------------------- 2SLS


def _tsls(Xa, y, d, Z, method="2SLS"):
    """2SLS (or LIML) with an intercept and ``Xa`` as controls; HC0 covariance; first-stage
    diagnostics. ``d`` holds one treatment (n,) or several (n, m); returns the m
    coefficients, their covariance, the diagnostics and the Anderson-Rubin inputs.
    Linear in n (see :mod:`causalkit.iv._linear`)."""
    n = y.shape[0]
    return iv_core(np.asarray(Xa, dtype=float), np.asarray(y, dtype=float),
                   np.asarray(d, dtype=float).reshape(n, -1), np.asarray(Z, dtype=float), method)


def tsls(X, y, treatment, instrument) -> Estimate:
    r"""Two-stage least squares of ``y`` on ``treatment`` with ``X`` as controls.

    Instruments :math:`(1, X, Z)` for regressors :math:`(1, X, A)`;
    heteroscedasticity-robust (HC0) sandwich standard error. Consistent for the
    effect only under the exclusion restriction (and a constant effect, or it
    targets a weighted LATE). ``X`` may be ``None`` (no covariates).
    """
    yv = np.asarray(y, dtype=float)
    Xa = np.empty((yv.shape[0], 0)) if X is None else np.asarray(X, dtype=float).reshape(len(yv), -1)
    Z = np.asarray(instrument, dtype=float).reshape(len(yv), -1)
    coef, V, _, _ = _tsls(Xa, yv, np.asarray(treatment, dtype=float), Z)
    value, se = float(coef[0]), float(np.sqrt(V[0, 0]))
    ctrl = "covariates as controls" if Xa.shape[1] else "no covariates"
    return Estimate(value, se, n=yv.shape[0],
                    method=f"2SLS with {ctrl}, HC0 SE (assumes exclusion)", name="2SLS")


class TSLS(BaseEstimator):
    r"""Two-stage least squares with covariates as controls (assumes exclusion).

    The coefficient of the treatment :math:`A` in the regression of :math:`Y`
    on :math:`(1, X, A)`, with :math:`(1, X, Z)` as instruments (Wooldridge,
    2010, Section 5.2):
    :math:`\hat\beta = (\hat R^\top R)^{-1}\hat R^\top Y` with
    :math:`\hat R = Q(Q^\top Q)^{-1}Q^\top R`, and the heteroscedasticity-robust
    (HC0) covariance :math:`(\hat R^\top R)^{-1}(\sum_i \hat u_i^2 \hat R_i \hat R_i^\top)
    (R^\top \hat R)^{-1}`. The treatment may be binary or continuous, the
    instrument one column or several (over-identified), and ``X`` may be
    ``None`` (an intercept only).

    The first stage is checked: the heteroscedasticity-robust Wald statistic of
    the instruments' coefficients in the regression of :math:`A` on
    :math:`(1, X, Z)`, divided by the number of instruments, is the first-stage
    F; below 10 (Staiger and Stock, 1997) a
    :class:`~causalkit.utils.validation.WeakInstrumentWarning` is raised.

    With ``method="LIML"`` the limited-information maximum-likelihood estimator,
    the k-class estimator :math:`\hat\beta_\kappa = (R^\top(I - \kappa M_Q)R)^{-1}
    R^\top(I - \kappa M_Q)Y` with :math:`\kappa` the smallest root of
    :math:`|W^\top M_X W - \kappa W^\top M_Q W| = 0`, :math:`W = (Y, A)`, :math:`M_X`
    and :math:`M_Q` the residual makers of :math:`(1, X)` and :math:`(1, X, Z)`
    (Anderson and Rubin, 1949; Davidson and MacKinnon, 2004, Section 8.5);
    :math:`\kappa = 1` is 2SLS, and with one instrument LIML equals 2SLS. Its
    median bias under many or weak instruments is smaller than 2SLS's. The robust
    covariance is :math:`V^{-1}(\sum_i \hat u_i^2 \hat R_i \hat R_i^\top)V^{-1}`
    with :math:`V = (1 - \kappa)R^\top R + \kappa \hat R^\top R`.

    Parameters
    ----------
    method : {"2SLS", "LIML"}, default "2SLS"

    The computation is linear in the number of rows: the data are centred, the
    controls partialled out through the normal equations of the small matrix
    :math:`X^\top X` (Cholesky, one refinement step; Frisch-Waugh-Lovell), and
    every statistic is formed from cross products of the partialled columns; a
    column whose variance is explained to within a share of :math:`10^{-10}` by
    the columns before it is refused by name.

    :meth:`ar_test` and :meth:`ar_conf_int` give the Anderson-Rubin test and
    confidence set, valid whatever the strength of the instruments, for any number
    of instruments and treatments.

    Several endogenous treatments (``treatment`` of shape (n, m), with at least
    :math:`m` instruments) enter :math:`R` together; :meth:`effects` has one row per
    treatment and ``cov_`` their joint covariance. The weak-instrument warning then
    reads the Kleibergen-Paap rk Wald F, since per-treatment first-stage F
    statistics ignore that the instruments may move the treatments only together.

    Attributes
    ----------
    effect_ : Estimate or None
        The coefficient of the one treatment (``None`` with several).
    effects_ : EstimateTable
        One row per endogenous treatment.
    cov_ : ndarray of shape (m, m)
        The HC0 covariance of the treatments' coefficients.
    diagnostics_ : dict
        ``first_stage_F`` (robust; a list with several treatments), its chi-square
        p-value, the instruments' ``first_stage_partial_r2``, ``n_instruments`` and
        ``n_treatments``; the Kleibergen and Paap (2006) rank statistics of the null
        that the first-stage coefficients have rank :math:`m - 1`
        (underidentification), with heteroscedasticity-robust covariances: ``kp_rk_lm``
        and ``kp_rk_lm_pvalue`` (:math:`\chi^2_{k-m+1}`), ``kp_rk_wald`` and the rk
        Wald F ``kp_rk_wald_F`` (:math:`rk_W (n - k - c) / (nk)`, :math:`c` the number
        of exogenous columns, the convention of Stata's ivreg2; with one treatment
        :math:`rk_W` is the robust first-stage Wald statistic); these equal
        linearmodels' ``kleibergen_paap`` and ``kleibergen_paap_f``. With
        ``method="LIML"`` also ``kappa``. With more instruments than treatments, tests
        of the :math:`k - m` over-identifying restrictions (each with its p-value
        under ``..._pvalue``): ``overid_stat``, Wooldridge's (1995)
        heteroscedasticity-robust score test (:math:`n - SSR` from regressing 1 on the
        residual times :math:`k - m` instruments residualised on :math:`(1, X, \hat A)`;
        :math:`\chi^2_{k-m}`); ``overid_sargan``, Sargan's homoscedastic
        :math:`n\,\hat u^\top P_Q \hat u / \hat u^\top\hat u`; both on the residuals of
        the fitted ``method`` (the LIML residuals for LIML); and, from LIML's
        :math:`\hat\kappa` whichever ``method``, the Anderson and Rubin (1949)
        likelihood-ratio statistic ``overid_anderson_rubin`` :math:`= n\ln\hat\kappa`
        (:math:`\chi^2_{k-m}`) and Basmann's ``overid_basmann_F`` :math:`= (\hat\kappa - 1)
        (n - c - k)/(k - m)` (:math:`F_{k-m, n-c-k}`). All equal linearmodels'
        ``wooldridge_overid``, ``sargan``, ``anderson_rubin`` and ``basmann_f`` for the
        same estimator.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    Wooldridge, J. M. (2010). Econometric Analysis of Cross Section and Panel Data, 2nd ed.
    MIT Press.
    Staiger, D. and Stock, J. H. (1997). Instrumental variables regression with weak
    instruments. Econometrica 65(3).
    Kleibergen, F. and Paap, R. (2006). Generalized reduced rank tests using the singular
    value decomposition. Journal of Econometrics 133(1).
    Davidson, R. and MacKinnon, J. G. (2004). Econometric Theory and Methods. Oxford
    University Press.
    Anderson, T. W. and Rubin, H. (1949). Estimation of the parameters of a single equation
    in a complete system of stochastic equations. Annals of Mathematical Statistics 20(1).
    Andrews, I., Stock, J. H. and Sun, L. (2019). Weak instruments in instrumental variables
    regression: theory and practice. Annual Review of Economics 11.
    Dufour, J.-M. and Taamouti, M. (2005). Projection-based statistical inference in linear
    structural models with possibly weak instruments. Econometrica 73(4).
    Wooldridge, J. M. (1995). Score diagnostics for linear models estimated by two stage
    least squares. In Advances in Econometrics and Quantitative Economics, Blackwell.

    Examples
    --------
    >>> from causalkit.iv import TSLS
    >>> from causalkit.datasets import make_linear_iv_data
    >>> d = make_linear_iv_data(5000, n_instruments=2, random_state=0)
    >>> est = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    >>> bool(abs(est.effect().value - d.true_effect) < 4 * est.effect().stderr)
    True
    >>> est.diagnostics_["first_stage_F"] > 10
    True
    >>> liml = TSLS(method="LIML").fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    >>> bool(liml.diagnostics_["kappa"] >= 1.0)
    True
    >>> ar = est.ar_conf_int()   # Anderson-Rubin set with two instruments
    >>> ar.contains(d.true_effect), ar.bounded
    (True, True)
    """

    _parameter_constraints: dict = {"method": [StrOptions({"2SLS", "LIML"})]}

    def __init__(self, method="2SLS"):
        self.method = method

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, treatment, instrument):
        """Fit the two stages; return self.

        Parameters
        ----------
        X : array-like of shape (n, p), or None
            Exogenous covariates (controls); ``None`` for none.
        y : array-like of shape (n,)
        treatment : array-like of shape (n,) or (n, m)
            The endogenous regressor, binary or continuous; or several (then
            :meth:`effects` has one row per column, and ``instrument`` needs at
            least ``m`` columns).
        instrument : array-like of shape (n,) or (n, k)
            One or several instruments, binary or continuous.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, instrument=instrument)
        Xa, names, yv, d, Z = _validate(X, y, treatment, instrument, multi=True)
        coef, V, diag, self._ar = _tsls(Xa, yv, d, Z, self.method)
        m = coef.size
        if m == 1:
            _warn_weak(diag["first_stage_F"], Z.shape[1], "robust first-stage")
        else:
            _warn_weak(diag["kp_rk_wald_F"], Z.shape[1], "Kleibergen-Paap rk Wald")
        ctrl = "covariates as controls" if Xa.shape[1] else "no covariates"
        how = "2SLS" if self.method == "2SLS" else f"LIML (kappa = {diag['kappa']:.6g})"
        method = (f"{how} with {ctrl}, {Z.shape[1]} instrument(s), {m} treatment(s), HC0 SE "
                  "(assumes exclusion)") if m > 1 else (
            f"{how} with {ctrl}, {Z.shape[1]} instrument(s), HC0 SE (assumes exclusion)")
        tnames = feature_names(treatment) if m > 1 else None
        labels = ([self.method] if m == 1 else
                  [f"{self.method}: {c}" for c in (tnames if tnames is not None else
                                                   [f"treatment[{j}]" for j in range(m)])])
        rows = [Estimate(float(coef[j]), float(np.sqrt(V[j, j])), n=yv.shape[0],
                         name=labels[j], method=method) for j in range(m)]
        self.effects_ = EstimateTable(rows, title="Effects of the endogenous treatments")
        self.effect_ = rows[0] if m == 1 else None
        self.cov_ = np.array(V, dtype=float)
        self.diagnostics_ = Diagnostics(diag)
        self.n_features_in_ = Xa.shape[1]
        store_feature_names(self, names)
        return self

    def effect(self) -> Estimate:
        """The treatment coefficient as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "effects_")
        if self.effect_ is None:
            raise ValueError(f"This fit has {len(self.effects_)} endogenous treatments; call "
                             "effects() for their coefficients.")
        return self.effect_

    def effects(self) -> EstimateTable:
        """Every treatment's coefficient (one row per endogenous treatment)."""
        check_is_fitted(self, "effects_")
        return self.effects_

    def ar_test(self, value, cov_type: str = "robust"):
        r"""Anderson-Rubin test of the treatments' coefficients equal to ``value``.

        The Wald statistic of the instruments' coefficients in the regression of
        :math:`Y - A b` on :math:`(1, X, Z)`, :math:`\chi^2_k` under the null whatever
        the strength of the instruments (Anderson and Rubin, 1949); with several
        treatments a joint test of the whole vector.

        Parameters
        ----------
        value : float or array-like of shape (m,)
        cov_type : {"robust", "unadjusted"}, default "robust"
            HC0 covariance, or the homoscedastic one (residual variance with divisor n).

        Returns
        -------
        Diagnostics
            ``statistic``, ``pvalue``, ``df`` (the number of instruments) and ``method``.
        """
        check_is_fitted(self, "effects_")
        check_ar_args(0.05, cov_type)
        m = self._ar["m"]
        b = np.atleast_1d(np.asarray(value, dtype=float))
        if b.shape != (m,) or not np.all(np.isfinite(b)):
            raise ValueError(f"`value` must be {m} finite number(s), one per treatment; got "
                             f"{value!r}.")
        stat, p, df = ar_test(self._ar, b, cov_type)
        return Diagnostics({"statistic": stat, "pvalue": p, "df": df, "method": (
            f"Anderson-Rubin test, {cov_type} covariance, chi2_{df}")})

    def ar_conf_int(self, alpha: float = 0.05, cov_type: str = "robust"):
        r"""Anderson-Rubin confidence set, robust to weak instruments.

        The values :math:`b` at which the Anderson-Rubin test (:meth:`ar_test`) does
        not reject at level ``alpha`` (Anderson and Rubin, 1949; heteroscedasticity-robust
        as in Andrews, Stock and Sun, 2019, Section 5). Its coverage does not depend on
        the instruments' strength.

        **One treatment** (any number :math:`k` of instruments): the exact set. With the
        reduced-form coefficients :math:`\hat a` (of :math:`Y`) and :math:`\hat\pi`
        (of :math:`A`) on the instruments and their joint covariance,
        :math:`AR(b) = (\hat a - b\hat\pi)^\top\Sigma(b)^{-1}(\hat a - b\hat\pi)
        \le c = \chi^2_{k, 1-\alpha}` if and only if
        :math:`\det(c\,\Sigma(b) - (\hat a - b\hat\pi)(\hat a - b\hat\pi)^\top) \ge 0`,
        a polynomial inequality of degree :math:`2k` in :math:`b` whose real roots (a
        quadratic eigenvalue problem) bound the set; for ``cov_type="unadjusted"``,
        :math:`\Sigma(b) = (v^\top\hat\Omega v)(\tilde Z^\top\tilde Z)^{-1}`, it is the
        quadratic inequality of Dufour and Taamouti (2005). What the shape means:

        - a bounded interval (or, robust with :math:`k > 1`, a union of bounded
          intervals) when the first stage rejects a zero effect of the instruments at
          level ``alpha`` (its Wald statistic, :math:`k` times the first-stage F,
          exceeds :math:`c`: as :math:`|b| \to \infty`, :math:`AR(b)` tends to it);
        - otherwise two half-lines or the whole line: the data cannot rule out any
          large effect, because the instruments barely move the treatment;
        - empty (with :math:`k > 1`) when every value is rejected, which is evidence
          against the model (the instruments' exclusion or a constant effect), not a
          precise estimate. For the unadjusted statistic this happens exactly when
          :math:`n(\hat\kappa_{LIML} - 1) > c`.

        **Several treatments** (:math:`m > 1`): a list with one set per treatment, the
        projection of the joint AR set :math:`\{b : AR(b) \le \chi^2_{k,1-\alpha}\}` on
        that coefficient (Dufour and Taamouti, 2005): valid (coverage at least
        :math:`1 - \alpha`) and conservative. It is found by grid inversion: 223 values
        around the estimate (201 on a tangent scale within 64 standard errors, the rest
        out to :math:`10^{12}` standard errors; a set still open there is reported as
        a half-line), with the ends refined by bisection; for each value the minimum of the statistic
        over the other coefficients is exact for ``cov_type="unadjusted"`` (a generalised
        eigenvalue) and for two robust treatments (the other coefficient's exact set),
        and found by BFGS from the estimate and the unadjusted minimiser otherwise (a
        few seconds per coefficient). Pieces narrower than the grid spacing can be
        missed. Each set's ``method`` says which was used.

        Parameters
        ----------
        alpha : float in (0, 1), default 0.05
        cov_type : {"robust", "unadjusted"}, default "robust"

        Returns
        -------
        ConfidenceSet or list of ConfidenceSet
            A list of intervals ``(lower, upper)`` (infinite ends for half-lines) with
            ``method``, ``alpha`` and ``name``; one per treatment when there are several.
        """
        check_is_fitted(self, "effects_")
        check_ar_args(alpha, cov_type)
        ar = self._ar
        k, m = ar["k"], ar["m"]
        c = float(stats.chi2.ppf(1 - alpha, k))
        names = self.effects_.names
        if m == 1:
            v0, v1 = np.r_[1.0, 0.0], np.r_[0.0, -1.0]
            sets = line_set(ar, v0, v1, c, cov_type)
            how = (f"Anderson-Rubin set by test inversion, {cov_type} covariance, {k} "
                   f"instrument(s), chi2_{k} critical value, exact (real roots of "
                   f"det(c Sigma(b) - x(b)x(b)') of degree {2 * k if cov_type == 'robust' else 2})")
            return ConfidenceSet(sets, method=how, alpha=alpha, name=names[0])
        out = []
        for j in range(m):
            sets, how = projection_set(ar, j, c, cov_type)
            out.append(ConfidenceSet(sets, method=f"Anderson-Rubin {how}, {cov_type} covariance",
                                     alpha=alpha, name=names[j]))
        return out


# --------------------------------------------------------------------------- DML-IV


def _late_scores(z, a, y, pi, ma0, ma1, my0, my1, return_parts=False):
    """Doubly robust Wald ratio (LATE) with its influence-function SE."""
    num = my1 - my0 + z * (y - my1) / pi - (1 - z) * (y - my0) / (1 - pi)
    den = ma1 - ma0 + z * (a - ma1) / pi - (1 - z) * (a - ma0) / (1 - pi)
    d = den.mean()
    theta = num.mean() / d
    infl = (num - theta * den) / d
    # mean(num - theta den) = 0, so this is the root mean square of the influence values / sqrt(n)
    se = float(np.sqrt(np.mean(infl**2) / infl.size))
    est = Estimate(float(theta), se, n=int(z.size),
                   method="DML-IV doubly robust Wald ratio, influence-function SE (assumes exclusion)",
                   name="LATE (DML-IV)")
    if return_parts:
        return est, den
    return est


def _pliv(y, d, Z, l_hat, r_hat, m_hat):
    r"""Partially linear IV, partialling-out score (Chernozhukov et al., 2018, Section 4.2).

    Residuals :math:`\tilde Y = Y - \hat\ell(X)`, :math:`\tilde A = A - \hat r(X)`,
    :math:`\tilde Z = Z - \hat m(X)`; with several instruments :math:`\tilde Z` is
    replaced by the least-squares projection :math:`\hat\zeta` of :math:`\tilde A` on
    :math:`(1, \tilde Z)`. Then :math:`\hat\theta = \sum \hat\zeta\tilde Y / \sum \hat\zeta\tilde A`
    and :math:`\widehat{SE} = \sqrt{\mathrm{mean}(\psi^2) / J^2 / n}` with
    :math:`\psi = \hat\zeta(\tilde Y - \hat\theta\tilde A)`, :math:`J = \mathrm{mean}(\hat\zeta\tilde A)`.
    """
    u, w, v = y - l_hat, d - r_hat, Z - m_hat
    n, k = v.shape
    F = np.c_[np.ones(n), v]
    wald, coef, _ = _hc0_wald(F, w, list(range(1, k + 1)))
    zeta = v[:, 0] if k == 1 else F @ coef
    J = float(np.mean(zeta * w))
    theta = float(np.mean(zeta * u) / J)
    psi = zeta * (u - theta * w)
    se = float(np.sqrt(np.mean(psi**2) / J**2 / n))
    return theta, se, wald / k


class DMLIV(BaseEstimator):
    r"""Cross-fitted IV effects: the doubly robust Wald ratio (LATE) or the partially linear IV model.

    With a binary treatment and one binary instrument (``score="auto"`` or
    ``"LATE"``), the local average treatment effect by the doubly robust Wald ratio

    .. math::

        \hat\theta = \frac{\sum_i \hat\mu_Y(1, X_i) - \hat\mu_Y(0, X_i)
            + \frac{Z_i (Y_i - \hat\mu_Y(1, X_i))}{\hat\pi(X_i)}
            - \frac{(1 - Z_i)(Y_i - \hat\mu_Y(0, X_i))}{1 - \hat\pi(X_i)}}
            {\sum_i \text{the same with } A \text{ in place of } Y},

    the interactive IV model score of Chernozhukov et al. (2018, Section 5.2)
    (DoubleML's IIVM). Valid under exclusion, independence and monotonicity; it
    estimates the complier effect, not the population ATE.

    Otherwise (a continuous treatment, a continuous instrument, several
    instruments; or ``score="partialling out"``), the partially linear IV model
    :math:`Y = \theta A + g(X) + \varepsilon`, :math:`E[\varepsilon \mid Z, X] = 0`,
    by the partialling-out score of Chernozhukov et al. (2018, Section 4.2)
    (DoubleML's PLIV): :math:`\hat\theta = \sum_i \tilde Z_i \tilde Y_i / \sum_i \tilde Z_i \tilde A_i`
    with cross-fitted residuals :math:`\tilde Y = Y - \hat E[Y \mid X]`,
    :math:`\tilde A = A - \hat E[A \mid X]`, :math:`\tilde Z = Z - \hat E[Z \mid X]`;
    with several instruments :math:`\tilde Z` is replaced by the linear projection of
    :math:`\tilde A` on :math:`(1, \tilde Z)` (two-stage least squares on the residuals).

    With ``X=None`` there is nothing to learn: the nuisances are the sample
    means (per instrument arm for the LATE), so the LATE is the Wald estimator
    and the partially linear estimate is 2SLS with an intercept, with the same
    robust standard error.

    A first-stage F below 10 raises a
    :class:`~causalkit.utils.validation.WeakInstrumentWarning`: for the LATE the
    squared t-ratio of the complier share (the mean of the denominator scores),
    for the partially linear model the robust Wald statistic of :math:`\tilde A`
    on :math:`\tilde Z`, divided by the number of instruments.

    Parameters
    ----------
    model_y : regressor, optional
        :math:`E[Y \mid Z, X]` per instrument arm (LATE) or :math:`E[Y \mid X]`.
        Default HistGradientBoostingRegressor.
    model_t : estimator, optional
        :math:`E[A \mid Z, X]` per instrument arm (LATE) or :math:`E[A \mid X]`.
        Default a regularised HistGradientBoostingClassifier for the LATE, a
        HistGradientBoostingRegressor otherwise.
    model_z : estimator, optional
        :math:`P(Z = 1 \mid X)` (LATE) or :math:`E[Z_j \mid X]` per instrument column.
        Default as ``model_t``.
    score : {"auto", "LATE", "partialling out"}, default "auto"
        ``"auto"`` takes the LATE when the treatment and the (single) instrument are binary.
    cv : int or splitter, default 5
    trimming_threshold : float in [0, 0.5), default 0.01
        LATE only: instrument propensities are clipped to ``[t, 1 - t]``.
    n_jobs : int or None, default None
    random_state : int or None, default None

    Attributes
    ----------
    effect_ : Estimate
    score_ : str
        ``"LATE"`` or ``"partialling out"``.
    diagnostics_ : dict
        ``first_stage_F``, ``n_instruments`` and (LATE) ``complier_share``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. The Econometrics Journal 21(1).
    Tan, Z. (2006). Regression and weighting methods for causal inference using
    instrumental variables. JASA 101(476).

    Examples
    --------
    >>> from causalkit.iv import DMLIV
    >>> from causalkit.datasets import make_invalid_iv_data
    >>> d = make_invalid_iv_data(4000, random_state=0)
    >>> est = DMLIV(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    >>> est.late().value > 1.5   # biased by the direct effect of the instrument
    True
    """

    _parameter_constraints: dict = {
        "model_y": [REGRESSOR, None],
        "model_t": [ESTIMATOR, None],
        "model_z": [ESTIMATOR, None],
        "score": [StrOptions(set(SCORES))],
        "cv": CV,
        "trimming_threshold": [Interval(Real, 0, 0.5, closed="left")],
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def __init__(self, model_y=None, model_t=None, model_z=None, *, score="auto", cv=5,
                 trimming_threshold=0.01, n_jobs=None, random_state=None):
        self.model_y = model_y
        self.model_t = model_t
        self.model_z = model_z
        self.score = score
        self.cv = cv
        self.trimming_threshold = trimming_threshold
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, treatment, instrument):
        """Cross-fit the nuisances and compute the effect; return self.

        Parameters
        ----------
        X : array-like of shape (n, p), or None
            Covariates; ``None`` for none.
        y : array-like of shape (n,)
        treatment : array-like of shape (n,)
            Binary or continuous.
        instrument : array-like of shape (n,) or (n, k)
            One or several instruments.

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, treatment=treatment, instrument=instrument)
        thr = float(self.trimming_threshold)
        default = HistGradientBoostingRegressor()  # every default nuisance is a HistGradientBoosting
        models = {k: (m if m is not None else default) for k, m in (
            ("model_y", self.model_y), ("model_t", self.model_t), ("model_z", self.model_z))}
        Xa, names, yv, a, Z = _validate(X, y, treatment, instrument, models)
        if Z.shape[1] == 1:  # the coding rule for a one-column instrument, as for treatments
            check_treatment(Z[:, 0], "instrument", binary=False)
        binary = Z.shape[1] == 1 and _is_binary(Z[:, 0]) and _is_binary(a)
        score = self.score
        if score == "auto":
            score = "LATE" if binary else "partialling out"
        if score == "LATE" and not binary:
            raise ValueError(
                "score='LATE' needs a binary 0/1 `treatment` and one binary 0/1 `instrument`; got "
                f"{'a non-binary treatment' if not _is_binary(a) else 'a non-binary or multi-column instrument'}. "
                "Use score='partialling out' (the partially linear IV model) or recode them.")
        if score == "LATE":
            self._fit_late(Xa, yv, a, Z[:, 0], thr, X is None)
        else:
            self._fit_pliv(Xa, yv, a, Z, X is None)
        self.score_ = score
        self.n_features_in_ = Xa.shape[1]
        store_feature_names(self, names)
        return self

    def _fit_late(self, Xa, yv, a, z, thr, no_x):
        if no_x:
            pi = np.full_like(z, z.mean())
            arm = {v: (yv[z == v].mean(), a[z == v].mean()) for v in (0, 1)}
            y0, y1 = np.full_like(yv, arm[0][0]), np.full_like(yv, arm[1][0])
            a0, a1 = np.full_like(yv, arm[0][1]), np.full_like(yv, arm[1][1])
            how = "no covariates: nuisances are the instrument-arm means (the Wald estimator)"
        else:
            def clf():
                return HistGradientBoostingClassifier(max_leaf_nodes=8, min_samples_leaf=40,
                                                      learning_rate=0.05, max_iter=100)

            my = self.model_y if self.model_y is not None else HistGradientBoostingRegressor()
            mt = self.model_t if self.model_t is not None else clf()
            mz = self.model_z if self.model_z is not None else clf()
            spec = {"y0": Nuisance(my, yv, fit_mask=z == 0), "y1": Nuisance(my, yv, fit_mask=z == 1),
                    "z": Nuisance(mz, z, method="predict_proba")}
            # One-sided noncompliance: where the treatment is constant within an instrument
            # arm, E[A | Z = z, X] is that constant; a classifier fitted on one class would
            # return a one-column probability, so the arm is not fitted at all.
            constant = {}
            for v in (0, 1):
                arm = a[z == v]
                if arm.min() == arm.max():
                    constant[v] = float(arm[0])
                else:
                    spec[f"a{v}"] = Nuisance(mt, a, fit_mask=z == v)
            res = crossfit(spec, Xa, cv=self.cv, stratify=(2 * z + a).astype(int),
                           n_jobs=self.n_jobs, random_state=self.random_state, keep_models=False)
            pi = res["z"]
            warn_positivity(pi, max(thr, 1e-12), name="instrument propensity")
            pi = np.clip(pi, thr, 1 - thr) if thr > 0 else pi
            y0, y1 = res["y0"], res["y1"]
            a0, a1 = (np.full_like(yv, constant[v]) if v in constant else res[f"a{v}"]
                      for v in (0, 1))
            how = f"{len(res.folds)}-fold cross-fitted"
            if constant:
                how += ("; treatment constant in instrument arm(s) "
                        + ", ".join(f"Z={v} (A={c:g})" for v, c in constant.items()))
        est, den = _late_scores(z, a, yv, pi, a0, a1, y0, y1, return_parts=True)
        share = float(den.mean())
        share_se = float(den.std() / np.sqrt(den.size))
        F = (share / share_se) ** 2 if share_se > 0 else np.inf
        _warn_weak(F, 1, "first-stage (complier share)", stacklevel=4)
        self.effect_ = Estimate(est.value, est.stderr, n=est.n, name=est.name, method=(
            f"DML-IV doubly robust Wald ratio, {how}, influence-function SE (assumes exclusion)"))
        self.diagnostics_ = Diagnostics({"first_stage_F": float(F), "complier_share": share,
                             "complier_share_se": share_se, "n_instruments": 1})

    def _default(self, model, target):
        if model is None:
            return HistGradientBoostingRegressor()
        if is_classifier(model) and not _is_binary(target):
            raise TypeError(f"{type(model).__name__} is a classifier, but its target is not "
                            "binary 0/1; pass a regressor for a continuous treatment or instrument.")
        return model

    def _fit_pliv(self, Xa, yv, a, Z, no_x):
        k = Z.shape[1]
        if no_x:
            l_hat = np.full_like(yv, yv.mean())
            r_hat = np.full_like(a, a.mean())
            m_hat = np.broadcast_to(Z.mean(axis=0), Z.shape)
            how = "no covariates: nuisances are the sample means (2SLS with an intercept)"
        else:
            my = self._default(self.model_y, yv)
            mt = self._default(self.model_t, a)
            spec = {"l": Nuisance(my, yv), "r": Nuisance(mt, a)}
            for j in range(k):
                spec[f"m[{j}]"] = Nuisance(self._default(self.model_z, Z[:, j]), Z[:, j])
            res = crossfit(spec, Xa, cv=self.cv, n_jobs=self.n_jobs,
                           random_state=self.random_state, keep_models=False)
            l_hat, r_hat = res["l"], res["r"]
            m_hat = np.column_stack([res[f"m[{j}]"] for j in range(k)])
            how = f"{len(res.folds)}-fold cross-fitted"
        if np.allclose(Z - m_hat, 0):
            raise ValueError("`instrument` is a function of `X` (its residual on X is zero); "
                             "it carries no variation beyond the covariates.")
        theta, se, F = _pliv(yv, a, Z, l_hat, r_hat, m_hat)
        _warn_weak(F, k, "robust first-stage", stacklevel=4)
        self.effect_ = Estimate(theta, se, n=yv.shape[0], name="theta (PLIV)", method=(
            f"DML-IV partially linear IV model, partialling-out score, {k} instrument(s), {how}, "
            "influence-function SE (assumes exclusion)"))
        self.diagnostics_ = Diagnostics({"first_stage_F": float(F), "n_instruments": k})

    def effect(self) -> Estimate:
        """The estimated effect (LATE or partially linear coefficient)."""
        check_is_fitted(self, "effect_")
        return self.effect_

    def late(self) -> Estimate:
        """The local average treatment effect as an :class:`~causalkit.inference.Estimate`."""
        check_is_fitted(self, "effect_")
        if self.score_ != "LATE":
            raise ValueError("This fit estimated the partially linear IV coefficient, not a LATE "
                             "(the treatment or instrument is not binary, or score='partialling "
                             "out'); call effect().")
        return self.effect_
