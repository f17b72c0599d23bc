"""ATT/ATC, repeated cross-fitting and few-cluster intervals of AIPW, against DoubleML."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalkit.ate import AIPW
from causalkit.ate._common import aggregate_reps, folds_per_rep, rep_seeds
from causalkit.datasets import make_ate_data


def _irm(X, y, t, folds_by_rep, score, model_m=None):
    dml = pytest.importorskip("doubleml")
    data = dml.DoubleMLData.from_arrays(X, y, t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        irm = dml.DoubleMLIRM(data, ml_g=LinearRegression(), ml_m=model_m or LogisticRegression(),
                              n_folds=len(folds_by_rep[0]), n_rep=len(folds_by_rep), score=score)
        irm.set_sample_splitting([[(tr, te) for tr, te in f] for f in folds_by_rep])
        irm.fit()
    return irm


def _reps(est, estimand):
    r = est.rep_estimates_.query("estimand == @estimand")
    return r["estimate"].to_numpy(), r["stderr"].to_numpy()


def test_att_and_atc_equal_doubleml_atte_on_the_same_folds():
    d = make_ate_data(700, random_state=11)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=4).fit(
        d.X, d.y, treatment=d.treatment)
    folds = folds_per_rep(700, 3, rep_seeds(4, 1), stratify=d.treatment)
    att = _irm(d.X, d.y, d.treatment, folds, "ATTE")
    assert est.att().value == pytest.approx(float(att.coef[0]), rel=1e-8)
    assert est.att().stderr == pytest.approx(float(att.se[0]), rel=1e-8)
    # the ATC is minus the ATT of the flipped treatment (DoubleML has no ATC score)
    atc = _irm(d.X, d.y, 1 - d.treatment, folds, "ATTE")
    assert est.atc().value == pytest.approx(-float(atc.coef[0]), rel=1e-8)
    assert est.atc().stderr == pytest.approx(float(atc.se[0]), rel=1e-8)
    assert est.effects().names == ["ATE", "ATT", "ATC"]
    assert est.att().n == int(d.treatment.sum()) and est.atc().n == int((1 - d.treatment).sum())


def test_att_and_atc_recover_the_known_effects():
    d = make_ate_data(6000, random_state=1)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, treatment=d.treatment)
    t = d.treatment == 1
    for e, truth in ((est.att(), d.true_cate[t].mean()), (est.atc(), d.true_cate[~t].mean())):
        assert abs(e.value - truth) < 3 * e.stderr
    # confounding on X1 separates them: treated units have larger X1, so a larger effect
    assert est.att().value - est.atc().value > 3 * max(est.att().stderr, est.atc().stderr)


@pytest.mark.parametrize("score,estimand", [("ATE", "ATE"), ("ATTE", "ATT")])
def test_repeated_crossfitting_equals_doubleml_n_rep(score, estimand):
    d = make_ate_data(500, random_state=12)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, n_rep=4, random_state=7,
               rep_aggregation="median-bound").fit(d.X, d.y, treatment=d.treatment)
    folds = folds_per_rep(500, 3, rep_seeds(7, 4), stratify=d.treatment)
    irm = _irm(d.X, d.y, d.treatment, folds, score)
    th, se = _reps(est, estimand)
    np.testing.assert_allclose(th, irm.all_coef.ravel(), rtol=1e-8)
    np.testing.assert_allclose(se, irm.all_se.ravel(), rtol=1e-8)
    e = est.effects_[estimand]
    assert e.value == pytest.approx(float(irm.coef[0]), rel=1e-8)
    assert e.stderr == pytest.approx(float(irm.se[0]), rel=1e-8)


def test_median_rule_of_chernozhukov_et_al():
    d = make_ate_data(400, random_state=13)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=2, n_rep=5, random_state=3).fit(
        d.X, d.y, treatment=d.treatment)
    th, se = _reps(est, "ATE")
    assert len(set(np.round(th, 12))) == 5  # the splits differ
    med = np.median(th)
    assert est.ate().value == pytest.approx(med, rel=1e-12)
    assert est.ate().stderr == pytest.approx(np.sqrt(np.median(se**2 + (th - med) ** 2)), rel=1e-12)
    # repetition 0 is the plain cross-fitted estimator with the same seed
    one = AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=3).fit(
        d.X, d.y, treatment=d.treatment)
    assert th[0] == pytest.approx(one.ate().value, rel=1e-12)
    assert "median over 5 cross-fittings" in est.ate().method


def test_aggregate_reps_by_hand():
    th, se = np.array([1.0, 2.0, 4.0]), np.array([0.5, 0.4, 0.3])
    v, s = aggregate_reps(th, se, "median")
    assert v == 2.0 and s == pytest.approx(np.sqrt(np.median([1.25, 0.16, 4.09])))
    v, s = aggregate_reps(th, se, "median-bound")
    assert s == pytest.approx((np.median(th + 1.96 * se) - 2.0) / 1.96)


def test_n_rep_bad_values_and_splitter():
    from sklearn.model_selection import KFold

    d = make_ate_data(200, random_state=0)
    for bad in (0, 1.5, "3"):
        with pytest.raises(ValueError, match="The 'n_rep' parameter of AIPW must be an int in the range \\[1, inf\\)"):
            AIPW(n_rep=bad).fit(d.X, d.y, treatment=d.treatment)
    with pytest.raises(ValueError, match="The 'rep_aggregation' parameter of AIPW must be a str among"):
        AIPW(rep_aggregation="mean").fit(d.X, d.y, treatment=d.treatment)
    with pytest.raises(ValueError, match="`cv` must be a number of folds"):
        AIPW(cv=KFold(3), n_rep=2).fit(d.X, d.y, treatment=d.treatment)


def test_groups_use_t_critical_values_with_g_minus_1_dof():
    d = make_ate_data(400, random_state=6)
    groups = np.repeat(np.arange(20), 20)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=4, random_state=0).fit(
        d.X, d.y, treatment=d.treatment, groups=groups)
    e = est.ate()
    assert e.dof == 19 and "t(19) critical values" in e.method
    lo, hi = e.conf_int()
    assert hi - e.value == pytest.approx(stats.t.ppf(0.975, 19) * e.stderr, rel=1e-12)
    assert est.att().dof == 19 and est.atc().dof == 19


def _lalonde():
    causaldata = pytest.importorskip("causaldata")
    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    df = np.concatenate([nsw[nsw.treat == 1].to_numpy()[:, 1:], cps.to_numpy()[:, 1:]]).astype(float)
    cols = ["treat", "age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75", "re78"]
    t = df[:, 0].astype(int)
    X = df[:, 1:9]
    X = np.c_[X, X[:, 0] ** 2, (X[:, 6] == 0), (X[:, 7] == 0)]
    return X, df[:, cols.index("re78")], t


def test_att_on_nsw_treated_against_cps_controls_equals_doubleml():
    """Dehejia-Wahba NSW treated units with CPS controls (causaldata), n_rep = 3."""
    X, y, t = _lalonde()
    assert X.shape[0] == 185 + 15992 and t.sum() == 185
    model_m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # weak overlap on these data is the point of the example
        est = AIPW(LinearRegression(), model_m, cv=3, n_rep=3, random_state=0,
                   rep_aggregation="median-bound").fit(X, y, treatment=t)
    folds = folds_per_rep(len(y), 3, rep_seeds(0, 3), stratify=t)
    irm = _irm(X, y, t, folds, "ATTE", model_m=model_m)
    np.testing.assert_allclose(_reps(est, "ATT")[0], irm.all_coef.ravel(), rtol=1e-8)
    np.testing.assert_allclose(_reps(est, "ATT")[1], irm.all_se.ravel(), rtol=1e-8)
    assert est.att().value == pytest.approx(float(irm.coef[0]), rel=1e-8)
    # the experimental benchmark (NSW treated vs NSW controls) is about 1,794 dollars;
    # the adjusted observational ATT should not be the naive gap of about -8,500
    naive = y[t == 1].mean() - y[t == 0].mean()
    assert naive < -8000 and est.att().value > naive + 5 * est.att().stderr


@pytest.mark.slow
def test_clustered_coverage_with_twenty_clusters():
    """Quick coverage of the default (t(G-1)) interval with 20 clusters lies in [0.90, 0.99].

    The tight band is held by benchmarks/ate_iv_coverage.py (2,000 replications).
    """
    from scipy.special import expit

    hits = []
    for seed in range(150):
        rng = np.random.default_rng(seed)
        g = np.repeat(np.arange(20), 50)
        cx, ce, cy, ct = (rng.normal(size=20) for _ in range(4))
        x = rng.normal(size=(1000, 2)) + cx[g][:, None]
        t = (rng.random(1000) < expit(0.6 * x[:, 0] + 0.5 * ce[g])).astype(int)
        y = x[:, 0] + 0.5 * x[:, 1] + cy[g] + t * (1.0 + 0.5 * ct[g]) + rng.normal(size=1000)
        lo, hi = AIPW(LinearRegression(), LogisticRegression(), cv=4, random_state=seed).fit(
            x, y, treatment=t, groups=g).ate().conf_int()
        hits.append(lo <= 1.0 <= hi)
    assert 0.90 <= np.mean(hits) <= 0.99
