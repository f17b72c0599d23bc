"""Run causalkit's RDD and rdrobust on the same data and options; return both results.

Shared by the parity tests and by ``benchmarks/rdd_parity_grid.py``. rdrobust is a
test-only peer; it is called as a black box.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from causalkit.rdd import RDD

#: What the parity grid varies (``ties`` rounds the running variable to 0.01).
FACTORS = {
    "kernel": ["triangular", "epanechnikov", "uniform"],
    "p": [1, 2],
    "vce": ["nn", "hc0", "hc1", "hc2", "hc3"],
    "bwselect": ["mserd", "msetwo", "msesum", "msecomb1", "msecomb2",
                 "cerrd", "certwo", "cersum", "cercomb1", "cercomb2"],
    "fuzzy": [False, True],
    "covs": [False, True],
    "cluster": [False, True],
    "deriv": [0, 1],
    "masspoints": ["adjust", "off"],
    "ties": [False, True],
}


def valid(case):
    # with clusters, hc2/hc3 mean CR2/CR3 in both packages
    return True


def covering_cases(seed=0, candidates=60):
    """A deterministic set of grid cases in which every pair of option values appears."""
    names = list(FACTORS)
    need = set()
    for (a, b) in itertools.combinations(range(len(names)), 2):
        for va in FACTORS[names[a]]:
            for vb in FACTORS[names[b]]:
                c = {names[a]: va, names[b]: vb}
                if valid({**{n: FACTORS[n][0] for n in names}, **c}):
                    need.add(tuple(sorted(((names[a], _key(va)), (names[b], _key(vb))))))
    rng = np.random.default_rng(seed)
    cases = []
    while need:
        best, best_gain = None, -1
        pending = sorted(need)
        for _ in range(candidates):
            cand = {n: FACTORS[n][rng.integers(len(FACTORS[n]))] for n in names}
            # seed the candidate with one uncovered pair
            (na, va), (nb, vb) = pending[rng.integers(len(pending))]
            cand[na] = _val(na, va)
            cand[nb] = _val(nb, vb)
            if not valid(cand):
                continue
            gain = len(need & _pairs(cand))
            if gain > best_gain:
                best, best_gain = cand, gain
        cases.append(best)
        need -= _pairs(best)
    return cases


def full_grid():
    names = list(FACTORS)
    for combo in itertools.product(*(FACTORS[n] for n in names)):
        case = dict(zip(names, combo))
        if valid(case):
            yield case


def _key(v):
    return repr(v)


def _val(name, key):
    return next(v for v in FACTORS[name] if repr(v) == key)


def _pairs(case):
    items = sorted((n, _key(v)) for n, v in case.items())
    return set(itertools.combinations(items, 2))


def simulated(n=800, seed=0, ties=False):
    """Running variable, outcome, treatment, two covariates and 40 clusters."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    if ties:
        x = np.round(x, 2)
    # the take-up probability jumps and kinks at 0 (a first stage for deriv = 0 and 1)
    t = (rng.uniform(size=n) < 0.2 + 0.5 * (x >= 0) + 0.25 * x * (x >= 0)).astype(float)
    z = rng.normal(size=(n, 2)) + x[:, None]
    y = (x + 0.5 * x**2 + 0.7 * t + 0.3 * np.abs(x) * (x >= 0) + z @ [0.5, -0.3]
         + rng.normal(size=n) * (0.5 + 0.3 * x))
    g = rng.integers(0, 40, n)
    return {"x": x, "y": y, "t": t, "z": z, "g": g}


def run_both(x, y, *, cutoff=0.0, treatment=None, covariates=None, groups=None,
             sample_weight=None, **opts):
    """Fit both on the same data; return (rdrobust numbers, causalkit numbers).

    Numbers: h_left, h_right, b_left, b_right, conventional estimate, bias-corrected
    estimate, conventional SE, robust SE, robust CI bounds.
    """
    import rdrobust

    kw = dict(opts)
    ours = dict(opts)
    for theirs, mine in (("h", "bandwidth"), ("b", "bias_bandwidth")):
        if theirs in ours:
            ours[mine] = ours.pop(theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rdrobust.rdrobust(y, x, c=cutoff, fuzzy=treatment, covs=covariates, cluster=groups,
                              weights=sample_weight, **kw)
        e = RDD(cutoff=cutoff, **ours).fit(x, y, treatment=treatment, covariates=covariates,
                                           groups=groups, sample_weight=sample_weight)
    ref = np.r_[r.bws.values.ravel(), r.coef.values.ravel()[:2], r.se.values.ravel()[[0, 2]],
                r.ci.values[2]]
    lo, hi = e.effect().conf_int(0.05)
    mine = np.r_[e.bandwidth_, e.bias_bandwidth_, e.conventional_.value, e.effect_.value,
                 e.conventional_.stderr, e.effect_.stderr, lo, hi]
    return ref, mine, e


def case_arguments(case, data):
    """rdrobust-style keyword arguments of one grid case."""
    kw = {"kernel": case["kernel"], "p": case["p"], "vce": case["vce"],
          "bwselect": case["bwselect"], "deriv": case["deriv"],
          "masspoints": case["masspoints"]}
    if case["p"] < case["deriv"]:
        kw["p"] = case["deriv"]
    if case["fuzzy"]:
        kw["treatment"] = data["t"]
    if case["covs"]:
        kw["covariates"] = data["z"]
    if case["cluster"]:
        kw["groups"] = data["g"]
    return kw


def max_rel_err(ref, mine):
    ref, mine = np.asarray(ref, float), np.asarray(mine, float)
    return float(np.max(np.abs(ref - mine) / np.maximum(np.abs(ref), 1e-12)))
