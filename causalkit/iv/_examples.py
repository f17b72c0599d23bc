"""Registration of the instrumental-variable design into the conformance suite and the demo."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

from ..testing import BadInput, ConformanceCase, nan_in, set_arg


def _data(seed):
    from ..datasets import make_invalid_iv_data

    d = make_invalid_iv_data(2000, random_state=seed)
    return {"X": d.X_basis, "y": d.y, "treatment": d.treatment, "instrument": d.instrument}


def _mr():
    from . import InvalidIV

    return InvalidIV(method="mr", model_treatment=LinearRegression(), effect_model="constant")


def _mdml():
    from . import InvalidIV

    return InvalidIV(LogisticRegression(), LinearRegression(), LinearRegression(), cv=3,
                     random_state=0)


def _selective():
    from . import InvalidIV

    return InvalidIV(learners={"outcome": [LinearRegression(), LinearRegression(fit_intercept=False)]},
                     model_instrument=LogisticRegression(), model_treatment=LinearRegression(),
                     cv=3, random_state=0)


def _dmliv():
    from . import DMLIV

    return DMLIV(LinearRegression(), LogisticRegression(), LogisticRegression(), cv=3, random_state=0)


def _dmliv_pliv():
    from . import DMLIV

    return DMLIV(LinearRegression(), LinearRegression(), LinearRegression(), cv=3, random_state=0)


def _linear_data(seed):
    from ..datasets import make_linear_iv_data

    d = make_linear_iv_data(600, n_instruments=2, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment, "instrument": d.instrument}


def _linear_bad(linear_algebra=False):
    from ..utils.validation import WeakInstrumentWarning

    # TSLS takes several treatments: two copies of one are collinear
    own = [BadInput("duplicated-instrument", set_arg("instrument", lambda a: np.c_[
        a["instrument"], a["instrument"][:, :1]]), ValueError,
        r"`instrument` column 2 is a linear combination")] if linear_algebra else []
    return own + [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-instrument", nan_in("instrument"), ValueError, r"`instrument` contains NaN"),
        BadInput("inf-treatment", set_arg("treatment", lambda a: np.where(
            np.arange(len(a["y"])) == 0, np.inf, a["treatment"])), ValueError, r"`treatment` contains infinite"),
        BadInput("short-instrument", set_arg("instrument", lambda a: a["instrument"][:-1]), ValueError,
                 r"inconsistent numbers of rows"),
        BadInput("2d-treatment", set_arg("treatment", lambda a: np.c_[a["treatment"], a["treatment"]]),
                 ValueError, r"`treatment` column 1 is a linear combination" if linear_algebra
                 else r"`treatment` must be 1-D"),
        BadInput("constant-instrument-column", set_arg("instrument", lambda a: np.c_[
            a["instrument"][:, 0], np.ones(len(a["y"]))]), ValueError,
            r"`instrument` \(column 1\) takes only the value 1"),
        BadInput("weak-instruments", set_arg("instrument", lambda a: np.random.default_rng(5).normal(
            size=a["instrument"].shape)), WeakInstrumentWarning, r"Weak instrument", warns=True),
    ]


def _tsls():
    from . import TSLS

    return TSLS()


def _strata_constant(a):
    # a stratum (X > 1) where every unit has the instrument switched on
    s = (np.asarray(a["X"])[:, 0] > 1).astype(int)
    return {**a, "strata": s, "instrument": np.where(s == 1, 1, a["instrument"])}


def _extreme(a):
    x = np.asarray(a["X"])[:, 0]
    noise = 0.05 * np.random.default_rng(1).normal(size=x.size)
    return {**a, "instrument": (x + noise > 0).astype(int)}


def _equal_variance(a):
    rng = np.random.default_rng(2)
    z = np.asarray(a["instrument"])
    return {**a, "treatment": rng.binomial(1, 0.3 + 0.4 * z)}


def _common_bad():
    return [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-instrument", nan_in("instrument"), ValueError, r"`instrument` contains NaN"),
        BadInput("nan-treatment", nan_in("treatment"), ValueError, r"`treatment` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("constant-instrument", set_arg("instrument", lambda a: np.zeros(len(a["y"]), int)),
                 ValueError, r"`instrument` takes only the value 0"),
    ]


def _binary_only_bad():
    return [
        BadInput("nonbinary-instrument", set_arg("instrument", lambda a: a["instrument"] * 2 + 1),
                 ValueError, r"`instrument` must be binary"),
        BadInput("continuous-instrument",
                 set_arg("instrument", lambda a: np.linspace(0, 1, len(a["y"]))),
                 ValueError, r"`instrument` must be binary"),
        BadInput("nonbinary-treatment", set_arg("treatment", lambda a: a["treatment"] * 3),
                 ValueError, r"`treatment` must be binary"),
    ]


def _classic_bad(linear_algebra=False):
    from ..utils.validation import WeakInstrumentWarning

    def weak(a):
        rng = np.random.default_rng(3)
        n = len(a["y"])
        return {**a, "treatment": rng.binomial(1, 0.45 + 0.01 * np.asarray(a["instrument"]), n)}

    own = [BadInput("duplicated-covariate", set_arg("X", lambda a: np.c_[a["X"], a["X"][:, :1]]),
                    ValueError, r"`X` column \d+ is a linear combination")] if linear_algebra else []
    return _common_bad() + own + [
        BadInput("3d-instrument", set_arg("instrument", lambda a: np.asarray(a["instrument"])[:, None, None]),
                 ValueError, r"`instrument` must be 2-D"),
        BadInput("string-instrument", set_arg("instrument", lambda a: np.full(len(a["y"]), "a")),
                 TypeError, r"`instrument` must hold numbers"),
        BadInput("weak-instrument", weak, WeakInstrumentWarning, r"Weak instrument", warns=True),
    ]


def _invalid_bad():
    from ..utils.validation import PositivityWarning, WeakInstrumentWarning

    return _common_bad() + _binary_only_bad() + [
        BadInput("instrument-constant-in-stratum", _strata_constant, ValueError,
                 r"`instrument` is constant \(1\) within stratum 1 of `strata`"),
        BadInput("extreme-instrument-propensity", _extreme, PositivityWarning,
                 r"instrument propensity outside \[0.01, 0.99\]", warns=True),
        BadInput("equal-treatment-variance", _equal_variance, WeakInstrumentWarning,
                 r"Weak identification", warns=True),
        BadInput("tiny-treatment-arm", set_arg("treatment", lambda a: (np.arange(len(a["y"])) < 3).astype(int)),
                 ValueError, r"`treatment` has only 3 unit\(s\) at 1"),
        BadInput("method", lambda a: ({"method": "gmm"}, a), ValueError, r"The 'method' parameter of \w+ must be"),
        BadInput("selection", lambda a: ({"selection": "best"}, a), ValueError, r"The 'selection' parameter of \w+ must be"),
        BadInput("effect-model", lambda a: ({"effect_model": "cubic"}, a), ValueError,
                 r"The 'effect_model' parameter of \w+ must be"),
        BadInput("denominator-floor", lambda a: ({"denominator_floor": 0.5}, a), ValueError,
                 r"The 'denominator_floor' parameter of \w+ must be"),
        BadInput("trimming-threshold", lambda a: ({"trimming_threshold": 0.7}, a), ValueError,
                 r"The 'trimming_threshold' parameter of \w+ must be"),
        BadInput("regressor-as-instrument-model", lambda a: ({"model_instrument": LinearRegression()}, a),
                 TypeError, r"The 'model_instrument' parameter of \w+ must be"),
    ]


def conformance_cases():
    ate = (lambda e: [e.ate().value, e.ate().stderr])
    return [
        ConformanceCase(name="iv.InvalidIV-mr", estimator=_mr, data=_data, result=ate,
                        before_fit=(lambda e, d: e.ate(), lambda e, d: e.compare()),
                        bad_inputs=_invalid_bad()),
        ConformanceCase(name="iv.InvalidIV-mdml", estimator=_mdml, data=_data, result=ate,
                        before_fit=(lambda e, d: e.ate(),), bad_inputs=_invalid_bad()),
        ConformanceCase(name="iv.InvalidIV-selective", estimator=_selective, data=_data,
                        result=lambda e: [e.ate().value, e.ate().stderr,
                                          *e.selection_["criterion"].to_numpy()],
                        before_fit=(lambda e, d: e.ate(),),
                        bad_inputs=[BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN")]),
        ConformanceCase(name="iv.DMLIV", estimator=_dmliv, data=_data,
                        documented={"2d-instrument": (
                            "two instrument columns are valid (several instruments): the fit "
                            "estimates the partially linear IV coefficient, and late() raises "
                            "a ValueError that says to call effect()")},
                        result=lambda e: [e.late().value, e.late().stderr],
                        before_fit=(lambda e, d: e.late(),), bad_inputs=_classic_bad() + [
                            BadInput("late-needs-binary", lambda a: ({"score": "LATE"}, {
                                **a, "treatment": np.asarray(a["treatment"]) * 3.0 + np.arange(len(a["y"])) % 2}),
                                ValueError, r"score='LATE' needs a binary 0/1 `treatment`"),
                            BadInput("score", lambda a: ({"score": "gmm"}, a), ValueError,
                                     r"The 'score' parameter of \w+ must be")]),
        ConformanceCase(name="iv.DMLIV-pliv", estimator=_dmliv_pliv, data=_linear_data,
                        result=lambda e: [e.effect().value, e.effect().stderr],
                        before_fit=(lambda e, d: e.effect(),), bad_inputs=_linear_bad()),
        ConformanceCase(name="iv.TSLS", estimator=_tsls, data=_data,
                        result=lambda e: [e.effect().value, e.effect().stderr],
                        before_fit=(lambda e, d: e.effect(),), bad_inputs=_classic_bad(True)),
        ConformanceCase(name="iv.TSLS-continuous", estimator=_tsls, data=_linear_data,
                        result=lambda e: [e.effect().value, e.effect().stderr,
                                          e.diagnostics_["first_stage_F"]],
                        before_fit=(lambda e, d: e.effect(),), bad_inputs=_linear_bad(True)),
        ConformanceCase(name="iv.TSLS-LIML", estimator=lambda: _tsls().set_params(method="LIML"),
                        data=_linear_data,
                        result=lambda e: [e.effect().value, e.effect().stderr,
                                          e.diagnostics_["kappa"], e.diagnostics_["kp_rk_lm"]],
                        before_fit=(lambda e, d: e.effect(),), bad_inputs=_linear_bad(True) + [
                            BadInput("method", lambda a: ({"method": "GMM"}, a), ValueError,
                                     r"The 'method' parameter of TSLS must be")]),
    ]


def demo_rows():
    from .._demo import DemoRow

    def run_mr(quick):
        from ..datasets import make_invalid_iv_data
        from . import InvalidIV

        d = make_invalid_iv_data(5000 if quick else 50000, random_state=1)
        est = InvalidIV(method="mr", model_treatment=LinearRegression(), effect_model="constant")
        est.fit(d.X_basis, d.y, treatment=d.treatment, instrument=d.instrument)
        return est.ate(), d.true_ate

    def run_mdml(quick):
        from ..datasets import make_invalid_iv_data
        from . import InvalidIV

        d = make_invalid_iv_data(5000 if quick else 50000, random_state=1)
        # the defaults are small boosted models already; --quick uses three folds; the full
        # demo (50,000 units) shows a progress bar over the cross-fitted fits
        est = InvalidIV(cv=3 if quick else 5, random_state=0, verbose=not quick)
        est.fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
        return est.ate(), d.true_ate

    return [DemoRow("IV (invalid instrument)", "InvalidIV (MR)", "make_invalid_iv_data", run_mr),
            DemoRow("IV (invalid instrument)", "InvalidIV (MDML)", "make_invalid_iv_data", run_mdml)]
