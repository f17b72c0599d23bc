"""Data-generating pieces shared by several coverage studies (not a study module).

Two designs nobody tuned an estimator to (issue 21):

* heavy-tailed outcomes: the family's own DGP with Student-t(3) noise added to the
  outcome (mean zero, so the estimand is unchanged; the variance is ``3 scale^2``, the
  fourth moment infinite);
* clustered units: ``G`` clusters of ``m`` units with cluster random effects in the
  covariates, the treatment, the outcome and the effect; the estimator must be given
  ``groups=`` (the estimand is the superpopulation effect, which the cluster draws move).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ._common import Rep


def t3_noise(seed, n, scale=1.0):
    """Student-t(3) noise on its own stream (``seed`` + 7,919,000), ``scale`` times."""
    return scale * np.random.default_rng(seed + 7_919_000).standard_t(3, size=n)


def rep_of(est, truth) -> Rep:
    """A :class:`Rep` from a causalkit ``Estimate`` and the truth."""
    lo, hi = est.conf_int(0.05)
    return Rep(float(est.value), float(est.stderr), float(lo), float(hi), float(truth))


def clustered_treatment(seed, G=30, m=40, p=2):
    """``G`` clusters of ``m`` units, binary treatment, ATE 1 and CATE slope 0.5 on X1.

    Cluster effects (sd 1) shift X, the propensity logit (0.5), the outcome level (1)
    and the effect (0.5); unit noise N(0, 1). ``tau(x, c) = 1 + 0.5 x1 + 0.5 c_g`` with
    ``E[c_g] = 0`` and ``E[x1] = 0``, so the ATE is 1 and the projection slope of tau on
    x1 is 0.5 (X1's cluster part and unit part carry the same slope).
    Returns ``(X, y, t, groups)``.
    """
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), m)
    cx, ce, cy, ct = (rng.normal(size=G) for _ in range(4))
    X = rng.normal(size=(G * m, p)) + cx[g][:, None] * 0.7
    e = expit(0.6 * X[:, 0] - 0.3 * X[:, 1] + 0.5 * ce[g])
    t = (rng.random(G * m) < e).astype(int)
    tau = 1.0 + 0.5 * X[:, 0] + 0.5 * ct[g]
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + cy[g] + t * tau + rng.normal(size=G * m)
    return X, y, t, g
