"""Every option of a public function with a fixed set of values or a range is checked, with
an error that names the argument (one row per function and argument)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from causalkit.testing import registered_cases, registered_function_cases

FUNCS = {c.name: c for c in registered_function_cases()}


@pytest.fixture(scope="module")
def fitted():
    """The registered AIPW example fit (the sensitivity functions take a fitted AIPW)."""
    case = next(c for c in registered_cases() if c.name == "ate.AIPW")
    data = case.data(0)
    est = case.estimator().fit(data["X"], data["y"], treatment=data["treatment"])
    return SimpleNamespace(**data), est


def _registered(name):
    case = FUNCS[name]
    return lambda fitted: (case.func, case.data(0))


def _sensitivity(name, with_X=True):
    def make(fitted):
        from causalkit import sensitivity

        d, est = fitted
        return getattr(sensitivity, name), ({"est": est, "X": d.X} if with_X else {"est": est})
    return make


def _benchmark(fitted):
    from causalkit.sensitivity import ovb_benchmark

    d, est = fitted
    return ovb_benchmark, {"est": est, "X": d.X, "y": d.y, "treatment": d.treatment, "drop": [0]}


def _bootstrap(fitted):
    from causalkit.inference import bootstrap

    return (lambda **kw: bootstrap(np.mean, np.arange(50.0), **kw)), {"n_boot": 20}


def _multiplier(fitted):
    from causalkit.inference import multiplier_bootstrap

    return multiplier_bootstrap, {"influence": np.ones((50, 2)), "n_boot": 20}


def _sup_t(fitted):
    from causalkit.inference import sup_t_critical_value

    return sup_t_critical_value, {"draws": np.ones((40, 3)), "stderr": np.ones(3)}


def _frontdoor_sets(fitted):
    import networkx as nx

    from causalkit.graphs import frontdoor_sets

    g = nx.DiGraph([("T", "M"), ("M", "Y"), ("U", "T"), ("U", "Y")])
    return frontdoor_sets, {"graph": g, "treatment": "T", "outcome": "Y", "latent": ["U"]}


def _learn_and_evaluate(fitted):
    from causalkit.datasets import make_bandit_feedback
    from causalkit.ope import IPS, ClippedIPSLearner, learn_and_evaluate

    b = make_bandit_feedback(200, random_state=0)
    return learn_and_evaluate, {"learner": ClippedIPSLearner(), "evaluator": IPS(), "X": b.X,
                                "y": b.y, "action": b.action, "propensity": b.propensity}


SOURCES = {
    "cuped": _registered("montecarlo.cuped"),
    "ppi_mean": _registered("calibration.ppi_mean"),
    "ppi_ate": _registered("calibration.ppi_ate"),
    "ppi_ols": _registered("calibration.ppi_ols"),
    "corrected_mean": _registered("calibration.corrected_mean"),
    "corrected_ate": _registered("calibration.corrected_ate"),
    "rd_plot": _registered("rdd.rd_plot"),
    "rd_bandwidth": _registered("rdd.rd_bandwidth"),
    "rd_batch": _registered("rdd.rd_batch"),
    "rd_density_test": _registered("rdd.rd_density_test"),
    "pooled_quantile_rdd": _registered("rdd.pooled_quantile_rdd"),
    "ovb_bounds": _sensitivity("ovb_bounds", with_X=False),
    "plot_ovb_contour": _sensitivity("plot_ovb_contour", with_X=False),
    "gamma_bounds": _sensitivity("gamma_bounds"),
    "gamma_star": _sensitivity("gamma_star"),
    "cate_bounds": _sensitivity("cate_bounds"),
    "ovb_benchmark": _benchmark,
    "bootstrap": _bootstrap,
    "multiplier_bootstrap": _multiplier,
    "sup_t_critical_value": _sup_t,
    "frontdoor_sets": _frontdoor_sets,
    "learn_and_evaluate": _learn_and_evaluate,
}



def _dataset(name, **small):
    def make(fitted):
        from causalkit import datasets

        return getattr(datasets, name), {**small, "random_state": 0}
    return make


def _conf_int(fitted):
    from causalkit.inference import Estimate

    return Estimate(1.0, 0.5, n=100, method="example").conf_int, {"alpha": 0.05}


SOURCES["Estimate.conf_int"] = _conf_int

# the data generators, each on a small sample
SOURCES.update({
    "make_ate_data": _dataset("make_ate_data", n=50),
    "make_multiarm_data": _dataset("make_multiarm_data", n=60),
    "make_calibration_data": _dataset("make_calibration_data", n=50, n_calibration=30, n_labeled=20),
    "make_proxy_outcome_data": _dataset("make_proxy_outcome_data", n=50, n_features=5),
    "make_cfd_data": _dataset("make_cfd_data", n=50),
    "make_frontdoor_data": _dataset("make_frontdoor_data", n=50),
    "make_frontdoor_linear_data": _dataset("make_frontdoor_linear_data", n=50),
    "make_cate_data": _dataset("make_cate_data", n=50),
    "make_fisher_hte": _dataset("make_fisher_hte", n=50),
    "make_invalid_iv_data": _dataset("make_invalid_iv_data", n_samples=50),
    "make_401k_like_data": _dataset("make_401k_like_data", n_samples=50),
    "make_linear_iv_data": _dataset("make_linear_iv_data", n_samples=50),
    "make_overtaking_tests": _dataset("make_overtaking_tests", n_tests=50, n_steps=5),
    "make_bandit_feedback": _dataset("make_bandit_feedback", n=50),
    "make_iv_mdp": _dataset("make_iv_mdp", n_trajectories=5, horizon=10, burn_in=2),
    "make_r3d_data": _dataset("make_r3d_data", n_units=50, n_obs=5),
    "make_rdd_data": _dataset("make_rdd_data", n=50),
    "make_tabular_mdp": _dataset("make_tabular_mdp", n_trajectories=5, horizon=5),
})

# (function, argument, bad value)
ROWS = [
    ("cuped", "alpha", -0.1),
    ("ppi_mean", "lam", 2.0),
    ("ppi_ate", "lam", -0.5),
    ("ppi_ols", "lam", "bogus"),
    ("ppi_ols", "per_coefficient", "yes"),
    ("ppi_ols", "fit_intercept", 2),
    ("corrected_mean", "n_boot", 1),
    ("corrected_mean", "calibration_uncertainty", "yes"),
    ("corrected_mean", "n_jobs", "x"),
    ("corrected_mean", "n_jobs", 0),
    ("corrected_mean", "random_state", "x"),
    ("corrected_ate", "estimator", "bogus"),
    ("corrected_ate", "n_boot", 1.5),
    ("corrected_ate", "calibration_uncertainty", "no"),
    ("corrected_ate", "cv", 1),
    ("corrected_ate", "model_y", "x"),
    ("corrected_ate", "model_t", LinearRegression()),    # no predict_proba
    ("corrected_ate", "n_jobs", 1.5),
    ("rd_plot", "p", -1),
    ("rd_plot", "n_bins", 0),
    ("rd_plot", "binselect", "bogus"),
    ("rd_plot", "scale", 0),
    ("rd_plot", "level", 0.95),
    ("rd_plot", "masspoints", "bogus"),
    ("rd_plot", "draw", "yes"),
    ("rd_plot", "cutoff", np.nan),
    ("rd_bandwidth", "kernel", "bogus"),
    ("rd_bandwidth", "bwselect", "bogus"),
    ("rd_bandwidth", "vce", "bogus"),
    ("rd_bandwidth", "deriv", -1),
    ("rd_bandwidth", "masspoints", "bogus"),
    ("rd_batch", "kernel", "bogus"),
    ("rd_density_test", "vce", "bogus"),
    ("rd_density_test", "p", 0),
    ("pooled_quantile_rdd", "q_grid", "x"),
    ("pooled_quantile_rdd", "q_grid", [0.0, 0.5]),
    ("pooled_quantile_rdd", "bandwidth", 0),
    ("pooled_quantile_rdd", "cutoff", np.nan),
    ("ovb_bounds", "cf_y", 1.0),
    ("ovb_bounds", "cf_d", -0.1),
    ("ovb_bounds", "rho", 1.5),
    ("ovb_bounds", "alpha", "x"),
    ("ovb_bounds", "null", np.nan),
    ("plot_ovb_contour", "which", "bogus"),
    ("plot_ovb_contour", "bound", "bogus"),
    ("plot_ovb_contour", "levels", 0),
    ("plot_ovb_contour", "levels", "x"),
    ("plot_ovb_contour", "null", "x"),
    ("gamma_bounds", "gamma", 0.5),
    ("gamma_bounds", "alpha", "x"),
    ("gamma_bounds", "degree", 3),
    ("gamma_bounds", "ridge", -1),
    ("gamma_bounds", "subset", [True]),
    ("gamma_star", "gamma_max", 1.0),
    ("gamma_star", "gamma_max", "x"),
    ("gamma_star", "null", np.nan),
    ("gamma_star", "alpha", 0),
    ("cate_bounds", "gamma", [1.0, 2.0]),
    ("cate_bounds", "model_final", "x"),
    ("ovb_benchmark", "drop", 1.5),
    ("ovb_benchmark", "drop", []),
    ("bootstrap", "n_boot", 1.5),
    ("bootstrap", "batch_size", 0),
    ("bootstrap", "verbose", "yes"),
    ("multiplier_bootstrap", "weights", "bogus"),
    ("multiplier_bootstrap", "n_boot", 0),
    ("multiplier_bootstrap", "batch_size", "x"),
    ("sup_t_critical_value", "alpha", 1.5),
    ("sup_t_critical_value", "alpha", np.nan),
    ("frontdoor_sets", "max_size", 0),
    ("frontdoor_sets", "conditional", "yes"),
    ("learn_and_evaluate", "test_size", "x"),
    ("learn_and_evaluate", "test_size", 1),
    ("plot_ovb_contour", "cf_y", "x"),
    ("plot_ovb_contour", "cf_d", [0.0, np.nan]),
    ("Estimate.conf_int", "alpha", "x"),
    ("rd_batch", "bandwith", 0.5),  # misspelt: not an RDD parameter
    ("rd_density_test", "kernal", "tri"),  # misspelt: not an RDDensity parameter
    ("make_ate_data", "n", 0),
    ("make_multiarm_data", "as_frame", "yes"),
    ("make_calibration_data", "noise", -1.0),
    ("make_proxy_outcome_data", "map_seed", -1),
    ("make_cfd_data", "confounder_strength", np.nan),
    ("make_frontdoor_data", "confounding", "x"),
    ("make_frontdoor_linear_data", "n_mediators", 0),
    ("make_cate_data", "treatment", "binaryish"),
    ("make_fisher_hte", "setup", "G"),
    ("make_invalid_iv_data", "effect", np.inf),
    ("make_401k_like_data", "n_samples", 2.5),
    ("make_linear_iv_data", "strength", np.nan),
    ("make_overtaking_tests", "n_steps", -1),
    ("make_bandit_feedback", "n_features", 0),
    ("make_iv_mdp", "burn_in", -1),
    ("make_r3d_data", "fuzzy", "yes"),
    ("make_rdd_data", "effect", "x"),
    ("make_tabular_mdp", "reward_noise", -0.5),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("func,arg,bad", ROWS, ids=[f"{f}-{a}-{b!r}" for f, a, b in ROWS])
def test_a_bad_option_is_refused_by_name(func, arg, bad, fitted):
    f, base = SOURCES[func](fitted)
    # causalkit's own words (`arg`) or scikit-learn's (The 'arg' parameter of ...)
    with pytest.raises((ValueError, TypeError), match=rf"`{arg}`|'{arg}' parameter"):
        f(**{**base, arg: bad})


@pytest.mark.parametrize("func", sorted(SOURCES))
def test_each_function_runs_on_its_base_arguments(func, fitted):
    # the rows above fail because of the bad option, not because the base call is broken
    import matplotlib

    matplotlib.use("Agg")
    f, base = SOURCES[func](fitted)
    if func == "corrected_mean" or func == "corrected_ate":
        base = {**base, "n_boot": 5}
    f(**base)
