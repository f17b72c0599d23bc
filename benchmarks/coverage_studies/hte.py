"""Coverage studies of the HTE family: RLearner and the IVW DR-learner.

``make_cate_data(n=1000)``: tau(X) = 1 + X1 (ATE 1, CATE slope on X1 equal to 1),
confounded binary treatment; linear final model, 5 folds. Rows: the ATE interval and
the slope of the linear CATE (``coef_table()["x0"]``), with linear nuisances and with
gradient-boosting nuisances, plus the two untuned designs (t(3) outcome noise; 30
clusters with ``groups=``). Absorbs ``benchmarks/hte_coverage.py``.

A fit serves both the ATE row and the slope row: results are cached per
(seed, configuration) in the worker process.
"""

from __future__ import annotations

from functools import lru_cache, partial

from ._common import Rep, Study
from ._designs import clustered_treatment, t3_noise


def _models(kind):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if kind == "linear":
        return {"model_y": LinearRegression(), "model_t": LogisticRegression(),
                "model_final": LinearRegression(), "cv": 5}
    if kind == "default":  # the learner's own nuisance defaults (boosting)
        return {"model_final": LinearRegression(), "cv": 5}
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    return {"model_y": HistGradientBoostingRegressor(max_iter=100, learning_rate=0.05),
            "model_t": HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05),
            "model_final": LinearRegression(), "cv": 5}


@lru_cache(maxsize=4096)
def _fit(seed, learner, kind, design, n, option=""):
    """(ATE value, se, lo, hi, truth, slope value, se, lo, hi, truth) of one fit."""
    from causalkit.datasets import make_cate_data
    from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner

    groups = None
    if design == "clustered":
        X, y, t, groups = clustered_treatment(seed, G=30, m=n // 30)
        ate_truth, slope_truth = 1.0, 0.5
    else:
        d = make_cate_data(n, random_state=seed)
        X, y, t = d.X, d.y, d.treatment
        if design == "t3":
            y = y + t3_noise(seed, n)
        ate_truth, slope_truth = 1.0, 1.0
    kw = _models(kind)
    if learner == "R":
        est = RLearner(**kw, random_state=seed)
    else:
        est = WeightedPseudoOutcomeLearner(**kw, pseudo="dr", weights="ivw_x", random_state=seed)
    est.fit(X, y, treatment=t, groups=groups)
    a = est.ate()
    s = est.coef_table()["x0"]
    out = []
    for e, truth in ((a, ate_truth), (s, slope_truth)):
        lo, hi = e.conf_int(0.05)
        out += [e.value, e.stderr, lo, hi, truth]
    # candidate correction, measured beside the default: HC3 sandwich of the slope with
    # t(n - k) critical values (MacKinnon and White, 1985), from the fitted final stage
    se3 = _hc3_slope(X, est.pseudo_outcome_, est.weights_, groups)
    crit = _t_crit(X.shape[0] - X.shape[1] - 1)
    out += [s.value, se3, s.value - crit * se3, s.value + crit * se3, slope_truth]
    return tuple(float(v) for v in out)


def _t_crit(dof):
    from scipy import stats

    return float(stats.t.ppf(0.975, dof))


def _hc3_slope(X, phi, w, groups):
    """HC3 (jackknife-type) SE of the X1 coefficient of the weighted least-squares final
    stage; with clusters the CR1 sandwich is returned unchanged (HC3 is per unit)."""
    import numpy as np

    Z = np.column_stack([np.ones(X.shape[0]), X])
    Zw = Z * w[:, None]
    bread = np.linalg.inv(Zw.T @ Z)
    b = bread @ (Zw.T @ phi)
    resid = phi - Z @ b
    h = np.einsum("ij,jk,ik->i", Zw, bread, Z)
    u = Z * (w * resid / (1 - h))[:, None]
    if groups is not None:
        return float("nan")
    cov = bread @ (u.T @ u) @ bread
    return float(np.sqrt(cov[1, 1]))


def one(seed, learner, kind, design, n, target):
    r = _fit(seed, learner, kind, design, n)
    r = {"ate": r[:5], "slope": r[5:10], "slope_hc3": r[10:]}[target]
    return Rep(*r)


def cate_at_new_rows(seed, kind="pointwise", n=1000, n_rows=20):
    """CATE intervals at new rows (``cate_interval``): R-learner, linear nuisances and final
    model (sandwich). Pointwise: the row x = (1, 0, ..., 0), truth 2. Uniform: 20 fixed
    rows drawn once (seed 12345), covered only when every row's CATE is inside at once."""
    import numpy as np

    from causalkit.datasets import make_cate_data
    from causalkit.hte import RLearner

    d = make_cate_data(n, random_state=seed)
    est = RLearner(**_models("linear"), random_state=seed).fit(d.X, d.y, treatment=d.treatment)
    if kind == "pointwise":
        x0 = np.zeros((1, d.X.shape[1]))
        x0[0, 0] = 1.0
        lo, hi = est.cate_interval(x0)
        value = float(est.cate(x0)[0])
        return Rep(value, (hi[0] - lo[0]) / (2 * 1.959964), float(lo[0]), float(hi[0]), 2.0)
    rows = np.random.default_rng(12345).normal(size=(n_rows, d.X.shape[1]))
    lo, hi = est.cate_interval(rows, kind="uniform")
    truth = 1.0 + rows[:, 0]
    inside = bool(np.all((lo <= truth) & (truth <= hi)))
    # one joint event, recorded on the first row: the whole line when every row is covered,
    # an empty interval otherwise (estimate, SE and truth are the first row's)
    value = float(est.cate(rows[:1])[0])
    se = (hi[0] - lo[0]) / (2 * 1.959964)
    return Rep(value, float(se), -np.inf if inside else np.inf, np.inf, float(truth[0]))


def studies():
    out = [
        Study("hte", "RLearner.cate_interval(x) (pointwise)", "make_cate_data, x = (1, 0, 0, 0, 0)",
              1000, cate_at_new_rows, note="linear nuisances and final model; sandwich"),
        Study("hte", "RLearner.cate_interval(X, kind='uniform')",
              "make_cate_data, 20 fixed new rows, all covered at once", 1000,
              partial(cate_at_new_rows, kind="uniform"),
              note="linear nuisances and final model; sup-t band over the rows asked"),
    ]
    names = {"R": "RLearner", "DR": "WeightedPseudoOutcomeLearner(pseudo='dr', weights='ivw_x')"}
    for learner in ("R", "DR"):
        for kind, design, n, dgp, note, quick in (x or (None,) * 6 for x in (
                ("linear", "base", 1000, "make_cate_data", "linear nuisances", 100),
                ("hgb", "base", 1000, "make_cate_data",
                 "HGB(max_iter=100, learning_rate=0.05) nuisances", 60),
                ("default", "base", 1000, "make_cate_data",
                 "the learner's default nuisances (HistGradientBoostingRegressor(); the regularised "
                 "propensity booster)", 60)
                if learner == "R" else None,
                ("linear", "t3", 1000, "make_cate_data + t(3) noise",
                 "linear nuisances; heavy-tailed outcome", 100),
                ("linear", "clustered", 1200, "clustered, 30 clusters x 40",
                 "linear nuisances; groups=, cluster-robust SE, t(G-1) critical values", 100))):
            if kind is None:
                continue
            targets = ["ate", "slope"] + (["slope_hc3"] if design == "base" else [])
            for target in targets:
                row_note = note
                if kind == "hgb" and target == "slope":
                    # what a reader of a miss needs (the HTE guide explains the bias)
                    row_note += ("; underfit nuisances leave a first-order bias the sandwich "
                                 "cannot see (the HTE guide); what covers on this design: the "
                                 "default nuisances or linear nuisances"
                                 if learner == "R" else
                                 "; conservative with these nuisances; at the nominal level on "
                                 "this design: linear nuisances")
                elif kind == "hgb" and target == "ate":
                    row_note += ("; conservative (errs on the safe side) with these nuisances; "
                                 "at the nominal level on this design: the default nuisances "
                                 "(R-learner) or linear nuisances")
                what = {"ate": ".ate()", "slope": ".coef_table()['x0'] (CATE slope)",
                        "slope_hc3": " CATE slope, HC3 SE + t(n-k) (candidate, not default)"}[target]
                boost = {"hgb": " [slow-boosting nuisances]", "default": " [default nuisances]",
                         "linear": ""}[kind]
                out.append(Study(
                    "hte", names[learner] + boost + what, dgp, n,
                    partial(one, learner=learner, kind=kind, design=design, n=n, target=target),
                    note=row_note, quick_reps=quick, default=target != "slope_hc3",
                    seed_offset=60_000 if design == "clustered" else 0))
    return out


def _swap_rep(seed, which):
    """RLearner's CATE-slope error and coverage on ``make_cate_data(1000)`` with the slow
    booster (``max_iter=100, learning_rate=0.05``) as the outcome model (``which="y"``) or
    as the propensity model (``"t"``), the other nuisance left at the learner's default."""
    import warnings

    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression

    from causalkit.datasets import make_cate_data
    from causalkit.hte import RLearner

    d = make_cate_data(1000, random_state=seed)
    kw = {"model_final": LinearRegression(), "cv": 5}
    if which == "y":
        kw["model_y"] = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.05)
    else:
        kw["model_t"] = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = RLearner(**kw, random_state=seed).fit(d.X, d.y, treatment=d.treatment)
    s = e.coef_table()["x0"]
    lo, hi = s.conf_int(0.05)
    return float(s.value) - 1.0, bool(lo <= 1.0 <= hi)


def nuisance_swap_check(reps=150, n_jobs=None):
    """Which slow-boosting nuisance biases the R-learner's CATE slope: the slope's bias
    (with its Monte Carlo SE) and coverage with only the outcome model or only the
    propensity model swapped for the slow booster, seeds ``0 .. reps - 1`` (those of the
    slow-boosting rows)."""
    import numpy as np
    from joblib import Parallel, delayed

    out = {}
    for which in ("t", "y"):
        r = np.array(Parallel(n_jobs=n_jobs)(delayed(_swap_rep)(s, which) for s in range(reps)),
                     dtype=float)
        c = float(r[:, 1].mean())
        out[which] = {"bias": float(r[:, 0].mean()),
                      "bias_mc_se": float(r[:, 0].std(ddof=1) / np.sqrt(reps)),
                      "coverage": c, "coverage_mc_se": float(np.sqrt(c * (1 - c) / reps))}
    return out


if __name__ == "__main__":  # python -m benchmarks.coverage_studies.hte [reps] [n_jobs]
    import sys

    print(nuisance_swap_check(*[int(x) for x in sys.argv[1:3]]))
