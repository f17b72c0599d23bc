"""Coverage studies of FrontDoor (plug-in, linear and doubly robust front-door ATE).

Designs of ``benchmarks/mc_frontdoor_coverage.py`` (which this absorbs): the discrete
design ``make_frontdoor_data`` (plug-in; DR with boosting) and the linear-Gaussian
design ``make_frontdoor_linear_data`` with two mediators (linear; DR with linear
models). Untuned designs: t(3) noise added to the outcome of the linear design, and a
clustered version of it (30 clusters of 40 units sharing a cluster effect in the
covariates, the treatment, the mediators and the outcome) fitted with ``groups=``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._common import Study
from ._designs import rep_of, t3_noise


def _dr(kind, seed):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.frontdoor import FrontDoor

    if kind == "linear":
        return FrontDoor(method="dr", model_y=LinearRegression(), model_t=LogisticRegression(),
                         model_tm=LogisticRegression(), model_nested=LinearRegression(), cv=3,
                         random_state=seed)
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    return FrontDoor(method="dr", model_y=HistGradientBoostingRegressor(max_iter=60),
                     model_t=LogisticRegression(),
                     model_tm=HistGradientBoostingClassifier(max_iter=60),
                     model_nested=HistGradientBoostingRegressor(max_iter=60), cv=3,
                     random_state=seed)


def _clustered_linear(seed, G=30, m=40):
    """The linear front-door design with cluster effects; truth b_T' b_M = 0.6."""
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    n = G * m
    g = np.repeat(np.arange(G), m)
    cw, ct, cm, cy = (rng.normal(size=G) for _ in range(4))
    W = rng.normal(size=(n, 2)) + 0.7 * cw[g][:, None]
    U = rng.normal(size=n)
    t = (rng.random(n) < expit(0.5 * W[:, 0] - 0.5 * W[:, 1] + U + 0.5 * ct[g])).astype(int)
    bT, bM = np.array([1.0, 0.5]), np.array([0.8, -0.4])
    M = t[:, None] * bT + 0.3 * W + 0.5 * cm[g][:, None] + rng.normal(size=(n, 2))
    y = M @ bM + 0.5 * W[:, 0] + U + cy[g] + rng.normal(size=n)
    return W, y, t, M, g, float(bT @ bM)


def fd(seed, method="plugin", design="discrete", heavy=False, n=2000):
    from causalkit.datasets import make_frontdoor_data, make_frontdoor_linear_data
    from causalkit.frontdoor import FrontDoor

    groups = None
    if design == "clustered":
        X, y, t, M, groups, truth = _clustered_linear(seed)
    else:
        make = make_frontdoor_data if design == "discrete" else make_frontdoor_linear_data
        d = make(n, random_state=20_000 + seed)
        X, y, t, M, truth = d.X, d.y, d.treatment, d.mediator, d.true_ate
        if heavy:
            y = y + t3_noise(seed, n)
    if method in ("dr-linear", "dr-hgb"):
        est = _dr(method[3:], seed)
    else:
        est = FrontDoor(method=method)
    kw = {} if groups is None else {"groups": groups}
    return rep_of(est.fit(X, y, treatment=t, mediator=M, **kw).ate(), truth)


def studies():
    disc, lin = "make_frontdoor_data (discrete)", "make_frontdoor_linear_data (2 mediators)"
    out = [
        Study("frontdoor", "FrontDoor(method='plugin')", disc, 2000, partial(fd, method="plugin")),
        Study("frontdoor", "FrontDoor(method='dr') [boosting nuisances]", disc, 2000,
              partial(fd, method="dr-hgb"), quick_reps=60,
              note="HGB nuisances, cv=3; what covers on this design: "
                   "FrontDoor(method='plugin')"),
        Study("frontdoor", "FrontDoor(method='linear')", lin, 2000,
              partial(fd, method="linear", design="linear")),
        Study("frontdoor", "FrontDoor(method='dr') [linear nuisances]", lin, 2000,
              partial(fd, method="dr-linear", design="linear"), note="linear models, cv=3"),
        Study("frontdoor", "FrontDoor(method='linear')", lin + " + t(3) noise", 2000,
              partial(fd, method="linear", design="linear", heavy=True),
              note="heavy-tailed outcome"),
        Study("frontdoor", "FrontDoor(method='dr') [linear nuisances]", lin + " + t(3) noise", 2000,
              partial(fd, method="dr-linear", design="linear", heavy=True),
              note="linear models, cv=3; heavy-tailed outcome"),
        Study("frontdoor", "FrontDoor(method='plugin')", disc + " + t(3) noise", 2000,
              partial(fd, method="plugin", heavy=True), note="heavy-tailed outcome"),
    ]
    for method, name in (("linear", "FrontDoor(method='linear')"),
                         ("dr-linear", "FrontDoor(method='dr') [linear nuisances]")):
        out.append(Study("frontdoor", name + ".fit(groups=)", "clustered linear, 30 clusters x 40",
                         1200, partial(fd, method=method, design="clustered"), seed_offset=70_000,
                         note="cluster-robust SE, t(G-1) critical values"))
    return out
