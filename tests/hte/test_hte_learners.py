"""Weighted pseudo-outcome learners and the R-learner: known truths and identities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import config_context
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import PolynomialFeatures

from causalkit._crossfit import make_folds
from causalkit.datasets import make_cate_data, make_fisher_hte
from causalkit.hte import (
    PSEUDO_OUTCOMES,
    WEIGHTS,
    RLearner,
    WeightedPseudoOutcomeLearner,
)
from causalkit.hte._learner import pseudo_weights

LIN = {"model_y": LinearRegression(), "model_t": LogisticRegression(), "model_final": LinearRegression()}


@pytest.fixture(scope="module")
def data():
    return make_cate_data(3000, random_state=7)


def _z(est, truth):
    return abs(est.value - truth) / est.stderr


@pytest.mark.parametrize("pseudo", ["dr", "u", "cov"])
def test_linear_cate_recovered_within_standard_errors(data, pseudo):
    # The propensity model is correct (logistic), the outcome model is not: orthogonal
    # learners stay consistent, so the coefficients of tau(X) = 1 + X1 are recovered.
    weights = "ivw_ax" if pseudo == "u" else "ivw_x"
    est = WeightedPseudoOutcomeLearner(**LIN, pseudo=pseudo, weights=weights, cv=3,
                                       random_state=0).fit(data.X, data.y, treatment=data.treatment)
    tab = est.coef_table()
    truth = np.r_[1.0, 1.0, np.zeros(data.X.shape[1] - 1)]
    z = np.abs(tab.values - truth) / tab.stderrs
    assert z.max() < 4, (pseudo, tab.values, tab.stderrs)
    np.testing.assert_allclose(tab.values, np.r_[est.final_model_.intercept_, est.final_model_.coef_],
                               rtol=1e-8, atol=1e-10)
    assert _z(est.ate(), data.true_ate) < 3


def test_rlearner_equals_weighted_u_learner(data):
    for final in (LinearRegression(), HistGradientBoostingRegressor(max_iter=20)):
        kw = {"model_y": LinearRegression(), "model_t": LogisticRegression(), "model_final": final,
                  "cv": 3, "random_state": 0}
        r = RLearner(**kw).fit(data.X, data.y, treatment=data.treatment)
        u = WeightedPseudoOutcomeLearner(pseudo="u", weights="ivw_ax", **kw).fit(
            data.X, data.y, treatment=data.treatment)
        np.testing.assert_array_equal(r.predict(data.X), u.predict(data.X))
        assert r.ate().value == u.ate().value


def test_rlearner_minimises_the_r_loss(data):
    # Solve the R-loss directly: (Y - m) ~ (A - e) * [1, X] by least squares.
    r = RLearner(**LIN, cv=3, trimming_threshold=0.0, random_state=0).fit(
        data.X, data.y, treatment=data.treatment)
    ry = data.y - r.nuisances_["y"]
    rt = data.treatment - r.nuisances_["propensity"]
    D = rt[:, None] * np.column_stack([np.ones(len(ry)), data.X])
    beta = np.linalg.lstsq(D, ry, rcond=None)[0]
    np.testing.assert_allclose(r.coef_table().values, beta, rtol=1e-7, atol=1e-9)


def test_weight_formulas():
    e = np.array([0.1, 0.5, 0.8])
    t = np.array([1.0, 0.0, 1.0])
    k = 1 - e
    np.testing.assert_allclose(pseudo_weights("ivw_x", "dr", t, e), e * k)
    np.testing.assert_allclose(pseudo_weights("ivw_x", "u", t, e), (e * k) ** 2 / (e**3 + k**3))
    np.testing.assert_allclose(pseudo_weights("ivw_ax", "u", t, e), (t - e) ** 2)
    np.testing.assert_allclose(pseudo_weights("ivw_ax", "dr", t, e), np.where(t == 1, e**2, k**2))
    np.testing.assert_allclose(pseudo_weights("dr_alt_ax", "cov", t, e), np.where(t == 1, e, k))
    np.testing.assert_allclose(pseudo_weights("one", "u", t, e), 1.0)


def test_ivw_x_is_inverse_variance_of_u_pseudo_outcome():
    # Var(phi_U | X) = sigma^2 (e^3 + k^3) / (e k)^2 at the true nuisances (Fisher 2024).
    rng = np.random.default_rng(0)
    e, n = 0.2, 400_000
    a = (rng.random(n) < e).astype(float)
    phi = rng.normal(size=n) / (a - e)
    w = pseudo_weights("ivw_x", "u", np.zeros(1), np.array([e]))[0]
    assert abs(phi.var() * w - 1) < 0.02


def test_every_pseudo_outcome_and_weight_fits(data):
    for pseudo in PSEUDO_OUTCOMES:
        for weights in WEIGHTS:
            est = WeightedPseudoOutcomeLearner(**LIN, pseudo=pseudo, weights=weights, cv=2,
                                               crossfit_final=False, random_state=0)
            est.fit(data.X, data.y, treatment=data.treatment)
            assert np.isfinite(est.predict(data.X[:10])).all()
            assert _z(est.ate(), data.true_ate) < 4, (pseudo, weights)


def test_dr_single_outcome_model(data):
    est = WeightedPseudoOutcomeLearner(**LIN, pseudo="dr", dr_outcome="single", cv=3,
                                       random_state=0).fit(data.X, data.y, treatment=data.treatment)
    assert set(est.nuisances_) == {"propensity", "mu0", "mu1"}
    assert _z(est.ate(), data.true_ate) < 3


def test_continuous_treatment_rlearner():
    d = make_cate_data(3000, treatment="continuous", random_state=3)
    est = RLearner(LinearRegression(), LinearRegression(), LinearRegression(), cv=3,
                   random_state=0).fit(d.X, d.y, treatment=d.treatment)
    assert est.continuous_treatment_
    tab = est.coef_table()
    truth = np.r_[1.0, 1.0, np.zeros(d.X.shape[1] - 1)]
    assert (np.abs(tab.values - truth) / tab.stderrs).max() < 4
    # Var(T|X) is constant here, so the variance-weighted ATE is the ATE.
    assert _z(est.ate(), 1.0) < 3
    ge = est.group_effects(3)
    assert ge["top - bottom"].value > 5 * ge["top - bottom"].stderr


def test_featurizer_and_named_coefficients():
    d = make_cate_data(2000, n_features=3, as_frame=True, random_state=5)
    est = RLearner(**LIN, featurizer=PolynomialFeatures(degree=1, include_bias=False), cv=3,
                   random_state=0).fit(d.X, d.y, treatment=d.treatment)
    assert est.coef_table().names == ["intercept", "x0", "x1", "x2"]
    assert list(est.feature_names_in_) == ["x0", "x1", "x2"]


def test_blp_and_group_effects_detect_heterogeneity(data):
    est = RLearner(**LIN, cv=3, random_state=0).fit(data.X, data.y, treatment=data.treatment)
    blp = est.blp()
    assert _z(blp["beta1 (ATE)"], data.true_ate) < 3
    assert _z(blp["beta2 (heterogeneity)"], 1.0) < 3          # a calibrated linear CATE
    ge = est.group_effects(4)
    assert ge["top - bottom"].pvalue < 1e-6
    # truth of each group: mean true CATE among its units
    order = np.argsort(est.cate_oof_, kind="stable")
    grp = np.empty(len(order), int)
    grp[order] = np.arange(len(order)) * 4 // len(order)
    for g in range(4):
        truth = data.true_cate[grp == g].mean()
        assert _z(ge[g], truth) < 3.5


def test_blp_without_heterogeneity_has_small_loading():
    d = make_fisher_hte("C", 3000, random_state=1)   # constant effect tau = 1
    est = RLearner(**LIN, cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    blp = est.blp()
    assert _z(blp["beta1 (ATE)"], 1.0) < 3
    assert est.group_effects(2)["top - bottom"].pvalue > 0.001


def test_inference_needs_out_of_fold_cate_and_linear_final(data):
    est = RLearner(LinearRegression(), LogisticRegression(), HistGradientBoostingRegressor(max_iter=10),
                   cv=2, crossfit_final=False, random_state=0).fit(data.X, data.y, treatment=data.treatment)
    with pytest.raises(ValueError, match="crossfit_final=True"):
        est.blp()
    with pytest.raises(ValueError, match="crossfit_final=True"):
        est.group_effects()
    with pytest.raises(TypeError, match="LinearRegression"):
        est.coef_table()
    with pytest.raises(ValueError, match="`n_groups` must be"):
        RLearner(**LIN, cv=2).fit(data.X, data.y, treatment=data.treatment).group_effects(1)
    with pytest.raises(ValueError, match="features"):
        est.predict(data.X[:, :2])


def test_r_loss_score_prefers_the_true_cate(data):
    est = RLearner(**LIN, cv=3, random_state=0).fit(data.X, data.y, treatment=data.treatment)
    good = est.score(data.X, data.y, treatment=data.treatment)
    est.final_model_.coef_ = np.zeros_like(est.final_model_.coef_)   # a flat CATE
    assert good > est.score(data.X, data.y, treatment=data.treatment)


def test_gridsearch_over_final_model_with_metadata_routing():
    d = make_cate_data(1500, random_state=11)
    base = RLearner(LinearRegression(), LogisticRegression(), Ridge(), cv=2, crossfit_final=False,
                    random_state=0)
    with config_context(enable_metadata_routing=True):
        base = base.set_fit_request(treatment=True).set_score_request(treatment=True)
        gs = GridSearchCV(base, {"model_final__alpha": [1e-3, 1e5]}, cv=3)
        gs.fit(d.X, d.y, treatment=d.treatment)
    assert gs.best_params_["model_final__alpha"] == 1e-3
    scores = gs.cv_results_["mean_test_score"]
    assert scores[0] > scores[1]


def test_sample_weight_frequency_equivalence():
    # Integer sample weights act like repeated rows on the final regression.
    d = make_cate_data(400, random_state=2)
    w = np.r_[np.full(200, 2.0), np.ones(200)]
    est = RLearner(**LIN, cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment, sample_weight=w)
    ry = d.y - est.nuisances_["y"]
    rt = d.treatment - est.nuisances_["propensity"]
    D = rt[:, None] * np.column_stack([np.ones(400), d.X])
    sq = np.sqrt(w)
    beta = np.linalg.lstsq(D * sq[:, None], ry * sq, rcond=None)[0]
    np.testing.assert_allclose(est.coef_table().values, beta, rtol=1e-7, atol=1e-9)


def test_clustered_standard_errors_are_larger_with_shared_cluster_shocks():
    rng = np.random.default_rng(4)
    d = make_cate_data(1200, random_state=4)
    groups = np.repeat(np.arange(60), 20)
    y = d.y + 2.0 * rng.normal(size=60)[groups] * d.treatment
    plain = RLearner(**LIN, cv=3, random_state=0).fit(d.X, y, treatment=d.treatment)
    clus = RLearner(**LIN, cv=3, random_state=0).fit(d.X, y, treatment=d.treatment, groups=groups)
    assert clus.ate().stderr > plain.ate().stderr
    assert "clustered" in clus.ate().method


def test_clustered_intervals_use_t_with_g_minus_one_degrees_of_freedom():
    from scipy import stats

    d = make_cate_data(600, random_state=5)
    groups = np.repeat(np.arange(20), 30)
    est = RLearner(**LIN, cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment,
                                                    groups=groups)
    crit = stats.t.ppf(0.975, 19)
    for e in [est.ate(), est.coef_table()["x0"], est.blp()[0]]:
        lo, hi = e.conf_int(0.05)
        np.testing.assert_allclose([lo, hi], [e.value - crit * e.stderr,
                                              e.value + crit * e.stderr], rtol=1e-12)
    lo, hi = est.coef_table().conf_int().loc["x0"]
    e = est.coef_table()["x0"]
    np.testing.assert_allclose(hi - lo, 2 * crit * e.stderr, rtol=1e-12)
    x = d.X[:3]
    curve = est.cate_inference(x)
    lo, hi = curve.conf_int(0.05)
    np.testing.assert_allclose(hi - lo, 2 * crit * curve.stderr, rtol=1e-12)
    assert "t(G - 1)" in curve.method
    # without groups: normal critical values
    plain = RLearner(**LIN, cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    lo, hi = plain.ate().conf_int(0.05)
    np.testing.assert_allclose(hi - lo, 2 * stats.norm.ppf(0.975) * plain.ate().stderr,
                               rtol=1e-12)


def test_propensity_clipping_is_counted(data):
    from causalkit.utils.validation import PositivityWarning

    with pytest.warns(PositivityWarning):
        est = RLearner(**LIN, cv=3, trimming_threshold=0.2, random_state=0).fit(
            data.X, data.y, treatment=data.treatment)
    assert est.diagnostics_["n_clipped"] > 0


@pytest.mark.parametrize("setup", list("ABCDEF"))
def test_fisher_setups_have_documented_truths(setup):
    d = make_fisher_hte(setup, 2000, random_state=0)
    assert d.X.shape == (2000, 10 if setup in "ABCD" else 1)
    assert ((d.propensity > 0) & (d.propensity < 1)).all()
    assert set(np.unique(d.treatment)) == {0, 1}
    if setup in "CF":
        assert np.all(d.true_cate == 1.0)
    if setup == "E":
        assert np.all(d.true_cate == 0.0)


def test_default_models_recover_ate():
    d = make_cate_data(2000, random_state=9)
    est = RLearner(cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    assert _z(est.ate(), d.true_ate) < 3
    assert np.corrcoef(est.predict(d.X), d.true_cate)[0, 1] > 0.8


def test_user_folds_are_used(data):
    folds = make_folds(len(data.y), 3, random_state=1)
    est = RLearner(**LIN, cv=folds).fit(data.X, data.y, treatment=data.treatment)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(est.folds_, folds))


def test_featurizer_receives_dataframe_columns_by_name():
    from sklearn.compose import ColumnTransformer

    d = make_cate_data(1500, n_features=4, as_frame=True, random_state=6)
    pick = ColumnTransformer([("m", "passthrough", ["x0"])], verbose_feature_names_out=False)
    est = RLearner(**LIN, featurizer=pick, cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    tab = est.coef_table()
    assert tab.names == ["intercept", "x0"]
    assert _z(tab["x0"], 1.0) < 3.5
    np.testing.assert_allclose(est.predict(d.X), tab["intercept"].value + tab["x0"].value * d.X["x0"])


def test_load_ihdp_real_data():
    pytest.importorskip("econml")
    from causalkit.datasets import load_ihdp

    d = load_ihdp()
    assert d.X.shape == (908, 34)
    assert "ncdctt" not in d.X.columns and "dose400" not in d.X.columns
    assert set(np.unique(d.treatment)) == {0, 1}
    assert np.isfinite(d.y).all()


def test_ate_standard_error_matches_the_aipw_estimator(data):
    # With the same folds and outcome models, the DR learner's ATE is the AIPW estimate.
    from causalkit.ate import AIPW

    folds = make_folds(len(data.y), 3, random_state=2)
    dr = WeightedPseudoOutcomeLearner(**LIN, pseudo="dr", cv=folds).fit(data.X, data.y,
                                                                        treatment=data.treatment)
    aipw = AIPW(LinearRegression(), LogisticRegression(), cv=folds).fit(data.X, data.y,
                                                                       treatment=data.treatment)
    assert dr.ate().value == pytest.approx(aipw.ate().value, rel=1e-10)
    assert dr.ate().stderr == pytest.approx(aipw.ate().stderr, rel=1e-8)


def test_peak_memory_stays_near_the_bare_nuisance_fits():
    # No copies of X per fold beyond what the models need: the learner's traced peak
    # stays within 2 x size(X) of cross_val_predict of the same models on the same folds.
    import gc
    import tracemalloc

    from sklearn.model_selection import cross_val_predict

    d = make_cate_data(100_000, n_features=10, random_state=0)
    folds = make_folds(len(d.y), 3, random_state=0)

    def peak(fn):
        gc.collect()
        tracemalloc.start()
        fn()
        out = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return out

    def bare():
        cross_val_predict(LinearRegression(), d.X, d.y, cv=folds)
        cross_val_predict(LogisticRegression(), d.X, d.treatment, cv=folds, method="predict_proba")

    ours = peak(lambda: RLearner(**LIN, cv=folds, crossfit_final=False).fit(
        d.X, d.y, treatment=d.treatment))
    assert ours <= peak(bare) + 2 * d.X.nbytes


def test_dask_backend_gives_the_same_numbers(data):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    est = RLearner(**LIN, cv=3, random_state=0)
    ref = est.fit(data.X, data.y, treatment=data.treatment).predict(data.X[:20])
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with parallel_config(backend="dask"):
            par = RLearner(**LIN, cv=3, n_jobs=2, random_state=0).fit(
                data.X, data.y, treatment=data.treatment).predict(data.X[:20])
    np.testing.assert_allclose(par, ref, rtol=1e-12)


def test_r_loss_scores_rank_cates_only_with_shared_nuisances():
    from sklearn.dummy import DummyRegressor

    d, held = make_cate_data(4000, random_state=3), make_cate_data(4000, random_state=4)
    # C: good outcome model, flat CATE; B: no outcome model (the mean), the right CATE
    C = RLearner(HistGradientBoostingRegressor(max_iter=100), LogisticRegression(),
                 DummyRegressor(), cv=3, random_state=0).fit(d.X, d.y, treatment=d.treatment)
    B = RLearner(DummyRegressor(), LogisticRegression(), LinearRegression(), cv=3,
                 random_state=0).fit(d.X, d.y, treatment=d.treatment)
    mse = {k: np.mean((L.predict(held.X) - held.true_cate) ** 2) for k, L in (("B", B), ("C", C))}
    assert mse["B"] < mse["C"] / 10
    args = (held.X, held.y)
    # each with its own nuisances, the better outcome model wins: not a ranking of CATEs
    assert C.score(*args, treatment=held.treatment) > B.score(*args, treatment=held.treatment)
    # with C's nuisances for both, only tau differs and the better CATE wins
    assert B.score(*args, treatment=held.treatment, reference=C) > C.score(
        *args, treatment=held.treatment)
    assert C.score(*args, treatment=held.treatment, reference=C) == C.score(
        *args, treatment=held.treatment)
    # by hand: C's averaged fold models give m and e, B gives tau
    m = np.mean([mdl.predict(held.X) for mdl in C.nuisance_models_["y"]], axis=0)
    e = np.clip(np.mean([mdl.predict_proba(held.X)[:, 1] for mdl in C.nuisance_models_["t"]],
                        axis=0), 0.01, 0.99)
    loss = np.mean(((held.y - m) - (held.treatment - e) * B.predict(held.X)) ** 2)
    assert B.score(*args, treatment=held.treatment, reference=C) == pytest.approx(-loss, rel=1e-12)
    with pytest.raises(ValueError, match="`reference` must be a fitted learner"):
        B.score(*args, treatment=held.treatment, reference=RLearner(**LIN, cv=2).fit(
            d.X[:, :2], d.y, treatment=d.treatment))


def test_final_model_candidates_with_a_shared_seed_fit_the_same_nuisances(data):
    a = RLearner(LinearRegression(), LogisticRegression(), Ridge(alpha=0.1), cv=3,
                 random_state=0).fit(data.X, data.y, treatment=data.treatment)
    b = RLearner(LinearRegression(), LogisticRegression(), Ridge(alpha=1e4), cv=3,
                 random_state=0).fit(data.X, data.y, treatment=data.treatment)
    np.testing.assert_array_equal(a.nuisances_["y"], b.nuisances_["y"])
    # so each scored with its own nuisances is scored with the other's too
    kw = dict(treatment=data.treatment)
    assert b.score(data.X, data.y, **kw) == b.score(data.X, data.y, **kw, reference=a)


def test_nuisance_models_get_the_dataframe_with_its_column_names():
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline

    d = make_cate_data(800, random_state=5)
    cols = [f"c{j}" for j in range(d.X.shape[1])]
    frame = pd.DataFrame(d.X, columns=cols)

    def by_name(model):  # uses the columns by name, in another order
        return make_pipeline(make_column_transformer(("passthrough", cols[::-1])), model)

    a = RLearner(by_name(LinearRegression()), by_name(LogisticRegression()), LinearRegression(),
                 cv=3, random_state=0).fit(frame, d.y, treatment=d.treatment)
    b = RLearner(LinearRegression(), LogisticRegression(), LinearRegression(), cv=3,
                 random_state=0).fit(d.X[:, ::-1], d.y, treatment=d.treatment)
    np.testing.assert_allclose(a.nuisances_["y"], b.nuisances_["y"], rtol=1e-9)
    np.testing.assert_allclose(a.nuisances_["propensity"], b.nuisances_["propensity"], rtol=1e-7)
    assert np.isfinite(a.score(frame, d.y, treatment=d.treatment))
