"""Coverage studies of the Monte Carlo family: ControlVariates and cuped.

* ``ControlVariates``: draws ``u ~ U(0, 1)^2``, output ``exp(u1) + u2^2 + 0.1 N(0, 1)``,
  the two ``u`` as controls with known means 1/2; the target is ``e - 1 + 1/3``.
  Default (in-sample slopes) and ``cv=5``; the untuned design adds t(3) noise.
* ``cuped``: a randomised experiment (``P(T=1) = 1/2``), pre-period covariate
  ``x ~ N(0, 1)``, ``y = 1 + x + 0.5 T (1 + 0.5 x) + N(0, 1)``; the ATE is 0.5.
Draws are independent by construction, so there is no clustered design.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._common import Study
from ._designs import rep_of, t3_noise

CV_TRUTH = float(np.e - 1 + 1 / 3)


def control_variates(seed, n=1000, heavy=False, cv=None):
    from causalkit.montecarlo import ControlVariates

    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(n, 2))
    y = np.exp(u[:, 0]) + u[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    if heavy:
        y = y + t3_noise(seed, n, 0.3)
    e = ControlVariates(control_means=0.5, cv=cv).fit(u, y).mean()
    return rep_of(e, CV_TRUTH)


def cuped_rep(seed, n=1000, heavy=False):
    from causalkit.montecarlo import cuped

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t = (rng.random(n) < 0.5).astype(int)
    y = 1 + x + 0.5 * t * (1 + 0.5 * x) + rng.normal(size=n)
    if heavy:
        y = y + t3_noise(seed, n)
    return rep_of(cuped(y, t, x[:, None]), 0.5)


def studies():
    return [
        Study("montecarlo", "ControlVariates(control_means=0.5)", "exp(u1) + u2^2", 1000,
              control_variates, note="in-sample slopes"),
        Study("montecarlo", "ControlVariates(control_means=0.5)", "exp(u1) + u2^2", 100,
              partial(control_variates, n=100), note="in-sample slopes"),
        Study("montecarlo", "ControlVariates(control_means=0.5, cv=5)", "exp(u1) + u2^2", 100,
              partial(control_variates, n=100, cv=5), default=False, note="cross-fitted slopes"),
        Study("montecarlo", "ControlVariates(control_means=0.5)", "exp(u1) + u2^2 + t(3) noise",
              1000, partial(control_variates, heavy=True), note="heavy-tailed output"),
        Study("montecarlo", "cuped()", "randomised, one pre-period covariate", 1000, cuped_rep),
        Study("montecarlo", "cuped()", "randomised, one pre-period covariate + t(3) noise", 1000,
              partial(cuped_rep, heavy=True), note="heavy-tailed outcome"),
    ]
