"""Registration of the CATE learners into the conformance suite and the demo."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsRegressor

from ..testing import BadInput, ConformanceCase, nan_in, set_arg


def _data(seed, treatment="binary"):
    from ..datasets import make_cate_data

    d = make_cate_data(300, random_state=seed, treatment=treatment)
    return {"X": d.X, "y": d.y, "treatment": d.treatment}


def _rlearner():
    from . import RLearner

    return RLearner(LinearRegression(), LogisticRegression(), LinearRegression(), cv=3, random_state=0)


def _wpor():
    from . import WeightedPseudoOutcomeLearner

    return WeightedPseudoOutcomeLearner(LinearRegression(), LogisticRegression(), LinearRegression(),
                                        pseudo="dr", weights="ivw_x", cv=3, random_state=0)


def _rlearner_continuous():
    from . import RLearner

    return RLearner(LinearRegression(), LinearRegression(), LinearRegression(), cv=3, random_state=0)


def _result(e):
    X = _data(0)["X"]
    return [e.ate().value, e.ate().stderr, *e.predict(X[:5]), *e.coef_table().values]


def _common_bad():
    from ..utils.validation import PositivityWarning

    return [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-treatment", nan_in("treatment"), ValueError, r"`treatment` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("short-treatment", set_arg("treatment", lambda a: a["treatment"][:-1]), ValueError,
                 r"inconsistent numbers of rows"),
        BadInput("3d-X", set_arg("X", lambda a: a["X"][:, :, None]), ValueError, r"`X` must be 2-D"),
        BadInput("one-arm", set_arg("treatment", lambda a: np.ones_like(a["treatment"])),
                 ValueError, r"`treatment` takes only the value 1"),
        BadInput("few-treated", set_arg("treatment", lambda a: (np.arange(len(a["y"])) < 3).astype(int)),
                 ValueError, r"`treatment` has only 3 unit\(s\) in arm 1"),
        BadInput("negative-weight", set_arg("sample_weight", lambda a: -np.ones(len(a["y"]))),
                 ValueError, r"`sample_weight` must be non-negative"),
        BadInput("trimming-threshold", lambda a: ({"trimming_threshold": 0.7}, a), ValueError,
                 r"The 'trimming_threshold' parameter of \w+ must be"),
        BadInput("regressor-as-propensity", lambda a: ({"model_t": LinearRegression()}, a), TypeError,
                 r"`model_t` must be a classifier with predict_proba"),
        BadInput("final-without-sample-weight", lambda a: ({"model_final": KNeighborsRegressor()}, a),
                 TypeError, r"`model_final` must accept `sample_weight`"),
        BadInput("treatment-kind", lambda a: ({"treatment_kind": "dose"}, a), ValueError,
                 r"The 'treatment_kind' parameter of \w+ must be"),
        BadInput("poor-overlap",
                 lambda a: {**a, "treatment": (a["X"][:, 0] + 0.05 * np.random.default_rng(1).normal(
                     size=len(a["y"])) > 0).astype(int)},
                 PositivityWarning, r"outside \[0.01, 0.99\]", warns=True),
    ]


def conformance_cases():
    r_bad = _common_bad() + [
        BadInput("nonbinary-treatment-when-binary", lambda a: ({"treatment_kind": "binary"},
                 {**a, "treatment": a["treatment"] * 2}), ValueError, r"`treatment` must be binary"),
    ]
    w_bad = _common_bad() + [
        BadInput("nonbinary-treatment", set_arg("treatment", lambda a: a["treatment"] * 2),
                 ValueError, r"`treatment` takes exactly two values \[0.0, 2.0\]; causalkit reads"),
        BadInput("three-valued-treatment",
                 set_arg("treatment", lambda a: a["treatment"] * 2 + np.arange(len(a["y"])) % 2),
                 ValueError, r"`treatment` must be binary, coded 0/1; got 4 distinct values"),
        BadInput("pseudo", lambda a: ({"pseudo": "x"}, a), ValueError, r"The 'pseudo' parameter of \w+ must be"),
        BadInput("weights", lambda a: ({"weights": "x"}, a), ValueError, r"The 'weights' parameter of \w+ must be"),
        BadInput("dr-outcome", lambda a: ({"dr_outcome": "x"}, a), ValueError, r"The 'dr_outcome' parameter of \w+ must be"),
        BadInput("continuous-with-propensity-weights",
                 lambda a: ({"pseudo": "u", "model_t": LinearRegression()},
                            {**a, "treatment": a["treatment"] + 0.5 * a["X"][:, 1]}),
                 ValueError, r"`weights`='ivw_x' needs a binary treatment"),
    ]
    c_bad = [
        BadInput("nan-treatment", nan_in("treatment"), ValueError, r"`treatment` contains NaN"),
        BadInput("classifier-for-dose", lambda a: ({"model_t": LogisticRegression()}, a), TypeError,
                 r"`model_t` must be a regressor"),
    ]
    before = (lambda e, d: e.ate(), lambda e, d: e.predict(d["X"]), lambda e, d: e.coef_table())
    return [
        ConformanceCase(name="hte.RLearner", estimator=_rlearner, data=_data, result=_result,
                        before_fit=before, bad_inputs=r_bad),
        ConformanceCase(name="hte.WeightedPseudoOutcomeLearner", estimator=_wpor, data=_data,
                        result=_result, before_fit=before, bad_inputs=w_bad),
        ConformanceCase(name="hte.RLearner-continuous", estimator=_rlearner_continuous,
                        data=lambda s: _data(s, "continuous"), result=_result, before_fit=before,
                        bad_inputs=c_bad),
    ]


def _demo_quick_models():
    """Small, fast models for ``causalkit demo --quick``: outcome, propensity, final.

    The data's propensity is logistic and its CATE linear, so the small boosted outcome
    model is the only flexible one.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    return (HistGradientBoostingRegressor(max_iter=50, max_leaf_nodes=8, early_stopping=False),
            LogisticRegression(), LinearRegression())


def demo_rows():
    from .._demo import DemoRow

    def run_r(quick):
        from ..datasets import make_cate_data
        from . import RLearner

        d = make_cate_data(2000 if quick else 20000, random_state=1)
        est = (RLearner(*_demo_quick_models(), cv=3, random_state=0) if quick
               else RLearner(random_state=0))
        est.fit(d.X, d.y, treatment=d.treatment)
        return est.ate(), d.true_ate

    def run_w(quick):
        from ..datasets import make_cate_data
        from . import WeightedPseudoOutcomeLearner

        d = make_cate_data(2000 if quick else 20000, random_state=2)
        est = (WeightedPseudoOutcomeLearner(*_demo_quick_models(), cv=3, random_state=0) if quick
               else WeightedPseudoOutcomeLearner(random_state=0))
        est.fit(d.X, d.y, treatment=d.treatment)
        return est.ate(), d.true_ate

    return [DemoRow("CATE (back-door)", "RLearner", "make_cate_data", run_r),
            DemoRow("CATE (back-door)", "WeightedPseudoOutcomeLearner (DR, IVW)", "make_cate_data", run_w)]
