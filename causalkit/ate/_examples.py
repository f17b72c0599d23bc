"""Registration of the ATE design into the conformance suite and the demo."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

from ..testing import BadInput, ConformanceCase, nan_in, set_arg


def _data(seed):
    from ..datasets import make_ate_data

    d = make_ate_data(300, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment}


def _estimator():
    from . import AIPW

    return AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0)


def conformance_cases():
    from ..utils.validation import PositivityWarning

    bad = [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("inf-y", set_arg("y", lambda a: np.where(np.arange(len(a["y"])) == 0, np.inf, a["y"])),
                 ValueError, r"`y` contains infinite"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError, r"`y` must be 1-D"),
        BadInput("3d-X", set_arg("X", lambda a: a["X"][:, :, None]), ValueError, r"`X` must be 2-D"),
        BadInput("nonbinary-treatment", set_arg("treatment", lambda a: a["treatment"] * 2),
                 ValueError, r"`treatment` must be binary"),
        BadInput("one-arm", set_arg("treatment", lambda a: np.ones_like(a["treatment"])),
                 ValueError, r"`treatment` takes only the value 1"),
        BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError, r"`X` must hold numbers"),
        BadInput("negative-weight", set_arg("sample_weight", lambda a: -np.ones(len(a["y"]))),
                 ValueError, r"`sample_weight` must be non-negative"),
        BadInput("trimming-threshold", lambda a: ({"trimming_threshold": 0.7}, a), ValueError,
                 r"The 'trimming_threshold' parameter of \w+ must be"),
        BadInput("trimming-kind", lambda a: ({"trimming": "cut"}, a), ValueError, r"The 'trimming' parameter of \w+ must be"),
        BadInput("regressor-as-propensity", lambda a: ({"model_t": LinearRegression()}, a), TypeError,
                 r"The 'model_t' parameter of \w+ must be"),
        BadInput("poor-overlap",
                 lambda a: {**a, "treatment": (a["X"][:, 0] + 0.05 * np.random.default_rng(1).normal(size=len(a["y"])) > 0).astype(int)},
                 PositivityWarning, r"outside \[0.01, 0.99\]", warns=True),
    ]
    return [
        ConformanceCase(
            name="ate.AIPW",
            estimator=_estimator,
            data=_data,
            result=lambda e: [e.ate().value, e.ate().stderr, e.att().value, e.att().stderr,
                              e.atc().value, e.atc().stderr],
            before_fit=(lambda e, d: e.ate(), lambda e, d: e.att(), lambda e, d: e.effects()),
            bad_inputs=bad + [
                BadInput("n-rep", lambda a: ({"n_rep": 0}, a), ValueError, r"The 'n_rep' parameter of \w+ must be"),
                BadInput("rep-aggregation", lambda a: ({"rep_aggregation": "mean"}, a), ValueError,
                         r"The 'rep_aggregation' parameter of \w+ must be"),
            ],
        ),
        ConformanceCase(
            name="ate.AIPW-nrep",
            estimator=lambda: _estimator().set_params(n_rep=3),
            data=_data,
            result=lambda e: [e.ate().value, e.ate().stderr, e.att().value, e.att().stderr],
            before_fit=(lambda e, d: e.ate(),),
            bad_inputs=[BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN")],
        ),
        ConformanceCase(
            # nuisance models that declare allow_nan: NaN in X is let through by design
            # (check_nuisance_X); NaN elsewhere and inf in X are still refused
            name="ate.AIPW-allow-nan",
            estimator=_nan_tolerant,
            data=_data,
            result=lambda e: [e.ate().value, e.ate().stderr],
            before_fit=(lambda e, d: e.ate(),),
            nan_ok=("X",),
            bad_inputs=[
                BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
                BadInput("nan-treatment", nan_in("treatment"), ValueError,
                         r"`treatment` contains NaN"),
                BadInput("inf-X", set_arg("X", lambda a: np.where(
                    np.arange(len(a["y"]))[:, None] == 0, np.inf, a["X"])), ValueError,
                    r"`X` contains infinite"),
                BadInput("3d-X", set_arg("X", lambda a: a["X"][:, :, None]), ValueError,
                         r"`X` must be 2-D"),
                BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError,
                         r"`X` must hold numbers"),
            ],
        ),
        ConformanceCase(
            name="ate.MultiArmAIPW",
            estimator=_multi,
            data=_multi_data,
            result=lambda e: [*e.apo().values, *e.apo().stderrs, *e.contrast().values,
                              *e.contrast().stderrs],
            before_fit=(lambda e, d: e.apo(), lambda e, d: e.contrast()),
            bad_inputs=_multi_bad(),
        ),
    ]


def _nan_tolerant():
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from . import AIPW

    return AIPW(HistGradientBoostingRegressor(max_iter=10),
                HistGradientBoostingClassifier(max_iter=10), cv=3, random_state=0)


def _multi_data(seed):
    from ..datasets import make_multiarm_data

    d = make_multiarm_data(450, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment}


def _multi():
    from . import MultiArmAIPW

    return MultiArmAIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=0)


def _multi_bad():
    return [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-treatment", nan_in("treatment"), ValueError, r"`treatment` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError, r"`y` must be 1-D"),
        BadInput("3d-X", set_arg("X", lambda a: a["X"][:, :, None]), ValueError, r"`X` must be 2-D"),
        BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError,
                 r"`X` must hold numbers"),
        BadInput("one-level", set_arg("treatment", lambda a: np.ones_like(a["treatment"])),
                 ValueError, r"`treatment` takes only the value 1"),
        BadInput("continuous-treatment", set_arg("treatment", lambda a: np.linspace(0, 1, len(a["y"]))),
                 ValueError, r"`treatment` has 450 distinct values"),
        BadInput("regressor-as-propensity", lambda a: ({"model_t": LinearRegression()}, a), TypeError,
                 r"The 'model_t' parameter of \w+ must be"),
        BadInput("trimming-threshold", lambda a: ({"trimming_threshold": 0.7}, a), ValueError,
                 r"The 'trimming_threshold' parameter of \w+ must be"),
    ]


def _demo_quick_models():
    """Small, fast nuisance models for ``causalkit demo --quick`` (outcome, propensity)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    small = dict(max_iter=50, max_leaf_nodes=8, early_stopping=False)
    return HistGradientBoostingRegressor(**small), HistGradientBoostingClassifier(**small)


def demo_rows():
    from .._demo import DemoRow

    def run(quick):
        from ..datasets import make_ate_data
        from . import AIPW

        d = make_ate_data(2000 if quick else 20000, random_state=1)
        est = (AIPW(*_demo_quick_models(), cv=3, random_state=0) if quick
               else AIPW(random_state=0))
        est.fit(d.X, d.y, treatment=d.treatment)
        return est.ate(), d.true_ate

    return [DemoRow("ATE (back-door)", "AIPW", "make_ate_data", run)]
