"""Registration of the off-policy evaluation estimators into the conformance suite and demo."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression

from ..testing import BadInput, ConformanceCase, nan_in, set_arg
from ..utils.validation import PositivityWarning


def _data(seed):
    from ..datasets import make_bandit_feedback

    d = make_bandit_feedback(300, n_actions=3, n_features=3, random_state=seed)
    return {"X": d.X, "y": d.y, "action": d.action, "propensity": d.propensity}


def _policy(n=300, k=3):
    P = np.full((n, k), 0.2)
    P[:, 0] = 0.6
    return P


def _bad_inputs(model_based):
    bad = [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-propensity", nan_in("propensity"), ValueError, r"`propensity` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError, r"`y` must be 1-D"),
        BadInput("zero-propensity", set_arg("propensity", lambda a: np.where(np.arange(len(a["y"])) == 5, 0.0, a["propensity"])),
                 ValueError, r"`propensity` must lie in \(0, 1\]"),
        BadInput("propensity-above-one", set_arg("propensity", lambda a: a["propensity"] + 1.0),
                 ValueError, r"`propensity` must lie in \(0, 1\]"),
        BadInput("negative-action", set_arg("action", lambda a: np.where(np.arange(len(a["y"])) == 2, -1, a["action"])),
                 ValueError, r"`action` must lie in \[0, n_actions\)"),
        BadInput("action-beyond-n_actions", lambda a: ({"n_actions": 2}, a), ValueError,
                 r"`action` must lie in \[0, n_actions\)"),
        BadInput("n_actions-not-integer", lambda a: ({"n_actions": 2.5}, a), ValueError,
                 r"The 'n_actions' parameter of \w+ must be"),
        BadInput("fractional-action", set_arg("action", lambda a: a["action"] + 0.5), ValueError,
                 r"`action` must hold integer"),
        BadInput("full-propensity-rows", set_arg("propensity", lambda a: np.full((len(a["y"]), 3), 0.5)),
                 ValueError, r"`propensity` rows must sum to 1"),
        BadInput("full-propensity-negative",
                 set_arg("propensity", lambda a: np.tile([1.2, -0.1, -0.1], (len(a["y"]), 1))),
                 ValueError, r"`propensity` holds negative"),
        BadInput("full-propensity-zero-logged",
                 set_arg("propensity", lambda a: np.eye(3)[(a["action"] + 1) % 3]),
                 ValueError, r"`propensity` gives probability 0 to the logged action"),
        BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError, r"`X` must hold numbers"),
        BadInput("too-rare-action-for-estimated-propensity",
                 lambda a: {**{k: v for k, v in a.items() if k != "propensity"},
                            "action": np.where(np.arange(len(a["y"])) == 0, 2,
                                               np.minimum(a["action"], 1))},
                 ValueError, r"`action` 2 is logged 1 time"),
    ]
    if not model_based:
        bad.append(BadInput("negative-clip", lambda a: ({"clip": -1.0}, a), ValueError,
                            r"The 'clip' parameter of \w+ must be"))
    else:
        bad.append(BadInput("estimated-rewards-shape", set_arg("estimated_rewards", np.zeros((5, 3))),
                            ValueError, r"`estimated_rewards` must have shape"))
    return bad


def conformance_cases():
    from . import (
        IPS,
        SNIPS,
        DirectMethod,
        DoublyRobust,
        ExponentialSmoothingIPS,
        SelfNormalizedDR,
        SwitchDR,
    )

    def _value(e):
        v = e.value(_policy())
        return [v.value, v.stderr]

    def _value_before_fit(e, d):
        return e.value(_policy())

    def _compare_before_fit(e, d):
        return e.compare({"p": _policy()})

    lin = LinearRegression()
    specs = [
        ("ope.IPS", lambda: IPS(), False),
        ("ope.SNIPS", lambda: SNIPS(clip=50.0), False),
        ("ope.ExponentialSmoothingIPS", lambda: ExponentialSmoothingIPS(beta=0.6), False),
        ("ope.DirectMethod", lambda: DirectMethod(model_reward=lin, cv=2, random_state=0), True),
        ("ope.DoublyRobust", lambda: DoublyRobust(model_reward=lin, cv=2, random_state=0), True),
        ("ope.SelfNormalizedDR", lambda: SelfNormalizedDR(model_reward=lin, cv=2, random_state=0), True),
        ("ope.SwitchDR", lambda: SwitchDR(tau=5.0, model_reward=lin, cv=2, random_state=0), True),
    ]
    cases = []
    for name, make, model_based in specs:
        bad = _bad_inputs(model_based)
        if name == "ope.ExponentialSmoothingIPS":
            bad.append(BadInput("beta-out-of-range", lambda a: ({"beta": 1.5}, a), ValueError,
                                r"The 'beta' parameter of \w+ must be"))
        if name == "ope.SNIPS":
            bad.append(BadInput("unknown-interval", lambda a: ({"interval": "bootstrap"}, a),
                                ValueError, r"The 'interval' parameter of SNIPS must be"))
        if name == "ope.SwitchDR":
            bad = [b for b in bad if b.id != "negative-clip"]
            bad.append(BadInput("negative-tau", lambda a: ({"tau": -1.0}, a), ValueError,
                                r"The 'tau' parameter of \w+ must be"))
        cases.append(ConformanceCase(
            name=name, estimator=make, data=_data, result=_value,
            before_fit=(_value_before_fit, _compare_before_fit), bad_inputs=bad))
    cases.extend(_mdp_cases())
    cases.extend(_learner_cases())
    cases.append(_star_case())
    return cases


def _star_data(seed):
    from ..datasets import make_tabular_mdp

    d = make_tabular_mdp(40, horizon=8, random_state=seed)
    return {"X": d.X, "y": d.y, "action": d.action, "next_state": d.next_state, "episode": d.episode,
            "propensity": d.propensity}


def _star_case():
    from . import STAR

    pol = np.tile([0.3, 0.7], (320, 1))

    def res(e):
        v = e.value(pol)
        return [v.value, v.stderr]

    n = 320
    bad = [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-next_state", nan_in("next_state"), ValueError, r"`next_state` contains NaN"),
        BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError, r"`X` must hold numbers"),
        BadInput("next-state-columns", set_arg("next_state", lambda a: a["next_state"][:, :1]),
                 ValueError, r"`next_state` must have the columns of X"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
        BadInput("fractional-action", set_arg("action", lambda a: a["action"] + 0.5), ValueError,
                 r"`action` must hold integer"),
        BadInput("zero-propensity", set_arg("propensity", lambda a: np.where(np.arange(n) == 3, 0.0, a["propensity"])),
                 ValueError, r"`propensity` must lie in \(0, 1\]"),
        BadInput("episodes-not-contiguous",
                 set_arg("episode", lambda a: np.where(np.arange(n) == 20, 0, a["episode"])),
                 ValueError, r"`episode` rows must be contiguous"),
        BadInput("one-abstract-state", lambda a: ({"abstraction": _OneState()}, a), ValueError,
                 r"`abstraction` maps every state to one abstract state"),
        BadInput("one-cluster", lambda a: ({"n_abstract_states": 1}, a), ValueError,
                 r"The 'n_abstract_states' parameter of \w+ must be"),
        BadInput("negative-c", lambda a: ({"c": -2}, a), ValueError, r"The 'c' parameter of \w+ must be"),
        BadInput("gamma-one", lambda a: ({"gamma": 1.0}, a), ValueError, r"The 'gamma' parameter of \w+ must be"),
    ]
    return ConformanceCase(name="ope.STAR",
                           estimator=lambda: STAR(n_abstract_states=3, c=2, n_bootstrap=20, random_state=0),
                           data=_star_data, result=res, before_fit=(lambda e, d: e.value(pol),),
                           bad_inputs=bad)


class _OneState:
    """An abstraction that sends every state to the same code (a bad input)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.zeros(len(X), dtype=int)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def _learner_data(seed):
    from ..datasets import make_bandit_feedback

    d = make_bandit_feedback(300, n_actions=3, n_features=3, random_state=seed)
    return {"X": d.X, "y": d.y, "action": d.action, "propensity": d.logging_policy}


def _learner_cases():
    from . import ClippedIPSLearner, DirectMethodLearner, ExponentialSmoothingLearner

    def res(e):
        return e.predict_proba(_learner_data(1)["X"][:20]).ravel()

    def before(e, d):
        return e.predict_proba(d["X"])

    def common(full_propensity):
        rows = [
            BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
            BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
            BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
            BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError, r"`y` must be 1-D"),
            BadInput("string-X", set_arg("X", lambda a: np.full(a["X"].shape, "a")), TypeError,
                     r"`X` must hold numbers"),
            BadInput("negative-action", set_arg("action", lambda a: np.where(np.arange(len(a["y"])) == 2, -1,
                                                                              a["action"])),
                     ValueError, r"`action` must lie in \[0, n_actions\)"),
            BadInput("fractional-action", set_arg("action", lambda a: a["action"] + 0.5), ValueError,
                     r"`action` must hold integer"),
        ]
        if full_propensity is None:
            return rows
        rows += [
            BadInput("nan-propensity", nan_in("propensity"), ValueError, r"`propensity` contains NaN"),
            BadInput("reward-outside-unit", set_arg("y", lambda a: a["y"] * 3 - 1), ValueError,
                     r"`y` must lie in \[0, 1\]"),
            BadInput("policy-not-distribution", set_arg("propensity", lambda a: a["propensity"] * 0.5),
                     ValueError, r"`propensity` rows must sum to 1"),
            BadInput("wrong-propensity-shape", set_arg("propensity", lambda a: a["propensity"][:, :2]),
                     ValueError, r"`propensity`"),
            BadInput("sample-weight", set_arg("sample_weight", lambda a: np.ones(len(a["y"]))), ValueError,
                     r"`sample_weight` is not supported"),
            BadInput("delta-out-of-range", lambda a: ({"delta": 1.5}, a), ValueError, r"The 'delta' parameter of \w+ must be"),
            BadInput("action-never-logged",
                     set_arg("propensity", lambda a: np.c_[a["propensity"] * 0.9, np.full(len(a["y"]), 0.1)]),
                     PositivityWarning, r"`action` \[3\] never logged", warns=True),
            BadInput("policy-class-unknown", lambda a: ({"policy": "probit"}, a), ValueError,
                     r"The 'policy' parameter of \w+ must be"),
        ]
        if full_propensity:
            rows += [
                BadInput("vector-propensity", set_arg("propensity", lambda a: a["propensity"][:, 0]),
                         ValueError, r"`propensity` must be the full logging distribution"),
                BadInput("zero-logging-probability",
                         set_arg("propensity", lambda a: np.where(np.arange(3) == 2, 0.0, 0.5)
                                 * np.ones_like(a["propensity"])),
                         ValueError, r"`propensity` gives probability 0"),
                BadInput("beta-out-of-range", lambda a: ({"beta": 2.0}, a), ValueError, r"The 'beta' parameter of \w+ must be"),
            ]
        else:
            rows.append(BadInput("tau-out-of-range", lambda a: ({"tau": 0.0}, a), ValueError,
                                 r"The 'tau' parameter of \w+ must be"))
        return rows

    def dm_bad():
        return common(None) + [
            BadInput("action-never-logged", lambda a: ({"n_actions": 4}, a), ValueError,
                     r"`action` \[3\] never logged"),
            BadInput("epsilon-out-of-range", lambda a: ({"epsilon": 1.5}, a), ValueError,
                     r"The 'epsilon' parameter of \w+ must be"),
        ]

    return [
        ConformanceCase(name="ope.ExponentialSmoothingLearner",
                        estimator=lambda: ExponentialSmoothingLearner(max_iter=20),
                        data=_learner_data, result=res, before_fit=(before,), bad_inputs=common(True)),
        ConformanceCase(name="ope.ClippedIPSLearner",
                        estimator=lambda: ClippedIPSLearner(max_iter=20),
                        data=_learner_data, result=res, before_fit=(before,), bad_inputs=common(False)),
        ConformanceCase(name="ope.DirectMethodLearner",
                        estimator=lambda: DirectMethodLearner(model_reward=LinearRegression(), epsilon=0.1),
                        data=_learner_data, result=res, before_fit=(before,), bad_inputs=dm_bad()),
    ]


def _mdp_data(seed, iv=True):
    from ..datasets import make_iv_mdp

    d = make_iv_mdp(16, horizon=12, random_state=seed)
    out = {"X": d.X, "y": d.y, "action": d.action, "next_state": d.next_state,
           "episode": d.episode}
    if iv:
        out["instrument"] = d.instrument
    return out


def _mdp_cases():
    from . import IVMDPEvaluator, MDPEvaluator

    def bad(iv):
        rows = [
            BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
            BadInput("nan-next_state", nan_in("next_state"), ValueError, r"`next_state` contains NaN"),
            BadInput("nonbinary-action", set_arg("action", lambda a: a["action"] * 2), ValueError,
                     r"`action` must be binary"),
            BadInput("unequal-trajectories",
                     set_arg("episode", lambda a: np.where(np.arange(len(a["y"])) == 12, 0, a["episode"])),
                     ValueError, r"`episode` lengths differ"),
            BadInput("next-state-columns", set_arg("next_state", lambda a: a["next_state"][:, :1]),
                     ValueError, r"`next_state` must have the columns of X"),
            BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError, r"inconsistent numbers of rows"),
            BadInput("gamma-one", lambda a: ({"gamma": 1.0}, a), ValueError, r"The 'gamma' parameter of \w+ must be"),
        ]
        if iv:
            rows.append(BadInput("nonbinary-instrument", set_arg("instrument", lambda a: a["instrument"] + 2),
                                 ValueError, r"`instrument` must be binary"))
        return rows

    def res(e):
        v = e.value(1.0)
        return [v.value, v.stderr]

    return [
        ConformanceCase(name="ope.IVMDPEvaluator",
                        estimator=lambda: IVMDPEvaluator(n_components=5, random_state=0),
                        data=_mdp_data, result=res, before_fit=(lambda e, d: e.value(1.0),),
                        bad_inputs=bad(True)),
        ConformanceCase(name="ope.MDPEvaluator",
                        estimator=lambda: MDPEvaluator(n_components=5, random_state=0),
                        data=lambda s: _mdp_data(s, iv=False), result=res,
                        before_fit=(lambda e, d: e.value(1.0),), bad_inputs=bad(False)),
    ]


def demo_rows():
    from .._demo import DemoRow

    def run(quick):
        from ..datasets import make_bandit_feedback
        from . import DoublyRobust

        d = make_bandit_feedback(5000 if quick else 100_000, n_actions=5, random_state=1)
        est = DoublyRobust(model_reward=LinearRegression(), cv=2, random_state=0)
        est.fit(d.X, d.y, action=d.action, propensity=d.propensity)
        return est.value(d.target_policy), d.true_value

    def run_mdp(quick):
        from ..datasets import make_iv_mdp
        from . import IVMDPEvaluator

        d = make_iv_mdp(300 if quick else 1000, random_state=1)
        est = IVMDPEvaluator(random_state=0).fit(
            d.X, d.y, instrument=d.instrument, action=d.action, next_state=d.next_state,
            episode=d.episode)
        return est.value(1.0), d.true_value

    return [DemoRow("Off-policy evaluation (bandit)", "DoublyRobust", "make_bandit_feedback", run),
            DemoRow("Off-policy evaluation (confounded MDP)", "IVMDPEvaluator", "make_iv_mdp", run_mdp)]
