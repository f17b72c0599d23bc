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
              note="MDML, gradient boosting nuisances; conservative: the pooled SE treats "
                   "the folds as independent, cross-fitting makes them covary negatively (the "
                   "IV guide); at the nominal level: InvalidIV(method='mr') with working "
                   "models that hold"),
        Study("iv", "InvalidIV(method='mr', model_treatment=LinearRegression(), "
              "effect_model='constant')", dgp, N, lambda s: _one(s, "mr"), default=False,
              note="correct parametric working models (X_basis)", seed_offset=0),
    ]


def oracle_scores(seed, n=N):
    """The MDML scores of one ``make_invalid_iv_data`` draw at the *true* nuisances.

    In that design :math:`\\pi(X) = \\mathrm{expit}(0.5 X)`, :math:`E[A \\mid Z, X] = 0.2 +
    0.4 Z + 0.05 \\tanh X` (:math:`E \\tanh U = 0`) and :math:`E[Y \\mid A, Z, X] = A + 0.5 Z
    + X + E[U \\mid A, Z, X]`, where :math:`E[U \\mid A=1, Z, X] = k / p` and
    :math:`E[U \\mid A=0, Z, X] = -k / (1 - p)` with :math:`p = E[A \\mid Z, X]` and
    :math:`k = 0.15\\, E[U \\tanh U]` (by parts, :math:`E[U \\tanh U] = E[1 - \\tanh^2 U]`).
    Their mean is an exact i.i.d. mean, so the influence-function SE of these scores must
    match their Monte Carlo SD: a check of the variance formula apart from nuisance noise.
    """
    import numpy as np

    from causalkit.datasets import make_invalid_iv_data
    from causalkit.iv._invalid import _mdml_scores

    g = np.polynomial.hermite_e.hermegauss(80)
    k = 0.15 * float(np.sum(g[1] * (1 - np.tanh(g[0]) ** 2)) / np.sqrt(2 * np.pi))
    d = make_invalid_iv_data(n, random_state=seed)
    x, z, a = d.X[:, 0], d.instrument, d.treatment
    pi = 1 / (1 + np.exp(-0.5 * x))

    def ma(zz):
        return 0.2 + 0.4 * zz + 0.05 * np.tanh(x)

    def m(aa, zz):
        p = ma(zz)
        return aa + 0.5 * zz + x + (k / p if aa == 1 else -k / (1 - p))

    s, _ = _mdml_scores(z, a, d.y, pi, ma(0), ma(1), m(0, 0), m(0, 1), m(1, 0), m(1, 1), 0.0)
    return s


def oracle_check(reps=1000):
    """Monte Carlo SD of the true-nuisance MDML estimate, its mean SE and coverage of 1."""
    import numpy as np

    est, se = [], []
    for seed in range(reps):
        s = oracle_scores(seed)
        est.append(s.mean())
        se.append(s.std(ddof=1) / np.sqrt(s.size))
    est, se = np.array(est), np.array(se)
    return {"reps": reps, "mc_sd": float(est.std(ddof=1)), "mean_se": float(se.mean()),
            "coverage": float(np.mean(np.abs(est - 1.0) <= 1.959964 * se))}


def _fold_deviations(seed):
    """The default MDML fit on draw ``seed``: its error, SE, and per-fold terms
    ``(n_k / n) (mean of fold k's scores - truth)``, which sum to the error."""
    import numpy as np

    from causalkit._crossfit import make_folds
    from causalkit.datasets import make_invalid_iv_data
    from causalkit.iv import InvalidIV

    d = make_invalid_iv_data(N, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = InvalidIV(random_state=seed).fit(d.X, d.y, treatment=d.treatment,
                                             instrument=d.instrument)
    s = m.scores_
    z, a = np.asarray(d.instrument).astype(int), np.asarray(d.treatment).astype(int)
    # the estimator's own folds: cv=5, stratified on 2 z + a, seeded by random_state
    folds = make_folds(N, 5, stratify=2 * z + a, random_state=seed)
    dev = np.array([(s[te].mean() - d.true_ate) * te.size / N for _, te in folds])
    return float(m.effect_.value - d.true_ate), float(m.effect_.stderr), dev


def cross_fold_check(reps=200, n_jobs=None):
    """Where the default interval's excess SE goes: the mean squared error of the estimate
    splits into the sum of the squared per-fold terms (what the pooled SE estimates: the
    folds as if independent) plus the cross-fold products, whose mean is the covariance
    that cross-fitting creates between folds (a fold's data train the nuisances that
    score the others)."""
    import numpy as np
    from joblib import Parallel, delayed

    out = Parallel(n_jobs=n_jobs)(delayed(_fold_deviations)(s) for s in range(reps))
    err = np.array([o[0] for o in out])
    se = np.array([o[1] for o in out])
    diag = np.array([(o[2] ** 2).sum() for o in out])
    cross = np.array([o[2].sum() ** 2 - (o[2] ** 2).sum() for o in out])
    return {"reps": reps, "mse": float(np.mean(err ** 2)), "mean_se2": float(np.mean(se ** 2)),
            "fold_terms": float(diag.mean()), "cross_fold": float(cross.mean()),
            "cross_fold_mc_se": float(cross.std(ddof=1) / np.sqrt(reps))}


if __name__ == "__main__":
    # python -m benchmarks.coverage_studies.invalidiv [reps]              (oracle check)
    # python -m benchmarks.coverage_studies.invalidiv --cross-fold [reps] [n_jobs]
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "--cross-fold":
        args = [int(x) for x in sys.argv[2:4]]
        print(cross_fold_check(*args))
    else:
        print(oracle_check(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
