"""CATE intervals at new X: sandwich for a linear final model, bootstrap otherwise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from causalkit._crossfit import make_folds
from causalkit.datasets import make_cate_data
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner


@pytest.fixture(scope="module")
def setting():
    d = make_cate_data(1500, random_state=21)
    folds = make_folds(len(d.y), 3, random_state=0)
    return d, folds


def _linear(d, folds, final=None, cls=RLearner, **kw):
    return cls(LinearRegression(), LogisticRegression(), final or LinearRegression(), cv=folds,
               trimming_threshold=0.0, random_state=0, **kw).fit(d.X, d.y, treatment=d.treatment)


def test_sandwich_intervals_agree_with_econml_effect_interval(setting):
    econml_dml = pytest.importorskip("econml.dml")
    d, folds = setting
    ours = _linear(d, folds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = econml_dml.LinearDML(model_y=LinearRegression(), model_t=LogisticRegression(),
                                    discrete_treatment=True, cv=folds).fit(d.y, d.treatment, X=d.X)
        lo_p, hi_p = peer.effect_interval(d.X[:40], alpha=0.1)
    lo, hi = ours.cate_interval(d.X[:40], 0.1)
    np.testing.assert_allclose(lo, np.ravel(lo_p), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hi, np.ravel(hi_p), rtol=1e-6, atol=1e-8)


def test_sandwich_standard_errors_are_the_coefficient_covariance_at_each_row(setting):
    d, folds = setting
    est = _linear(d, folds)
    Xn = d.X[:25]
    curve = est.cate_inference(Xn)
    rows = np.column_stack([np.ones(len(Xn)), Xn])
    V = est.coef_table().cov
    np.testing.assert_allclose(curve.stderr, np.sqrt(np.einsum("ij,jk,ik->i", rows, V, rows)),
                               rtol=1e-10)
    np.testing.assert_allclose(curve.values, est.predict(Xn), rtol=1e-12)
    assert curve.method.startswith("sandwich") and curve.grid_name == "row"


def test_joint_band_lies_between_pointwise_and_scheffe(setting):
    d, folds = setting
    est = _linear(d, folds)
    curve = est.cate_inference(d.X[:200])
    c = curve.uniform_critical_value(0.05)
    k = d.X.shape[1] + 1
    # more than one row: wider than pointwise; a finite set of directions in R^k: at most
    # Scheffe's sqrt(chi2_k) (Monte Carlo error of the quantile ~ 0.01)
    assert stats.norm.ppf(0.975) < c < np.sqrt(stats.chi2.ppf(0.95, k)) + 0.02
    lo, hi = curve.conf_int(0.05, kind="uniform")
    plo, phi = curve.conf_int(0.05, kind="pointwise")
    assert (lo < plo).all() and (hi > phi).all()


def test_linear_truth_is_covered_by_the_joint_band(setting):
    d, folds = setting
    est = _linear(d, folds)
    Xn = d.X[:300]
    lo, hi = est.cate_interval(Xn, 0.01, kind="uniform")
    tau = d.true_cate[:300]
    assert np.all((lo <= tau) & (tau <= hi))


def test_bootstrap_of_the_final_stage_matches_the_sandwich_for_a_linear_model(setting):
    d, folds = setting
    # Ridge with a negligible penalty is the same linear model, fitted by its own solver,
    # so the final stage is bootstrapped; its SEs estimate the sandwich's (HC, resampling)
    ridge = _linear(d, folds, final=Ridge(alpha=1e-8))
    lin = _linear(d, folds)
    Xn = d.X[:30]
    boot = ridge.cate_inference(Xn, n_boot=300, random_state=1)
    sand = lin.cate_inference(Xn)
    assert boot.method.startswith("bootstrap of the final stage")
    np.testing.assert_allclose(boot.values, sand.values, rtol=1e-6, atol=1e-8)
    # the bootstrap SD of an SE with B = 300 has relative error ~ 1/sqrt(2B) ~ 4%
    ratio = boot.stderr / sand.stderr
    assert np.all(np.abs(ratio - 1) < 0.2) and abs(np.median(ratio) - 1) < 0.1
    again = ridge.cate_inference(Xn, n_boot=300, random_state=1)
    np.testing.assert_array_equal(again.stderr, boot.stderr)
    lo, hi = boot.conf_int(0.05, kind="uniform")
    assert np.all(lo < boot.values) and np.all(hi > boot.values)


def test_cluster_bootstrap_and_bad_arguments(setting):
    d, folds = setting
    groups = np.arange(len(d.y)) // 3
    est = RLearner(LinearRegression(), LogisticRegression(), Ridge(alpha=1.0), cv=3,
                   random_state=0).fit(d.X, d.y, treatment=d.treatment, groups=groups)
    curve = est.cate_inference(d.X[:5], n_boot=20, random_state=0)
    assert "clusters resampled whole" in curve.method and np.all(curve.stderr > 0)
    with pytest.raises(ValueError, match="`method`"):
        est.cate_inference(d.X[:5], method="delta")
    with pytest.raises(TypeError, match="LinearRegression"):
        est.cate_inference(d.X[:5], method="sandwich")
    with pytest.raises(ValueError, match="`n_boot`"):
        est.cate_inference(d.X[:5], n_boot=1)
    with pytest.raises(ValueError, match="features"):
        est.cate_inference(d.X[:5, :2])


def test_dr_learner_intervals(setting):
    d, folds = setting
    est = _linear(d, folds, cls=WeightedPseudoOutcomeLearner, pseudo="dr")
    curve = est.cate_inference(d.X[:10])
    assert curve.method.startswith("sandwich") and np.all(np.isfinite(curve.stderr))
