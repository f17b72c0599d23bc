"""Monte Carlo: bias, standard-error calibration and coverage of FrontDoor.

Cells: the plug-in and the doubly robust estimator on the discrete design
(``make_frontdoor_data``), the linear and the doubly robust estimator on the
linear-Gaussian design (``make_frontdoor_linear_data``, two mediators), and the
back-door OLS of Y on (T, W) on the linear design as the reference that unmeasured
confounding biases. For each cell: mean bias, the standard deviation of the
estimates, the mean reported standard error, and the share of 95% intervals that
cover the true ATE.

Run: ``python benchmarks/mc_frontdoor_coverage.py [reps] [n]`` (default 500 reps, n = 2000).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causalkit.datasets import make_frontdoor_data, make_frontdoor_linear_data  # noqa: E402
from causalkit.frontdoor import FrontDoor  # noqa: E402


def _dr_hgb():
    return FrontDoor(method="dr", model_y=HistGradientBoostingRegressor(max_iter=60),
                     model_t=LogisticRegression(),
                     model_tm=HistGradientBoostingClassifier(max_iter=60),
                     model_nested=HistGradientBoostingRegressor(max_iter=60), cv=3, random_state=0)


def _dr_linear():
    return FrontDoor(method="dr", model_y=LinearRegression(), model_t=LogisticRegression(),
                     model_tm=LogisticRegression(), model_nested=LinearRegression(), cv=3,
                     random_state=0)


CELLS = {
    "discrete / plugin": (make_frontdoor_data, lambda: FrontDoor(method="plugin")),
    "discrete / dr (HGB)": (make_frontdoor_data, _dr_hgb),
    "linear / linear": (make_frontdoor_linear_data, lambda: FrontDoor(method="linear")),
    "linear / dr (linear models)": (make_frontdoor_linear_data, _dr_linear),
    "linear / back-door OLS": (make_frontdoor_linear_data, None),
}


def cell(make, factory, reps, n):
    vals, ses, cover = [], [], []
    truth = None
    for r in range(reps):
        d = make(n, random_state=20_000 + r)
        truth = d.true_ate
        if factory is None:
            D = np.c_[np.ones(n), d.treatment, d.X]
            b, *_ = np.linalg.lstsq(D, d.y, rcond=None)
            e = d.y - D @ b
            inv = np.linalg.inv(D.T @ D)
            se = float(np.sqrt((inv @ (D.T * e**2) @ D @ inv)[1, 1]))
            v = float(b[1])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = factory().fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator).ate()
            v, se = est.value, est.stderr
        vals.append(v)
        ses.append(se)
        cover.append(abs(v - truth) <= 1.959964 * se)
    vals = np.array(vals)
    return {"truth": truth, "bias": vals.mean() - truth, "sd": vals.std(ddof=1),
            "mean_se": float(np.mean(ses)), "coverage": float(np.mean(cover))}


def main(reps=500, n=2000):
    print(f"FrontDoor Monte Carlo: {reps} replications, n = {n}")
    print(f"{'cell':30s} {'truth':>7s} {'bias':>8s} {'sd':>7s} {'mean SE':>8s} {'cover':>6s} {'s':>6s}")
    out = {}
    for name, (make, factory) in CELLS.items():
        t0 = time.perf_counter()
        res = cell(make, factory, reps, n)
        out[name] = res
        print(f"{name:30s} {res['truth']:7.3f} {res['bias']:8.4f} {res['sd']:7.4f} "
              f"{res['mean_se']:8.4f} {res['coverage']:6.3f} {time.perf_counter() - t0:6.1f}",
              flush=True)
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500,
         int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
