r"""Off-policy evaluation of a target policy from logged contextual-bandit feedback.

Every estimator shares one interface: ``fit(X, y, *, action, propensity=None)``
stores the logs (and cross-fits the nuisances it needs), ``value(policy)``
returns the policy value :math:`V(\pi) = E_x \sum_a \pi(a|x) r(x, a)` as an
:class:`~causalkit.inference.Estimate`, and ``compare({name: policy})`` returns an
:class:`~causalkit.inference.EstimateTable`.

Notation: logged round *i* has context :math:`x_i`, action :math:`a_i`, reward
:math:`y_i` and logging propensity :math:`p_i = \pi_0(a_i | x_i)`; the importance
weight is :math:`w_i = \pi(a_i | x_i) / p_i`; :math:`\hat q(x, a)` is a
cross-fitted reward model. Standard errors are influence-function (sandwich)
standard errors for i.i.d. rounds; for DM, SNDR and the DR family they treat the
cross-fitted reward model as fixed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from .._crossfit import Nuisance, crossfit
from ..inference import Diagnostics, Estimate, EstimateTable
from ..utils._chunked import any_dask
from ..utils._param_validation import (
    CLASSIFIER,
    CV,
    N_JOBS,
    REGRESSOR,
    SEED,
    Integral,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    MAX_MAGNITUDE,
    PositivityWarning,
    _check_finite,
    _finite_copy,
    as_float_array,
    check_aligned,
    check_consistent_length,
    check_propensity,
    check_vector,
    check_weights,
    check_X,
    store_feature_names,
)

__all__ = [
    "IPS",
    "SNIPS",
    "RatioScoreEstimate",
    "DirectMethod",
    "DoublyRobust",
    "ExponentialSmoothingIPS",
    "SelfNormalizedDR",
    "SwitchDR",
]

_ROW_SUM_TOL = 1e-6
#: A PositivityWarning is raised when the weights' effective sample size is below this share of n.
_ESS_WARN = 0.05


# --------------------------------------------------------------------------- checks


def _check_actions(action, n_actions):
    a = check_vector(action, "action", dtype=None)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError("`action` must hold integer action indices 0..n_actions-1; "
                             "found non-integer values. Encode actions as integers.")
    elif a.dtype.kind not in "iub":
        raise TypeError(f"`action` must hold integer action indices; got dtype {a.dtype}.")
    a = a.astype(np.int64, copy=False)  # whoever stores it copies it
    if a.min() < 0:
        raise ValueError(f"`action` must lie in [0, n_actions); found {int(a.min())}. "
                         "Encode actions as 0..n_actions-1.")
    if n_actions is not None and (not isinstance(n_actions, (int, np.integer))
                                  or isinstance(n_actions, bool) or n_actions < 2):
        raise ValueError(f"`n_actions` must be an integer >= 2; got {n_actions!r}.")
    k = int(a.max()) + 1 if n_actions is None else int(n_actions)
    if a.max() >= k:
        raise ValueError(f"`action` must lie in [0, n_actions) = [0, {k}); found {int(a.max())}. "
                         "Raise `n_actions` or re-encode the actions.")
    return a, max(k, 2)


def _own(v):
    return None if v is None else np.array(v, copy=True)


def _prob_error(P, name, k):
    """The numpy checks of an action-probability matrix, run only when the one-pass
    kernel flagged it: they raise the message that names the problem (or return, when a
    row sum sits on the tolerance's edge and only the kernel's rounding flagged it)."""
    s = np.dot(P, np.ones(k))
    if not np.isfinite(s).all():  # NaN or inf anywhere makes its row sum non-finite
        _check_finite(P, name)
    low = float(P.min())
    if low < 0:
        raise ValueError(f"`{name}` holds negative probabilities (min {low:.4g}); "
                         "action probabilities must be non-negative.")
    bad = np.abs(s - 1.0) > _ROW_SUM_TOL
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"`{name}` rows must sum to 1; {int(bad.sum())} row(s) do not "
                         f"(row {i} sums to {s[i]:.6g}). Normalise each row.")


#: Matrices with fewer entries take the numpy path below: there the compiled kernels save
#: less than numba's import and the kernels' load cost once per process (about 0.5 s).
_KERNEL_MIN_SIZE = 1 << 20


def _prob_rows(P, name, n, k, at=None, rowdot=None):
    """Validate an (n, k) matrix of action probabilities in one pass over its rows.

    Returns ``(P, picked, dots, low)``: the float64 matrix, ``P[i, at[i]]`` (when ``at``
    is given), ``sum_a P[i, a] rowdot[i, a]`` (when the (n, k) matrix ``rowdot`` is
    given, with ``at``) and the smallest entry. For a large matrix each row is read
    once, and checked, gathered and dotted while it is in cache
    (``causalkit._accel._ope``): at 10^6 x 20 this is one pass over memory where
    separate numpy calls take four. Bad input is refused by :func:`_prob_error`.
    """
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape != (n, k):
        raise ValueError(f"`{name}` must have shape (n, n_actions) = ({n}, {k}); got {P.shape}.")
    picked = dots = None
    if at is not None:
        at = np.ascontiguousarray(at, dtype=np.int64)
    if P.size < _KERNEL_MIN_SIZE:
        s = np.dot(P, np.ones(k))
        low = float(P.min()) if P.size else np.inf
        bad = not (np.abs(s - 1.0) <= _ROW_SUM_TOL).all()
        if at is not None:
            picked = P[np.arange(n), at]
            if rowdot is not None:
                dots = np.einsum("ij,ij->i", P, rowdot)
    else:
        from .._accel._ope import prob_rows, prob_rows_dot

        Pc = np.ascontiguousarray(P)
        if at is not None:
            picked = np.empty(n)
        if rowdot is not None and at is not None:
            dots = np.empty(n)
            Q = np.ascontiguousarray(rowdot, dtype=np.float64)
            bad, low = prob_rows_dot(Pc, Q, at, picked, dots, _ROW_SUM_TOL)
        elif at is not None:
            bad, low = prob_rows(Pc, at, picked, True, _ROW_SUM_TOL)
        else:
            bad, low = prob_rows(Pc, _NO_INDEX, _NO_OUT, False, _ROW_SUM_TOL)
    if bad or not low >= 0:
        _prob_error(P, name, k)
        low = float(P.min())
    return P, picked, dots, float(low)


_NO_INDEX = np.zeros(1, dtype=np.int64)
_NO_OUT = np.zeros(1)


def _check_rewards_shape(Q, n, k):
    Q = as_float_array(Q, "estimated_rewards")
    if Q.ndim != 2 or Q.shape != (n, k):
        raise ValueError(f"`estimated_rewards` must have shape (n, n_actions) = ({n}, {k}); "
                         f"got {Q.shape}.")
    return Q


def _prob_rows_rewards(P, Q, n, k, at):
    """:func:`_prob_rows` for a policy matrix ``P`` and the caller's reward predictions
    ``Q`` (both (n, k)): validates both, and returns ``(P, P[i, at[i]], dots, Q[i, at[i]])``
    with ``dots[i] = sum_a P[i, a] Q[i, a]``. ``Q`` is read, never copied or kept: for a
    large matrix the checks of ``Q`` (finite, magnitude below ``MAX_MAGNITUDE``), the
    policy's checks, the dot and both gathers are one pass over the two matrices
    (``causalkit._accel._ope.prob_rows_dot_check``)."""
    Q = _check_rewards_shape(Q, n, k)
    if P.size < _KERNEL_MIN_SIZE:  # small: the numpy checks, then the stored-path formulas
        _check_finite(Q, "estimated_rewards")
        P, pa, dm, _ = _prob_rows(P, "policy", n, k, at=at, rowdot=Q)
        return P, pa, dm, Q[np.arange(n), at]
    from .._accel._ope import prob_rows_dot_check

    P = np.asarray(P, dtype=np.float64)
    Pc = np.ascontiguousarray(P)
    Qc = np.ascontiguousarray(Q, dtype=np.float64)
    at = np.ascontiguousarray(at, dtype=np.int64)
    pa, dm, qa = np.empty(n), np.empty(n), np.empty(n)
    bad, low, z, big = prob_rows_dot_check(Pc, Qc, at, pa, dm, qa, _ROW_SUM_TOL)
    if not np.isfinite(z) or (big != 0 and not 1.0 / MAX_MAGNITUDE <= big <= MAX_MAGNITUDE):
        _check_finite(Qc, "estimated_rewards")  # raises with the full message
    if bad or not low >= 0:
        _prob_error(P, "policy", k)
    return P, pa, dm, qa


def _check_prob_matrix(P, name, n, k, at=None, rowdot=None):
    """Validate an (n, k) matrix of action probabilities (rows sum to 1).

    With ``at`` (one action index per row) it returns ``(P, P[i, at[i]], d)``, gathered
    in the same pass, where ``d[i] = sum_a P[i, a] rowdot[i, a]`` when an (n, k) matrix
    ``rowdot`` is given (else None).
    """
    P, picked, dots, _ = _prob_rows(P, name, n, k, at=at, rowdot=rowdot)
    return P if at is None else (P, picked, dots)


def _copy_checked(arr, name, at=None):
    """A private float64 copy of a C-contiguous float64 array, checked finite and in
    range as it is copied (one pass; the checks of ``_finite_copy``); with ``at`` (2-D
    only) also ``arr[i, at[i]]``. Returns ``(copy, picked)``, or ``None`` when ``arr``
    is not such an array or is small (the caller then takes the general path)."""
    if not (isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.flags.c_contiguous
            and arr.size >= _KERNEL_MIN_SIZE and arr.ndim in (1, 2)):
        return None
    from .._accel._ope import copy_finite, copy_rows_gather

    out = np.empty(arr.shape)
    picked = None
    if at is not None and arr.ndim == 2:
        picked = np.empty(arr.shape[0])
        z, big = copy_rows_gather(arr, out, np.ascontiguousarray(at, dtype=np.int64), picked)
    else:
        z, big = copy_finite(arr.reshape(-1), out.reshape(-1))
    if not np.isfinite(z) or (big != 0 and not 1.0 / MAX_MAGNITUDE <= big <= MAX_MAGNITUDE):
        _check_finite(out, name)  # raises with the full message
    return out, picked


# --------------------------------------------------------------------------- base


class _BanditOPE(BaseEstimator):
    """Shared logic: data checks, nuisances, policy resolution, diagnostics."""

    _needs_reward_model = False
    _label = ""

    def _policy_on_unlogged(self, unlogged, stacklevel):
        """A policy that puts probability on never-logged actions: refused, except by the
        direct method, which extrapolates with its reward model (warned). Shared by the
        in-memory and the Dask ``value``."""
        msg = (f"`policy` puts probability on action(s) {unlogged.tolist()} that were never "
               "logged; their rewards are not identified from these logs")
        if self._needs_reward_model and type(self).__name__ == "DirectMethod":
            warnings.warn(msg + ": the reward model extrapolates there.", PositivityWarning,
                          stacklevel=stacklevel)
        else:
            raise ValueError(msg + ". Evaluate a policy supported by the logging policy, or "
                             "use DirectMethod (which extrapolates with its reward model).")

    # subclasses define __init__ with their own hyperparameters, and their constraints
    _parameter_constraints: dict = {
        "n_actions": [Interval(Integral, 2, None, closed="left"), None],
        "model_propensity": [CLASSIFIER, None],
        "cv": CV,
        "n_jobs": N_JOBS,
        "random_state": SEED,
    }

    def _reward_model(self):
        m = getattr(self, "model_reward", None)
        return HistGradientBoostingRegressor() if m is None else m

    def _propensity_model(self):
        m = getattr(self, "model_propensity", None)
        return LogisticRegression() if m is None else m

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, action, propensity=None, estimated_rewards=None, sample_weight=None):
        r"""Store the logs and cross-fit the nuisances this estimator needs.

        Parameters
        ----------
        X : array-like, DataFrame or Dask array/DataFrame of shape (n, p)
            Contexts.
        y : array-like or Dask array of shape (n,)
            Observed rewards.
        action : array-like or Dask array of int, shape (n,)
            Logged actions, coded 0..n_actions-1.
        propensity : array-like or Dask array of shape (n,) or (n, n_actions), optional
            Logging probability of the logged action, or the full logging
            distribution. When absent, a cross-fitted multinomial classifier
            (``model_propensity``) estimates it and the result says so.
        estimated_rewards : array-like or Dask array of shape (n, n_actions), optional
            Precomputed out-of-sample reward predictions :math:`\hat q(x_i, a)`
            for the model-based estimators; skips fitting ``model_reward``. The
            estimator keeps a private copy. To avoid that copy (160 MB at 10^6 x 20),
            construct with ``model_reward="given"`` and pass the predictions to
            :meth:`value` instead.
        sample_weight : array-like or Dask array of shape (n,), optional
            Sampling (survey) weights: every average becomes a weighted average,
            and each round stays one independent draw, so the standard error is
            :math:`\sqrt{\sum_i s_i^2 (\psi_i - \hat V)^2} / \sum_i s_i` (as in
            :class:`~causalkit.ate.AIPW`). For frequency weights, repeat the rows.

        Returns
        -------
        self

        Notes
        -----
        Every argument may be a Dask array or DataFrame (the ``dask`` extra): ``fit``
        then runs one pass of chunked checks and keeps the lazy collections, and each
        :meth:`value` is one chunked pass of sums, with the numpy path's numbers.
        ``propensity`` (and ``estimated_rewards`` for the model-based estimators) must
        be given then: fitting their models needs all rows in one process.
        """
        if any_dask(X, y, action, propensity, estimated_rewards, sample_weight):
            from ._dask import fit_dask

            return fit_dask(self, X, y, action, propensity, estimated_rewards, sample_weight)
        self.__dict__.pop("_dask_data_", None)
        check_aligned(X=X, y=y, action=action, propensity=propensity,
                      estimated_rewards=estimated_rewards, sample_weight=sample_weight)
        fast = _copy_checked(X, "X") if isinstance(X, np.ndarray) and X.ndim == 2 else None
        if fast is not None:  # a float64 array: copied and checked in one pass
            Xa, names = fast[0], None
        else:
            Xa, names = check_X(X, "X", copy=True)  # a private copy, checked as it is copied
        yv = check_vector(y, "y")
        a, k = _check_actions(action, getattr(self, "n_actions", None))
        n = check_consistent_length(X=Xa, y=yv, action=a)
        if n < 2:
            raise ValueError(f"`y` has {n} logged round(s); a standard error needs at least 2.")
        sw = check_weights(sample_weight, "sample_weight", n=n)
        pi0 = None
        pi0_zero = False  # whether the full logging distribution has zeros (support checks)
        if propensity is None:
            p, pi0 = self._estimate_propensity(Xa, a, k)
            pi0_zero = bool(pi0.min() <= 0)
            self.propensity_estimated_ = True
        else:
            parr = as_float_array(propensity, "propensity")
            if parr.ndim == 2 and parr.shape[1] > 1:
                pi0, p, _, low0 = _prob_rows(parr, "propensity", n, k, at=a)
                pi0_zero = low0 <= 0
                if (p <= 0).any():
                    raise ValueError(
                        f"`propensity` gives probability 0 to the logged action in "
                        f"{int((p <= 0).sum())} round(s) (first row {int(np.flatnonzero(p <= 0)[0])}); "
                        "a logged action must have positive logging probability.")
            else:
                p = parr
            # one propensity per round: (0, 1], and not so small that its weight overflows
            p = check_propensity(p, "propensity", n=n, ndim=(1,))
            self.propensity_estimated_ = False
        qhat = q_logged = None
        if self._needs_reward_model:
            if estimated_rewards is not None:
                qhat = as_float_array(estimated_rewards, "estimated_rewards")
                if qhat.shape != (n, k):
                    raise ValueError(f"`estimated_rewards` must have shape (n, n_actions) = ({n}, {k}); "
                                     f"got {qhat.shape}.")
                # checked and copied once, gathering the logged actions' predictions as it goes
                fast = _copy_checked(qhat, "estimated_rewards", at=a)
                if fast is None:
                    qhat = _finite_copy(qhat, "estimated_rewards")
                else:
                    qhat, q_logged = fast
                self.reward_model_ = "given"
            elif isinstance(getattr(self, "model_reward", None), str):  # "given"
                self.reward_model_ = "given"  # the predictions come with each value call
            else:
                qhat = self._fit_reward_model(Xa, yv, a, k)
                self.reward_model_ = type(self._reward_model()).__name__
        self.n_actions_ = k
        # a fitted estimator owns its data: private copies, never the caller's arrays
        self.X_ = Xa
        self.y_ = _own(yv)
        self.action_ = _own(a)
        self.propensity_ = _own(p)
        self.logging_policy_ = _own(pi0)
        # a private copy (given), fitted here, or None (model_reward="given": passed to value)
        self.estimated_rewards_ = qhat
        self.sample_weight_ = _own(sw)
        self._flat_index = None  # built on first use (_at_logged)
        self._q_logged = q_logged  # estimated_rewards_ at the logged actions (else on first use)
        self._pi0_zero = pi0_zero
        self.diagnostics_ = Diagnostics({
            "propensity_min": float(p.min()),
            "propensity_max": float(p.max()),
            "propensity_estimated": bool(self.propensity_estimated_),
            "action_counts": np.bincount(a, minlength=k),
        })
        self.n_features_in_ = Xa.shape[1]
        store_feature_names(self, names)
        return self

    def _estimate_propensity(self, Xa, a, k):
        model = self._propensity_model()
        if not hasattr(model, "predict_proba"):
            raise TypeError(f"`model_propensity` must be a classifier with predict_proba; "
                            f"got {type(model).__name__}.")
        counts = np.bincount(a, minlength=k)
        cv = getattr(self, "cv", 5)
        need = cv if isinstance(cv, int) else 2
        if counts.min() < need:
            raise ValueError(
                f"`action` {int(np.argmin(counts))} is logged {int(counts.min())} time(s); estimating "
                f"the logging propensities with cv={cv} needs every action at least {need} times. "
                "Pass `propensity` (the logged probabilities) or lower `cv`.")
        if getattr(self, "model_propensity", None) is None:
            return self._default_propensity(Xa, a, k)
        self._propensity_how = "cross-fitted classifier"
        res = crossfit({"p": Nuisance(model, a, method="predict_proba")}, Xa, cv=cv, stratify=a,
                       n_jobs=getattr(self, "n_jobs", None),
                       random_state=getattr(self, "random_state", None), keep_models=False)
        P = res["p"]
        if P.ndim == 1:
            P = np.c_[1 - P, P]
        P = np.clip(P, 1e-12, None)
        P = P / P.sum(axis=1, keepdims=True)
        return P[np.arange(len(a)), a], P

    def _default_propensity(self, Xa, a, k):
        """Default logging model: one multinomial logit on all rounds, no cross-fitting.

        A parametric model with ``(p + 1) k`` coefficients does not overfit at the
        sample sizes OPE needs, so it is fitted once instead of once per fold (about
        ``cv`` times faster). Weighting by in-sample fitted logit propensities is
        consistent, and the standard error that treats them as known is conservative
        (Hirano, Imbens and Ridder, 2003). Features are standardised for the solver.
        Pass ``model_propensity`` to cross-fit a flexible classifier instead.
        """
        loc = Xa.mean(axis=0)
        scale = Xa.std(axis=0)
        scale[~(scale > 0)] = 1.0
        Xs = (Xa - loc) / scale
        model = LogisticRegression().fit(Xs, a)
        P = np.zeros((len(a), k))
        P[:, model.classes_] = model.predict_proba(Xs)
        P = np.clip(P, 1e-12, None)
        P = P / P.sum(axis=1, keepdims=True)
        self._propensity_how = "multinomial logit on all rounds"
        return P[np.arange(len(a)), a], P

    def _fit_reward_model(self, Xa, yv, a, k):
        onehot = np.eye(k)[a]
        Z = np.c_[Xa, onehot]
        alt = {str(j): np.c_[Xa, np.tile(np.eye(k)[j], (len(a), 1))] for j in range(k)}
        res = crossfit({"q": Nuisance(self._reward_model(), yv, method="predict", predict_on=alt)},
                       Z, cv=getattr(self, "cv", 5), n_jobs=getattr(self, "n_jobs", None),
                       random_state=getattr(self, "random_state", None), keep_models=False)
        return np.column_stack([res[f"q@{j}"] for j in range(k)])

    # ---------------------------------------------------------------- policies

    def _policy_matrix(self, policy, gather=False, dots=True, rewards=None):
        """The validated (n, n_actions) policy matrix; with ``gather`` also its entries at
        the logged actions and (with ``dots``, for a reward model) the model averaged over it.
        With ``rewards`` (the caller's (n, n_actions) predictions, given to ``value``) it
        returns ``(P, pa, dm, qa)``: the predictions are checked in the policy's pass and
        ``qa`` are their entries at the logged actions."""
        n, k = self.X_.shape[0], self.n_actions_
        if hasattr(policy, "predict_proba"):
            P = np.asarray(policy.predict_proba(self.X_), dtype=np.float64)
            classes = getattr(policy, "classes_", np.arange(P.shape[1]))
            full = np.zeros((n, k))
            for col, c in enumerate(np.asarray(classes)):
                if not (0 <= int(c) < k) or int(c) != c:
                    raise ValueError(f"`policy` predicts class {c!r}, which is not an action in "
                                     f"[0, {k}). Train it on integer action labels.")
                full[:, int(c)] = P[:, col]
            P = full
        elif callable(policy):
            P = np.asarray(policy(self.X_), dtype=np.float64)
        elif isinstance(policy, (str, bytes)):
            raise TypeError(
                f"`policy` must be an (n, n_actions) array of action probabilities, a classifier "
                f"with predict_proba or a callable; got the string {policy!r}. For the uniform "
                "policy pass `np.full((n, n_actions), 1 / n_actions)`.")
        else:
            P = as_float_array(policy, "policy")
        qa = None
        if rewards is not None:
            P, pa, dm, qa = _prob_rows_rewards(P, rewards, n, k, self.action_)
        else:
            P, pa, dm, _ = _prob_rows(P, "policy", n, k, at=self.action_,
                                      rowdot=getattr(self, "estimated_rewards_", None) if dots else None)
        counts = self.diagnostics_["action_counts"]
        unlogged = np.flatnonzero(counts == 0)
        if unlogged.size and P[:, unlogged].sum() > 0:
            self._policy_on_unlogged(unlogged, stacklevel=4)
        pi0 = self.logging_policy_
        if pi0 is not None and not unlogged.size and getattr(self, "_pi0_zero", True):
            # with the full logging distribution, support is checked row by row: an action the
            # logger could not take in that context has no weight, so IPS-type estimates miss it
            off = (pi0 == 0) & (P > 0)
            if off.any():
                i, j = (int(v) for v in np.argwhere(off)[0])
                msg = (f"`policy` puts probability on actions whose logging probability is 0 "
                       f"({int(off.sum())} cell(s); first: row {i}, action {j}, probability "
                       f"{P[i, j]:.3g}); the logs carry no information on them there")
                if type(self).__name__ == "DirectMethod":
                    warnings.warn(msg + ": the reward model extrapolates there.", PositivityWarning,
                                  stacklevel=3)
                else:
                    raise ValueError(msg + ". Restrict the policy to the logging policy's support "
                                     "(e.g. renormalise it over actions with pi_0(a|x) > 0), or use "
                                     "DirectMethod.")
        if rewards is not None:
            return P, pa, dm, qa
        return (P, pa, dm) if gather else P

    # ---------------------------------------------------------------- results

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        """Return (value, stderr, method string) for the policy matrix ``P``; ``w`` are its
        (unclipped) importance weights, ``dm`` the reward model averaged over it, ``pa``
        its entries at the logged actions and ``qa`` the reward model at the logged
        actions, when the caller has them already."""
        raise NotImplementedError

    def value(self, policy, *, name="V(pi)", estimated_rewards=None) -> Estimate:
        r"""Estimated value of ``policy``.

        Parameters
        ----------
        policy : array-like or Dask array (n, n_actions), classifier with ``predict_proba``, or callable
            Target-policy action probabilities on the logged contexts (after a
            fit on Dask input, a classifier or callable is applied block by block). A classifier
            is queried with ``predict_proba(X)`` (its ``classes_`` are the action
            indices); a callable receives ``X`` and returns the (n, n_actions)
            matrix. Rows must sum to 1.
        name : str
            Name of the returned estimate.
        estimated_rewards : array-like of shape (n, n_actions), optional
            Out-of-sample reward predictions :math:`\hat q(x_i, a)` for this call
            (model-based estimators only: DM, DR, SNDR, Switch-DR), as Open Bandit
            Pipeline's ``estimated_rewards_by_reg_model``. They are checked (shape,
            finite) in the same pass as the policy and used for this value only:
            nothing is copied or kept, so at 10^6 rounds x 20 actions this saves the
            160 MB copy that ``fit(..., estimated_rewards=...)`` makes. They take the
            place of the fitted (or fit-time) predictions; the numbers equal those of
            passing the same predictions to ``fit``. Fit with ``model_reward="given"``
            to skip the reward model's fit. Not available after a fit on Dask input
            (pass them to ``fit`` there).

        Returns
        -------
        Estimate
        """
        check_is_fitted(self, "propensity_")
        rewards = self._value_rewards(estimated_rewards)
        if getattr(self, "_dask_data_", None) is not None:
            from ._dask import value_dask

            return value_dask(self, policy, name)
        qa = None
        if rewards is not None:
            P, pa, dm, qa = self._policy_matrix(policy, gather=True, rewards=rewards)
        else:
            P, pa, dm = self._policy_matrix(policy, gather=True)
        w = pa / self.propensity_
        s2 = float(np.dot(w, w))
        ess = float(w.sum() ** 2 / s2) if s2 > 0 else 0.0
        if ess < _ESS_WARN * len(w):
            warnings.warn(
                f"`policy` {name!r}: the importance weights have an effective sample size of "
                f"{ess:.1f} out of {len(w)} logged rounds (max weight {w.max():.3g}); overlap with "
                "the logging policy is poor and weighting estimates lean on few rounds.",
                PositivityWarning, stacklevel=2)
        theta, se, method = self._scores(P, w, dm, pa, qa)
        if self.propensity_estimated_:
            method += f"; logging propensities estimated ({self._propensity_how})"
        return self._interval(Estimate(theta, se, n=len(self.y_), method=method, name=name), w)

    def _interval(self, est, w):
        """The estimate as returned by :meth:`value` (a design may change its interval)."""
        return est

    def _value_rewards(self, estimated_rewards):
        """The predictions a ``value`` call uses: ``estimated_rewards`` when given (checked
        there, in the policy's pass), else ``None`` (the stored ones). Refuses them where
        they cannot be used, and refuses to go without where none are stored."""
        if estimated_rewards is None:
            if self._needs_reward_model and getattr(self, "_dask_data_", None) is None \
                    and getattr(self, "estimated_rewards_", None) is None:
                raise ValueError(
                    f"{type(self).__name__} was fitted with model_reward='given' and no "
                    "`estimated_rewards`: pass the reward predictions to value(policy, "
                    "estimated_rewards=...) (shape (n, n_actions)), or to fit.")
            return None
        if not self._needs_reward_model:
            raise ValueError(f"`estimated_rewards` is used by the model-based estimators (DirectMethod, "
                             f"DoublyRobust, SelfNormalizedDR, SwitchDR); {type(self).__name__} has no "
                             "reward model. Drop the argument.")
        if getattr(self, "_dask_data_", None) is not None:
            raise ValueError("`estimated_rewards` cannot be given to value after a fit on Dask "
                             "collections; pass them to fit (as a Dask array) instead.")
        if any_dask(estimated_rewards):
            raise TypeError("`estimated_rewards` given to value must be an in-memory array; "
                            "for Dask input pass them to fit.")
        return estimated_rewards

    def compare(self, policies: dict, *, estimated_rewards=None) -> EstimateTable:
        """Estimated values of several named policies as an :class:`EstimateTable`;
        ``estimated_rewards`` as in :meth:`value` (the same predictions for every policy)."""
        check_is_fitted(self, "propensity_")
        if not isinstance(policies, dict) or not policies:
            raise ValueError("`policies` must be a non-empty dict {name: policy}.")
        if getattr(self, "_dask_data_", None) is not None and estimated_rewards is None:
            from ._dask import compare_dask

            return self._table(compare_dask(self, policies))
        return self._table([self.value(p, name=str(k), estimated_rewards=estimated_rewards)
                            for k, p in policies.items()])

    def _table(self, estimates):
        return EstimateTable(tuple(estimates), title=f"Policy values ({type(self).__name__})")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_compare(self, X, y, *, action, policies, propensity=None, estimated_rewards=None,
                    sample_weight=None) -> EstimateTable:
        """Fit on the logs, then estimate the values of several named policies.

        The same as ``fit(X, y, ...)`` followed by :meth:`compare` ``(policies)``, with
        the same numbers, errors and warnings. With Dask input the checks of ``fit`` and
        the sums of every policy share one pass over the data instead of one pass each
        (the number of actions must then be known before the pass: from ``n_actions``,
        or the width of ``propensity``, ``estimated_rewards`` or a policy matrix;
        otherwise the policies get a second pass).

        Parameters
        ----------
        X, y, action, propensity, estimated_rewards, sample_weight
            As in :meth:`fit`.
        policies : dict {name: policy}
            Policies as :meth:`value` accepts them.

        Returns
        -------
        EstimateTable
            One estimate per policy, in the order of ``policies``; the estimator is
            fitted afterwards.
        """
        if not isinstance(policies, dict) or not policies:
            raise ValueError("`policies` must be a non-empty dict {name: policy}.")
        if any_dask(X, y, action, propensity, estimated_rewards, sample_weight):
            from ._dask import fit_compare_dask

            return self._table(fit_compare_dask(self, X, y, action, propensity,
                                                estimated_rewards, sample_weight, policies))
        self.fit(X, y, action=action, propensity=propensity, estimated_rewards=estimated_rewards,
                 sample_weight=sample_weight)
        return self.compare(policies)

    def diagnostics(self, policy) -> dict:
        """Weight diagnostics for ``policy``: effective sample size, max weight,
        share of logged actions the policy never takes, logging-propensity range."""
        check_is_fitted(self, "propensity_")
        if getattr(self, "_dask_data_", None) is not None:
            from ._dask import diagnostics_dask

            return diagnostics_dask(self, policy)
        _, pa, _ = self._policy_matrix(policy, gather=True, dots=False)
        w = pa / self.propensity_
        s2 = float(np.dot(w, w))
        return {
            "effective_sample_size": float(w.sum() ** 2 / s2) if s2 > 0 else 0.0,
            "max_weight": float(w.max()),
            "mean_weight": float(w.mean()),
            "share_zero_target_probability": float(np.mean(pa == 0)),
            "propensity_min": float(self.propensity_.min()),
            "propensity_max": float(self.propensity_.max()),
            "propensity_estimated": bool(self.propensity_estimated_),
        }

    # helpers used by subclasses
    def _at_logged(self, M):
        """Entries M[i, a_i] of an (n, n_actions) matrix."""
        if getattr(self, "_flat_index", None) is None:
            self._flat_index = (np.arange(len(self.action_), dtype=np.int64) * self.n_actions_
                                + self.action_)
        return np.ascontiguousarray(M).reshape(-1).take(self._flat_index)

    def _weights(self, P):
        return self._at_logged(P) / self.propensity_

    def _clipped(self, w):
        clip = getattr(self, "clip", None)
        return w if clip is None else np.minimum(w, clip)

    def _dm_terms(self, P, dm=None, qa=None):
        """``(dm, qa, label)``: the reward model averaged over ``P``, at the logged actions,
        and its name for the method. ``dm`` and ``qa`` when given (predictions passed to
        ``value``, named ``"given"``), else from ``estimated_rewards_`` (named
        ``reward_model_``: the fitted model, or ``"given"`` at fit)."""
        label = "given" if qa is not None else self.reward_model_
        if dm is not None and qa is not None:
            return dm, qa, label
        q = self.estimated_rewards_
        if getattr(self, "_q_logged", None) is None:  # does not depend on the policy
            self._q_logged = self._at_logged(q)
        if dm is None:
            dm = np.einsum("ij,ij->i", P, q)
        return dm, self._q_logged, label


def _mean_se(psi, sw=None):
    """(Weighted) mean of scores and its influence-function SE."""
    if sw is None:
        n = psi.shape[0]
        theta = float(psi.sum()) / n
        d = psi - theta
        return theta, float(np.sqrt(np.dot(d, d))) / n
    theta = float(np.dot(sw, psi) / sw.sum())
    return theta, float(np.sqrt(np.sum((sw * (psi - theta)) ** 2)) / sw.sum())


def _ratio_se(num, den, sw=None):
    """Ratio sum(s num)/sum(s den) with its delta-method (influence-function) SE."""
    if sw is None:
        n = num.shape[0]
        dsum = float(den.sum())
        theta = float(num.sum()) / dsum
        infl = den * -theta  # num - theta den, with one temporary instead of two
        infl += num
        infl *= n / dsum  # divided by the mean of den
        return theta, float(np.sqrt(np.dot(infl, infl))) / n
    s = sw
    dbar = np.dot(s, den) / s.sum()
    theta = float(np.dot(s, num) / np.dot(s, den))
    infl = (num - theta * den) / dbar
    return theta, float(np.sqrt(np.sum((s * infl) ** 2)) / s.sum())


def _ratio_moments(num, den, sw=None):
    """``(A, B, C, D, E)``: the sums that define the score interval of ``A / B``."""
    if sw is None:
        return tuple(float(v) for v in (num.sum(), den.sum(), num @ num, num @ den, den @ den))
    sn, sd = sw * num, sw * den
    return tuple(float(v) for v in (sw @ num, sw @ den, sn @ sn, sn @ sd, sd @ sd))


@dataclass(frozen=True, eq=False, repr=False)
class RatioScoreEstimate(Estimate):
    r"""An :class:`~causalkit.inference.Estimate` of a ratio :math:`\theta = A / B`,
    :math:`A = \sum_i s_i a_i`, :math:`B = \sum_i s_i b_i`, whose interval and p-value
    invert the score test instead of the Wald test.

    The score of :math:`\theta_0` is :math:`U(\theta_0) = \sum_i s_i (a_i - \theta_0 b_i)`
    with variance estimated *at* :math:`\theta_0`,
    :math:`V(\theta_0) = \sum_i s_i^2 (a_i - \theta_0 b_i)^2 = C - 2\theta_0 D +
    \theta_0^2 E`. The :math:`1 - \alpha` set :math:`\{\theta_0 : U^2 \le c^2 V\}` is
    Fieller's (1954) interval with the covariance taken under the null, the ratio's
    analogue of Wilson's (1927) score interval for a proportion: the roots of
    :math:`(B^2 - c^2 E)\theta_0^2 - 2(AB - c^2 D)\theta_0 + A^2 - c^2 C`. It is
    bounded when :math:`B^2 / E` (Kish's effective sample size of the weights) exceeds
    :math:`c^2`, and the whole line otherwise. ``stderr`` stays the delta-method SE
    :math:`\sqrt{V(\hat\theta)} / B`; the interval is not symmetric about ``value``.

    ``moments`` holds ``(A, B, C, D, E)``.

    Examples
    --------
    >>> from causalkit.ope import RatioScoreEstimate
    >>> e = RatioScoreEstimate(0.5, 0.027, n=100, method="ratio",
    ...                        moments=(50.0, 100.0, 40.0, 60.0, 110.0))
    >>> lo, hi = e.conf_int()
    >>> round(lo, 3), round(hi, 3)          # not symmetric about 0.5
    (0.443, 0.553)
    """

    moments: tuple = ()

    def _score_z(self, theta0):
        A, B, C, D, E = self.moments
        v = C - 2 * theta0 * D + theta0 * theta0 * E
        u = A - theta0 * B
        if v <= 0:
            return np.inf if u != 0 else 0.0
        return abs(u) / np.sqrt(v)

    @property
    def zstat(self) -> float:
        """Score statistic :math:`U(\theta_0) / \\sqrt{V(\theta_0)}` at ``null``, signed."""
        z = self._score_z(self.null)
        return float(np.sign(self.value - self.null) * z)

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of the score test of ``H0: estimand == null``."""
        return float(2 * stats.norm.sf(abs(self.zstat)))

    def conf_int(self, alpha: float = 0.05) -> tuple[float, float]:
        """The score (null-variance Fieller) interval ``(lower, upper)``."""
        Estimate.conf_int(self, alpha)  # validates alpha
        c2 = float(stats.norm.ppf(1 - alpha / 2)) ** 2
        A, B, C, D, E = self.moments
        a = B * B - c2 * E
        b = -2 * (A * B - c2 * D)
        cc = A * A - c2 * C
        disc = b * b - 4 * a * cc
        if a <= 0 or disc < 0:
            return (-np.inf, np.inf)
        r = np.sqrt(disc)
        lo, hi = sorted(((-b - r) / (2 * a), (-b + r) / (2 * a)))
        return (float(min(lo, self.value)), float(max(hi, self.value)))


_COMMON_FIT_DOC = ""


class IPS(_BanditOPE):
    r"""Inverse propensity scoring (Horvitz and Thompson, 1952).

    .. math:: \hat V_{IPS} = \frac1n \sum_i \min(w_i, c)\, y_i,
              \qquad w_i = \pi(a_i|x_i) / \pi_0(a_i|x_i),

    unbiased when the logging propensities are known, ``clip`` (:math:`c`) is
    ``None`` and :math:`\pi_0 > 0` wherever :math:`\pi > 0`. The standard error is
    :math:`\mathrm{sd}(w_i y_i)/\sqrt n`.

    Parameters
    ----------
    n_actions : int, optional
        Number of actions (default: largest logged action + 1).
    clip : float, optional
        Cap on the importance weights (biased toward zero, lower variance).
    model_propensity : classifier, optional
        Used only when ``propensity`` is not given to ``fit``; cross-fitted over
        ``cv`` folds. ``None`` (default): a multinomial
        :class:`~sklearn.linear_model.LogisticRegression` on standardised features,
        fitted once on all rounds (a parametric model needs no cross-fitting; the
        SE that treats its propensities as known is conservative, Hirano, Imbens
        and Ridder, 2003).
    cv : int, default 5
        Cross-fitting folds for the nuisance models.
    n_jobs : int or None
    random_state : int or None

    Attributes
    ----------
    propensity_ : ndarray (n,) or None
        Logging probabilities of the logged actions (given or cross-fitted);
        ``None`` after a fit on Dask input, which keeps the lazy collections.
    propensity_estimated_ : bool
    n_actions_ : int
    diagnostics_ : dict
        Logging-propensity range and the number of rounds per action. Weight
        diagnostics of a given policy come from :meth:`diagnostics`; :meth:`value`
        raises a :class:`~causalkit.utils.validation.PositivityWarning` when the
        weights' effective sample size is below 1% of the rounds.

    References
    ----------
    Horvitz, D. and Thompson, D. (1952). A generalization of sampling without
    replacement from a finite universe. JASA 47(260).

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import IPS
    >>> d = make_bandit_feedback(5000, n_actions=4, random_state=0)
    >>> est = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    >>> v = est.value(d.target_policy)
    >>> lo, hi = v.conf_int()
    >>> bool(lo < d.true_value < hi)
    True
    """

    _label = "IPS"

    _parameter_constraints: dict = {
        **_BanditOPE._parameter_constraints,
        "clip": [Interval(Real, 0, None, closed="right"), None],
    }

    def __init__(self, *, n_actions=None, clip=None, model_propensity=None, cv=5, n_jobs=None,
                 random_state=None):
        self.n_actions = n_actions
        self.clip = clip
        self.model_propensity = model_propensity
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        w = self._clipped(self._weights(P) if w is None else w)
        theta, se = _mean_se(w * self.y_, self.sample_weight_)
        m = "IPS" + (f" (weights clipped at {self.clip:g})" if self.clip is not None else "")
        return theta, se, m + ", influence-function SE"


class SNIPS(IPS):
    r"""Self-normalised inverse propensity scoring (Swaminathan and Joachims, 2015).

    .. math:: \hat V_{SNIPS} = \frac{\sum_i w_i y_i}{\sum_i w_i},

    with the delta-method standard error
    :math:`\sqrt{\sum_i w_i^2 (y_i - \hat V)^2} / \sum_i w_i`. Slightly biased,
    invariant to adding a constant to the rewards, usually far less variable than IPS.

    The interval (``value(...).conf_int()``) inverts the score test of the ratio,
    :math:`\{V_0 : (\sum_i w_i (y_i - V_0))^2 \le z^2 \sum_i w_i^2 (y_i - V_0)^2\}`
    (Fieller, 1954, with the variance taken under the null; see
    :class:`RatioScoreEstimate`), not the Wald interval
    :math:`\hat V \pm z\,\widehat{SE}`: when overlap is poor the few heavy weights make
    the delta-method SE small exactly when the estimate is off, and the Wald interval
    covered 0.90 (harsh overlap, 2,000 rounds) and 0.77 (500 rounds) against 0.94 and
    0.95 for the score interval (``benchmarks/coverage.py --family ope``). ``interval="wald"``
    gives the symmetric one. Other parameters as :class:`IPS`.

    Parameters
    ----------
    interval : {"score", "wald"}, default "score"
        Which 95% (or ``1 - alpha``) interval :meth:`value` reports.

    References
    ----------
    Swaminathan, A. and Joachims, T. (2015). The self-normalized estimator for
    counterfactual learning. NeurIPS.
    Fieller, E. C. (1954). Some problems in interval estimation. JRSS-B 16(2), 175-185.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import SNIPS
    >>> d = make_bandit_feedback(5000, n_actions=4, random_state=0)
    >>> v = SNIPS().fit(d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)
    >>> bool(abs(v.value - d.true_value) < 4 * v.stderr)
    True
    """

    _label = "SNIPS"
    _parameter_constraints: dict = {
        **IPS._parameter_constraints,
        "interval": [StrOptions({"score", "wald"})],
    }

    def __init__(self, *, n_actions=None, clip=None, model_propensity=None, cv=5, n_jobs=None,
                 random_state=None, interval="score"):
        super().__init__(n_actions=n_actions, clip=clip, model_propensity=model_propensity, cv=cv,
                         n_jobs=n_jobs, random_state=random_state)
        self.interval = interval

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        w = self._clipped(self._weights(P) if w is None else w)
        theta, se = _ratio_se(w * self.y_, w, self.sample_weight_)
        m = "SNIPS" + (f" (weights clipped at {self.clip:g})" if self.clip is not None else "")
        return theta, se, m + ", delta-method SE"

    def _interval(self, est, w):
        w = self._clipped(w)
        return self._ratio_estimate(est, _ratio_moments(w * self.y_, w, self.sample_weight_))

    def _ratio_estimate(self, est, moments):
        """``est`` with the interval ``interval`` asks for; ``moments`` as in
        :class:`RatioScoreEstimate` (the Dask path passes the same sums)."""
        if self.interval == "wald":
            return est._replace(method=est.method + ", Wald interval")
        return RatioScoreEstimate(est.value, est.stderr, n=est.n, name=est.name,
                                  method=est.method + ", score (Fieller) interval",
                                  moments=tuple(float(v) for v in moments))


class DirectMethod(_BanditOPE):
    r"""Direct method: average the reward model over the target policy.

    .. math:: \hat V_{DM} = \frac1n \sum_i \sum_a \pi(a|x_i)\, \hat q(x_i, a),

    where :math:`\hat q(x, a)` regresses the reward on the context and the one-hot
    action, cross-fitted. Consistent only if the reward model is; its standard
    error treats :math:`\hat q` as fixed and ignores model bias.

    Parameters
    ----------
    model_reward : regressor or "given", optional
        Default :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
        ``"given"``: no model is fitted; the predictions are passed to ``fit`` or
        to each :meth:`~DoublyRobust.value` call (``estimated_rewards``).
    n_actions, model_propensity, cv, n_jobs, random_state
        As in :class:`IPS` (the propensity model is fitted only when ``propensity``
        is absent; the DM value does not use it, the diagnostics do).

    References
    ----------
    Dudik, M., Langford, J. and Li, L. (2011). Doubly robust policy evaluation and
    learning. ICML.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import DirectMethod
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> est = DirectMethod(model_reward=LinearRegression(), cv=2, random_state=0)
    >>> v = est.fit(d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)
    >>> v.name
    'V(pi)'
    """

    _needs_reward_model = True
    _label = "DM"

    _parameter_constraints: dict = {
        **_BanditOPE._parameter_constraints,
        "model_reward": [REGRESSOR, StrOptions({"given"}), None],
    }

    def __init__(self, *, model_reward=None, n_actions=None, model_propensity=None, cv=5,
                 n_jobs=None, random_state=None):
        self.model_reward = model_reward
        self.n_actions = n_actions
        self.model_propensity = model_propensity
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        dm, _, label = self._dm_terms(P, dm, qa)
        theta, se = _mean_se(dm, self.sample_weight_)
        return theta, se, f"Direct method (reward model: {label}), SE given the model"


class DoublyRobust(_BanditOPE):
    r"""Doubly robust policy value (Dudik, Langford and Li, 2011, eq. 2).

    .. math:: \hat V_{DR} = \frac1n \sum_i \Big[\sum_a \pi(a|x_i)\hat q(x_i,a)
              + \min(w_i, c)\,\big(y_i - \hat q(x_i,a_i)\big)\Big].

    Unbiased when the propensities are known (for any reward model and no clipping);
    consistent when either nuisance is. SE: :math:`\mathrm{sd}(\psi_i)/\sqrt n`.

    Parameters
    ----------
    model_reward : regressor or "given", optional
        Default :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
        ``"given"``: no model is fitted; the predictions are passed to ``fit`` or
        to each :meth:`~DoublyRobust.value` call (``estimated_rewards``).
    n_actions, clip, model_propensity, cv, n_jobs, random_state
        As in :class:`IPS`.

    References
    ----------
    Dudik, M., Langford, J. and Li, L. (2011). Doubly robust policy evaluation and
    learning. ICML.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import DoublyRobust
    >>> d = make_bandit_feedback(4000, n_actions=3, random_state=0)
    >>> est = DoublyRobust(model_reward=LinearRegression(), cv=2, random_state=0)
    >>> v = est.fit(d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)
    >>> bool(abs(v.value - d.true_value) < 4 * v.stderr)
    True
    """

    _needs_reward_model = True
    _label = "DR"

    _parameter_constraints: dict = {
        **_BanditOPE._parameter_constraints,
        "clip": [Interval(Real, 0, None, closed="right"), None],
        "model_reward": [REGRESSOR, StrOptions({"given"}), None],
    }

    def __init__(self, *, model_reward=None, n_actions=None, clip=None, model_propensity=None,
                 cv=5, n_jobs=None, random_state=None):
        self.model_reward = model_reward
        self.n_actions = n_actions
        self.clip = clip
        self.model_propensity = model_propensity
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        dm, qa, label = self._dm_terms(P, dm, qa)
        w = self._clipped(self._weights(P) if w is None else w)
        theta, se = _mean_se(dm + w * (self.y_ - qa), self.sample_weight_)
        m = "DR" + (f" (weights clipped at {self.clip:g})" if self.clip is not None else "")
        return theta, se, m + f" (reward model: {label}), influence-function SE"


class SelfNormalizedDR(DoublyRobust):
    r"""Self-normalised doubly robust estimator.

    .. math:: \hat V_{SNDR} = \frac1n \sum_i \sum_a \pi(a|x_i)\hat q(x_i,a)
              + \frac{\sum_i w_i (y_i - \hat q(x_i,a_i))}{\sum_i w_i},

    the DR correction with self-normalised weights (as in Kallus and Uehara, 2019,
    and Open Bandit Pipeline's ``SelfNormalizedDoublyRobust``). Delta-method SE.
    Parameters as :class:`DoublyRobust`.

    References
    ----------
    Kallus, N. and Uehara, M. (2019). Intrinsically efficient, stable, and bounded
    off-policy evaluation for reinforcement learning. NeurIPS.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import SelfNormalizedDR
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> est = SelfNormalizedDR(model_reward=LinearRegression(), cv=2, random_state=0)
    >>> v = est.fit(d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)
    >>> v.stderr > 0
    True
    """

    _label = "SNDR"

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        dm, qa, label = self._dm_terms(P, dm, qa)
        w = self._clipped(self._weights(P) if w is None else w)
        corr = w * (self.y_ - qa)
        sw = self.sample_weight_
        if sw is None:
            n = w.shape[0]
            wsum = float(w.sum())
            wbar = wsum / n
            c = float(corr.sum()) / wsum
            dm_mean = float(dm.sum()) / n
            infl = dm - dm_mean
            infl += (corr - c * w) / wbar
            se = float(np.sqrt(np.dot(infl, infl))) / n
        else:
            wbar = np.dot(sw, w) / sw.sum()
            c = float(np.dot(sw, corr) / np.dot(sw, w))
            dm_mean = float(np.dot(sw, dm) / sw.sum())
            infl = (dm - dm_mean) + (corr - c * w) / wbar
            se = float(np.sqrt(np.sum((sw * infl) ** 2)) / sw.sum())
        theta = dm_mean + c
        m = "SNDR" + (f" (weights clipped at {self.clip:g})" if self.clip is not None else "")
        return theta, se, m + f" (reward model: {label}), delta-method SE"


class SwitchDR(DoublyRobust):
    r"""Switch doubly robust estimator (Wang, Agarwal and Dudik, 2017).

    .. math:: \hat V_{SW} = \frac1n \sum_i \Big[\sum_a \pi(a|x_i)\hat q(x_i,a)
              + w_i\,\mathbb 1\{w_i \le \tau\}\,\big(y_i - \hat q(x_i,a_i)\big)\Big]:

    the DR correction is used where the weight is at most :math:`\tau` and the
    direct method elsewhere (this equals the SWITCH-DR form of Wang et al., whose
    two model terms combine into one sum over actions). ``tau=inf`` is DR.

    Parameters
    ----------
    tau : float, default 10.0
        Switching threshold on the importance weight.
    model_reward, n_actions, model_propensity, cv, n_jobs, random_state
        As in :class:`DoublyRobust`.

    References
    ----------
    Wang, Y.-X., Agarwal, A. and Dudik, M. (2017). Optimal and adaptive off-policy
    evaluation in contextual bandits. ICML.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import SwitchDR
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> est = SwitchDR(tau=5.0, model_reward=LinearRegression(), cv=2, random_state=0)
    >>> v = est.fit(d.X, d.y, action=d.action, propensity=d.propensity).value(d.target_policy)
    >>> "switch" in v.method
    True
    """

    _label = "Switch-DR"

    _parameter_constraints: dict = {
        **_BanditOPE._parameter_constraints,
        "tau": [Interval(Real, 0, None, closed="right")],  # np.inf gives DR
        "model_reward": [REGRESSOR, StrOptions({"given"}), None],
    }

    def __init__(self, *, tau=10.0, model_reward=None, n_actions=None, model_propensity=None,
                 cv=5, n_jobs=None, random_state=None):
        self.tau = tau
        self.model_reward = model_reward
        self.n_actions = n_actions
        self.model_propensity = model_propensity
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    @property
    def clip(self):
        return None

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        dm, qa, label = self._dm_terms(P, dm, qa)
        w = self._weights(P) if w is None else w
        keep = w <= self.tau
        theta, se = _mean_se(dm + np.where(keep, w, 0.0) * (self.y_ - qa), self.sample_weight_)
        return theta, se, (f"DR with switch at weight {self.tau:g} ({int((~keep).sum())} rounds "
                           f"use the model only; reward model: {label}), "
                           "influence-function SE")


class ExponentialSmoothingIPS(IPS):
    r"""Exponentially smoothed IPS (Aouali, Brunel, Rohde and Korba, 2023).

    .. math:: \hat V_\beta = \frac1n \sum_i y_i\, \frac{\pi(a_i|x_i)}{\pi_0(a_i|x_i)^{\beta}},
              \qquad \beta \in [0, 1],

    which is IPS at :math:`\beta = 1`. For :math:`\beta < 1` the weights are
    smoothed: the variance drops and the estimate is biased toward zero. Its
    expectation is :math:`E_x \sum_a \pi(a|x)\pi_0(a|x)^{1-\beta} r(x, a)`, so for
    rewards in :math:`[-1, 1]` the bias is at most
    :math:`B_\beta = 1 - E_x \sum_a \pi(a|x)\pi_0(a|x)^{1-\beta}` (the bias term of
    the paper's bound). :meth:`value` reports :math:`\hat B_\beta` (the sample mean
    over the logged contexts) in the method string when ``bound=True`` and the full
    logging distribution was given; :meth:`bias_bound` returns it.
    The paper's complete PAC-Bayes bound is minimised (and reported) by
    :class:`ExponentialSmoothingLearner`.

    Parameters
    ----------
    beta : float in [0, 1], default 0.5
    bound : bool, default False
        Report the bias bound :math:`\hat B_\beta` with each estimate.
    n_actions, clip, model_propensity, cv, n_jobs, random_state
        As in :class:`IPS`.

    References
    ----------
    Aouali, I., Brunel, V.-E., Rohde, D. and Korba, A. (2023). Exponential smoothing
    for off-policy learning. ICML.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import ExponentialSmoothingIPS
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> est = ExponentialSmoothingIPS(beta=0.7).fit(d.X, d.y, action=d.action,
    ...                                              propensity=d.logging_policy)
    >>> 0 <= est.bias_bound(d.target_policy) <= 1
    True
    """

    _label = "ES-IPS"

    _parameter_constraints: dict = {
        **IPS._parameter_constraints,
        "beta": [Interval(Real, 0, 1, closed="both")],
        "bound": ["boolean"],
    }

    def __init__(self, *, beta=0.5, bound=False, n_actions=None, clip=None, model_propensity=None,
                 cv=5, n_jobs=None, random_state=None):
        self.beta = beta
        self.bound = bound
        self.n_actions = n_actions
        self.clip = clip
        self.model_propensity = model_propensity
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def bias_bound(self, policy) -> float:
        r"""Estimated :math:`B_\beta = 1 - \frac1n\sum_i\sum_a \pi(a|x_i)\pi_0(a|x_i)^{1-\beta}`.

        Needs the full logging distribution (``propensity`` of shape (n, n_actions)
        or estimated propensities).
        """
        check_is_fitted(self, "propensity_")
        if self.logging_policy_ is None:
            raise ValueError("`bias_bound` needs the full logging distribution: pass `propensity` "
                             "of shape (n, n_actions) to fit (or let it be estimated).")
        P = self._policy_matrix(policy)
        return float(1.0 - np.mean(np.sum(P * self.logging_policy_ ** (1.0 - self.beta), axis=1)))

    def _scores(self, P, w=None, dm=None, pa=None, qa=None):
        w = (self._at_logged(P) if pa is None else pa) / self.propensity_ ** self.beta
        w = self._clipped(w)
        theta, se = _mean_se(w * self.y_, self.sample_weight_)
        m = f"Exponentially smoothed IPS (beta={self.beta:g}), influence-function SE"
        if self.bound and self.logging_policy_ is not None:
            b = float(1.0 - np.mean(np.sum(P * self.logging_policy_ ** (1.0 - self.beta), axis=1)))
            m += f"; bias bound B_beta={b:.4g} for rewards in [-1, 1]"
        return theta, se, m
