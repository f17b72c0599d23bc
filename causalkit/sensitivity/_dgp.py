"""A data-generating process where Γ-selection holds exactly (for tests and benchmarks)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def make_gamma_selection_data(n=2000, gamma=2.0, *, effect=1.0, confounding=1.0, n_features=3,
                              random_state=None):
    r"""Binary hidden confounder with treatment odds ratio exactly ``gamma``.

    :math:`U \sim \mathrm{Bernoulli}(1/2)`, :math:`X \sim N(0, I_p)`,
    :math:`\mathrm{logit}\, P(T=1 \mid X, U) = 0.5 X_1 - 0.25 X_2 + \log\Gamma\,(U - 1/2)` and
    :math:`Y = \tau T + X_1 + 0.5 X_2 + 2c\,(U - 1/2) + \varepsilon`, :math:`\varepsilon \sim N(0, 1)`.
    The odds ratio across values of :math:`U` is :math:`\Gamma`, so the sensitivity model
    of Yadlowsky et al. (2022) holds at :math:`\Gamma` (the method note's DGP (iii)); the
    true ATE is ``effect``.
    """
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, n_features))
    U = rng.binomial(1, 0.5, n)
    lin = 0.5 * X[:, 0] - 0.25 * X[:, 1] + np.log(gamma) * (U - 0.5)
    t = rng.binomial(1, 1 / (1 + np.exp(-lin)))
    y = effect * t + X[:, 0] + 0.5 * X[:, 1] + 2 * confounding * (U - 0.5) + rng.normal(size=n)
    return SimpleNamespace(X=X, y=y, treatment=t, U=U, true_ate=float(effect), gamma=float(gamma))



def _expectile_of_mixture(gamma, pi, m_hi, m_lo, upper):
    r"""Root of :math:`E(Y-\theta)_+ = \Gamma E(\theta-Y)_+` (``upper``: the roles swapped).

    ``Y`` is the mixture :math:`\pi N(m_{hi}, 1) + (1 - \pi) N(m_{lo}, 1)`, one per entry;
    vectorised bisection (the left side minus the right is decreasing in :math:`\theta`).
    """
    from scipy.special import ndtr

    def parts(theta):
        above = below = 0.0
        for w, m in ((pi, m_hi), (1 - pi, m_lo)):
            dlt = theta - m
            pdf, cdf = np.exp(-0.5 * dlt ** 2) / np.sqrt(2 * np.pi), ndtr(dlt)
            above = above + w * (pdf - dlt * (1 - cdf))      # E(Y - theta)_+
            below = below + w * (pdf + dlt * cdf)            # E(theta - Y)_+
        return above, below

    lo = np.minimum(m_hi, m_lo) - 12.0
    hi = np.maximum(m_hi, m_lo) + 12.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above, below = parts(mid)
        f = gamma * above - below if upper else above - gamma * below
        lo = np.where(f > 0, mid, lo)
        hi = np.where(f > 0, hi, mid)
    return 0.5 * (lo + hi)


def gamma_selection_population_bounds(gamma, gamma0=2.0, *, effect=1.0, confounding=1.0,
                                      n_nodes=101):
    r"""Population ATE bounds at ``gamma`` for :func:`make_gamma_selection_data` at ``gamma0``.

    The identified interval of Yadlowsky et al. (2022) computed from the true nuisances of
    the DGP: given :math:`X = x`, :math:`Y \mid x, T = t` is a two-component normal mixture
    (over :math:`U`), :math:`e(x) = E[P(T=1 \mid x, U)]`, :math:`\mu_t(x) = E[Y \mid x, T=t]`
    and :math:`\theta_t^\mp(x)` are the exact expectiles of those mixtures (bisection on the
    first-order condition), and

    .. math::

        \tau^- = E\big[e\mu_1 + (1-e)\theta_1^- - (1-e)\mu_0 - e\,\theta_0^+\big], \qquad
        \tau^+ = E\big[e\mu_1 + (1-e)\theta_1^+ - (1-e)\mu_0 - e\,\theta_0^-\big].

    Expectiles are location-equivariant, so the outcome's linear part in ``X`` cancels and the
    conditional bounds depend on ``X`` only through the treatment index
    :math:`a = 0.5 X_1 - 0.25 X_2 \sim N(0, 0.3125)`; the outer expectation is a Gauss-Hermite
    rule in :math:`a` with ``n_nodes`` nodes. At ``gamma = 1`` both bounds equal the confounded
    AIPW limit :math:`E[\mu_1 - \mu_0]`; at ``gamma >= gamma0`` the interval contains
    ``effect``.

    Returns
    -------
    lower, upper : ndarray of shape (len(gamma),)
    """
    g = np.atleast_1d(np.asarray(gamma, dtype=float))
    nodes, weights = np.polynomial.hermite_e.hermegauss(n_nodes)
    weights = weights / weights.sum()
    a = np.sqrt(0.5 ** 2 + 0.25 ** 2) * nodes
    L = np.log(gamma0)
    p_hi = 1 / (1 + np.exp(-(a + L / 2)))      # P(T=1 | x, U=1)
    p_lo = 1 / (1 + np.exp(-(a - L / 2)))      # P(T=1 | x, U=0)
    e = 0.5 * (p_hi + p_lo)
    pi1 = 0.5 * p_hi / e                       # P(U=1 | x, T=1)
    pi0 = 0.5 * (1 - p_hi) / (1 - e)           # P(U=1 | x, T=0)
    c = confounding
    m1, m0 = np.full_like(a, float(effect)), np.zeros_like(a)
    mu1 = m1 + c * (2 * pi1 - 1)
    mu0 = m0 + c * (2 * pi0 - 1)
    lower, upper = np.empty(g.size), np.empty(g.size)
    for j, gj in enumerate(g):
        th1_lo = _expectile_of_mixture(gj, pi1, m1 + c, m1 - c, upper=False)
        th1_hi = _expectile_of_mixture(gj, pi1, m1 + c, m1 - c, upper=True)
        th0_lo = _expectile_of_mixture(gj, pi0, m0 + c, m0 - c, upper=False)
        th0_hi = _expectile_of_mixture(gj, pi0, m0 + c, m0 - c, upper=True)
        lower[j] = weights @ (e * mu1 + (1 - e) * th1_lo - (1 - e) * mu0 - e * th0_hi)
        upper[j] = weights @ (e * mu1 + (1 - e) * th1_hi - (1 - e) * mu0 - e * th0_lo)
    return lower, upper
