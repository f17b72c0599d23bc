"""Importance-sampled simulation tests with sparse critical steps (overtaking, simplified)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._base import FINITE, INT, SIZE, Dataset, checked

__all__ = ["make_overtaking_tests"]

#: Naturalistic and importance laws of the background vehicle's manoeuvre at a
#: critical step (0 = keep distance, 1 = mild cut-in, 2 = hard braking in front).
P_NATURAL = np.array([0.9, 0.09, 0.01])
Q_IMPORTANCE = np.array([0.5, 0.3, 0.2])
#: Crash probability of the automated vehicle under test given the manoeuvre at
#: one critical step.
H_AV = np.array([0.0, 0.02, 0.25])


@checked(n_tests=INT, n_steps=SIZE, p_critical=FINITE)
def make_overtaking_tests(n_tests=20_000, *, n_steps=50, p_critical=0.05, outcome="crash",
                          random_state=None) -> Dataset:
    r"""Simulated importance-sampled tests of an automated vehicle overtaking.

    A deliberately simplified version of the high-dimensional overtaking tests of
    Yang et al. (2022, 2023): each test has ``n_steps`` decision steps; each step
    is *critical* with probability ``p_critical`` independently of everything
    else (so the number of critical steps :math:`k \sim \mathrm{Bin}(L, p_c)`).
    At a critical step the background vehicle picks a manoeuvre
    :math:`u \in \{0, 1, 2\}` from the naturalistic law ``P_NATURAL``; testing
    samples it from the importance law ``Q_IMPORTANCE`` (tilted toward risky
    manoeuvres), with likelihood ratio :math:`w_j = p(u_j)/q(u_j)` and test
    weight :math:`W = \prod_j w_j`. Non-critical steps are sampled from the
    naturalistic law and carry no risk. Given the manoeuvres the crash
    probability is :math:`1 - \prod_j \{1 - h(u_j)\}` with ``H_AV``; the crash
    rate is, in closed form,

    .. math::

        \mu = \sum_{k=0}^{L} \binom{L}{k} p_c^k (1 - p_c)^{L-k}
              \{1 - (1 - \bar h)^k\}, \qquad \bar h = \sum_u p(u) h_{AV}(u).

    Per critical step the log holds two controls,
    :math:`\zeta_j = \big(W 1\{u_j = 1\} - p(1),\; W 1\{u_j = 2\} - p(2)\big)`,
    with mean zero under the importance law given the number of critical steps
    (because :math:`E_q[W f(u_1, \dots, u_k) \mid k] = E_p[f \mid k]`). With one
    critical step the crash probability :math:`W h(u_1)` is linear in them
    (the zero-variance case); with more it is approximately linear when crashes
    are rare.

    What is simplified compared with the papers: the criticality of a step does
    not depend on the trajectory (the papers' NADE uses a state-dependent
    criticality and an :math:`\epsilon`-mixture importance law), manoeuvres are
    three discrete actions, and the crash model is an explicit table.

    Parameters
    ----------
    n_tests : int
        Number of simulated tests.
    n_steps : int
        Decision steps per test.
    p_critical : float
        Probability that a step is critical.
    outcome : {"crash", "probability"}
        ``"crash"``: ``y`` is the crash indicator; ``"probability"``: ``y`` is the
        crash probability given the manoeuvres (same expectation, less noise).
    random_state : int, Generator or None

    Returns
    -------
    Dataset
        ``X`` (list of ``n_tests`` arrays of shape ``(k_i, 2)``, per-critical-step
        controls in time order), ``y``, ``weights`` (:math:`W_i`), ``n_critical``
        (:math:`k_i`), ``maneuvers`` (list of arrays), ``stratum_probs``
        (:math:`P(k)`, binomial), ``true_rate`` and
        ``description``.

    References
    ----------
    Yang, J., He, H., Zhang, Y., Feng, S. and Liu, H. X. (2022). Adaptive testing for
    connected and automated vehicles with sparse control variates in overtaking
    scenarios. ITSC (arXiv:2207.09259).

    Examples
    --------
    >>> from causalkit.datasets import make_overtaking_tests
    >>> d = make_overtaking_tests(1000, random_state=0)
    >>> len(d.X), d.X[0].shape[1], round(d.true_rate, 5)
    (1000, 2, 0.01069)
    """
    if outcome not in ("crash", "probability"):
        raise ValueError(f"`outcome` must be 'crash' or 'probability'; got {outcome!r}.")
    if int(n_tests) < 1:
        raise ValueError(f"`n_tests` must be a positive integer; got {n_tests}.")
    if not 0 <= p_critical <= 1:
        raise ValueError(f"`p_critical` must lie in [0, 1]; got {p_critical}.")
    rng = np.random.default_rng(random_state)
    n = int(n_tests)
    k = rng.binomial(n_steps, p_critical, size=n)
    total = int(k.sum())
    u = rng.choice(3, size=total, p=Q_IMPORTANCE)
    w = P_NATURAL[u] / Q_IMPORTANCE[u]
    test = np.repeat(np.arange(n), k)
    log_w = np.bincount(test, weights=np.log(w), minlength=n)
    log_surv = np.bincount(test, weights=np.log1p(-H_AV[u]), minlength=n)
    p_crash = -np.expm1(log_surv)
    y = (rng.uniform(size=n) < p_crash).astype(float) if outcome == "crash" else p_crash
    W_step = np.exp(log_w)[test]
    zeta = np.c_[W_step * (u == 1) - P_NATURAL[1], W_step * (u == 2) - P_NATURAL[2]]
    cuts = np.cumsum(k)[:-1]
    X = np.split(zeta, cuts)
    hbar = float(P_NATURAL @ H_AV)
    kk = np.arange(n_steps + 1)
    truth = float(np.sum(stats.binom.pmf(kk, n_steps, p_critical) * -np.expm1(kk * np.log1p(-hbar))))
    return Dataset(
        X=X, y=y, weights=np.exp(log_w), n_critical=k, maneuvers=np.split(u, cuts),
        true_rate=truth, stratum_probs=stats.binom.pmf(kk, n_steps, p_critical),
        description=(f"{n} importance-sampled overtaking tests, {n_steps} steps, critical with "
                     f"probability {p_critical}; y = {outcome}; true crash rate {truth:.6g}."),
    )
