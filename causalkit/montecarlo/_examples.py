"""Registration of the Monte Carlo design into the conformance suite and the demo."""

from __future__ import annotations

import numpy as np

from ..testing import BadInput, ConformanceCase, nan_in, set_arg


def _data(seed):
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=(200, 2))
    y = np.exp(u[:, 0]) + u[:, 1] ** 2 + 0.1 * rng.normal(size=200)
    w = rng.uniform(0.5, 1.5, size=200)
    return {"X": u, "y": y, "weights": w, "strata": (u[:, 0] > 0.5).astype(int)}


def _estimator():
    from . import ControlVariates

    return ControlVariates(control_means=0.5)


def conformance_cases():
    from ..utils.validation import FewObservationsWarning

    n = 200
    bad = [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-weights", nan_in("weights"), ValueError, r"`weights` contains NaN"),
        BadInput("negative-weights", set_arg("weights", lambda a: -a["weights"]), ValueError,
                 r"`weights` must be non-negative"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("short-weights", set_arg("weights", lambda a: a["weights"][:-1]), ValueError,
                 r"`weights` has 199 values"),
        BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError, r"`y` must be 1-D"),
        BadInput("3d-X", set_arg("X", lambda a: a["X"][:, :, None]), ValueError, r"`X` must be 2-D"),
        BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError, r"`X` must hold numbers"),
        BadInput("means-wrong-shape", lambda a: ({"control_means": [0.5, 0.5, 0.5]}, a), ValueError,
                 r"`control_means` must be a scalar or have one value per control \(2\)"),
        BadInput("means-nan", lambda a: ({"control_means": [0.5, np.nan]}, a), ValueError,
                 r"`control_means` must be finite"),
        BadInput("negative-alpha", lambda a: ({"alpha": -1.0}, a), ValueError, r"The 'alpha' parameter of \w+ must be"),
        BadInput("bad-solver", lambda a: ({"solver": "inv"}, a), ValueError, r"The 'solver' parameter of \w+ must be"),
        BadInput("bad-cv", lambda a: ({"cv": 1}, a), ValueError, r"The 'cv' parameter of \w+ must be"),
        BadInput("strata-wrong-length", set_arg("strata", lambda a: a["strata"][:-1]), ValueError,
                 r"`strata` must be 1-D with one label per row"),
        BadInput("nan-strata", set_arg("strata", lambda a: np.where(np.arange(n) == 0, np.nan, 1.0)),
                 ValueError, r"`strata` contains NaN"),
        BadInput("small-stratum-pooled",
                 set_arg("strata", lambda a: np.where(np.arange(n) < 2, 2, a["strata"])),
                 FewObservationsWarning, r"fewer than 4 draws .* pooled", warns=True),
        BadInput("too-few-rows", lambda a: {**a, "X": a["X"][:1], "y": a["y"][:1], "weights": a["weights"][:1],
                                            "strata": a["strata"][:1]},
                 ValueError, r"`X` has n_samples=1"),
    ]
    res = lambda e: [e.mean().value, e.mean().stderr, e.variance_reduction_]
    return [
        ConformanceCase(
            name="montecarlo.ControlVariates",
            estimator=_estimator,
            data=_data,
            result=res,
            before_fit=(lambda e, d: e.mean(), lambda e, d: e.plain_mean()),
            bad_inputs=bad,
            sklearn_checks=True,
            sklearn_expected_failed={
                "check_fit1d": "a 1-D X is read as a single control variate on purpose "
                               "(the common one-control case), not rejected",
                "check_complex_data": "complex X raises TypeError (not ValueError) naming `X`, "
                                      "the convention of causalkit.utils.validation",
                "check_dtype_object": "non-numeric X raises the causalkit message naming `X` and "
                                      "the fix, not scikit-learn's wording",
                "check_estimators_empty_data_messages": "an X without columns raises the causalkit "
                                                        "message naming `X`, not scikit-learn's wording",
            },
        ),
        ConformanceCase(
            name="montecarlo.ControlVariates-crossfit",
            estimator=lambda: _estimator().set_params(cv=3, alpha=0.1, random_state=0),
            data=_data,
            result=res,
            before_fit=(lambda e, d: e.mean(),),
            bad_inputs=[b for b in bad if b.id in ("nan-X", "negative-weights", "bad-cv")],
        ),
        _sparse_cases(),
    ]


def _sparse_data(seed):
    from ..datasets import make_overtaking_tests

    d = make_overtaking_tests(600, random_state=seed, outcome="probability")
    return {"X": d.X, "y": d.y, "weights": d.weights}


def _few_in_stratum_one(a):
    k = np.array([len(x) for x in a["X"]])
    keep = np.r_[np.flatnonzero(k == 1)[:3], np.flatnonzero(k == 2)[:30]]
    return {"X": [a["X"][i] for i in keep], "y": a["y"][keep], "weights": a["weights"][keep]}


def _sparse_cases():
    from ..utils.validation import FewObservationsWarning
    from . import SparseControlVariates

    def _set(i, value):
        def mutate(a):
            X = list(a["X"])
            X[i] = value(X[i])
            return {**a, "X": X}
        return mutate

    first = lambda a: next(i for i, x in enumerate(a["X"]) if len(x))
    bad = [
        BadInput("nan-X", lambda a: _set(first(a), lambda x: np.where(True, np.nan, x))(a), ValueError,
                 r"`X\[\d+\]` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-weights", nan_in("weights"), ValueError, r"`weights` contains NaN"),
        BadInput("negative-weights", set_arg("weights", lambda a: -a["weights"]), ValueError,
                 r"`weights` must be non-negative"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"`y` has 599 values"),
        BadInput("ragged-controls", lambda a: _set(first(a), lambda x: np.c_[x, x])(a), ValueError,
                 r"`X\[\d+\]` has \d+ controls per step but earlier tests have \d+"),
        BadInput("2d-X", set_arg("X", lambda a: np.zeros((600, 2))), ValueError,
                 r"`X` must be a list with one array"),
        BadInput("stratum-probs-not-summing", lambda a: ({"stratum_probs": [0.5, 0.2]}, a), ValueError,
                 r"`stratum_probs` must be .* summing to 1"),
        BadInput("bad-min-tests", lambda a: ({"min_tests_per_coef": 0}, a), ValueError,
                 r"The 'min_tests_per_coef' parameter of \w+ must be"),
        BadInput("stratum-fewer-tests-than-regressors", _few_in_stratum_one,
                 FewObservationsWarning, r"Stratum k=1 has 3 test\(s\), fewer than its 2 regressors", warns=True),
    ]
    return ConformanceCase(
        name="montecarlo.SparseControlVariates",
        estimator=lambda: SparseControlVariates(),
        data=_sparse_data,
        result=lambda e: [e.mean().value, e.mean().stderr, e.variance_reduction_],
        before_fit=(lambda e, d: e.mean(), lambda e, d: e.relative_half_width(), lambda e, d: e.n_tests_needed()),
        bad_inputs=bad,
        dataframe=False,
    )


def demo_rows():
    from .._demo import DemoRow

    def run(quick):
        from . import ControlVariates

        u = np.random.default_rng(1).uniform(size=2000 if quick else 200_000)
        est = ControlVariates(control_means=0.5).fit(u[:, None], np.exp(u))
        return est.mean(), float(np.e - 1)

    def run_sparse(quick):
        from ..datasets import make_overtaking_tests
        from . import SparseControlVariates

        d = make_overtaking_tests(20_000 if quick else 500_000, random_state=1)
        est = SparseControlVariates().fit(d.X, d.y, weights=d.weights)
        return est.mean(), d.true_rate

    return [DemoRow("Monte Carlo", "ControlVariates", "E[exp(U)], U uniform", run),
            DemoRow("Monte Carlo", "SparseControlVariates", "make_overtaking_tests", run_sparse)]


def function_cases():
    """``cuped`` in the shared bad-input battery."""
    from ..testing import FunctionCase
    from . import cuped

    def data(seed):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(300, 2))
        t = (rng.random(300) < 0.5).astype(int)
        return {"y": x @ [1.0, 0.5] + 0.3 * t + rng.normal(size=300), "treatment": t,
                "covariates": x}

    return [FunctionCase("montecarlo.cuped", cuped, data, lambda e: [e.value, e.stderr],
                         rows=("y", "treatment", "covariates"))]
