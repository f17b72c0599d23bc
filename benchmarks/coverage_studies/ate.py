"""Coverage studies of the ATE family: AIPW (ATE, ATT, clustered) and MultiArmAIPW.

Linear/logistic nuisance models keep a replication to a fraction of a second; the
interval is each estimator's default (influence-function SE, normal critical values,
t(G - 1) with ``groups=``). Absorbs ``benchmarks/ate_iv_coverage.py``'s ATE designs.
"""

from __future__ import annotations

from functools import partial

from ._common import Rep, Study
from ._designs import clustered_treatment, rep_of, t3_noise


def _lin():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    return LinearRegression(), LogisticRegression()


def aipw_ate(seed, n=2000, heavy=False):
    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(n, random_state=seed)
    y = d.y + t3_noise(seed, n) if heavy else d.y
    e = AIPW(*_lin(), cv=3, random_state=seed).fit(d.X, y, treatment=d.treatment).ate()
    return rep_of(e, d.true_ate)


def aipw_att(seed, n=2000):
    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(n, random_state=seed)
    est = AIPW(*_lin(), cv=3, random_state=seed).fit(d.X, d.y, treatment=d.treatment)
    tr = d.treatment == 1
    return rep_of(est.effects_["ATT"], d.true_cate[tr].mean())


def aipw_clustered(seed, G=30, m=40, normal=False):
    from scipy import stats

    from causalkit.ate import AIPW

    X, y, t, g = clustered_treatment(seed, G, m)
    e = AIPW(*_lin(), cv=4, random_state=seed).fit(X, y, treatment=t, groups=g).ate()
    if normal:  # the same SE with normal critical values (what t(G - 1) replaced)
        z = stats.norm.ppf(0.975)
        return Rep(e.value, e.stderr, e.value - z * e.stderr, e.value + z * e.stderr, 1.0)
    return rep_of(e, 1.0)


def aipw_nrep(seed, n=1000):
    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(n, random_state=seed)
    e = AIPW(*_lin(), cv=3, n_rep=5, random_state=seed).fit(d.X, d.y, treatment=d.treatment).ate()
    return rep_of(e, 1.0)


def multiarm(seed, n=2000):
    from causalkit.ate import MultiArmAIPW
    from causalkit.datasets import make_multiarm_data

    d = make_multiarm_data(n, random_state=seed)
    e = MultiArmAIPW(*_lin(), cv=3, random_state=seed).fit(
        d.X, d.y, treatment=d.treatment).contrast(0)["2 vs 0"]
    return rep_of(e, 2.0)


def studies():
    lin = "linear/logistic nuisances, cv=3"
    return [
        Study("ate", "AIPW().ate()", "make_ate_data", 2000, partial(aipw_ate, n=2000), note=lin),
        Study("ate", "AIPW().ate()", "make_ate_data", 500, partial(aipw_ate, n=500), note=lin),
        Study("ate", "AIPW().ate()", "make_ate_data + t(3) noise", 2000,
              partial(aipw_ate, n=2000, heavy=True), note=lin + "; heavy-tailed outcome"),
        Study("ate", "AIPW().att()", "make_ate_data", 2000, aipw_att,
              note=lin + "; truth: mean CATE of the treated in the sample"),
        Study("ate", "AIPW().fit(groups=)", "clustered, 30 clusters x 40", 1200,
              partial(aipw_clustered, G=30, m=40), seed_offset=50_000,
              note=lin + "; cluster-robust SE, t(G-1) critical values"),
        Study("ate", "AIPW().fit(groups=)", "clustered, 20 clusters x 50", 1000,
              partial(aipw_clustered, G=20, m=50), seed_offset=50_000,
              note=lin + "; cluster-robust SE, t(G-1) critical values"),
        Study("ate", "AIPW().fit(groups=), normal critical values", "clustered, 20 clusters x 50",
              1000, partial(aipw_clustered, G=20, m=50, normal=True), default=False,
              seed_offset=50_000, note="the interval t(G-1) replaced, for reference"),
        Study("ate", "AIPW(n_rep=5).ate()", "make_ate_data", 1000, aipw_nrep, default=False,
              note=lin + "; median rule over 5 cross-fitting repetitions"),
        Study("ate", "MultiArmAIPW() contrast 2 vs 0", "make_multiarm_data", 2000, multiarm,
              note=lin),
    ]
