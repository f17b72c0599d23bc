"""Pieces shared by the ATE estimators: ratio scores, repeated cross-fitting, cluster labels."""

from __future__ import annotations

import numbers

import numpy as np

from .._crossfit import make_folds
from ..inference._bootstrap import seed_sequence

__all__ = ["ratio_influence", "rep_seeds", "aggregate_reps", "folds_per_rep",
           "REP_AGGREGATIONS"]

REP_AGGREGATIONS = ("median", "median-bound")


def ratio_influence(num, den, sample_weight=None, groups=None):
    r"""A ratio of score means and its influence-function standard error.

    :math:`\hat\theta = \sum_i w_i a_i / \sum_i w_i b_i` solves the moment
    condition :math:`E[a - \theta b] = 0`; its influence function is
    :math:`(a_i - \theta b_i) / E[b]` (Chernozhukov et al., 2018, Theorem 3.1),
    so :math:`\widehat{SE} = \sqrt{\sum_i w_i^2 (a_i - \hat\theta b_i)^2} / \sum_i w_i b_i`.
    With ``groups`` the products are summed within clusters first and scaled by
    :math:`G / (G - 1)`. With ``den = 1`` this is the weighted mean of ``num``.

    Returns
    -------
    theta, se, contrib : float, float, ndarray
        ``contrib`` holds the per-unit (not per-cluster) influence values
        :math:`w_i (a_i - \hat\theta b_i) / \bar{w b}` used to build covariances.
    """
    w = np.ones_like(num) if sample_weight is None else sample_weight
    total = float(np.sum(w * den))
    theta = float(np.sum(w * num) / total)
    contrib = w * (num - theta * den)
    if groups is not None:
        per = np.bincount(groups, weights=contrib)
        g = per.shape[0]
        scale = g / (g - 1) if g > 1 else 1.0
    else:
        per, scale = contrib, 1.0
    se = float(np.sqrt(scale * np.sum(per**2)) / abs(total))
    return theta, se, contrib / total


def rep_seeds(random_state, n_rep):
    """Seeds of the ``n_rep`` cross-fitting repetitions.

    The first repetition uses ``random_state`` itself (so ``n_rep=1`` is the
    plain cross-fitted estimator); the others get seeds spawned up front from it.
    With ``random_state=None`` every repetition draws fresh entropy.
    """
    if n_rep == 1:
        return [random_state]
    if random_state is None:
        return [None] * n_rep
    children = seed_sequence(random_state).spawn(n_rep - 1)
    return [random_state] + [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def folds_per_rep(n, cv, seeds, *, stratify=None, groups=None):
    """One list of ``(train, test)`` folds per repetition.

    With a splitter object as ``cv`` the folds are left to :func:`crossfit`
    (``None``); several repetitions then need ``cv`` as an int, since a splitter
    cannot be reseeded.
    """
    if not isinstance(cv, (numbers.Integral,)) or isinstance(cv, bool):
        if len(seeds) > 1:
            raise ValueError("`n_rep` > 1 redraws the folds in every repetition, so `cv` must be "
                             "a number of folds; got a splitter. Pass cv=<int> or n_rep=1.")
        return [None]
    return [make_folds(n, cv, stratify=stratify if groups is None else None, groups=groups,
                       random_state=s) for s in seeds]


def aggregate_reps(thetas, ses, rule="median"):
    r"""Aggregate estimates and standard errors over repeated cross-fitting.

    The estimate is the median :math:`\tilde\theta` of the repetitions'
    estimates. ``"median"`` (Chernozhukov et al., 2018, Definition 3.3, the
    median version) takes :math:`\hat\sigma^2 = \mathrm{median}_r\{\hat\sigma_r^2 +
    (\hat\theta_r - \tilde\theta)^2\}`, which adds the spread due to the sample
    splits; ``"median-bound"`` takes the median of the upper 95% bounds
    :math:`\hat\theta_r + 1.96\,\hat\sigma_r` and reads the standard error back
    from it, the rule of DoubleML (version 0.10 and later).
    """
    thetas = np.asarray(thetas, dtype=float)
    ses = np.asarray(ses, dtype=float)
    theta = np.median(thetas, axis=0)
    if rule == "median":
        se = np.sqrt(np.median(ses**2 + (thetas - theta) ** 2, axis=0))
    else:
        c = 1.96
        se = (np.median(thetas + c * ses, axis=0) - theta) / c
    return theta, se
