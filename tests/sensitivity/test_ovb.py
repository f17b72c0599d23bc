"""Omitted-variable-bias bounds (Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis 2022)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalkit._crossfit import make_folds
from causalkit.ate import AIPW
from causalkit.datasets import make_ate_data
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner
from causalkit.sensitivity import ovb_benchmark, ovb_bounds, plot_ovb_contour


@pytest.fixture(scope="module")
def fitted():
    d = make_ate_data(600, random_state=8)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=2).fit(
        d.X, d.y, treatment=d.treatment)
    return d, est


def _irm(dml, X, y, t, folds, cols=None):
    cols = cols or [f"x{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols).assign(y=y, d=t)
    irm = dml.DoubleMLIRM(dml.DoubleMLData(df, "y", "d"), ml_g=LinearRegression(),
                          ml_m=LogisticRegression(), n_folds=len(folds))
    irm.set_sample_splitting([(tr, te) for tr, te in folds])
    return irm.fit()


def test_agrees_with_doubleml_sensitivity_analysis(fitted):
    dml = pytest.importorskip("doubleml")
    d, est = fitted
    folds = make_folds(600, 3, stratify=d.treatment, random_state=2)   # AIPW's folds
    irm = _irm(dml, d.X, d.y, d.treatment, folds)
    assert est.ate().value == pytest.approx(float(irm.coef[0]), rel=1e-10)
    for cf_y, cf_d, rho in [(0.03, 0.03, 1.0), (0.04, 0.05, 0.8), (0.2, 0.1, -0.5)]:
        irm.sensitivity_analysis(cf_y=cf_y, cf_d=cf_d, rho=rho, level=0.95)
        sp = irm.sensitivity_params
        ours = ovb_bounds(est, cf_y=cf_y, cf_d=cf_d, rho=rho, alpha=0.10)  # level 0.95 one-sided
        assert ours.lower.value == pytest.approx(sp["theta"]["lower"][0], abs=1e-6)
        assert ours.upper.value == pytest.approx(sp["theta"]["upper"][0], abs=1e-6)
        # DoubleML builds the lower bound's SE from theta's score with its sign flipped
        # (psi / mean(psi_a), psi_a = -1) minus the bias term, i.e. from IF(theta) + c IF(S);
        # the delta method gives IF(theta) - c IF(S) for the lower bound. So its lower SE is
        # our upper SE and vice versa (benchmarks/sensitivity_ovb_se.py checks ours by Monte Carlo).
        assert ours.upper.stderr == pytest.approx(sp["se"]["lower"][0], abs=1e-6)
        assert ours.lower.stderr == pytest.approx(sp["se"]["upper"][0], abs=1e-6)
        # Robustness value: ours is closed form, DoubleML's a bounded scalar search (xatol 1e-5).
        assert ours.rv == pytest.approx(sp["rv"][0], abs=2e-5)
    el = irm.framework.sensitivity_elements
    assert ours.sigma2 == pytest.approx(float(np.ravel(el["sigma2"])[0]), rel=1e-10)
    assert ours.nu2 == pytest.approx(float(np.ravel(el["nu2"])[0]), rel=1e-10)


def test_benchmark_agrees_with_doubleml(fitted):
    dml = pytest.importorskip("doubleml")
    d, est = fitted
    folds = make_folds(600, 3, stratify=d.treatment, random_state=2)
    cols = [f"x{i}" for i in range(d.X.shape[1])]
    irm = _irm(dml, d.X, d.y, d.treatment, folds, cols)
    for group in (["x0"], ["x1", "x2"]):
        ref = irm.sensitivity_benchmark(group)
        bm = ovb_benchmark(est, pd.DataFrame(d.X, columns=cols), d.y, treatment=d.treatment,
                           drop=group)
        for key in ("cf_y", "cf_d", "rho", "delta_theta"):
            assert getattr(bm, key) == pytest.approx(float(ref[key].iloc[0]), abs=1e-6), key
    # est itself was not refitted
    assert est.ate().value == pytest.approx(float(irm.coef[0]), rel=1e-10)


def test_no_confounding_gives_the_estimate(fitted):
    _, est = fitted
    b = ovb_bounds(est, cf_y=0.0, cf_d=0.0)
    ate = est.ate()
    assert b.lower.value == b.upper.value == pytest.approx(ate.value, rel=1e-12)
    assert b.lower.stderr == pytest.approx(ate.stderr, rel=1e-10)
    lo, hi = b.conf_int(0.05)
    assert (lo, hi) == pytest.approx(ate.conf_int(0.05), rel=1e-10)


def test_robustness_values_solve_their_equations(fitted):
    _, est = fitted
    b = ovb_bounds(est, rho=0.7, null=0.2, alpha=0.05)
    at_rv = ovb_bounds(est, cf_y=b.rv, cf_d=b.rv, rho=0.7)
    assert at_rv.lower.value == pytest.approx(0.2, abs=1e-9)
    at_rva = ovb_bounds(est, cf_y=b.rva, cf_d=b.rva, rho=0.7, alpha=0.05)
    assert at_rva.conf_int()[0] == pytest.approx(0.2, abs=1e-7)
    assert 0 < b.rva < b.rv < 1


def test_bounds_cover_the_truth_at_the_true_confounding_strength():
    # Y = tau T + X b + 2 U + e, logit P(T=1) = X a + 1.5 U - 0.75: the short AIPW (without U) is
    # biased; the long AIPW (with U) recovers tau. With the strengths the long fit implies
    # (the paper's definitions: cf_y = 1 - sigma2_long / sigma2_short, cf_d = 1 - nu2_short /
    # nu2_long), the short estimator's bounds at rho = 1 must contain tau; at a quarter of
    # those strengths they must not.
    rng = np.random.default_rng(5)
    n, tau = 20000, 1.0
    X = rng.normal(size=(n, 3))
    U = rng.binomial(1, 0.5, n)
    t = rng.binomial(1, 1 / (1 + np.exp(-(X @ [0.5, -0.5, 0.25] + 1.5 * U - 0.75))))
    y = tau * t + X @ [1.0, 0.5, -0.5] + 2.0 * U + rng.normal(size=n)
    mk = (lambda: AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=0))
    short = mk().fit(X, y, treatment=t)
    long = mk().fit(np.c_[X, U], y, treatment=t)
    assert abs(short.ate().value - tau) > 10 * short.ate().stderr      # real bias
    assert abs(long.ate().value - tau) < 3 * long.ate().stderr
    bs, bl = ovb_bounds(short), ovb_bounds(long)
    cf_y = 1 - bl.sigma2 / bs.sigma2
    cf_d = 1 - bs.nu2 / bl.nu2
    assert 0 < cf_y < 1 and 0 < cf_d < 1
    b = ovb_bounds(short, cf_y=cf_y, cf_d=cf_d, rho=1.0)
    lo, hi = b.conf_int(0.05)
    assert lo <= tau <= hi
    assert b.lower.value <= tau + 3 * long.ate().stderr
    weak = ovb_bounds(short, cf_y=cf_y / 4, cf_d=cf_d / 4, rho=1.0)
    assert not (weak.lower.value <= tau <= weak.upper.value)


def test_hte_learners_keep_the_same_score_parts():
    d = make_ate_data(600, random_state=3)
    aipw = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=4).fit(
        d.X, d.y, treatment=d.treatment)
    dr = WeightedPseudoOutcomeLearner(LinearRegression(), LogisticRegression(), LinearRegression(),
                                      pseudo="dr", weights="one", cv=3, random_state=4,
                                      trimming_threshold=0.01).fit(d.X, d.y, treatment=d.treatment)
    a, b = ovb_bounds(aipw, cf_y=0.05, cf_d=0.05), ovb_bounds(dr, cf_y=0.05, cf_d=0.05)
    assert b.estimate.value == pytest.approx(a.estimate.value, rel=1e-10)
    assert (b.lower.value, b.upper.value) == pytest.approx((a.lower.value, a.upper.value), rel=1e-10)
    # R-learner: the arm means implied by E[Y|X] and the CATE rebuild its ATE score exactly.
    rl = RLearner(LinearRegression(), LogisticRegression(), LinearRegression(), cv=3,
                  random_state=4).fit(d.X, d.y, treatment=d.treatment)
    br = ovb_bounds(rl, cf_y=0.0, cf_d=0.0)
    assert br.lower.value == pytest.approx(rl.ate().value, rel=1e-10)
    assert br.lower.stderr == pytest.approx(rl.ate().stderr, rel=1e-8)


def test_sample_weights_and_dropped_units_are_respected():
    d = make_ate_data(600, random_state=9)
    w = np.random.default_rng(0).uniform(0.5, 2, 600)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0, trimming="drop",
               trimming_threshold=0.02).fit(d.X, d.y, treatment=d.treatment, sample_weight=w)
    b = ovb_bounds(est, cf_y=0.0, cf_d=0.0)
    assert b.lower.value == pytest.approx(est.ate().value, rel=1e-10)
    assert b.lower.stderr == pytest.approx(est.ate().stderr, rel=1e-8)
    assert b.lower.n == est.ate().n


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"cf_y": 1.0}, ValueError, r"`cf_y` must lie in \[0, 1\)"),
    ({"cf_d": -0.1}, ValueError, r"`cf_d` must lie in \[0, 1\)"),
    ({"rho": 1.5}, ValueError, r"`rho` must lie in \[-1, 1\]"),
    ({"rho": -1.01}, ValueError, r"`rho` must lie in \[-1, 1\]"),
    ({"rho": "1"}, TypeError, r"`rho` must be a number"),
    ({"cf_y": np.nan}, ValueError, r"`cf_y` must lie"),
    ({"alpha": 1.2}, ValueError, r"`alpha` must lie in \(0, 1\)"),
])
def test_bad_scenarios(fitted, kwargs, exc, pattern):
    _, est = fitted
    with pytest.raises(exc, match=pattern):
        ovb_bounds(est, **kwargs)


def test_estimators_that_cannot_be_bounded():
    d = make_ate_data(200, random_state=0)
    with pytest.raises(NotFittedError, match="not fitted"):
        ovb_bounds(AIPW())
    with pytest.raises(TypeError, match=r"does not keep what the bounds need.*Riesz representer"):
        ovb_bounds(LinearRegression().fit(d.X, d.y))
    cont = RLearner(LinearRegression(), LinearRegression(), LinearRegression(), cv=2,
                    random_state=0).fit(d.X, d.y, treatment=d.X[:, 0])
    with pytest.raises(TypeError, match="continuous treatment"):
        ovb_bounds(cont)
    with pytest.raises(TypeError, match="instance"):
        ovb_bounds(AIPW)
    # the front-door design does not rest on a back-door score (documented in the guide)
    from causalkit.datasets import make_frontdoor_data
    from causalkit.frontdoor import FrontDoor

    fd = make_frontdoor_data(300, random_state=0)
    fitted_fd = FrontDoor(method="linear").fit(fd.X, fd.y, treatment=fd.treatment,
                                               mediator=fd.mediator)
    with pytest.raises(TypeError, match="does not keep what the bounds need"):
        ovb_bounds(fitted_fd)


def test_benchmark_bad_input(fitted):
    d, est = fitted
    with pytest.raises(ValueError, match="`y` differs"):
        ovb_benchmark(est, d.X, d.y + 1, treatment=d.treatment, drop=[0])
    with pytest.raises(ValueError, match="`drop` has positions"):
        ovb_benchmark(est, d.X, d.y, treatment=d.treatment, drop=[17])
    with pytest.raises(ValueError, match="`drop` names columns"):
        ovb_benchmark(est, pd.DataFrame(d.X).add_prefix("c"), d.y, treatment=d.treatment, drop=["zz"])
    with pytest.raises(ValueError, match="leaves no covariate"):
        ovb_benchmark(est, d.X, d.y, treatment=d.treatment, drop=list(range(d.X.shape[1])))


def test_contour_plot(fitted):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    d, est = fitted
    bm = ovb_benchmark(est, d.X, d.y, treatment=d.treatment, drop=[1])
    ax = plot_ovb_contour(est, cf_y=np.linspace(0, 0.5, 11), cf_d=np.linspace(0, 0.5, 11),
                          benchmarks=[bm], bound="ci")
    assert ax.get_xlabel().startswith("cf_d") and len(ax.collections) > 0
    with pytest.raises(ValueError, match="`which`"):
        plot_ovb_contour(est, which="middle")
    plt.close("all")


def test_conf_int_level_is_two_sided_bonferroni(fitted):
    _, est = fitted
    b = ovb_bounds(est, cf_y=0.05, cf_d=0.05)
    z = stats.norm.ppf(0.975)
    assert b.conf_int(0.05) == pytest.approx(
        (b.lower.value - z * b.lower.stderr, b.upper.value + z * b.upper.stderr))


def test_clusters_and_a_negative_effect():
    d = make_ate_data(600, effect=-1.0, random_state=12)
    groups = np.repeat(np.arange(150), 4)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0).fit(
        d.X, d.y, treatment=d.treatment, groups=groups)
    b0 = ovb_bounds(est, cf_y=0.0, cf_d=0.0)
    assert b0.lower.stderr == pytest.approx(est.ate().stderr, rel=1e-8)   # cluster-robust SE
    b = ovb_bounds(est, rho=1.0, null=0.0)
    assert est.ate().value < 0
    at_rv = ovb_bounds(est, cf_y=b.rv, cf_d=b.rv)
    assert at_rv.upper.value == pytest.approx(0.0, abs=1e-9)              # the upper bound moves
    at_rva = ovb_bounds(est, cf_y=b.rva, cf_d=b.rva)
    assert at_rva.conf_int()[1] == pytest.approx(0.0, abs=1e-7)


def test_agrees_with_doubleml_on_real_data_nhefs():
    # NHEFS as shipped by causaldata: effect of quitting smoking on weight gain.
    dml = pytest.importorskip("doubleml")
    causaldata = pytest.importorskip("causaldata")
    df = causaldata.nhefs_complete.load_pandas().data
    cols = ["sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise",
            "active", "wt71"]
    X = df[cols].to_numpy(float)
    y, t = df["wt82_71"].to_numpy(float), df["qsmk"].to_numpy(int)
    clf = make_pipeline(StandardScaler(), LogisticRegression())
    est = AIPW(LinearRegression(), clf, cv=5, random_state=1).fit(X, y, treatment=t)
    folds = make_folds(len(y), 5, stratify=t, random_state=1)
    data = dml.DoubleMLData(pd.DataFrame(X, columns=cols).assign(y=y, d=t), "y", "d")
    irm = dml.DoubleMLIRM(data, ml_g=LinearRegression(), ml_m=clf, n_folds=5)
    irm.set_sample_splitting([(tr, te) for tr, te in folds])
    irm.fit()
    irm.sensitivity_analysis(cf_y=0.05, cf_d=0.05, rho=1.0, level=0.95)
    sp = irm.sensitivity_params
    ours = ovb_bounds(est, cf_y=0.05, cf_d=0.05, rho=1.0, alpha=0.10)
    assert ours.lower.value == pytest.approx(sp["theta"]["lower"][0], abs=1e-6)
    assert ours.upper.value == pytest.approx(sp["theta"]["upper"][0], abs=1e-6)
    assert ours.rv == pytest.approx(sp["rv"][0], abs=2e-5)
    ref = irm.sensitivity_benchmark(["wt71"])
    bm = ovb_benchmark(est, pd.DataFrame(X, columns=cols), y, treatment=t, drop=["wt71"])
    for key in ("cf_y", "cf_d", "rho", "delta_theta"):
        assert getattr(bm, key) == pytest.approx(float(ref[key].iloc[0]), abs=1e-6), key


def test_benchmark_of_an_hte_learner():
    d = make_ate_data(600, random_state=13)
    rl = RLearner(LinearRegression(), LogisticRegression(), LinearRegression(), cv=3,
                  random_state=0).fit(d.X, d.y, treatment=d.treatment)
    bm = ovb_benchmark(rl, d.X, d.y, treatment=d.treatment, drop=[0])
    assert 0 <= bm.cf_y <= 1 and 0 <= bm.cf_d <= 1 and -1 <= bm.rho <= 1
    # Leaving out the confounder X0 moves the estimate: the benchmark sees it.
    assert abs(bm.delta_theta) > 3 * rl.ate().stderr
    b = bm.bounds(rl)
    assert b.lower.value < rl.ate().value < b.upper.value
