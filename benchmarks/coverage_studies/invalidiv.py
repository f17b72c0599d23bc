"""Coverage of InvalidIV's ATE interval (an instrument that violates the exclusion restriction).

``make_invalid_iv_data`` (n = 5,000, binary instrument with a direct effect 0.5 on the
outcome, homogeneous effect 1, the design of the IV guide). Rows: the default multiply
debiased ML estimator (cross-fitted gradient boosting nuisances, influence-function SE)
and the multiply robust estimator with correctly specified parametric working models.
"""

from __future__ import annotations

import warnings

from ._common import Rep, Study

N = 5000


def _one(seed, method):
    from sklearn.linear_model import LinearRegression

    from causalkit.datasets import make_invalid_iv_data
    from causalkit.iv import InvalidIV

    d = make_invalid_iv_data(N, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "mdml":
            e = InvalidIV(random_state=seed).fit(
                d.X, d.y, treatment=d.treatment, instrument=d.instrument).ate()
        else:
            e = InvalidIV(method="mr", model_treatment=LinearRegression(),
                          effect_model="constant").fit(
                d.X_basis, d.y, treatment=d.treatment, instrument=d.instrument).ate()
    lo, hi = e.conf_int()
    return Rep(float(e.value), float(e.stderr), float(lo), float(hi), float(d.true_ate))


def studies() -> list[Study]:
    dgp = "make_invalid_iv_data (direct effect 0.5)"
    return [
        Study("iv", "InvalidIV()", dgp, N, lambda s: _one(s, "mdml"), seed_offset=0,
              note="MDML, gradient boosting nuisances"),
        Study("iv", "InvalidIV(method='mr', model_treatment=LinearRegression(), "
              "effect_model='constant')", dgp, N, lambda s: _one(s, "mr"), default=False,
              note="correct parametric working models (X_basis)", seed_offset=0),
    ]
