"""Registration of the RDD designs into the conformance suite and the demo.

``X`` is the running variable, given as an ``(n, 1)`` array so that the DataFrame
check applies (a one-column DataFrame works and keeps its name). For
:class:`DistributionalRDD`, ``y`` is a list of per-unit arrays: it passes through a
Pipeline untouched (transformers only see ``X``), so the Pipeline and
metadata-routing checks run too. scikit-learn's own ``parametrize_with_checks`` stays
off (``sklearn_checks=False``): its generic data have several feature columns and
arbitrary targets, while ``X`` here must be one running variable with units on both
sides of the cutoff (and, for ``DistributionalRDD``, ``y`` a sample per unit), so most
of those checks would test input rejection rather than the contract.
"""

from __future__ import annotations

import numpy as np

from ..testing import BadInput, ConformanceCase, set_arg


def _r3d_data(seed):
    from ..datasets import make_r3d_data

    d = make_r3d_data(160, n_obs=12, delta=1.0, ragged=True, random_state=seed)
    return {"X": d.X, "y": d.y}


def _r3d_fuzzy_data(seed):
    from ..datasets import make_r3d_data

    d = make_r3d_data(240, n_obs=12, delta=1.0, fuzzy=True, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment}


def _r3d():
    from . import DistributionalRDD

    return DistributionalRDD(q_grid=[0.1, 0.25, 0.5, 0.75, 0.9], n_boot=60, random_state=0)


def _params(**kw):
    return lambda a: (kw, a)


def _y_item(i, value):
    def mutate(a):
        y = list(a["y"])
        y[i] = value
        return {**a, "y": y}
    return mutate


def _r3d_result(e):
    return np.r_[e.tau_, e.effect().stderr, e.bandwidth_, e.crit_val_, e.draws_[:3].ravel()]


def _few_right(a):
    X = np.array(a["X"], dtype=float)
    right = np.flatnonzero(X[:, 0] >= 0)
    X[right[3:], 0] = -np.abs(X[right[3:], 0]) - 1e-3
    return {**a, "X": X}


def _r3d_bad():
    from ..utils.validation import FewObservationsWarning, WeakInstrumentWarning

    def nan_X(a):
        X = np.array(a["X"], dtype=float)
        X[3, 0] = np.nan
        return {**a, "X": X}

    return [
        BadInput("nan-X", nan_X, ValueError, r"`X` contains NaN"),
        BadInput("nan-in-sample", _y_item(5, np.array([1.0, np.nan, 2.0])), ValueError,
                 r"`y\[5\]` contains NaN"),
        BadInput("empty-sample", _y_item(2, np.array([])), ValueError, r"`y\[2\]` is empty"),
        BadInput("scalar-y", set_arg("y", lambda a: np.array([s.mean() for s in a["y"]])),
                 ValueError, r"`y` has one number per unit.*causalkit.rdd.RDD"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError,
                 r"`y` has 159 units but X has 160 rows"),
        BadInput("two-column-X", set_arg("X", lambda a: np.c_[a["X"], a["X"]]), ValueError,
                 r"`X` must be the running variable alone"),
        BadInput("too-few-units-right", _few_right, ValueError,
                 r"Too few units at or above the cutoff: `X` has 3 unit\(s\)"),
        BadInput("cutoff-outside-support", _params(cutoff=5.0), ValueError,
                 r"`cutoff` = 5 lies outside the support of `X`"),
        BadInput("q-grid-touches-0", _params(q_grid=[0.0, 0.5, 0.9]), ValueError,
                 r"`q_grid` must lie strictly inside \(0, 1\)"),
        BadInput("q-grid-touches-1", _params(q_grid=[0.1, 0.5, 1.0]), ValueError,
                 r"`q_grid` must lie strictly inside \(0, 1\)"),
        BadInput("q-grid-unsorted", _params(q_grid=[0.5, 0.1]), ValueError,
                 r"`q_grid` must be strictly increasing"),
        BadInput("negative-bandwidth", _params(bandwidth=-0.3), ValueError,
                 r"The 'bandwidth' parameter of \w+ must be"),
        BadInput("bandwidth-wrong-length", _params(bandwidth=[0.5, 0.6]), ValueError,
                 r"`bandwidth` must be a positive number or 5 positive numbers"),
        BadInput("tiny-bandwidth", _params(bandwidth=1e-4), ValueError,
                 r"Too few units with X >= cutoff inside the bandwidth window"),
        BadInput("method", _params(method="kernel"), ValueError, r"The 'method' parameter of \w+ must be"),
        BadInput("kernel", _params(kernel="gaussian"), ValueError, r"The 'kernel' parameter of \w+ must be"),
        BadInput("order", _params(p=0), ValueError, r"The 'p' parameter of \w+ must be"),
        BadInput("quantile-matrix-shape", lambda a: ({"y_kind": "quantiles"},
                                                    {**a, "y": np.zeros((160, 3))}),
                 ValueError, r"`y` must have shape \(n_units, len\(q_grid\)\) = \(160, 5\)"),
        BadInput("nonbinary-treatment", set_arg("treatment", lambda a: np.arange(len(a["y"])) % 3),
                 ValueError, r"`treatment` must be binary"),
        BadInput("negative-weight", set_arg("sample_weight", lambda a: -np.ones(len(a["y"]))),
                 ValueError, r"`sample_weight` must be non-negative"),
        BadInput("few-units-in-window", _params(bandwidth=0.08), FewObservationsWarning,
                 r"Only \d+ unit\(s\) inside the smallest bandwidth window", warns=True),
        BadInput("weak-first-stage",
                 lambda a: ({"bandwidth_treatment": 0.8},
                            {**a, "treatment": np.random.default_rng(2024).binomial(1, 0.5, len(a["y"]))}),
                 WeakInstrumentWarning, r"Weak first stage", warns=True),
    ]


def _rdd_data(seed):
    from ..datasets import make_rdd_data

    d = make_rdd_data(500, effect=0.5, random_state=seed)
    return {"X": d.X, "y": d.y}


def _rdd_fuzzy_data(seed):
    from ..datasets import make_rdd_data

    d = make_rdd_data(800, effect=0.5, fuzzy=True, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment}


def _rdd():
    from . import RDD

    return RDD()


def _rdd_bad():
    from ..utils.validation import FewObservationsWarning
    from ._scalar import MassPointsWarning

    def nan_in(key):
        def mutate(a):
            v = np.array(a[key], dtype=float)
            v[(3,) if v.ndim == 1 else (3, 0)] = np.nan
            return {**a, key: v}
        return mutate

    def rounded(a):
        return {**a, "X": np.round(np.asarray(a["X"], dtype=float), 1)}

    def constant_covariate_near_cutoff(a):
        X = np.asarray(a["X"], dtype=float)[:, 0]
        z = np.where(np.abs(X) < 0.6, 1.0, X)
        return {**a, "covariates": z}

    return [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError,
                 r"`y` has 499 values but `X` has 500"),
        BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError, r"`y` must be 1-D"),
        BadInput("cutoff-outside-support", _params(cutoff=-2.0), ValueError,
                 r"`cutoff` = -2 lies outside the support of `X`"),
        BadInput("too-few-values-right", _few_right, ValueError,
                 r"`X` has 3 distinct value\(s\) at or above the cutoff"),
        BadInput("tiny-bandwidth", _params(bandwidth=1e-4), ValueError,
                 r"Cannot estimate at h = 0.0001.*`bandwidth`"),
        BadInput("bad-bandwidth", _params(bandwidth="ik"), ValueError,
                 r"The 'bandwidth' parameter of \w+ must be"),
        BadInput("bandwidth-triple", _params(bandwidth=(0.2, 0.3, 0.4)), ValueError,
                 r"`bandwidth` must be a positive number or a pair"),
        BadInput("bad-bias-bandwidth", _params(bias_bandwidth=(0.2, -1)), ValueError,
                 r"`bias_bandwidth` must be a positive number or a pair"),
        BadInput("bad-vce", _params(vce="robust"), ValueError, r"The 'vce' parameter of \w+ must be"),
        BadInput("bad-bwselect", _params(bwselect="ik"), ValueError, r"The 'bwselect' parameter of \w+ must be"),
        BadInput("bad-masspoints", _params(masspoints="yes"), ValueError,
                 r"The 'masspoints' parameter of \w+ must be"),
        BadInput("bad-bias-coefficient", _params(bias_coefficient="last"), ValueError,
                 r"The 'bias_coefficient' parameter of \w+ must be"),
        BadInput("bad-level", _params(level=0.95), ValueError, r"The 'level' parameter of \w+ must be"),
        BadInput("bad-q", _params(p=2, q=2), ValueError, r"`q` must be larger than `p`"),
        BadInput("kink-with-p0", _params(p=0, deriv=1), ValueError,
                 r"`deriv` = 1 needs `p` >= 1"),
        BadInput("string-treatment", set_arg("treatment", lambda a: np.array(["a"] * len(a["y"]))),
                 (TypeError, ValueError), r"`treatment`"),
        BadInput("nan-covariates", set_arg("covariates", lambda a: np.where(
            np.arange(len(a["y"])) == 4, np.nan, 1.0 + np.arange(len(a["y"])) % 7)),
            ValueError, r"`covariates` contains NaN"),
        BadInput("covariates-wrong-length", set_arg("covariates", lambda a: np.ones(3)),
                 ValueError, r"`covariates` must have one row per unit"),
        BadInput("constant-covariate-near-cutoff", constant_covariate_near_cutoff, ValueError,
                 r"`covariates` are collinear \(or constant\)"),
        BadInput("one-cluster", set_arg("groups", lambda a: np.zeros(len(a["y"]))), ValueError,
                 r"`groups` has a single cluster"),
        BadInput("clusters-of-size-one", set_arg("groups", lambda a: np.arange(len(a["y"]))),
                 ValueError, r"every cluster in `groups` holds a single unit"),
        BadInput("rounded-running-variable", rounded, MassPointsWarning,
                 r"Mass points detected in the running variable", warns=True),
        BadInput("few-units-in-window", _params(bandwidth=0.015), FewObservationsWarning,
                 r"unit\(s\) inside the bandwidth on one side", warns=True),
    ]


def _density_data(seed):
    x = np.random.default_rng(seed).normal(size=600)
    return {"X": x[:, None], "y": None}


def _density():
    from . import RDDensity

    return RDDensity()


def _density_bad():
    def nan_X(a):
        X = np.array(a["X"], dtype=float)
        X[3, 0] = np.nan
        return {**a, "X": X}

    def discrete(a):
        X = np.round(np.asarray(a["X"], dtype=float) * 2) / 2  # 0.5 steps: few values
        X = np.clip(X, -1.0, 1.0)
        return {**a, "X": X}

    return [
        BadInput("nan-X", nan_X, ValueError, r"`X` contains NaN"),
        BadInput("two-column-X", set_arg("X", lambda a: np.c_[a["X"], a["X"]]), ValueError,
                 r"`X` must be the running variable alone"),
        BadInput("string-X", set_arg("X", lambda a: np.full((len(a["X"]), 1), "a")),
                 (TypeError, ValueError), r"`X`"),
        BadInput("too-few-distinct-values", discrete, ValueError,
                 r"`X` has 2 distinct value\(s\) below the cutoff"),
        BadInput("cutoff-outside-support", _params(cutoff=9.0), ValueError,
                 r"`cutoff` = 9 lies outside the support of `X`"),
        BadInput("tiny-bandwidth", _params(bandwidth=1e-4), ValueError,
                 r"Cannot run the density test.*`bandwidth`"),
        BadInput("bad-bwselect", _params(bwselect="mserd"), ValueError,
                 r"The 'bwselect' parameter of RDDensity must be"),
        BadInput("bad-p", _params(p=0), ValueError, r"The 'p' parameter of RDDensity must be"),
        BadInput("bad-masspoints", _params(masspoints="adjust"), TypeError,
                 r"The 'masspoints' parameter of RDDensity must be"),
        BadInput("bad-fitselect", _params(fitselect="joint"), ValueError,
                 r"The 'fitselect' parameter of RDDensity must be"),
        BadInput("restricted-each", _params(fitselect="restricted", bwselect="each"),
                 ValueError, r"`bwselect`='each' selects a bandwidth per side"),
    ]


def conformance_cases():
    return [
        ConformanceCase(
            name="rdd.RDDensity",
            estimator=_density,
            data=_density_data,
            result=lambda e: [e.test_.value, e.test_.stderr, *e.bandwidth_,
                              e.density_left_.value, e.density_right_.value],
            before_fit=(lambda e, d: e.summary(), lambda e, d: e.plot()),
            bad_inputs=_density_bad(),
            # fit takes the running variable alone: no design variable to route, so
            # scikit-learn defines no set_fit_request (the routing check needs one)
            pipeline=False,
        ),
        ConformanceCase(
            name="rdd.RDD",
            estimator=_rdd,
            data=_rdd_data,
            result=lambda e: [e.effect().value, e.effect().stderr, e.conventional_.value,
                              e.conventional_.stderr, *e.bandwidth_, *e.bias_bandwidth_],
            before_fit=(lambda e, d: e.effect(),),
            bad_inputs=_rdd_bad(),
        ),
        ConformanceCase(
            name="rdd.RDD-fuzzy",
            estimator=_rdd,
            data=_rdd_fuzzy_data,
            result=lambda e: [e.effect().value, e.effect().stderr,
                              *e.first_stage_.values, *e.first_stage_.stderrs],
            before_fit=(lambda e, d: e.effect(),),
            bad_inputs=[BadInput("nan-treatment",
                                 set_arg("treatment", lambda a: np.where(np.arange(len(a["y"])) == 4,
                                                                       np.nan, a["treatment"])),
                                 ValueError, r"`treatment` contains NaN"),
                        BadInput("one-arm-treatment",
                                 set_arg("treatment", lambda a: np.ones(len(a["y"]), dtype=int)),
                                 ValueError, r"The treatment does not jump at the cutoff")],
        ),
        ConformanceCase(
            name="rdd.DistributionalRDD",
            estimator=_r3d,
            data=_r3d_data,
            result=_r3d_result,
            before_fit=(lambda e, d: e.effect(), lambda e, d: e.test_nullity(),
                        lambda e, d: e.test_gini()),
            bad_inputs=_r3d_bad(),
        ),
        ConformanceCase(
            name="rdd.DistributionalRDD-fuzzy",
            estimator=_r3d,
            data=_r3d_fuzzy_data,
            result=_r3d_result,
            before_fit=(lambda e, d: e.effect(),),
            bad_inputs=[BadInput("nan-treatment",
                                 set_arg("treatment", lambda a: np.where(np.arange(len(a["y"])) == 4,
                                                                       np.nan, a["treatment"])),
                                 ValueError, r"`treatment` contains NaN")],
        ),
    ]


def demo_rows():
    from .._demo import DemoRow
    from ..inference import Estimate

    def run(quick):
        from ..datasets import make_r3d_data
        from . import DistributionalRDD

        d = make_r3d_data(500 if quick else 5000, n_obs=50, delta=1.0, q_grid=[0.5],
                          random_state=1)
        est = DistributionalRDD(q_grid=d.q_grid, n_boot=200, random_state=0).fit(d.X, d.y)
        c = est.effect()
        return (Estimate(c.values[0], c.stderr[0], n=c.n, method=c.method, name="tau(0.5)"),
                float(d.true_tau[0]))

    def run_scalar(quick):
        from ..datasets import make_rdd_data
        from . import RDD

        d = make_rdd_data(2000 if quick else 20000, effect=0.5, random_state=1)
        return RDD().fit(d.X, d.y).effect(), d.true_effect

    return [DemoRow("RDD (sharp)", "RDD", "make_rdd_data", run_scalar),
            DemoRow("RDD (distributional)", "DistributionalRDD", "make_r3d_data", run)]


def function_cases():
    """``rd_bandwidth``, ``pooled_quantile_rdd``, ``rd_plot`` and ``rd_density_test`` in
    the shared bad-input battery."""
    from ..testing import FunctionCase
    from . import pooled_quantile_rdd, rd_bandwidth, rd_batch, rd_density_test, rd_plot

    def batch_data(seed):
        b = bw_data(seed)
        return {"X": b["X"], "Y": np.c_[b["y"], 2 * b["y"]]}

    def plot_data(seed):
        return {**bw_data(seed), "draw": False}

    def plot_numbers(r):
        return np.r_[r.n_bins, r.n_bins_imse, r.n_bins_mv, r.coef.to_numpy().ravel(),
                     r.bins.y_mean.to_numpy()]

    def density_data(seed):
        return {"X": np.random.default_rng(seed).normal(size=600)}

    def bw_data(seed):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, 500)
        return {"X": x, "y": x + (x >= 0) + 0.3 * rng.normal(size=500)}

    def pooled_data(seed):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, 120)
        return {"X": x, "y": [xi + (xi >= 0) + rng.normal(size=20) for xi in x],
                "q_grid": np.array([0.25, 0.5, 0.75]), "bandwidth": 0.5}

    def pooled_numbers(out):
        values = getattr(out, "values", None)
        if values is None:
            values = getattr(out, "estimate", out)
        return np.asarray(values, dtype=float).ravel()

    return [
        FunctionCase("rdd.rd_bandwidth", rd_bandwidth, bw_data,
                     lambda h: np.atleast_1d(np.asarray(h, dtype=float)).ravel(), rows=("X", "y")),
        FunctionCase("rdd.pooled_quantile_rdd", pooled_quantile_rdd, pooled_data, pooled_numbers,
                     rows=("X",)),
        FunctionCase("rdd.rd_plot", rd_plot, plot_data, plot_numbers, rows=("X", "y")),
        FunctionCase("rdd.rd_batch", rd_batch, batch_data,
                     lambda t: np.r_[t.values, t.stderrs], rows=("X", "Y")),
        FunctionCase("rdd.rd_density_test", rd_density_test, density_data,
                     lambda t: np.array([t.value, t.stderr]), rows=("X",)),
    ]
