"""Registration of the calibration design into the conformance suite and the demo."""

from __future__ import annotations

import numpy as np

from ..testing import BadInput, ConformanceCase, nan_in, set_arg


def _data(seed):
    from ..datasets import make_calibration_data

    d = make_calibration_data(10, n_calibration=300, random_state=seed)
    return {"X": d.calibration_predictions[:, None], "y": d.calibration_truth}


def _regressor_data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 3))
    return {"X": X, "y": X[:, 0] + 0.5 * rng.normal(size=200)}


def _bad_rows():
    from ..utils.validation import FewObservationsWarning
    from ._corrections import OutOfSupportWarning  # noqa: F401  (documented warning)

    return [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows: `X` has 300, `y` has 299"),
        BadInput("two-column-X", set_arg("X", lambda a: np.c_[a["X"], a["X"]]), ValueError,
                 r"`X` must hold one column of predictions"),
        BadInput("constant-X", set_arg("X", lambda a: np.ones_like(a["X"])), ValueError, r"`X` .* is constant"),
        BadInput("constant-y", set_arg("y", lambda a: np.ones_like(a["y"])), ValueError, r"`y` .* is constant"),
        BadInput("too-small", lambda a: {"X": a["X"][:4], "y": a["y"][:4]}, ValueError,
                 r"calibration set is too small"),
        BadInput("negative-weight", set_arg("sample_weight", lambda a: -np.ones(len(a["y"]))),
                 ValueError, r"`sample_weight` must be non-negative"),
        BadInput("few-rows", lambda a: {"X": a["X"][:40], "y": a["y"][:40]}, FewObservationsWarning,
                 r"Only 40 calibration units", warns=True),
    ]


def conformance_cases():
    from . import DebiasedRegressor, LinearCalibration, TweedieCorrection

    lcc_bad = _bad_rows() + [
        BadInput("negative-slope", set_arg("y", lambda a: -a["y"]), ValueError, r"slope .* not positive"),
        BadInput("min-slope", lambda a: ({"min_slope": -1.0}, a), ValueError, r"The 'min_slope' parameter of \w+ must be"),
    ]
    tw_bad = _bad_rows() + [
        BadInput("bandwidth", lambda a: ({"bandwidth": "wide"}, a), ValueError, r"The 'bandwidth' parameter of \w+ must be"),
        BadInput("score-fit-on", lambda a: ({"score_fit_on": "test"}, a), ValueError, r"The 'score_fit_on' parameter of \w+ must be"),
    ]
    reg_bad = [
        BadInput("nan-X", nan_in("X"), ValueError, r"NaN"),
        BadInput("correction", lambda a: ({"correction": "quadratic"}, a), ValueError, r"The 'correction' parameter of \w+ must be"),
    ]

    def res(e):
        x = np.linspace(-1.0, 2.0, 7)
        return e.transform(x)

    def reg_res(e):
        return e.predict(np.linspace(-1, 1, 9).reshape(3, 3))

    return [
        ConformanceCase(
            name="calibration.LinearCalibration", estimator=lambda: LinearCalibration(), data=_data,
            result=res, before_fit=(lambda e, d: e.transform(d["X"]),), bad_inputs=lcc_bad),
        ConformanceCase(
            name="calibration.TweedieCorrection", estimator=lambda: TweedieCorrection(grid_size=512), data=_data,
            result=res, before_fit=(lambda e, d: e.transform(d["X"]), lambda e, d: e.score(d["X"])),
            bad_inputs=tw_bad),
        ConformanceCase(
            name="calibration.DebiasedRegressor",
            estimator=lambda: DebiasedRegressor(correction="linear", cv=3, random_state=0),
            data=_regressor_data, result=reg_res, before_fit=(lambda e, d: e.predict(d["X"]),),
            bad_inputs=reg_bad),
        # scikit-learn's suite runs on the Tweedie variant: with the linear correction its
        # checks fit random targets whose out-of-fold predictions do not increase with the
        # truth, and fit refuses a slope that is not positive (by design).
        ConformanceCase(
            name="calibration.DebiasedRegressor[tweedie]",
            estimator=lambda: DebiasedRegressor(correction="tweedie", cv=3, random_state=0),
            data=_regressor_data, result=reg_res, before_fit=(lambda e, d: e.predict(d["X"]),),
            bad_inputs=reg_bad[:1], sklearn_checks=True, sklearn_expected_failed={
                "check_fit1d": ("a 1-D X is read as one feature, as by every causalkit "
                                "estimator (the library's rule), not refused"),
                "check_fit2d_predict1d": "the same rule at predict time",
                "check_sample_weight_equivalence_on_dense_data": (
                    "cross-fitting assigns repeated rows to different folds, so weights and repetitions "
                    "give different out-of-fold predictions")}),
    ]


def demo_rows():
    from .._demo import DemoRow

    def make_run(kind):
        def run(quick):
            from ..datasets import make_calibration_data
            from . import LinearCalibration, TweedieCorrection, corrected_ate

            d = make_calibration_data(2000 if quick else 20000, n_calibration=1000, ate=1.0, random_state=1)
            corr = LinearCalibration() if kind == "linear" else TweedieCorrection()
            corr.fit(d.calibration_predictions, d.calibration_truth)
            est = corrected_ate(corr, d.predictions, d.treatment, propensity=d.propensity,
                                n_boot=100 if quick else 300, random_state=0)
            return est, d.true_ate
        return run

    def run_ppi(quick):
        from ..datasets import make_calibration_data
        from . import ppi_ate

        d = make_calibration_data(2000 if quick else 20000, n_labeled=100 if quick else 300, ate=1.0,
                                  random_state=1)
        est = ppi_ate(d.predictions, d.treatment, d.labeled_predictions, d.labeled_truth, d.labeled_treatment,
                      propensity=d.propensity, labeled_propensity=d.labeled_propensity)
        return est, d.true_ate

    return [
        DemoRow("Calibrated predictions", "LinearCalibration + Hajek", "make_calibration_data", make_run("linear")),
        DemoRow("Calibrated predictions", "PPI baseline (fresh labels)", "make_calibration_data", run_ppi),
        DemoRow("Calibrated predictions", "TweedieCorrection + Hajek", "make_calibration_data", make_run("tweedie")),
    ]


def function_cases():
    """The downstream functions in the shared bad-input battery."""
    from ..testing import FunctionCase
    from . import LinearCalibration, corrected_ate, corrected_mean, ppi_ate, ppi_mean

    def data(seed):
        from ..datasets import make_calibration_data

        return make_calibration_data(300, n_calibration=200, n_labeled=60, random_state=seed)

    def fitted(d):
        return LinearCalibration().fit(d.calibration_predictions[:, None], d.calibration_truth)

    def value(e):
        return [e.value, e.stderr]

    def mean_data(seed):
        d = data(seed)
        return {"correction": fitted(d), "predictions": d.predictions, "n_boot": 20,
                "random_state": 0}

    def ate_data(seed):
        d = data(seed)
        return {"correction": fitted(d), "predictions": d.predictions, "treatment": d.treatment,
                "propensity": d.propensity, "n_boot": 20, "random_state": 0}

    def ppi_mean_data(seed):
        d = data(seed)
        return {"predictions": d.predictions, "labeled_predictions": d.labeled_predictions,
                "labeled_truth": d.labeled_truth}

    def ppi_ate_data(seed):
        d = data(seed)
        return {"predictions": d.predictions, "treatment": d.treatment,
                "labeled_predictions": d.labeled_predictions, "labeled_truth": d.labeled_truth,
                "labeled_treatment": d.labeled_treatment, "propensity": d.propensity,
                "labeled_propensity": d.labeled_propensity}

    return [
        FunctionCase("calibration.corrected_mean", corrected_mean, mean_data, value,
                     rows=("predictions",)),
        FunctionCase("calibration.corrected_ate", corrected_ate, ate_data, value,
                     rows=("predictions", "treatment", "propensity")),
        FunctionCase("calibration.ppi_mean", ppi_mean, ppi_mean_data, value,
                     rows=("predictions", "labeled_predictions", "labeled_truth")),
        FunctionCase("calibration.ppi_ate", ppi_ate, ppi_ate_data, value,
                     rows=("predictions", "treatment", "labeled_predictions", "labeled_truth",
                           "labeled_treatment", "propensity", "labeled_propensity")),
        *_ppi_ols_cases(data),
    ]


def _ppi_ols_cases(data):
    from ..testing import FunctionCase
    from . import ppi_mean, ppi_ols

    def ols_data(seed):
        d = data(seed)
        rng = np.random.default_rng(seed)
        return {"X": rng.normal(size=(d.predictions.size, 2)), "predictions": d.predictions,
                "labeled_X": rng.normal(size=(d.labeled_truth.size, 2)),
                "labeled_predictions": d.labeled_predictions, "labeled_truth": d.labeled_truth}

    def tuned_mean_data(seed):
        d = data(seed)
        return {"predictions": d.predictions, "labeled_predictions": d.labeled_predictions,
                "labeled_truth": d.labeled_truth, "lam": "auto"}

    return [
        FunctionCase("calibration.ppi_ols", ppi_ols, ols_data,
                     lambda t: [*t.values, *t.stderrs],
                     rows=("X", "predictions", "labeled_X", "labeled_predictions",
                           "labeled_truth")),
        FunctionCase("calibration.ppi_ols-per-coefficient", ppi_ols,
                     lambda seed: {**ols_data(seed), "per_coefficient": True},
                     lambda t: [*t.values, *t.stderrs],
                     rows=("X", "predictions", "labeled_X", "labeled_predictions",
                           "labeled_truth")),
        FunctionCase("calibration.ppi_mean-tuned", ppi_mean, tuned_mean_data,
                     lambda e: [e.value, e.stderr],
                     rows=("predictions", "labeled_predictions", "labeled_truth")),
    ]
