"""Registration of the front-door design into the conformance suite and the demo."""

from __future__ import annotations

import importlib.util

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

from ..testing import BadInput, ConformanceCase, nan_in, set_arg


def _linear_data(seed):
    from ..datasets import make_frontdoor_linear_data

    d = make_frontdoor_linear_data(300, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment, "mediator": d.mediator}


def _discrete_data(seed):
    from ..datasets import make_frontdoor_data

    d = make_frontdoor_data(600, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment, "mediator": d.mediator}


def _linear():
    from . import FrontDoor

    return FrontDoor(method="linear")


def _plugin():
    from . import FrontDoor

    return FrontDoor(method="plugin")


def _dr():
    from . import FrontDoor

    return FrontDoor(method="dr", model_y=LinearRegression(), model_t=LogisticRegression(),
                     model_nested=LinearRegression(), cv=3, random_state=0)


def _common_bad():
    return [
        BadInput("nan-X", nan_in("X"), ValueError, r"`X` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("nan-mediator", nan_in("mediator"), ValueError, r"`mediator` contains NaN"),
        BadInput("short-y", set_arg("y", lambda a: a["y"][:-1]), ValueError,
                 r"inconsistent numbers of rows"),
        BadInput("short-mediator", set_arg("mediator", lambda a: a["mediator"][:-1]), ValueError,
                 r"`mediator` has \d+"),
        BadInput("2d-y", set_arg("y", lambda a: np.c_[a["y"], a["y"]]), ValueError,
                 r"`y` must be 1-D"),
        BadInput("3d-X", set_arg("X", lambda a: a["X"][:, :, None]), ValueError, r"`X` must be 2-D"),
        BadInput("3d-mediator", set_arg("mediator", lambda a: np.asarray(a["mediator"])[:, None, None]),
                 ValueError, r"`mediator` must be 2-D"),
        BadInput("mediator-missing", set_arg("mediator", None), ValueError, r"`mediator` is required"),
        BadInput("mediator-not-passed", lambda a: {k: v for k, v in a.items() if k != "mediator"},
                 TypeError, r"mediator"),
        BadInput("string-mediator", set_arg("mediator", lambda a: np.full(np.shape(a["mediator"]), "a")),
                 TypeError, r"`mediator` must hold numbers"),
        BadInput("unknown-method", lambda a: ({"method": "ipw"}, a), ValueError, r"The 'method' parameter of \w+ must be"),
        BadInput("nan-groups", set_arg("groups", lambda a: np.where(np.arange(len(a["y"])) == 3, np.nan,
                                                                     np.arange(len(a["y"])) % 10)),
                 ValueError, r"`groups` contains NaN"),
        BadInput("short-groups", set_arg("groups", lambda a: np.arange(len(a["y"]) - 1) % 10),
                 ValueError, r"`groups` has \d+"),
        BadInput("one-cluster", set_arg("groups", lambda a: np.zeros(len(a["y"]))), ValueError,
                 r"`groups` has a single cluster"),
    ]


def _binary_bad():
    return [
        BadInput("nonbinary-treatment", set_arg("treatment", lambda a: a["treatment"] * 2),
                 ValueError, r"`treatment` must be binary"),
        BadInput("one-arm", set_arg("treatment", lambda a: np.ones_like(a["treatment"])),
                 ValueError, r"`treatment` takes only the value 1"),
        BadInput("trimming-threshold", lambda a: ({"trimming_threshold": 0.7}, a), ValueError,
                 r"The 'trimming_threshold' parameter of \w+ must be"),
    ]


def _cfd_data(seed):
    from ..datasets import make_cfd_data

    d = make_cfd_data(2000, random_state=seed)
    return {"X": d.X, "y": d.y, "treatment": d.treatment, "proxies": d.proxies}


def _cfdivae():
    from ._cfdivae import CFDiVAE

    # a quick configuration that still learns (the estimate is rough at this size)
    return CFDiVAE(hidden=32, epochs=5, batch_size=32, lr=3e-3, n_boot=10, random_state=0)


def _cfdivae_bad():
    from ..utils.validation import FewObservationsWarning

    return [
        BadInput("nan-proxies", nan_in("proxies"), ValueError, r"`proxies` contains NaN"),
        BadInput("nan-y", nan_in("y"), ValueError, r"`y` contains NaN"),
        BadInput("two-proxies", set_arg("proxies", lambda a: a["proxies"][:, :2]), ValueError,
                 r"`proxies` must have at least 3 columns"),
        BadInput("constant-proxy",
                 set_arg("proxies", lambda a: np.c_[a["proxies"][:, :3], np.ones(len(a["y"]))]),
                 ValueError, r"`proxies` column\(s\) \[3\] are constant"),
        BadInput("non-binary-treatment", set_arg("treatment", lambda a: a["treatment"] * 2 + 1),
                 ValueError, r"`treatment` must be binary"),
        BadInput("short-X", set_arg("X", lambda a: a["X"][:-1]), ValueError, r"`X` has \d+ rows"),
        BadInput("few-units",
                 lambda a: {k: (v[:1500] if hasattr(v, "__len__") else v) for k, v in a.items()},
                 FewObservationsWarning, r"Only 1500 units", warns=True),
        BadInput("bootstrap-kind", lambda a: ({"bootstrap": "both"}, a), ValueError,
                 r"The 'bootstrap' parameter of \w+ must be"),
    ]


def conformance_cases():
    from ..utils.validation import PositivityWarning

    def _separated(a):  # treatment almost determined by X: extreme propensities
        x = np.asarray(a["X"])[:, 0]
        noise = np.random.default_rng(1).normal(size=x.shape[0])
        return {**a, "treatment": (x + 0.05 * noise > 0).astype(int)}

    linear_bad = _common_bad() + [
        BadInput("constant-treatment", set_arg("treatment", lambda a: np.zeros(len(a["y"]))),
                 ValueError, r"`treatment` is constant"),
        BadInput("collinear-mediator",
                 set_arg("mediator", lambda a: np.c_[a["mediator"], a["mediator"]]),
                 ValueError, r"rank deficient.*`mediator`"),
    ]
    dr_bad = _common_bad() + _binary_bad() + [
        BadInput("density-ratio-kind", lambda a: ({"density_ratio": "kernel"}, a), ValueError,
                 r"The 'density_ratio' parameter of \w+ must be"),
        BadInput("multi-column-mediator-density", lambda a: ({"density_ratio": "mediator"}, a),
                 ValueError, r"`mediator` must be a single discrete column"),
        BadInput("regressor-as-propensity", lambda a: ({"model_t": LinearRegression()}, a),
                 TypeError, r"The 'model_t' parameter of \w+ must be"),
        BadInput("extreme-propensity", _separated, PositivityWarning,
                 r"propensity P\(T=1 \| X\)", warns=True),
    ]
    plugin_bad = _common_bad() + _binary_bad() + [
        BadInput("continuous-mediator",
                 set_arg("mediator", lambda a: np.random.default_rng(0).normal(size=len(a["y"]))),
                 ValueError, r"`mediator` must be discrete for method='plugin'"),
        BadInput("continuous-X",
                 set_arg("X", lambda a: np.random.default_rng(0).normal(size=np.shape(a["X"]))),
                 ValueError, r"`X` must be discrete for method='plugin'"),
        BadInput("extreme-stratum-propensity", lambda a: ({"trimming_threshold": 0.45}, a),
                 PositivityWarning, r"propensity P\(T=1 \| X\) \(stratum frequencies\)",
                 warns=True),
        BadInput("one-arm-stratum",
                 lambda a: {**a, "treatment": np.where(np.asarray(a["X"])[:, 0] == 1, 1,
                                                       a["treatment"])},
                 ValueError, r"`treatment` takes a single value in \d+ stratum"),
        BadInput("empty-mediator-cell",
                 lambda a: {**a, "mediator": np.where(np.arange(len(a["y"]))
                                                      == np.argmax(a["treatment"] == 1),
                                                      5.0, a["mediator"])},
                 ValueError, r"`mediator` value \[5.0\] occurs .*positivity of the mediator fails"),
    ]
    result = lambda e: [e.ate().value, e.ate().stderr]  # noqa: E731
    before = (lambda e, d: e.ate(),)
    cases = []
    if importlib.util.find_spec("torch") is not None:
        cases.append(ConformanceCase(
            name="frontdoor.CFDiVAE", estimator=_cfdivae, data=_cfd_data, result=result,
            before_fit=before + (lambda e, d: e.transform(d["X"], treatment=d["treatment"],
                                                         proxies=d["proxies"]),),
            bad_inputs=_cfdivae_bad(), rtol=1e-6))
    return cases + [
        ConformanceCase(name="frontdoor.FrontDoor-linear", estimator=_linear, data=_linear_data,
                        result=result, before_fit=before, bad_inputs=linear_bad),
        ConformanceCase(name="frontdoor.FrontDoor-plugin", estimator=_plugin, data=_discrete_data,
                        result=result, before_fit=before, bad_inputs=plugin_bad),
        ConformanceCase(name="frontdoor.FrontDoor-dr", estimator=_dr, data=_linear_data,
                        result=result, before_fit=before, bad_inputs=dr_bad),
    ]


def demo_rows():
    from .._demo import DemoRow

    def run_plugin(quick):
        from ..datasets import make_frontdoor_data
        from . import FrontDoor

        d = make_frontdoor_data(3000 if quick else 30000, random_state=1)
        est = FrontDoor(method="plugin").fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator)
        return est.ate(), d.true_ate

    def run_dr(quick):
        from ..datasets import make_frontdoor_data
        from . import FrontDoor

        d = make_frontdoor_data(3000 if quick else 30000, random_state=1)
        if quick:  # small, fast outcome and treatment models
            from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

            small = dict(max_iter=50, max_leaf_nodes=8, early_stopping=False)
            est = FrontDoor(method="dr", model_y=HistGradientBoostingRegressor(**small),
                            model_t=HistGradientBoostingClassifier(**small), cv=3, random_state=0)
        else:
            est = FrontDoor(method="dr", random_state=0)
        est.fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator)
        return est.ate(), d.true_ate

    def run_linear(quick):
        from ..datasets import make_frontdoor_linear_data
        from . import FrontDoor

        d = make_frontdoor_linear_data(3000 if quick else 30000, random_state=1)
        est = FrontDoor(method="linear").fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator)
        return est.ate(), d.true_ate

    def run_cfdivae(quick):
        from ..datasets import make_cfd_data
        from ._cfdivae import CFDiVAE

        d = make_cfd_data(3000 if quick else 20000, random_state=1)
        # --quick: about 700 optimiser steps (15 epochs at twice the default learning rate);
        # verbose: progress bars over the training epochs and the bootstrap draws, the
        # demo's progress inside this long row
        est = (CFDiVAE(hidden=64, epochs=15, batch_size=64, lr=2e-3, n_boot=30, verbose=True,
                       random_state=0) if quick
               else CFDiVAE(verbose=True, random_state=0))
        est.fit(d.X, d.y, treatment=d.treatment, proxies=d.proxies)
        return est.ate(), d.true_ate

    # listed with or without torch: the demo prints "skipped: needs torch" when it is missing
    return [
        DemoRow("Conditional front-door (learned)", "CFDiVAE", "make_cfd_data", run_cfdivae,
                needs=("torch",), extra="torch"),
        DemoRow("Front-door", "FrontDoor(plugin)", "make_frontdoor_data", run_plugin),
        DemoRow("Front-door", "FrontDoor(dr)", "make_frontdoor_data", run_dr),
        DemoRow("Front-door", "FrontDoor(linear)", "make_frontdoor_linear_data", run_linear),
    ]
