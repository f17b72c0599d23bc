"""Monte Carlo coverage of FrontDoor's 95% intervals (slow: run with ``-m slow``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalkit.datasets import make_frontdoor_data, make_frontdoor_linear_data
from causalkit.frontdoor import FrontDoor


def _coverage(make, factory, reps, n=2000):
    hits, z = [], []
    for r in range(reps):
        d = make(n, random_state=30_000 + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = factory().fit(d.X, d.y, treatment=d.treatment, mediator=d.mediator).ate()
        z.append((est.value - d.true_ate) / est.stderr)
        hits.append(abs(z[-1]) <= 1.959964)
    return np.mean(hits), np.std(z)


@pytest.mark.slow
@pytest.mark.parametrize("name,make,factory,reps", [
    ("plugin", make_frontdoor_data, lambda: FrontDoor(method="plugin"), 400),
    ("linear", make_frontdoor_linear_data, lambda: FrontDoor(method="linear"), 400),
    ("dr", make_frontdoor_linear_data,
     lambda: FrontDoor(method="dr", model_y=LinearRegression(), model_t=LogisticRegression(),
                       model_tm=LogisticRegression(), model_nested=LinearRegression(), cv=3,
                       random_state=0), 150),
])
def test_interval_coverage(name, make, factory, reps):
    cover, sd_z = _coverage(make, factory, reps)
    # Binomial sd of the coverage at 95%: sqrt(.95 * .05 / reps) <= 0.018 here.
    assert 0.95 - 3.5 * np.sqrt(0.0475 / reps) < cover <= 1.0, (name, cover)
    assert 0.8 < sd_z < 1.2, (name, sd_z)
