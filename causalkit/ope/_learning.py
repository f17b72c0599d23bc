r"""Off-policy learning: fit a new policy from logged contextual-bandit feedback.

Every learner has ``fit(X, y, *, action, propensity)`` and ``predict_proba(X)``
(the learned policy's action probabilities, columns = actions ``0..K-1``), so a
fitted learner is a policy that every evaluator's ``value(policy)`` accepts.
:func:`learn_and_evaluate` learns on one part of the logs and evaluates the
learned policy on the other part, with a confidence interval.

Notation (Aouali, Brunel, Rohde and Korba, 2023, Sec. 2): round *i* has context
:math:`x_i`, action :math:`a_i`, reward :math:`y_i \in [0, 1]` (cost
:math:`c_i = -y_i \in [-1, 0]`) and logging probabilities :math:`\pi_0(\cdot|x_i)`.
The risk of a policy is :math:`R(\pi) = E_x \sum_a \pi(a|x) c(x, a) = -V(\pi)`.

The two PAC-Bayes learners share two policy classes (Sakhi, Alquier and Chopin,
2023; Aouali et al., 2023, Sec. 5 and App. D, whose experiments use both): linear
scores :math:`\theta^\top \tilde x` (:math:`\tilde x = (x, 1)` with an intercept)
with parameters :math:`\theta \sim Q = N(M, \sigma^2 I)`, and the learned policy is
the Gibbs mixture :math:`\pi_Q(a|x) = E_{\theta\sim Q}\,\pi_\theta(a|x)`.

* ``policy="gaussian"``: :math:`\pi_\theta` takes the action of highest score, so

  .. math:: \pi_Q(a|x) = P\big(a = \arg\max_b \theta_b^\top \tilde x\big)
            = \int \varphi(t - m_a) \prod_{b \ne a} \Phi(t - m_b)\,dt,
            \qquad m_b = \frac{M_b^\top \tilde x}{\sigma \lVert\tilde x\rVert},

  one integral over the winning score :math:`t`, shared by all actions and computed
  by the trapezoid rule on ``n_quadrature`` nodes (geometric convergence for this
  analytic, Gaussian-tailed integrand; error below 1e-9 at the default 32 nodes),
  so a row costs O(K ``n_quadrature``) and the bound is evaluated for the policy that
  :meth:`predict_proba` returns (to that accuracy).
* ``policy="softmax"``: :math:`\pi_\theta(\cdot|x) = \mathrm{softmax}(\theta^\top\tilde x)`,
  the linear-softmax policy, so :math:`\pi_Q` is the mixed logit
  :math:`E_{\varepsilon\sim N(0, I_K)}\mathrm{softmax}(M^\top\tilde x + \sigma\lVert\tilde x\rVert\varepsilon)`
  (the paper's "mixed-logit" policies). It has no closed form; it is averaged over
  ``n_quadrature`` standard normal draws fixed at fit time (``random_state``), the
  same draws in training, in the certificate and in :meth:`predict_proba`. The
  certificate therefore holds for the exact :math:`\pi_Q` up to this Monte Carlo
  error. As :math:`\sigma \to 0` the policy tends to the plain softmax
  :math:`\mathrm{softmax}(M^\top \tilde x)`, whose KL to the prior is infinite:
  a deterministic-parameter softmax has no certificate under this bound.

The prior is :math:`P = N(M_0, \sigma_0^2 I)` with :math:`M_0` = ``prior_mean``
(zero by default; it must not depend on the logs used for fitting) and
:math:`\sigma_0` = ``prior_scale``, so
:math:`\mathrm{KL}(Q\|P) = \tfrac12\big[D(\sigma^2/\sigma_0^2 - 1 - \ln(\sigma^2/\sigma_0^2))
+ \lVert M - M_0\rVert^2/\sigma_0^2\big]` with :math:`D` the number of parameters.

Every term of the bounds is linear in the policy matrix, so one pass over the rows
computes them and their exact gradients in blocks (memory flat in n, no tensor of
size n x K x K).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from ..inference import Estimate
from ..utils._param_validation import (
    POS_INT,
    POS_REAL,
    REGRESSOR,
    SEED,
    Integral,
    Interval,
    Real,
    StrOptions,
    _fit_context,
)
from ..utils.validation import (
    PositivityWarning,
    as_float_array,
    check_aligned,
    check_consistent_length,
    check_feature_names,
    check_fraction,
    check_propensity,
    check_vector,
    check_X,
    store_feature_names,
)
from ._bandit import _KERNEL_MIN_SIZE, _check_actions, _check_prob_matrix

__all__ = [
    "ClippedIPSLearner",
    "DirectMethodLearner",
    "ExponentialSmoothingLearner",
    "learn_and_evaluate",
]

_INV_SQRT_2PI = 1.0 / np.sqrt(2 * np.pi)
#: Half-width of the integration range of the winning score (in units of sigma |x|).
_TAU_MAX = 9.0
#: Rows per block for each policy class (memory stays flat in n; sizes measured to keep
#: the block's n x K x nodes arrays in cache).
_BLOCK = {"gaussian": 256, "softmax": 1024}
#: Rows per call of the compiled kernels (each row's arrays are in cache; the block only
#: bounds the ``functionals`` array).
_KERNEL_BLOCK = 4096


def _score_grid(n_nodes):
    """Uniform nodes and step for the winning-score integral over [-_TAU_MAX, _TAU_MAX].

    The integrand is analytic and decays like a Gaussian, so the trapezoid rule
    on a uniform grid converges geometrically (its error at step h is of order
    exp(-2 pi^2 / h^2) for a Gaussian; the end points carry weight below 1e-18).
    """
    tau = np.linspace(-_TAU_MAX, _TAU_MAX, n_nodes)
    return tau, tau[1] - tau[0]


def _gaussian_block(Sb, sr, tau, h):
    r"""pi_Q on a block of rows: Gaussian (probit) argmax policy.

    With scaled scores :math:`m_b = s_b / (\sigma\lVert\tilde x\rVert)` and the
    winning score :math:`t`, :math:`\pi_Q(a|x) = \int \varphi(t - m_a)\prod_{b\ne a}\Phi(t - m_b)\,dt`,
    one integral on a grid shared by all actions (shifted to the largest score), so
    a row costs O(K J) normal cdf evaluations.
    """
    m = Sb / sr[:, None]
    top = m.argmax(axis=1)
    rows = np.arange(len(m))
    delta = m - m[rows, top][:, None]  # <= 0
    U = tau[None, None, :] - delta[:, :, None]  # >= -_TAU_MAX: Phi(U) never underflows
    F = ndtr(U)
    f = np.exp(-0.5 * U * U)
    f *= _INV_SQRT_2PI
    R = np.prod(F, axis=1, keepdims=True) / F  # prod over b != a
    fR = f * R
    p = h * fR.sum(axis=2)
    return p, (m, U, F, f, fR, top, rows)


def _gaussian_block_vjp(gp, cache, h, sr):
    """(dL/dS, dL/dlog sigma) on the block from ``gp = dL/dp`` of shape (n_func, B, K)."""
    m, U, F, f, fR, top, rows = cache
    A = np.einsum("mbk,bkj->mbj", gp, fR)
    q = f / F
    # d pi_a / d delta_a = h sum_j U_aj f_aj R_aj;  d pi_a / d delta_c = -h sum_j f_aj R_aj f_cj / F_cj
    diag = np.einsum("bkj,bkj->bk", U + q, fR)
    v = h * (gp * diag[None] - np.einsum("bkj,mbj->mbk", q, A))
    # delta = m - m_top: dL/dm_c = dL/ddelta_c - 1{c = top} sum_b dL/ddelta_b
    v[:, rows, top] -= v.sum(axis=2)
    gS = v / sr[None, :, None]
    glog = -np.einsum("mbk,bk->m", v, m)
    return gS, glog


def _softmax_block(Sb, sr, eps):
    r"""pi_Q on a block of rows: mixed logit :math:`E_\varepsilon\,\mathrm{softmax}(s + \sigma\lVert\tilde x\rVert\varepsilon)`
    over the fixed standard normal draws ``eps`` (shape (n_draws, K))."""
    Z = Sb[:, None, :] + sr[:, None, None] * eps[None, :, :]
    Z -= Z.max(axis=2, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=2, keepdims=True)
    return Z.mean(axis=1), (Z,)


def _softmax_block_vjp(gp, cache, eps, sr):
    (Q,) = cache
    S = Q.shape[1]
    inner = np.einsum("mbk,bsk->mbs", gp, Q)
    # dL/dZ[m, b, s, k] = Q (gp - inner) / S, summed over s for the scores
    gS = (np.einsum("mbk,bsk->mbk", gp, Q) - np.einsum("mbs,bsk->mbk", inner, Q)) / S
    # dZ/dlog sigma = sr * eps
    QE = Q * eps[None, :, :]
    glog = (np.einsum("mbk,bsk,b->m", gp, QE, sr)
            - np.einsum("mbs,bs,b->m", inner, QE.sum(axis=2), sr)) / S
    return gS, glog


def _policy_pass(kind, Xt, M, sigma, quad, functionals=None, need_grad=False, compiled=None):
    """One pass over the rows of the learned policy pi_Q.

    Without ``functionals`` it returns the policy matrix. With ``functionals`` (a
    callable ``(lo, hi) -> G`` of shape (n_func, hi - lo, K)) it returns
    ``T[m] = sum_{i, a} G[m, i, a] pi_Q(a|x_i)`` and, with ``need_grad``, the gradients
    of every ``T[m]`` with respect to ``M`` (n_func, d, K) and to ``log sigma`` (n_func,),
    without storing anything of size n x K x nodes.

    ``compiled`` picks the engine: the compiled row kernels of ``causalkit._accel._ope``
    (one row's K x nodes arrays at a time, all in cache) or the numpy block path below;
    ``None`` takes the kernels when the pass has at least ``_KERNEL_MIN_SIZE`` (row,
    action, node) cells. Both compute the same formulas; they agree to rounding.
    """
    n, k = Xt.shape[0], M.shape[1]
    r = np.linalg.norm(Xt, axis=1)
    r = np.where(r > 0, r, 1.0)
    sr_all = sigma * r
    n_nodes = quad[0].shape[0] if kind == "gaussian" else quad.shape[0]
    if compiled is None:
        compiled = n * k * n_nodes >= _KERNEL_MIN_SIZE
    if compiled:
        return _policy_pass_compiled(kind, Xt, M, sr_all, quad, functionals, need_grad)
    out_P = np.empty((n, k)) if functionals is None else None
    T = gM = glog = None
    block = _BLOCK[kind]
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        Sb = Xt[lo:hi] @ M
        sr = sr_all[lo:hi]
        if kind == "gaussian":
            tau, h = quad
            p, cache = _gaussian_block(Sb, sr, tau, h)
            tot = p.sum(axis=1)
            P = p / tot[:, None]  # remove the quadrature's tiny row-sum error
        else:
            p, cache = _softmax_block(Sb, sr, quad)
            tot = np.ones(hi - lo)
            P = p
        if functionals is None:
            out_P[lo:hi] = P
            continue
        G = functionals(lo, hi)
        Tb = np.einsum("mbk,bk->m", G, P)
        T = Tb if T is None else T + Tb
        if not need_grad:
            continue
        # through the row normalisation P = p / sum(p)
        gp = (G - np.einsum("mbk,bk->mb", G, P)[:, :, None]) / tot[None, :, None]
        if kind == "gaussian":
            gS, gl = _gaussian_block_vjp(gp, cache, quad[1], sr)
        else:
            gS, gl = _softmax_block_vjp(gp, cache, quad, sr)
        gMb = np.einsum("bd,mbk->mdk", Xt[lo:hi], gS)
        gM = gMb if gM is None else gM + gMb
        glog = gl if glog is None else glog + gl
    if functionals is None:
        return out_P
    return T, gM, glog


def _policy_pass_compiled(kind, Xt, M, sr_all, quad, functionals, need_grad):
    """:func:`_policy_pass` by the compiled row kernels, in blocks of ``_KERNEL_BLOCK``
    rows (one call of ``functionals`` per block)."""
    from .._accel._ope import gaussian_rows, softmax_rows

    n, d = Xt.shape
    k = M.shape[1]
    Xt = np.ascontiguousarray(Xt, dtype=np.float64)
    M = np.ascontiguousarray(M, dtype=np.float64)
    want_P = functionals is None
    out_P = np.empty((n, k)) if want_P else np.empty((1, 1))
    T = gM = glog = None
    for lo in range(0, n, _KERNEL_BLOCK):
        hi = min(n, lo + _KERNEL_BLOCK)
        if want_P:
            G = np.empty((0, hi - lo, k))
        else:
            G = np.ascontiguousarray(functionals(lo, hi), dtype=np.float64)
        if T is None:
            nf = G.shape[0]
            T, gM, glog = np.zeros(nf), np.zeros((nf, d, k)), np.zeros(nf)
        outb = out_P[lo:hi] if want_P else out_P
        if kind == "gaussian":
            tau, h = quad
            gaussian_rows(Xt[lo:hi], M, sr_all[lo:hi], np.ascontiguousarray(tau), float(h), G, T, gM,
                          glog, bool(need_grad), outb, want_P)
        else:
            softmax_rows(Xt[lo:hi], M, sr_all[lo:hi], np.ascontiguousarray(quad, dtype=np.float64), G,
                         T, gM, glog, bool(need_grad), outb, want_P)
    if want_P:
        return out_P
    return (T, gM, glog) if need_grad else (T, None, None)


# --------------------------------------------------------------------------- shared learner logic


def _add_intercept(X, fit_intercept):
    return np.c_[X, np.ones(X.shape[0])] if fit_intercept else X


def _check_reward_unit(y):
    if y.min() < 0 or y.max() > 1:
        raise ValueError(f"`y` must lie in [0, 1] for the PAC-Bayes bound (costs -y in [-1, 0]); "
                         f"got values in [{y.min():.4g}, {y.max():.4g}]. Rescale the rewards to [0, 1].")


class _LearnerBase(BaseEstimator):
    """fit / predict_proba / predict shared by every learner."""

    def _check_common(self, X, y, action, sample_weight, propensity=None):
        if sample_weight is not None:
            raise ValueError("`sample_weight` is not supported by the policy learners: their risk "
                             "estimates and bounds are for i.i.d. rounds. Repeat rows for frequency weights.")
        Xa, names = check_X(X, "X")
        yv = check_vector(y, "y")
        n_actions = self.n_actions
        if n_actions is None and propensity is not None and np.ndim(propensity) == 2 \
                and np.shape(propensity)[1] > 1:
            n_actions = int(np.shape(propensity)[1])  # the logging distribution names the actions
            try:
                a_max = float(np.nanmax(np.asarray(action, dtype=np.float64)))
            except (TypeError, ValueError):
                a_max = -1.0  # _check_actions reports non-numeric actions
            if a_max >= n_actions:
                raise ValueError(f"`propensity` has {n_actions} columns but `action` holds action "
                                 f"{a_max:g}; pass one column per action (shape (n, n_actions)).")
        a, k = _check_actions(action, n_actions)
        n = check_consistent_length(X=Xa, y=yv, action=a)
        return Xa, names, yv, a, k, n

    def _set_features(self, Xa, names, k):
        self.n_actions_ = k
        self.classes_ = np.arange(k)
        self.n_features_in_ = Xa.shape[1]
        store_feature_names(self, names)

    def _check_predict_X(self, X):
        check_is_fitted(self, "classes_")
        check_feature_names(self, X)
        Xa, _ = check_X(X, "X")
        if Xa.shape[1] != self.n_features_in_:
            raise ValueError(f"`X` has {Xa.shape[1]} columns; the learner was fitted with "
                             f"{self.n_features_in_}.")
        return Xa

    def predict(self, X):
        """The most probable action under the learned policy."""
        return np.argmax(self.predict_proba(X), axis=1)


class _PACBayesLearner(_LearnerBase):
    """Shared fitting for the PAC-Bayes learners (Gaussian or softmax Gibbs policy, L-BFGS)."""

    _parameter_constraints: dict = {
        "delta": [Interval(Real, 0, 1, closed="neither")],
        "prior_mean": ["array-like", None],
        "prior_scale": [POS_REAL],
        "fit_intercept": ["boolean"],
        "n_actions": [Interval(Integral, 2, None, closed="left"), None],
        "n_quadrature": [Interval(Integral, 8, None, closed="left")],
        "max_iter": [POS_INT],
        "policy": [StrOptions({"gaussian", "softmax"})],
        "random_state": SEED,
    }

    def _prior(self, d, k):
        if self.prior_mean is None:
            return np.zeros((d, k))
        M0 = np.asarray(self.prior_mean, dtype=np.float64)
        if M0.shape != (d, k):
            raise ValueError(f"`prior_mean` must have shape (n_features{' + 1' if self.fit_intercept else ''}, "
                             f"n_actions) = ({d}, {k}); got {M0.shape}.")
        if not np.isfinite(M0).all():
            raise ValueError("`prior_mean` contains NaN or infinite values.")
        return M0.copy()

    def _kl(self, M, log_sigma):
        s2 = np.exp(2 * log_sigma) / self.prior_scale ** 2
        D = M.size
        diff = M - self.M0_
        kl = 0.5 * (D * (s2 - 1 - np.log(s2)) + np.sum(diff * diff) / self.prior_scale ** 2)
        dkl_dM = diff / self.prior_scale ** 2
        dkl_dlogsig = D * (s2 - 1)
        return kl, dkl_dM, dkl_dlogsig

    def _quadrature(self, k):
        """Grid of the Gaussian policy's integral, or the softmax policy's fixed normal draws."""
        if self.policy == "gaussian":
            return _score_grid(self.n_quadrature)
        return np.random.default_rng(self.random_state).standard_normal((self.n_quadrature, k))

    def _optimise(self, Xt, k, functionals, objective):
        """Minimise ``objective(T, kl)`` over (M, log sigma), where ``T`` are the linear
        functionals of the policy that ``functionals`` defines (see :func:`_policy_pass`)."""
        d = Xt.shape[1]
        quad = self._quadrature(k)
        self.M0_ = self._prior(d, k)
        theta0 = np.r_[self.M0_.ravel(), np.log(self.prior_scale)]
        self.n_evaluations_ = 0

        def f(theta):
            M = theta[:-1].reshape(d, k)
            ls = theta[-1]
            T, gT_M, gT_ls = _policy_pass(self.policy, Xt, M, float(np.exp(ls)), quad, functionals,
                                          need_grad=True)
            kl, dkl_dM, dkl_dls = self._kl(M, ls)
            val, dv_dT, dv_dkl = objective(T, kl)
            gM = np.tensordot(dv_dT, gT_M, axes=1) + dv_dkl * dkl_dM
            gls = float(np.dot(dv_dT, gT_ls)) + dv_dkl * dkl_dls
            self.n_evaluations_ += 1
            return val, np.r_[gM.ravel(), gls]

        res = minimize(f, theta0, jac=True, method="L-BFGS-B",
                       bounds=[(None, None)] * (d * k) + [(np.log(1e-3), np.log(1e3))],
                       options={"maxiter": self.max_iter})
        self.coef_ = res.x[:-1].reshape(d, k).copy()
        self.scale_ = float(np.exp(res.x[-1]))
        self.n_iter_ = int(res.nit)
        self.converged_ = bool(res.success)
        self.kl_ = float(self._kl(self.coef_, res.x[-1])[0])
        if self.policy == "softmax":
            self.draws_ = quad.copy()
        return _policy_pass(self.policy, Xt, self.coef_, self.scale_, quad, functionals)[0]

    def predict_proba(self, X):
        r"""Learned policy :math:`\pi_Q(a|x)`, shape (n, n_actions), rows summing to 1."""
        Xa = self._check_predict_X(X)
        quad = self.draws_ if self.policy == "softmax" else _score_grid(self.n_quadrature)
        return _policy_pass(self.policy, _add_intercept(Xa, self.fit_intercept), self.coef_, self.scale_,
                            quad)


def _full_propensity(propensity, n, k, a, learner):
    if propensity is None:
        raise ValueError(f"`propensity` is required by {learner}: pass the logging distribution "
                         "pi_0(.|x_i) as an (n, n_actions) matrix.")
    P0 = np.asarray(as_float_array(propensity, "propensity"),
                    dtype=np.float64)
    if P0.ndim != 2:
        raise ValueError(f"`propensity` must be the full logging distribution of shape (n, n_actions) = "
                         f"({n}, {k}) for {learner} (its bound needs pi_0(a|x) for every action); "
                         f"got shape {P0.shape}.")
    P0 = _check_prob_matrix(P0, "propensity", n, k)
    if (P0 <= 0).any():
        i, j = np.argwhere(P0 <= 0)[0]
        raise ValueError(
            f"`propensity` gives probability 0 to action {j} in {int((P0 <= 0).sum())} cell(s) (first row {i}); "
            f"the learned policy puts positive probability on every action, so {learner} needs "
            "pi_0(a|x) > 0 for all actions. Restrict `n_actions` or the logs to supported actions.")
    return P0


def _warn_unlogged(a, k):
    counts = np.bincount(a, minlength=k)
    if (counts == 0).any():
        warnings.warn(f"`action` {np.flatnonzero(counts == 0).tolist()} never logged: the logs carry no "
                      "reward information on these actions.", PositivityWarning, stacklevel=3)


# --------------------------------------------------------------------------- learners


class ExponentialSmoothingLearner(_PACBayesLearner):
    r"""Policy learning by minimising the exponential-smoothing PAC-Bayes bound.

    Aouali, Brunel, Rohde and Korba (2023), Theorem 4.1: for any
    :math:`\lambda > 0`, :math:`\alpha \in [0, 1]` (``beta`` here, as in
    :class:`ExponentialSmoothingIPS`) and prior :math:`P`, with probability at
    least :math:`1 - \delta`, simultaneously for all :math:`Q`,

    .. math::
        |R(\pi_Q) - \hat R^\alpha_n(\pi_Q)| \le
            \sqrt{\frac{\mathrm{KL}_1(Q)}{2n}} + B^\alpha_n(\pi_Q)
            + \frac{\mathrm{KL}_2(Q)}{n\lambda} + \frac\lambda2 V^\alpha_n(\pi_Q),

    with :math:`\mathrm{KL}_1 = \mathrm{KL}(Q\|P) + \ln(4\sqrt n/\delta)`,
    :math:`\mathrm{KL}_2 = \mathrm{KL}(Q\|P) + \ln(4/\delta)`, the smoothed risk
    :math:`\hat R^\alpha_n(\pi) = \frac1n\sum_i c_i \pi(a_i|x_i)/\pi_0(a_i|x_i)^\alpha`,
    the bias term :math:`B^\alpha_n(\pi) = 1 - \frac1n\sum_i\sum_a \pi(a|x_i)\pi_0(a|x_i)^{1-\alpha}`
    and the second-moment term
    :math:`V^\alpha_n(\pi) = \frac1n\sum_i\big[\sum_a \pi(a|x_i)\pi_0(a|x_i)^{1-2\alpha}
    + c_i^2\,\pi(a_i|x_i)/\pi_0(a_i|x_i)^{2\alpha}\big]`.
    (Constants as in the authors' code for Gaussian policies, class ``OurGaussian``;
    the theorem's printed statement was not available to check them against.)

    Training minimises :math:`U(Q) = \hat R^\alpha_n + \sqrt{\mathrm{KL}_1/2n} + B^\alpha_n
    + \sqrt{2\,\mathrm{KL}_2 V^\alpha_n/n}`, the bound at its best :math:`\lambda`, over
    :math:`(M, \log\sigma)` with L-BFGS and exact gradients. The reported certificate
    ``bound_`` is valid: it takes the smallest bound over a fixed grid of
    ``n_lambda`` values of :math:`\lambda` (log-spaced over :math:`[10^{-4}, 10^4]`)
    with :math:`\delta/`\ ``n_lambda`` in each (a union bound), or uses the given
    ``lam``. ``value_lower_bound_`` :math:`= -` ``bound_`` holds with probability
    :math:`1-\delta` for the learned policy :math:`\pi_Q` (bound evaluated on the
    training logs).

    Parameters
    ----------
    beta : float in [0, 1] or None, default None
        Smoothing exponent (:math:`\alpha` in the paper); ``None`` uses
        :math:`1 - n^{-1/4}`, the paper's experimental choice. 1 is plain IPS.
    lam : float or "auto", default "auto"
        :math:`\lambda` of the certificate ("auto": grid with union bound).
    n_lambda : int, default 50
        Grid size for ``lam="auto"``.
    delta : float, default 0.05
        The bound holds with probability :math:`1 - \delta`.
    prior_mean : array of shape (n_features [+1], n_actions), optional
        Prior mean :math:`M_0` (zero by default). It must be chosen without the
        logs passed to ``fit`` (for example from earlier data).
    prior_scale : float, default 1.0
        Prior standard deviation :math:`\sigma_0` (also the initial :math:`\sigma`).
    fit_intercept : bool, default True
    n_actions : int, optional
        Default: the width of ``propensity`` when it is a matrix, else the largest
        logged action + 1.
    policy : {"gaussian", "softmax"}, default "gaussian"
        Policy class (module docstring): the Gaussian argmax policy, whose
        :math:`\pi_Q` is computed to quadrature accuracy (the paper's best policy
        on its image tasks), or the mixed-logit (linear-softmax) policy.
    n_quadrature : int, default 32
        Quadrature nodes (``"gaussian"``) or fixed normal draws (``"softmax"``).
    max_iter : int, default 200
        L-BFGS iterations.
    random_state : int or None
        Seeds the softmax policy's normal draws (unused for ``"gaussian"``).

    Attributes
    ----------
    coef_ : ndarray (n_features [+1], n_actions)
        Posterior mean :math:`M`.
    scale_ : float
        Posterior standard deviation :math:`\sigma`.
    bound_ : float
        Certified upper bound on the learned policy's risk :math:`R(\pi_Q)`.
    value_lower_bound_ : float
        :math:`-` ``bound_``: the value is at least this with probability :math:`1-\delta`.
    bound_terms_ : dict
        ``risk`` (:math:`\hat R^\alpha_n`), ``kl``, ``bias``, ``second_moment``, ``lambda``.
    draws_ : ndarray (n_quadrature, n_actions)
        The softmax policy's fixed normal draws (``policy="softmax"`` only).
    beta_, kl_, n_iter_, n_evaluations_, converged_, classes_, n_actions_

    References
    ----------
    Aouali, I., Brunel, V.-E., Rohde, D. and Korba, A. (2023). Exponential smoothing
    for off-policy learning. ICML (PMLR 202).
    Sakhi, O., Alquier, P. and Chopin, N. (2023). PAC-Bayesian offline contextual
    bandits with guarantees. ICML.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import ExponentialSmoothingLearner, SNIPS
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> learner = ExponentialSmoothingLearner().fit(d.X, d.y, action=d.action,
    ...                                             propensity=d.logging_policy)
    >>> learner.predict_proba(d.X[:2]).shape
    (2, 3)
    >>> v = SNIPS().fit(d.X, d.y, action=d.action, propensity=d.propensity).value(learner)
    >>> bool(learner.value_lower_bound_ <= v.value)
    True
    """

    _parameter_constraints: dict = {
        **_PACBayesLearner._parameter_constraints,
        "beta": [Interval(Real, 0, 1, closed="both"), None],
        "lam": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "n_lambda": [POS_INT],
    }

    def __init__(self, *, beta=None, lam="auto", n_lambda=50, delta=0.05, prior_mean=None,
                 prior_scale=1.0, fit_intercept=True, n_actions=None, policy="gaussian", n_quadrature=32,
                 max_iter=200, random_state=None):
        self.beta = beta
        self.lam = lam
        self.n_lambda = n_lambda
        self.delta = delta
        self.prior_mean = prior_mean
        self.prior_scale = prior_scale
        self.fit_intercept = fit_intercept
        self.n_actions = n_actions
        self.policy = policy
        self.n_quadrature = n_quadrature
        self.max_iter = max_iter
        self.random_state = random_state


    def _bound(self, kl, risk, bias, V, lam=None, delta=None):
        """Theorem 4.1's right-hand side plus the risk, for a fixed ``lam`` (float)."""
        n = self._n
        delta = self.delta if delta is None else delta
        kl1 = kl + np.log(4 * np.sqrt(n) / delta)
        kl2 = kl + np.log(4 / delta)
        return risk + np.sqrt(kl1 / (2 * n)) + bias + kl2 / (n * lam) + 0.5 * lam * V

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, action, propensity, sample_weight=None):
        """Learn the policy by minimising the bound.

        Parameters
        ----------
        X : array-like of shape (n, p)
            Contexts.
        y : array-like of shape (n,)
            Rewards in [0, 1].
        action : array-like of int, shape (n,)
            Logged actions 0..n_actions-1.
        propensity : array-like of shape (n, n_actions)
            The logging distribution :math:`\\pi_0(\\cdot|x_i)` (all entries positive).
        sample_weight : None
            Not supported (raises when given).

        Returns
        -------
        self
        """
        check_aligned(X=X, y=y, action=action, propensity=propensity,
                      sample_weight=sample_weight)
        Xa, names, yv, a, k, n = self._check_common(X, y, action, sample_weight, propensity)
        _check_reward_unit(yv)
        P0 = _full_propensity(propensity, n, k, a, "ExponentialSmoothingLearner")
        _warn_unlogged(a, k)
        self.beta_ = float(1 - n ** -0.25) if self.beta is None else float(self.beta)
        self._n = n
        al = self.beta_
        pa = P0[np.arange(n), a]
        # the bound's three terms are linear in the policy: T = sum_{i,a} G[:, i, a] pi(a|x_i) with
        # G = (smoothed risk, -bias, second moment) coefficients, computed once here
        A1 = P0 ** (1 - al) / -n
        A2 = P0 ** (1 - 2 * al) / n
        c = -yv
        at_risk = c / pa ** al / n
        at_V = c * c / pa ** (2 * al) / n

        def functionals(lo, hi):
            G = np.empty((3, hi - lo, k))
            G[0] = 0.0
            rows = np.arange(hi - lo)
            G[0, rows, a[lo:hi]] = at_risk[lo:hi]
            G[1] = A1[lo:hi]
            G[2] = A2[lo:hi]
            G[2, rows, a[lo:hi]] += at_V[lo:hi]
            return G

        l4 = np.log(4 * np.sqrt(n) / self.delta)
        l2 = np.log(4 / self.delta)

        def objective(T, kl):
            risk, bias, V = T[0], 1 + T[1], max(T[2], 1e-300)
            s1 = np.sqrt((kl + l4) / (2 * n))
            s2 = np.sqrt(2 * (kl + l2) * V / n)
            val = risk + s1 + bias + s2
            return val, np.array([1.0, 1.0, (kl + l2) / (n * s2)]), 1 / (4 * n * s1) + V / (n * s2)

        T = self._optimise(_add_intercept(Xa, self.fit_intercept), k, functionals, objective)
        risk, bias, V = float(T[0]), float(1 + T[1]), float(T[2])
        if self.lam == "auto":
            grid = np.logspace(-4, 4, self.n_lambda)
            vals = [self._bound(self.kl_, risk, bias, V, lam=g, delta=self.delta / self.n_lambda)
                    for g in grid]
            j = int(np.argmin(vals))
            lam, b = float(grid[j]), float(vals[j])
        else:
            lam = float(self.lam)
            b = float(self._bound(self.kl_, risk, bias, V, lam=lam))
        self.bound_ = b
        self.value_lower_bound_ = -b
        self.bound_terms_ = {"risk": risk, "kl": self.kl_, "bias": bias, "second_moment": V,
                             "lambda": lam}
        self._set_features(Xa, names, k)
        return self


class ClippedIPSLearner(_PACBayesLearner):
    r"""Policy learning with clipped IPS: the baseline of Aouali et al. (2023).

    The clipped risk :math:`\hat R^\tau_n(\pi) = \frac1n\sum_i c_i\,\pi(a_i|x_i)/\max(\pi_0(a_i|x_i), \tau)`
    is biased toward zero and bounded by :math:`1/\tau`. With ``objective="bound"``
    (default) the learner minimises the PAC-Bayes bound of London and Sandler (2019)
    in the form of the authors' baseline code (``LondonGaussian``):

    .. math:: R(\pi_Q) \le \hat R^\tau_n(\pi_Q) + \frac{2\,\mathcal K}{\tau}
              + \sqrt{\frac{2(\hat R^\tau_n(\pi_Q) + 1/\tau)\,\mathcal K}{\tau}},
              \qquad \mathcal K = \frac{\mathrm{KL}(Q\|P) + \ln(2\sqrt n/\delta)}{n},

    reported as ``bound_`` (``value_lower_bound_`` = :math:`-` ``bound_``). With
    ``objective="risk"`` it minimises :math:`\hat R^\tau_n + \mathrm{KL}(Q\|P)/n`
    (clipped-IPS risk with the KL as a ridge penalty) and still reports the bound.
    The policy class and prior are those of :class:`ExponentialSmoothingLearner`.

    Parameters
    ----------
    tau : float in (0, 1] or None, default None
        Propensity floor; ``None`` uses :math:`n^{-1/4}`, as in the paper's experiments.
    objective : {"bound", "risk"}, default "bound"
    delta, prior_mean, prior_scale, fit_intercept, n_actions, policy, n_quadrature, max_iter, random_state
        As in :class:`ExponentialSmoothingLearner`.

    Attributes
    ----------
    coef_, scale_, bound_, value_lower_bound_, tau_, kl_, n_iter_, converged_, classes_
    bound_terms_ : dict
        ``risk`` (:math:`\hat R^\tau_n`) and ``kl``.

    References
    ----------
    London, B. and Sandler, T. (2019). Bayesian counterfactual risk minimization. ICML.
    Aouali, I., Brunel, V.-E., Rohde, D. and Korba, A. (2023). Exponential smoothing
    for off-policy learning. ICML.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import ClippedIPSLearner
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> learner = ClippedIPSLearner().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    >>> bool(-1 / learner.tau_ <= learner.bound_terms_["risk"] <= 0)
    True
    """

    _parameter_constraints: dict = {
        **_PACBayesLearner._parameter_constraints,
        "tau": [Interval(Real, 0, 1, closed="right"), None],
        "objective": [StrOptions({"bound", "risk"})],
    }

    def __init__(self, *, tau=None, objective="bound", delta=0.05, prior_mean=None, prior_scale=1.0,
                 fit_intercept=True, n_actions=None, policy="gaussian", n_quadrature=32, max_iter=200,
                 random_state=None):
        self.tau = tau
        self.objective = objective
        self.delta = delta
        self.prior_mean = prior_mean
        self.prior_scale = prior_scale
        self.fit_intercept = fit_intercept
        self.n_actions = n_actions
        self.policy = policy
        self.n_quadrature = n_quadrature
        self.max_iter = max_iter
        self.random_state = random_state

    def _london(self, risk, kl, n):
        K = (kl + np.log(2 * np.sqrt(n) / self.delta)) / n
        t = self.tau_
        root = np.sqrt(max(2 * (risk + 1 / t) * K / t, 0.0))
        return risk + 2 * K / t + root, K, root

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, action, propensity, sample_weight=None):
        """Learn the policy; ``propensity`` is the logged actions' probability (n,) or
        the logging distribution (n, n_actions). Other arguments as
        :meth:`ExponentialSmoothingLearner.fit`."""
        check_aligned(X=X, y=y, action=action, propensity=propensity,
                      sample_weight=sample_weight)
        Xa, names, yv, a, k, n = self._check_common(X, y, action, sample_weight, propensity)
        _check_reward_unit(yv)
        if propensity is None:
            raise ValueError("`propensity` is required by ClippedIPSLearner: pass the logging "
                             "probabilities of the logged actions.")
        parr = np.asarray(as_float_array(propensity, "propensity"),
                          dtype=np.float64)
        if parr.ndim == 2 and parr.shape[1] > 1:
            pa = _check_prob_matrix(parr, "propensity", n, k)[np.arange(n), a]
        else:
            pa = check_vector(parr, "propensity", n=n)
        if (pa <= 0).any() or (pa > 1).any():
            raise ValueError(f"`propensity` must lie in (0, 1] at the logged actions; "
                             f"{int(((pa <= 0) | (pa > 1)).sum())} value(s) do not. A zero "
                             "propensity means the logged action was impossible: fix the logging.")
        _warn_unlogged(a, k)
        self.tau_ = float(n ** -0.25) if self.tau is None else float(self.tau)
        coef = -yv / np.maximum(pa, self.tau_) / n

        def functionals(lo, hi):
            G = np.zeros((1, hi - lo, k))
            G[0, np.arange(hi - lo), a[lo:hi]] = coef[lo:hi]
            return G

        def objective(T, kl):
            risk = T[0]
            if self.objective == "risk":
                return risk + kl / n, np.array([1.0]), 1.0 / n
            val, K, root = self._london(risk, kl, n)
            t = self.tau_
            dr = 1 + (K / t) / root if root > 0 else 1.0
            dK = 2 / t + ((risk + 1 / t) / t) / root if root > 0 else 2 / t
            return val, np.array([dr]), dK / n

        T = self._optimise(_add_intercept(Xa, self.fit_intercept), k, functionals, objective)
        risk = float(T[0])
        self.bound_ = float(self._london(risk, self.kl_, n)[0])
        self.value_lower_bound_ = -self.bound_
        self.bound_terms_ = {"risk": risk, "kl": self.kl_}
        self._set_features(Xa, names, k)
        return self


class DirectMethodLearner(_LearnerBase):
    r"""Greedy policy on a reward model: :math:`\pi(x) = \arg\max_a \hat q(x, a)`.

    :math:`\hat q` regresses the reward on the context and the one-hot action
    (``model_reward``, fitted once on all logs). The policy is greedy, or
    :math:`\epsilon`-greedy with ``epsilon > 0`` (probability
    :math:`1-\epsilon+\epsilon/K` on the greedy action, :math:`\epsilon/K` on each other),
    which keeps importance weights finite when the learned policy is evaluated.
    No logging propensities are needed; the policy is as good as :math:`\hat q`
    (Dudik, Langford and Li, 2011).

    Parameters
    ----------
    model_reward : regressor, optional
        Default :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
    epsilon : float in [0, 1], default 0.0
    n_actions : int, optional
    random_state : int or None
        Seeds ``model_reward`` when it has a ``random_state`` left at ``None``.

    Attributes
    ----------
    model_reward_ : fitted regressor
    classes_, n_actions_

    References
    ----------
    Dudik, M., Langford, J. and Li, L. (2011). Doubly robust policy evaluation and
    learning. ICML.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import DirectMethodLearner
    >>> d = make_bandit_feedback(2000, n_actions=3, random_state=0)
    >>> pol = DirectMethodLearner(epsilon=0.1, random_state=0).fit(d.X, d.y, action=d.action)
    >>> float(pol.predict_proba(d.X[:1]).max().round(3))
    0.933
    """

    _parameter_constraints: dict = {
        "model_reward": [REGRESSOR, None],
        "epsilon": [Interval(Real, 0, 1, closed="both")],
        "n_actions": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": SEED,
    }

    def __init__(self, *, model_reward=None, epsilon=0.0, n_actions=None, random_state=None):
        self.model_reward = model_reward
        self.epsilon = epsilon
        self.n_actions = n_actions
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, action, propensity=None, sample_weight=None):
        """Fit the reward model; ``propensity`` is accepted for a common signature and unused.

        ``sample_weight`` is passed to ``model_reward.fit``.
        """
        check_aligned(X=X, y=y, action=action, propensity=propensity,
                      sample_weight=sample_weight)
        Xa, names = check_X(X, "X")
        yv = check_vector(y, "y")
        a, k = _check_actions(action, self.n_actions)
        n = check_consistent_length(X=Xa, y=yv, action=a)
        if propensity is not None:  # unused, but a bad one is still refused
            parr = as_float_array(propensity, "propensity")
            if parr.ndim not in (1, 2) or parr.shape[0] != n:
                raise ValueError(f"`propensity` must have one row per unit ({n}); got shape "
                                 f"{parr.shape}.")
            if parr.ndim == 1:
                check_propensity(parr, "propensity", n=n, ndim=(1,))
            else:
                _check_prob_matrix(parr, "propensity", n, parr.shape[1])
        counts = np.bincount(a, minlength=k)
        if (counts == 0).any():
            raise ValueError(f"`action` {np.flatnonzero(counts == 0).tolist()} never logged: the reward "
                             "model cannot predict an action it never saw. Lower `n_actions` or log it.")
        model = HistGradientBoostingRegressor() if self.model_reward is None else clone(self.model_reward)
        if "random_state" in model.get_params() and model.get_params()["random_state"] is None:
            model.set_params(random_state=self.random_state)
        kw = {}
        if sample_weight is not None:
            kw["sample_weight"] = check_vector(sample_weight, "sample_weight", n=n)
        model.fit(np.c_[Xa, np.eye(k)[a]], yv, **kw)
        self.model_reward_ = model
        self._set_features(Xa, names, k)
        return self

    def predict_reward(self, X):
        r""":math:`\hat q(x, a)` for every action, shape (n, n_actions)."""
        Xa = self._check_predict_X(X)
        k = self.n_actions_
        return np.column_stack([self.model_reward_.predict(np.c_[Xa, np.tile(np.eye(k)[j], (len(Xa), 1))])
                                for j in range(k)])

    def predict_proba(self, X):
        """(Epsilon-)greedy action probabilities, shape (n, n_actions)."""
        q = self.predict_reward(X)
        k = self.n_actions_
        P = np.full(q.shape, self.epsilon / k)
        P[np.arange(len(q)), np.argmax(q, axis=1)] += 1 - self.epsilon
        return P


# --------------------------------------------------------------------------- the whole loop


def learn_and_evaluate(learner, evaluator, X, y, *, action, propensity, test_size=0.5,
                       random_state=None, name=None):
    r"""Learn a policy on one part of the logs and evaluate it on the other.

    The logs are split at random (``test_size`` of the rounds held out);
    ``learner`` (cloned) is fitted on the training part and ``evaluator``
    (cloned, any bandit evaluator such as :class:`DoublyRobust`) estimates the
    learned policy's value on the held-out part. The held-out rounds are
    independent of the learned policy, so the evaluator's confidence interval is
    valid for the learned policy as it stands.

    Parameters
    ----------
    learner : policy learner
        E.g. :class:`ExponentialSmoothingLearner`.
    evaluator : bandit OPE estimator
        E.g. :class:`IPS`, :class:`SNIPS`, :class:`DoublyRobust`.
    X, y, action, propensity
        The logs (``propensity`` as the learner needs it; the evaluator receives
        the same rows).
    test_size : float in (0, 1), default 0.5
    random_state : int or None
        Seeds the split.
    name : str, optional
        Name of the returned estimate (default: the learner's class name).

    Returns
    -------
    learner : fitted learner
    estimate : Estimate
        Held-out value of the learned policy.

    Examples
    --------
    >>> from causalkit.datasets import make_bandit_feedback
    >>> from causalkit.ope import DirectMethodLearner, SNIPS, learn_and_evaluate
    >>> d = make_bandit_feedback(4000, n_actions=3, random_state=0)
    >>> pol, v = learn_and_evaluate(DirectMethodLearner(epsilon=0.1, random_state=0), SNIPS(),
    ...                             d.X, d.y, action=d.action, propensity=d.propensity,
    ...                             random_state=0)
    >>> v.n
    2000
    """
    test_size = check_fraction(test_size, "test_size", low=0, high=1, closed="neither")
    n = len(y)
    idx_tr, idx_te = train_test_split(np.arange(n), test_size=test_size, random_state=random_state)

    def take(v, idx):
        if v is None:
            return None
        if hasattr(v, "iloc"):
            return v.iloc[idx]
        return np.asarray(v)[idx]

    pol = clone(learner).fit(take(X, idx_tr), take(y, idx_tr), action=take(action, idx_tr),
                             propensity=take(propensity, idx_tr))
    ev = clone(evaluator).fit(take(X, idx_te), take(y, idx_te), action=take(action, idx_te),
                              propensity=take(propensity, idx_te))
    est = ev.value(pol, name=name or type(pol).__name__)
    return pol, Estimate(est.value, est.stderr, n=est.n,
                         method=est.method + f"; policy learned on {len(idx_tr)} other rounds",
                         name=est.name)
