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
