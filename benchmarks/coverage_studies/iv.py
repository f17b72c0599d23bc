"""Coverage studies of the classic IV estimators: TSLS and DMLIV (partially linear IV).

``make_linear_iv_data(2000, n_instruments=2)``, truth 1.0; DMLIV with linear nuisances.
The weak-instrument design (``strength=0.1``, first-stage F about 5) shows the Wald
interval beside the Anderson-Rubin set (``ar_conf_int``; for its row the mean width is
over bounded sets only). The untuned design adds t(3) noise to the outcome. Neither
estimator takes ``groups=`` (see the coverage guide), so there is no clustered row.
Absorbs the IV designs of ``benchmarks/ate_iv_coverage.py``; InvalidIV is in
``invalidiv.py``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._common import Rep, Study
from ._designs import rep_of, t3_noise


def tsls(seed, n=2000, heavy=False):
    from causalkit.datasets import make_linear_iv_data
    from causalkit.iv import TSLS

    d = make_linear_iv_data(n, n_instruments=2, random_state=seed)
    y = d.y + t3_noise(seed, n) if heavy else d.y
    return rep_of(TSLS().fit(d.X, y, treatment=d.treatment, instrument=d.instrument).effect(), 1.0)


def dmliv(seed, n=2000, heavy=False):
    from sklearn.linear_model import LinearRegression

    from causalkit.datasets import make_linear_iv_data
    from causalkit.iv import DMLIV

    d = make_linear_iv_data(n, n_instruments=2, random_state=seed)
    y = d.y + t3_noise(seed, n) if heavy else d.y
    e = DMLIV(LinearRegression(), LinearRegression(), LinearRegression(), cv=3,
              random_state=seed).fit(d.X, y, treatment=d.treatment, instrument=d.instrument)
    return rep_of(e.effect(), 1.0)


def weak(seed, n=1000, ar=False, k=1):
    from causalkit.datasets import make_linear_iv_data
    from causalkit.iv import TSLS

    d = make_linear_iv_data(n, n_instruments=k, strength=0.1, random_state=seed)
    est = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    e = est.effect()
    if not ar:
        return rep_of(e, 1.0)
    sets = est.ar_conf_int()
    inside = any(lo <= 1.0 <= hi for lo, hi in sets)
    if len(sets) == 1:
        lo, hi = sets[0]
    else:  # several pieces, or empty: the whole line when it covers, a miss otherwise
        lo, hi = (-np.inf, np.inf) if inside else (np.inf, np.inf)
    return Rep(e.value, e.stderr, lo, hi, 1.0)


def many_instruments(seed, n=1000, method="2SLS"):
    """10 instruments of moderate strength: 2SLS is biased towards OLS, LIML is not."""
    from causalkit.datasets import make_linear_iv_data
    from causalkit.iv import TSLS

    d = make_linear_iv_data(n, n_instruments=10, strength=0.5, random_state=seed)
    est = TSLS(method=method).fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
    return rep_of(est.effect(), 1.0)


def studies():
    base = "make_linear_iv_data, 2 instruments"
    return [
        Study("iv", "TSLS().effect()", base, 2000, tsls),
        Study("iv", "TSLS().effect()", base + " + t(3) noise", 2000, partial(tsls, heavy=True),
              note="heavy-tailed outcome"),
        Study("iv", "DMLIV().effect()", base, 2000, dmliv, note="linear nuisances, cv=3"),
        Study("iv", "DMLIV().effect()", base + " + t(3) noise", 2000, partial(dmliv, heavy=True),
              note="linear nuisances, cv=3; heavy-tailed outcome"),
        Study("iv", "TSLS().effect() (Wald)", "weak instrument, strength=0.1 (F ~ 5)", 1000, weak,
              guide_n=False, note="the guide points to ar_conf_int() with weak instruments"),
        Study("iv", "TSLS().ar_conf_int()", "weak instrument, strength=0.1 (F ~ 5)", 1000,
              partial(weak, ar=True), default=False,
              note="Anderson-Rubin set"),
        Study("iv", "TSLS().ar_conf_int()", "3 weak instruments, strength=0.1", 1000,
              partial(weak, ar=True, k=3), default=False,
              note="Anderson-Rubin set (robust, exact), several instruments"),
        Study("iv", "TSLS().effect()", "10 instruments, strength=0.5", 1000, many_instruments,
              note="2SLS with many instruments; the option that covers here: "
                   "TSLS(method='LIML')"),
        Study("iv", "TSLS(method='LIML').effect()", "10 instruments, strength=0.5", 1000,
              partial(many_instruments, method="LIML"), default=False,
              note="LIML with many instruments"),
    ]
