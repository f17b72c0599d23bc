"""Sharp and fuzzy regression discontinuity with a scalar outcome."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..inference import Estimate, EstimateTable
from ..utils._param_validation import (
    NONNEG_INT,
    NONNEG_REAL,
    POS_INT,
    POS_REAL,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    CausalkitWarning,
    FewObservationsWarning,
    WeakInstrumentWarning,
    check_aligned,
    check_groups,
    check_treatment,
    check_vector,
    check_weights,
    store_feature_names,
)
from . import _lpcore as L
from ._r3d import check_running_variable

__all__ = ["RDD", "MassPointsWarning", "rd_bandwidth", "rd_batch"]

_KERNELS = {"triangular": "triangular", "tri": "triangular", "epanechnikov": "epanechnikov",
            "epa": "epanechnikov", "uniform": "uniform", "uni": "uniform"}
BWSELECT = ("mserd", "msetwo", "msesum", "msecomb1", "msecomb2",
            "cerrd", "certwo", "cersum", "cercomb1", "cercomb2")
_VCE = ("nn", "hc0", "hc1", "hc2", "hc3", "cr1", "cr2", "cr3")
_MASSPOINTS = ("adjust", "check", "off")
_BIAS_COEFFICIENT = ("p+1", "q")
_CLUSTER_LABEL = {"hc0": "CR1", "cr2": "CR2", "cr3": "CR3"}


class MassPointsWarning(CausalkitWarning):
    """The running variable has repeated values (mass points).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from causalkit.datasets import make_rdd_data
    >>> from causalkit.rdd import RDD, MassPointsWarning
    >>> d = make_rdd_data(1000, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = RDD(bandwidth=0.5).fit(np.round(d.X, 2), d.y)   # a running variable in steps
    >>> any(issubclass(w.category, MassPointsWarning) for w in caught)
    True
    """


def _check_passed_params(cls, params, func):
    """``**params`` forwarded to ``cls`` must be its ``__init__`` arguments."""
    known = cls._get_param_names()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TypeError(f"`{unknown[0]}` is not an argument of {func}: its keyword arguments are "
                        f"passed to {cls.__name__}, whose parameters are {known}. Remove it or "
                        f"use one of those.")


def _pair(value, name):
    """A positive number or a pair (left, right) of positive numbers, as a pair of floats."""
    msg = (f"`{name}` must be a positive number or a pair (left, right) of positive numbers; "
           f"got {value!r}.")
    if isinstance(value, (str, bytes, bool)):
        raise ValueError(msg)
    if isinstance(value, numbers.Real):
        vals = (float(value), float(value))
    else:
        try:
            arr = np.asarray(value, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError(msg) from None
        if arr.shape[0] != 2:
            raise ValueError(msg)
        vals = (float(arr[0]), float(arr[1]))
    if not all(np.isfinite(v) and v > 0 for v in vals):
        raise ValueError(msg)
    return vals


class _Design:
    """Validated, sorted data of one RD problem (both sides)."""

    def __init__(self, x, cutoff, Y, t, Z, w, g):
        xc = x - float(cutoff) + 0.0  # + 0.0: no negative zeros
        # the one sort of the fit; the order within tied values does not matter (every
        # computation treats a block of ties as a whole)
        order = np.argsort(xc)
        xc = xc.take(order)
        cols = [Y] + ([] if t is None else [t]) + ([] if Z is None else [Z])
        D = (cols[0] if len(cols) == 1 else np.column_stack(cols)).take(order, axis=0)
        w = w if np.all(w == 1.0) else w.take(order)  # all ones: the same in any order
        g = None if g is None else g.take(order)
        nl = int(np.searchsorted(xc, 0.0, "left"))
        self.left = L.Side(xc[:nl], D[:nl], w[:nl], None if g is None else g[:nl], True)
        self.right = L.Side(xc[nl:], D[nl:], w[nl:], None if g is None else g[nl:], False)
        self.n = xc.shape[0]
        self.n_y = Y.shape[1]
        self.fuzzy = t is not None
        self.n_z = 0 if Z is None else Z.shape[1]
        self.xc = xc


def _validate(X, y, cutoff, treatment, covariates, groups, sample_weight, multi=False):
    x, names = check_running_variable(X, cutoff)
    n = x.shape[0]
    if multi:
        Y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=float)
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape[0] != n:
            raise ValueError(f"`y` must have one row per unit ({n}); got shape {Y.shape}.")
        if not np.all(np.isfinite(Y)):
            raise ValueError("`y` contains NaN or infinite values; drop or impute those rows.")
    else:
        Y = check_vector(y, "y", n=n)[:, None]
    t = None
    if treatment is not None:
        t = check_treatment(treatment, "treatment", binary=False, n=n)
    Z = None
    if covariates is not None:
        Z = np.asarray(covariates.to_numpy() if hasattr(covariates, "to_numpy") else covariates)
        if Z.dtype.kind not in "biuf":
            raise TypeError(f"`covariates` must be numeric; got dtype {Z.dtype}. Encode "
                            "categorical covariates as dummies first.")
        Z = Z.astype(float)
        if Z.ndim == 1:
            Z = Z[:, None]
        if Z.ndim != 2 or Z.shape[0] != n:
            raise ValueError(f"`covariates` must have one row per unit ({n}); got shape "
                             f"{Z.shape}.")
        if not np.all(np.isfinite(Z)):
            raise ValueError("`covariates` contains NaN or infinite values; drop or impute "
                             "those rows.")
    w = check_weights(sample_weight, "sample_weight", n=n)
    w = np.ones(n) if w is None else w
    g = check_groups(groups, "groups", n=n)
    return x, names, Y, t, Z, w, g


class _Combo:
    """The linear combination ``s`` of the columns (outcome, treatment, covariates)
    that the variance and bias constants use: fuzzy by the delta method, covariates
    by their coefficients ``gamma`` (Calonico, Cattaneo, Farrell and Titiunik 2019)."""

    def __init__(self, fuzzy, n_z, n_cols):
        self.fuzzy, self.n_z, self.n_cols = fuzzy, n_z, n_cols

    def from_jumps(self, tau, gamma):
        """``s`` for column jumps ``tau`` (length n_cols) and coefficients ``gamma``."""
        s = np.zeros(self.n_cols)
        nz = self.n_z
        if not self.fuzzy:
            s[0] = 1.0
            if nz:
                s[1:] = -gamma[:, 0]
            return s
        ty, tt = tau[0], tau[1]
        if nz:
            ty, tt = ty - tau[2:] @ gamma[:, 0], tt - tau[2:] @ gamma[:, 1]
        s[0], s[1] = 1 / tt, -ty / tt**2
        if nz:
            s[2:] = -gamma[:, 0] / tt + ty * gamma[:, 1] / tt**2
        return s

    def __call__(self, fit, h, nu, D):
        """``s`` inside bandwidth selection: the side's own coefficients of order ``nu``
        stand in for the jumps, and ``gamma`` comes from the side's own fit."""
        gamma = None
        if self.n_z:
            gamma = _solve_gamma(_cross(D, fit), self.n_cols, self.n_z)
        return self.from_jumps(fit["beta"][nu] / h**nu, gamma)


def _cross(D, fit):
    """Kernel-weighted cross-products of the residuals of a one-sided fit, and the
    weighted sums of squares of the columns (for the collinearity check)."""
    e = D - fit["R"] @ fit["beta"]
    k = fit["k"]
    return np.vstack([(e * k[:, None]).T @ e, (D * D * k[:, None]).sum(axis=0)])


def _solve_gamma(C, k, nz):
    C, ss = C[:k], C[k]
    cz, cy = slice(k - nz, k), slice(0, k - nz)
    A, Bm = C[cz, cz], C[cz, cy]
    scale = np.sqrt(np.clip(np.diag(A), 0, None))
    if (not np.all(scale**2 > 1e-10 * ss[cz])
            or np.linalg.cond(A / np.outer(scale, scale)) > 1e12):
        raise ValueError(
            "`covariates` are collinear (or constant) among the units inside the bandwidth: "
            "their coefficients are not identified. Drop the redundant or constant columns.")
    return np.linalg.solve(A, Bm)


def _bandwidths(des, *, p, q, deriv, kernel, vce, nnmatch, bwselect, scaleregul, masspoints,
                bwcheck, bwrestrict, combo, bias_coefficient="p+1"):
    """Selected ``(h_left, h_right, b_left, b_right)`` and the pilot used.

    ``combo`` is a function of the pilot bandwidth that returns the linear
    combination of the columns (see :class:`_Combo`)."""
    xc = des.xc
    n = des.n
    if masspoints == "adjust":
        n_pilot = des.left.n_unique + des.right.n_unique  # no tie spans the cutoff
    else:
        n_pilot = n
    # sample quartiles by the averaged inverse of the empirical cdf (Hyndman-Fan type 2)
    q1, q3 = np.quantile(xc, [0.25, 0.75], method="averaged_inverted_cdf")
    iqr = q3 - q1
    sd = np.std(xc, ddof=1)
    c_bw = L.PILOT[kernel] * min(sd, iqr / 1.349) * n_pilot ** (-1 / 5)
    bw_max = max(abs(xc[0]), abs(xc[-1]))
    c_bw = min(c_bw, bw_max)
    if bwcheck is None and masspoints == "adjust":
        bwcheck = 10
    if bwcheck is not None:
        # enlarged (by a relative sqrt(machine eps), so that the farthest distinct value
        # keeps a positive kernel weight) to hold ``bwcheck`` distinct values per side
        bw_min = max(des.left.unique_distance(bwcheck), des.right.unique_distance(bwcheck))
        bw_min *= 1 + math.sqrt(np.finfo(float).eps)
        c_bw = max(c_bw, bw_min)
    else:
        bw_min = 0.0
    return L.select_bandwidth(des.left, des.right, p=p, q=q, deriv=deriv, kernel=kernel, vce=vce,
                              nnmatch=nnmatch, bwselect=bwselect, scaleregul=scaleregul,
                              c_bw=c_bw, bw_max=bw_max if bwrestrict else None,
                              combo=combo,
                              n_rate=_cer_n(des), bw_min=bw_min,
                              bias_coefficient=bias_coefficient, x_scale=sd), c_bw


def _check_groups(g):
    """Cluster codes ``g`` (or None) must form at least two clusters, not all singletons."""
    if g is None:
        return
    sizes = np.bincount(g)
    if sizes.shape[0] < 2:
        raise ValueError("`groups` has a single cluster; cluster-robust standard errors "
                         "need at least two. Drop `groups` or pass finer clusters.")
    if sizes.max() == 1:
        raise ValueError("every cluster in `groups` holds a single unit, which is the "
                         "heteroskedasticity-robust case: drop `groups` and use "
                         "vce='hc1' (or 'nn').")


def _cer_n(des):
    """Sample size of the CER rule: units, or with clusters the clusters of each side summed."""
    if des.left.g is None:
        return des.n
    return int(np.unique(des.left.g).shape[0] + np.unique(des.right.g).shape[0])


def rd_bandwidth(X, y, *, cutoff=0.0, p=None, q=None, deriv=0, kernel="triangular", treatment=None,
                 covariates=None, groups=None, bwselect="mserd", vce="nn", nnmatch=3,
                 scaleregul=1.0, masspoints="adjust", bwcheck=None, bwrestrict=True,
                 bias_coefficient="p+1", sample_weight=None):
    r"""Data-driven bandwidths ``(h_left, h_right, b_left, b_right)`` for local polynomial RD.

    The three-step plug-in of Calonico, Cattaneo and Titiunik (2014, sec. 4): a
    pilot :math:`c = C_K \min(sd, IQR/1.349) n^{-1/5}` for the variance constants,
    a bandwidth ``d`` for the derivative of order ``q + 1`` from order ``q + 2``
    fits over the whole range, then ``b`` (order ``q``, for the bias of the
    order-``p`` fit) and ``h`` (order ``p``, derivative ``deriv``) from

    .. math:: h = \left[\frac{V_- + V_+}{(B_+ - B_-)^2 + R_- + R_+}\right]^{1/(2p+3)},

    with :math:`V` the variance constant (by ``vce``), :math:`B` the bias constant
    and :math:`R` the regularisation term (``scaleregul`` x 3 x the variance of the
    bias estimate). ``bwselect`` picks the target (Calonico, Cattaneo, Farrell and
    Titiunik 2019): "mserd" the jump, "msetwo" each side alone, "msesum" the sum of
    the two limits, "msecomb1" ``min(mserd, msesum)``, "msecomb2" the median of
    (msetwo, mserd, msesum) per side; the "cer" versions rescale by
    :math:`n^{-p/((p+3)(2p+3))}`, the coverage-error rule of Calonico, Cattaneo and
    Farrell (2020). With ``masspoints="adjust"`` the pilot uses the number of
    distinct values of ``X`` and is enlarged to hold ``bwcheck`` (default 10)
    distinct values per side. The parameters are those of :class:`RDD`.

    Examples
    --------
    >>> from causalkit.datasets import make_rdd_data
    >>> from causalkit.rdd import rd_bandwidth
    >>> d = make_rdd_data(2000, effect=0.5, random_state=0)
    >>> [round(v, 3) for v in rd_bandwidth(d.X, d.y)]
    [0.227, 0.227, 0.327, 0.327]
    """
    check_aligned(X=X, y=y, treatment=treatment, covariates=covariates, groups=groups,
                  sample_weight=sample_weight)
    est = RDD(cutoff=cutoff, p=p, q=q, deriv=deriv, kernel=kernel, bwselect=bwselect, vce=vce,
              nnmatch=nnmatch, scaleregul=scaleregul, masspoints=masspoints, bwcheck=bwcheck,
              bwrestrict=bwrestrict, bias_coefficient=bias_coefficient)
    est._validate_params()
    est._resolve_params()
    x, _, Y, t, Z, w, g = _validate(X, y, cutoff, treatment, covariates, groups, sample_weight)
    _check_groups(g)
    des = _Design(x, cutoff, Y, t, Z, w, g)
    bw, _ = est._select(des)
    return tuple(float(v) for v in bw)


class RDD(BaseEstimator):
    r"""Sharp, fuzzy and kink regression discontinuity by local polynomials, with robust inference.

    One-sided weighted least squares of order ``p`` with kernel weights
    :math:`K((X_i - c)/h)\,w_i/h` give the limits :math:`\hat\mu_\pm^{(\nu)}` of the
    ``nu``-th derivative of :math:`E[Y \mid X]` at the cutoff;
    :math:`\hat\tau = \hat\mu_+ - \hat\mu_-` (sharp) or its ratio to the jump in
    :math:`E[T \mid X]` (fuzzy). The bias :math:`h^{p+1-\nu}\mathcal B` is estimated
    by an order-``q`` fit at bandwidth ``b`` and subtracted; the robust standard
    error accounts for that estimate (Calonico, Cattaneo and Titiunik 2014,
    Theorem 1 and eq. 11). ``covariates`` enter linearly with common coefficients
    on both sides (Calonico, Cattaneo, Farrell and Titiunik 2019, eq. 5).

    The fit reports three rows, as rdrobust does (:meth:`summary`): the
    conventional estimate with its standard error, the bias-corrected estimate with
    the conventional standard error, and the bias-corrected estimate with the
    robust standard error. :meth:`effect` is the robust row. All three use the
    bandwidths in ``bandwidth_`` and ``bias_bandwidth_``; with the default
    ``bwselect="mserd"`` those are MSE-optimal for the point estimate, and
    Calonico, Cattaneo and Farrell (2020) recommend ``bwselect="cerrd"`` when the
    interval is what matters (its coverage error is of smaller order).

    Parameters
    ----------
    cutoff : float, default 0.0
    p : int, optional
        Order of the point estimate; default 1, or ``deriv + 1`` for a derivative
        (rdrobust's default: local quadratic for a kink).
    q : int, optional
        Order of the bias estimate (default ``p + 1``). With ``q > p + 1`` the
        selection of ``h`` takes the bias of the order-``p`` fit from the
        coefficient of order ``p + 1`` of the order-``q`` fit at ``b``, as
        rdrobust for R and Stata do; the Python rdrobust 2.1.1 takes the fit's last
        coefficient (order ``q``) instead, so its ``h`` differs there (its ``b``,
        and every estimate at given bandwidths, agree). ``bias_coefficient="q"``
        reproduces the Python port.
    deriv : int, default 0
        Derivative estimated: 0 for a jump, 1 for a kink (regression kink design).
    kernel : {"triangular", "epanechnikov", "uniform"}, default "triangular"
        ("tri", "epa" and "uni" are accepted too.)
    bandwidth : float, pair of floats or None, default None
        Main bandwidth ``h``; a pair ``(h_left, h_right)`` sets one per side; None
        selects it by ``bwselect``.
    bias_bandwidth : float, pair of floats or None, default None
        Bias bandwidth ``b``; default the selected one, or ``h / rho`` when
        ``bandwidth`` is given.
    rho : float or pair of floats, optional
        ``b = h / rho`` when ``bias_bandwidth`` is not given: with a given ``bandwidth``
        (default 1 there) or with the selected ``h`` (as rdrobust's ``rho``). ``rho=1``
        estimates the bias on the main window (``b = h``; Calonico, Cattaneo and Farrell
        2018); on strongly curved conditional means the selected ``b`` can be too large
        for the interval, and ``rho=1`` covers there (see the RDD guide).
    bwselect : str, default "mserd"
        "mserd", "msetwo", "msesum", "msecomb1", "msecomb2", "cerrd", "certwo",
        "cersum", "cercomb1" or "cercomb2" (see :func:`rd_bandwidth`).
    vce : {"nn", "hc0", "hc1", "hc2", "hc3", "cr1", "cr2", "cr3"}, default "nn"
        Variance estimator, used for the standard errors and inside bandwidth
        selection. With ``groups`` it is cluster-robust: CR1 ("nn", "hc0", "hc1"
        and "cr1" all mean CR1 then), least-squares residuals summed within clusters,
        times ``G/(G-1) (n-1)/(n-k)`` per side (``G`` clusters and ``n`` units in the
        window, ``k`` parameters); CR2 ("cr2" or "hc2", Bell and McCaffrey 2002) and
        CR3 ("cr3" or "hc3", Pustejovsky and Tipton 2018) multiply each cluster's
        residuals by ``(I - H_gg)^{-1/2}`` or ``(I - H_gg)^{-1}``, ``H_gg`` the
        cluster's block of the weighted hat matrix of the fit that gave them (the
        order-``q`` fit at ``b`` for the robust SE), with no further factor; as in
        rdrobust 2.1.1. Without ``groups``, "cr1", "cr2" and "cr3" mean "hc1", "hc2"
        and "hc3".
    nnmatch : int, default 3
        Minimum number of neighbours for ``vce="nn"`` (tied values enter together).
    masspoints : {"adjust", "check", "off"}, default "adjust"
        Repeated values of ``X``: "adjust" warns, counts distinct values in the pilot
        bandwidth and enlarges the pilot to hold ``bwcheck`` distinct values per side;
        "check" warns only; "off" ignores them.
    bwcheck : int, optional
        Enlarge the pilot bandwidth to hold at least this many distinct values per
        side (default 10 with ``masspoints="adjust"``).
    bwrestrict : bool, default True
        Cap the selected bandwidths at the range of ``X`` around the cutoff.
    scaleregul : float, default 1.0
        Scale of the regularisation term of the bandwidth selectors (0 removes it).
    bias_coefficient : {"p+1", "q"}, default "p+1"
        Which coefficient of the order-``q`` pilot fit at ``b`` gives the bias of
        the order-``p`` fit when ``h`` is selected (and the variance of that bias in
        the regularisation term). "p+1" (the correct one, since the leading bias of
        an order-``p`` fit is the derivative of order ``p + 1``) is what rdrobust for
        R and Stata use; "q", the fit's last coefficient (taken, as there, with
        ``X`` divided by its standard deviation), reproduces the Python rdrobust
        2.1.1, where this is a bug. The two differ only when
        ``q > p + 1``; with ``q == p + 1`` (the default) they give identical
        results. ``b`` and the estimates at given bandwidths do not depend on it.
    sharpbw : bool, default False
        Fuzzy designs: select the bandwidth for the outcome alone. Used
        automatically when the treatment is constant on one side (one-sided or
        perfect compliance), where the delta-method constants are undefined.
    level : float, default 95
        Confidence level in percent of the intervals in :meth:`summary`.

    Attributes
    ----------
    effect_ : Estimate
        The bias-corrected estimate with the robust standard error.
    conventional_ : Estimate
        Conventional estimate and standard error.
    bias_corrected_ : Estimate
        Bias-corrected estimate with the conventional standard error.
    first_stage_ : EstimateTable or None
        Fuzzy designs: the jump in the treatment (conventional, bias-corrected and
        robust rows).
    bandwidth_, bias_bandwidth_ : tuple of float
        ``(left, right)`` bandwidths ``h`` and ``b`` used.
    n_effective_ : tuple of int
        Units inside ``h`` left and right of the cutoff.
    n_unique_ : tuple of int
        Distinct values of ``X`` left and right of the cutoff.
    gamma_ : ndarray or None
        Coefficients of the covariates (one column per outcome/treatment).
    n_ : tuple of int
        Units left and right of the cutoff.
    n_clusters_ : int or None
        Clusters in ``groups``.

    References
    ----------
    Calonico, S., Cattaneo, M. D. and Titiunik, R. (2014). Robust nonparametric
    confidence intervals for regression-discontinuity designs. Econometrica 82(6).
    Calonico, S., Cattaneo, M. D., Farrell, M. H. and Titiunik, R. (2019).
    Regression discontinuity designs using covariates. Review of Economics and
    Statistics 101(3).
    Calonico, S., Cattaneo, M. D. and Farrell, M. H. (2020). Optimal bandwidth choice
    for robust bias-corrected inference in regression discontinuity designs.
    The Econometrics Journal 23(2).

    Examples
    --------
    >>> from causalkit.rdd import RDD
    >>> from causalkit.datasets import make_rdd_data
    >>> d = make_rdd_data(2000, effect=0.5, random_state=0)
    >>> est = RDD().fit(d.X, d.y)
    >>> round(est.bandwidth_[0], 3), est.n_effective_
    (0.227, (357, 214))
    >>> [round(v, 3) for v in est.effect().conf_int(0.05)]  # robust bias-corrected 95% CI
    [0.515, 0.63]
    >>> list(est.summary().index)
    ['conventional', 'bias-corrected', 'robust']
    """

    _parameter_constraints: dict = {
        "cutoff": [Interval(Real, None, None, closed="neither")],
        "p": [NONNEG_INT, None],
        "q": [NONNEG_INT, None],
        "deriv": [NONNEG_INT],
        "kernel": [StrOptions(set(_KERNELS))],
        "bandwidth": [POS_REAL, "array-like", None],
        "bias_bandwidth": [POS_REAL, "array-like", None],
        "rho": [POS_REAL, "array-like", None],
        "bwselect": [StrOptions(set(BWSELECT))],
        "vce": [StrOptions(set(_VCE))],
        "nnmatch": [POS_INT],
        "masspoints": [StrOptions(set(_MASSPOINTS))],
        "bwcheck": [POS_INT, None],
        "bwrestrict": ["boolean"],
        "scaleregul": [NONNEG_REAL],
        "bias_coefficient": [StrOptions(set(_BIAS_COEFFICIENT))],
        "sharpbw": ["boolean"],
        "level": [Interval(Real, 1, 100, closed="neither")],
    }

    def __init__(self, *, cutoff=0.0, p=None, q=None, deriv=0, kernel="triangular", bandwidth=None,
                 bias_bandwidth=None, rho=None, bwselect="mserd", vce="nn", nnmatch=3,
                 masspoints="adjust", bwcheck=None, bwrestrict=True, scaleregul=1.0,
                 bias_coefficient="p+1", sharpbw=False, level=95.0):
        self.cutoff = cutoff
        self.p = p
        self.q = q
        self.deriv = deriv
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.bias_bandwidth = bias_bandwidth
        self.rho = rho
        self.bwselect = bwselect
        self.vce = vce
        self.nnmatch = nnmatch
        self.masspoints = masspoints
        self.bwcheck = bwcheck
        self.bwrestrict = bwrestrict
        self.scaleregul = scaleregul
        self.bias_coefficient = bias_coefficient
        self.sharpbw = sharpbw
        self.level = level

    # ------------------------------------------------------------------ checks
    def _resolve_params(self):
        """What ``_parameter_constraints`` cannot say: rules across hyperparameters, and
        the orders and kernel they imply."""
        self._kernel = _KERNELS[self.kernel]
        nu = int(self.deriv)
        # rdrobust's default: local linear for a jump, order deriv + 1 for a derivative
        p = max(1, nu + 1) if self.p is None else int(self.p)
        q = p + 1 if self.q is None else int(self.q)
        if q <= p:
            raise ValueError(f"`q` must be larger than `p` = {p}; got {self.q!r}.")
        if nu > p:
            raise ValueError(f"`deriv` = {nu} needs `p` >= {nu} (a polynomial of order {p} has "
                             f"no derivative of order {nu}); got p = {p}. Use p = {max(nu, 1)} or "
                             "more.")
        if self.bandwidth is not None:
            _pair(self.bandwidth, "bandwidth")
        if self.bias_bandwidth is not None:
            _pair(self.bias_bandwidth, "bias_bandwidth")
        if self.rho is not None:
            _pair(self.rho, "rho")
        return p, q, nu

    # ------------------------------------------------------------------ bandwidths
    def _vce(self, des):
        """The variance estimator used: with clusters, CR1 (least-squares residuals
        summed within clusters, factor ``G/(G-1) (n-1)/(n-k)`` per side)."""
        clustered = des.left.g is not None
        if not clustered:
            return {"cr1": "hc1", "cr2": "hc2", "cr3": "hc3"}.get(self.vce, self.vce)
        if self.vce in ("hc2", "cr2"):
            return "cr2"
        if self.vce in ("hc3", "cr3"):
            return "cr3"
        return "hc0"

    def _select(self, des):
        p, q, nu = self._resolve_params()
        sharpbw = self.sharpbw or (des.fuzzy and self._constant_side(des))
        if des.fuzzy and sharpbw:
            keep = [0] + list(range(2, des.left.D.shape[1]))
            des = _strip(des, keep)
        combo = _Combo(des.fuzzy, des.n_z, des.left.D.shape[1])

        try:
            return _bandwidths(des, p=p, q=q, deriv=nu, kernel=self._kernel, vce=self._vce(des),
                               nnmatch=self.nnmatch, bwselect=self.bwselect,
                               scaleregul=float(self.scaleregul), masspoints=self.masspoints,
                               bwcheck=self.bwcheck, bwrestrict=self.bwrestrict, combo=combo,
                               bias_coefficient=self.bias_coefficient)
        except L.SingularFit as err:
            raise ValueError(
                f"Cannot select a bandwidth: {err}. The running variable has "
                f"{des.left.n_unique} distinct value(s) below and {des.right.n_unique} at or "
                f"above the cutoff. Raise `bwcheck` (distinct values the pilot window must "
                f"hold), use a lower `p`/`q`, or give `bandwidth` yourself.") from None

    @staticmethod
    def _constant_side(des):
        t = 1 if des.n_y == 1 else None
        if t is None:
            return False
        return any(np.ptp(s.D[:, t]) == 0 for s in (des.left, des.right))

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, treatment=None, covariates=None, groups=None, sample_weight=None):
        """Estimate the jump (or kink) at the cutoff.

        Parameters
        ----------
        X : array-like or Dask array of shape (n,) or (n, 1)
            Running variable.
        y : array-like or Dask array of shape (n,)
            Outcome.
        treatment : array-like or Dask array of shape (n,), optional
            Treatment received (fuzzy design); binary or continuous.
        covariates : array-like of shape (n, k), optional
            Pre-treatment covariates for efficiency (not for identification).
        groups : array-like of shape (n,), optional
            Cluster labels for cluster-robust standard errors.
        sample_weight : array-like or Dask array of shape (n,), optional
            Weights that multiply the kernel weights.

        Returns
        -------
        self

        Notes
        -----
        Dask collections (the ``dask`` extra) are reduced in one chunked pass of
        kernel-weighted moments inside the window, with the numpy path's numbers. That
        needs ``bandwidth`` given, ``vce="hc0"`` or ``"hc1"`` and ``masspoints="off"``
        (bandwidth selection, nearest neighbours, leverages and distinct-value counts
        need the sorted rows), and no ``covariates`` or ``groups``; otherwise the error
        names the argument to give. ``n_unique_`` is ``None`` then.
        """
        from ..utils._chunked import any_dask

        if any_dask(X, y, treatment, covariates, groups, sample_weight):
            from ._dask import fit_dask

            return fit_dask(self, X, y, treatment, covariates, groups, sample_weight)
        check_aligned(X=X, y=y, treatment=treatment, covariates=covariates, groups=groups,
                      sample_weight=sample_weight)
        p, q, nu = self._resolve_params()
        x, names, Y, t, Z, w, g = _validate(X, y, self.cutoff, treatment, covariates, groups,
                                            sample_weight)
        _check_groups(g)
        des = _Design(x, self.cutoff, Y, t, Z, w, g)
        self._fit_design(des, p, q, nu)
        self.n_features_in_ = 1
        store_feature_names(self, names)
        return self

    def _given_bandwidths(self):
        """``[h_left, h_right, b_left, b_right]`` from a given ``bandwidth`` (and
        ``bias_bandwidth``, else ``h / rho``); shared by the in-memory and Dask fits."""
        hl, hr = _pair(self.bandwidth, "bandwidth")
        if self.bias_bandwidth is not None:
            bl, br = _pair(self.bias_bandwidth, "bias_bandwidth")
        else:
            rl, rr = (1.0, 1.0) if self.rho is None else _pair(self.rho, "rho")
            bl, br = hl / rl, hr / rr
        return np.array([hl, hr, bl, br])

    def _fit_design(self, des, p, q, nu):
        need = q + 1 if self.bandwidth is not None else q + 3
        for side, nm in ((des.left, "below"), (des.right, "at or above")):
            if side.n_unique < need:
                what = (f"an order-{q} bias fit" if self.bandwidth is not None else
                        f"bandwidth selection (its pilot fits have order q + 2 = {q + 2})")
                raise ValueError(
                    f"`X` has {side.n_unique} distinct value(s) {nm} the cutoff "
                    f"{self.cutoff:g}, but {what} needs at least {need}. Use lower orders `p` "
                    "and `q`, give `bandwidth`, or use more units on that side.")
        n_distinct = des.left.n_unique + des.right.n_unique
        if self.masspoints in ("adjust", "check") and n_distinct < des.n:
            warnings.warn(
                f"Mass points detected in the running variable: {n_distinct} distinct values "
                f"for {des.n} units ({des.left.n_unique} below, {des.right.n_unique} at or above "
                "the cutoff). Local polynomial RD assumes a continuous running variable; with "
                "few distinct values near the cutoff the estimand is an extrapolation.",
                MassPointsWarning, stacklevel=3)
        if self.bandwidth is None:
            # covariate coefficients for the selector come from a pilot fit at the pilot
            bw, _ = self._select(des)
        else:
            bw = self._given_bandwidths()
        if self.bandwidth is None and self.bias_bandwidth is not None:
            bw[2:] = _pair(self.bias_bandwidth, "bias_bandwidth")
        elif self.bandwidth is None and self.rho is not None:
            rl, rr = _pair(self.rho, "rho")
            bw[2], bw[3] = bw[0] / rl, bw[1] / rr
        self._estimate(des, p, q, nu, bw)

    def _estimate(self, des, p, q, nu, bw):
        hl, hr, bl, br = (float(v) for v in bw)
        parts = []
        for side, h, b in ((des.left, hl, bl), (des.right, hr, br)):
            try:
                parts.append(_side_estimate(side, h, b, p, q, nu, self._kernel, self._vce(des),
                                            self.nnmatch))
            except L.SingularFit as err:
                raise ValueError(
                    f"Cannot estimate at h = {h:.4g}, b = {b:.4g}: {err}. Use a larger "
                    "`bandwidth`/`bias_bandwidth` or a lower `p`/`q`.") from None
        left, right = parts
        k = des.left.D.shape[1]
        nz = des.n_z
        gamma = _gamma(des, (left, right)) if des.n_z else None
        tau_cl = right["cl"] - left["cl"]
        tau_bc = right["bc"] - left["bc"]
        combo = _Combo(des.fuzzy, des.n_z, k)
        if des.fuzzy:
            tt = tau_cl[1] - (0 if not nz else tau_cl[k - nz:] @ gamma[:, 1])
            if abs(tt) < 1e-12:
                raise ValueError("The treatment does not jump at the cutoff (first-stage jump "
                                 f"{tt:.3g}): the fuzzy effect is not identified. Check "
                                 "`treatment` and `cutoff`.")
        s = combo.from_jumps(tau_cl, gamma)
        est_cl = _apply(tau_cl, gamma, des)
        est_bc = est_cl - float(s @ (tau_cl - tau_bc))  # delta-method bias correction
        g_total = None if des.left.g is None else int(
            np.unique(np.r_[des.left.g, des.right.g]).shape[0])

        vce_used = self._vce(des)

        def var(kind, s):
            v = 0.0
            for part, side in ((left, des.left), (right, des.right)):
                g = None if side.g is None else side.g[part["slice"]]
                res = part["res_h"] if kind == "cl" else part["res_b"]
                k_fit = p + 1 if kind == "cl" else q + 1
                v += (L.quad_form(part["w_" + kind], res, s, g)
                      * L.cluster_factor(g, res.shape[0], k_fit, vce_used))
            return v

        se_cl = math.sqrt(var("cl", s))
        se_rb = math.sqrt(var("bc", s))
        n_eff = left["n_h"] + right["n_h"]
        name = {0: "RD effect", 1: "RD kink"}.get(nu, f"RD derivative {nu}")
        if des.fuzzy:
            name = "fuzzy " + name
        if self.bandwidth is not None:
            which = "bwselect=manual"
        elif self.bwselect.startswith("mse"):
            # say which bandwidth the interval uses (Calonico, Cattaneo and Farrell 2020)
            which = (f"bwselect={self.bwselect}: h MSE-optimal for the estimate; "
                     f"bwselect='cer{self.bwselect[3:]}' targets the interval")
        else:
            which = f"bwselect={self.bwselect}: h CER-optimal for the interval"
        base = (f"local polynomial RD (p={p}, q={q}, {self._kernel}, h={_fmt_pair(hl, hr)}, "
                f"b={_fmt_pair(bl, br)}, {which}, "
                f"{_CLUSTER_LABEL[vce_used] + ' clustered' if g_total else vce_used})")
        self.conventional_ = Estimate(est_cl, se_cl, n=n_eff, method="conventional " + base,
                                      name=name)
        self.bias_corrected_ = Estimate(est_bc, se_cl, n=n_eff,
                                        method="bias-corrected, conventional SE, " + base,
                                        name=name)
        self.effect_ = Estimate(est_bc, se_rb, n=n_eff, method="robust bias-corrected " + base,
                                name=name)
        self.first_stage_ = None
        if des.fuzzy:
            sf = np.zeros(k)
            sf[1] = 1.0
            if nz:
                sf[k - nz:] = -gamma[:, 1]
            fs_cl, fs_bc = float(tau_cl @ sf), float(tau_bc @ sf)
            fse_cl, fse_rb = math.sqrt(var("cl", sf)), math.sqrt(var("bc", sf))
            fname = "first stage"
            self.first_stage_ = EstimateTable((
                Estimate(fs_cl, fse_cl, n=n_eff, method="conventional", name="conventional"),
                Estimate(fs_bc, fse_cl, n=n_eff, method="bias-corrected", name="bias-corrected"),
                Estimate(fs_bc, fse_rb, n=n_eff, method="robust", name="robust"),
            ), title=fname)
            if fse_cl > 0 and abs(fs_cl) / fse_cl < math.sqrt(10):
                warnings.warn(f"Weak first stage: the treatment jumps by {fs_cl:.3g} "
                              f"(t = {abs(fs_cl) / fse_cl:.2f}).", WeakInstrumentWarning,
                              stacklevel=3)
        if min(left["n_h"], right["n_h"]) < 10:
            warnings.warn(f"Only {min(left['n_h'], right['n_h'])} unit(s) inside the bandwidth on "
                          "one side of the cutoff.", FewObservationsWarning, stacklevel=3)
        self.bandwidth_ = (hl, hr)
        self.bias_bandwidth_ = (bl, br)
        self.n_effective_ = (left["n_h"], right["n_h"])
        self.n_unique_ = (des.left.n_unique, des.right.n_unique)
        self.n_ = (des.left.x.shape[0], des.right.x.shape[0])
        self.gamma_ = None if gamma is None else gamma.copy()
        self.n_clusters_ = g_total

    # ------------------------------------------------------------------ results
    def effect(self) -> Estimate:
        """The bias-corrected effect with the robust standard error and interval."""
        check_is_fitted(self, "effect_")
        return self.effect_

    def summary(self, alpha=None):
        """Conventional, bias-corrected and robust rows (as rdrobust reports them).

        ``alpha`` defaults to ``1 - level / 100``. Returns a :class:`pandas.DataFrame`.
        """
        check_is_fitted(self, "effect_")
        alpha = 1 - float(self.level) / 100 if alpha is None else alpha
        return self.table().summary(alpha)

    def table(self) -> EstimateTable:
        """The three rows of :meth:`summary` as an :class:`EstimateTable`."""
        check_is_fitted(self, "effect_")
        rows = [e._replace(name=nm) for e, nm in ((self.conventional_, "conventional"),
                                                  (self.bias_corrected_, "bias-corrected"),
                                                  (self.effect_, "robust"))]
        return EstimateTable(tuple(rows), title=self.effect_.name)


def _gamma(des, parts):
    """Covariate coefficients: kernel-weighted least squares of the outcome (and
    treatment) on the covariates after partialling out the one-sided polynomials of
    order ``p`` at ``h`` (Calonico, Cattaneo, Farrell and Titiunik 2019, eq. 5)."""
    # covariate coefficients come from the order-p fits at h
    ZWZ = [_cross(part["D"], part["fit"]) for part in parts]
    return _solve_gamma(ZWZ[0] + ZWZ[1], des.left.D.shape[1], des.n_z)


def _fmt_pair(a, b):
    return f"{a:.4g}" if a == b else f"({a:.4g}, {b:.4g})"


def _apply(tau, g, des):
    k = tau.shape[0]
    nz = des.n_z
    if not des.fuzzy:
        return float(tau[0] - (0 if not nz else tau[k - nz:] @ g[:, 0]))
    ty = tau[0] - (0 if not nz else tau[k - nz:] @ g[:, 0])
    tt = tau[1] - (0 if not nz else tau[k - nz:] @ g[:, 1])
    return float(ty / tt)


def _strip(des, keep):
    """A copy of ``des`` with only the columns ``keep`` (used for sharp bandwidths)."""
    new = object.__new__(_Design)
    new.left, new.right = des.left.with_columns(keep), des.right.with_columns(keep)
    new.n, new.n_y, new.xc = des.n, des.n_y, des.xc
    new.fuzzy = False
    new.n_z = des.n_z
    return new


def _side_estimate(side, h, b, p, q, nu, kernel, vce, nnmatch):
    """Conventional and bias-corrected limits of one side (CCT 2014, eqs. 7 and 11)."""
    closed = kernel == "uniform"
    sl = side.window(max(h, b), closed)
    D = side.D[sl]
    fp = L.WindowFit(side, sl, h, p, kernel)
    fq = L.WindowFit(side, sl, b, q, kernel)
    scale = math.factorial(nu) / h**nu
    Lc = fp.moment(nu, p + 1)
    row_p = fp.row(nu)
    w_cl = row_p * scale
    w_bc = (row_p - Lc * (h / b) ** (p + 1) * fq.row(p + 1)) * scale
    res_h = L.window_residuals(side, sl, fp, vce, nnmatch)
    # nearest-neighbour residuals do not depend on the fit: the same for both
    res_b = res_h if vce == "nn" else L.window_residuals(side, sl, fq, vce, nnmatch)
    return {"cl": np.einsum("i,ij->j", w_cl, D), "bc": np.einsum("i,ij->j", w_bc, D),
            "w_cl": w_cl, "w_bc": w_bc, "res_h": res_h, "res_b": res_b, "n_h": fp.nz, "slice": sl, "D": D, "fit": fp}


def _outcome_design(des, j, n_y):
    """The design of outcome ``j`` of a multi-outcome design (shared sort and split)."""
    keep = [j] + list(range(n_y, des.left.D.shape[1]))
    new = object.__new__(_Design)
    new.left = des.left.with_columns(keep, share=True)
    new.right = des.right.with_columns(keep, share=True)
    new.n, new.n_y, new.xc = des.n, 1, des.xc
    new.fuzzy, new.n_z = des.fuzzy, des.n_z
    return new


def rd_batch(X, Y, *, treatment=None, covariates=None, groups=None, sample_weight=None,
             **params):
    """Many outcomes on one running variable in one call (like rdrobust's batch mode).

    Each column of ``Y`` gets its own fit, the numbers of ``RDD(**params).fit(X,
    Y[:, j], ...)`` (its own bandwidth; equal to rounding), while validation, sorting
    and the split at the cutoff are done once for all outcomes.

    Parameters
    ----------
    X : array-like of shape (n,) or (n, 1)
        Running variable.
    Y : array-like of shape (n, k) or pandas.DataFrame
        Outcomes, one per column (DataFrame column names name the rows).
    treatment, covariates, groups, sample_weight
        As in :meth:`RDD.fit`, shared by all outcomes.
    **params
        Parameters of :class:`RDD`.

    Returns
    -------
    EstimateTable
        The robust row (:meth:`RDD.effect`) of each outcome; each row's ``method``
        names its bandwidths.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.datasets import make_rdd_data
    >>> from causalkit.rdd import RDD, rd_batch
    >>> d = make_rdd_data(2000, effect=0.5, random_state=0)
    >>> Y = np.c_[d.y, 2 * d.y, d.y + d.X[:, 0]]
    >>> tab = rd_batch(d.X, Y)
    >>> [round(float(v), 4) for v in tab.values]
    [0.5725, 1.1451, 0.5725]
    >>> bool(np.isclose(tab.values[0], RDD().fit(d.X, Y[:, 0]).effect().value, rtol=1e-12))
    True
    """
    check_aligned(X=X, Y=Y, treatment=treatment, covariates=covariates, groups=groups,
                  sample_weight=sample_weight)
    _check_passed_params(RDD, params, "rd_batch")
    est = RDD(**params)
    est._validate_params()
    p, q, nu = est._resolve_params()
    names = ([str(c) for c in Y.columns] if hasattr(Y, "columns") else None)
    Ya = np.asarray(Y.to_numpy() if hasattr(Y, "to_numpy") else Y)
    if Ya.ndim != 2:
        raise ValueError(f"`Y` must hold one outcome per column (shape (n, k)); got {Ya.ndim} "
                         "dimension(s). For one outcome use RDD().fit(X, y).")
    if Ya.dtype.kind not in "biuf":
        raise TypeError(f"`Y` must be numeric; got dtype {Ya.dtype}.")
    Yv = np.column_stack([check_vector(Ya[:, j], "Y") for j in range(Ya.shape[1])])
    x, _, _, t, Z, w, g = _validate(X, Yv[:, 0], est.cutoff, treatment, covariates, groups,
                                    sample_weight)
    _check_groups(g)
    k = Yv.shape[1]
    names = names or [f"y{j}" for j in range(k)]
    des = _Design(x, est.cutoff, Yv, t, Z, w, g)
    rows = []
    for j in range(k):
        e = RDD(**params)
        e._resolve_params()
        e._fit_design(_outcome_design(des, j, k), p, q, nu)
        rows.append(e.effect_._replace(name=names[j]))
    return EstimateTable(tuple(rows), title="RD effects")
