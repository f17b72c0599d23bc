"""What the sensitivity layer reads from a fitted back-door estimator.

A design that supports sensitivity analysis keeps, after ``fit``, a private dict
``_score_parts_`` with the pieces of its AIPW score (copies, never refitted here):

``y``, ``treatment`` (0/1), ``mu0``, ``mu1`` (out-of-fold arm means), ``propensity``
(as used in the score, after clipping), ``keep`` (units in the estimand),
``sample_weight``, ``groups`` (cluster codes) and ``fold_id`` (each unit's cross-fitting
test fold; the training fold is every other unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import NotFittedError

_KEYS = ("y", "treatment", "mu0", "mu1", "propensity", "keep", "sample_weight", "groups", "fold_id")


def folds_from_ids(fold_id):
    """``[(train, test), ...]`` index arrays from each unit's test-fold number."""
    fold_id = np.asarray(fold_id)
    return [(np.flatnonzero(fold_id != k), np.flatnonzero(fold_id == k))
            for k in np.unique(fold_id[fold_id >= 0])]


@dataclass(frozen=True)
class ScoreParts:
    """The AIPW score's pieces restricted to the units of the estimand."""

    y: np.ndarray
    t: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    e: np.ndarray
    sw: np.ndarray | None
    groups: np.ndarray | None
    folds: list
    keep: np.ndarray
    n_total: int
    name: str

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def mean_and_se(self, psi):
        """Weighted mean of ``psi`` and its (cluster-robust) influence-function SE."""
        return mean_and_se(psi, self.sw, self.groups)

    def scores(self):
        """The AIPW scores ``mu1 - mu0 + riesz * (y - g)``."""
        return self.mu1 - self.mu0 + self.riesz() * self.residual()

    def residual(self):
        """Outcome residual ``y - g(T, X)`` of the long regression."""
        return self.y - np.where(self.t == 1, self.mu1, self.mu0)

    def riesz(self):
        """Riesz representer of the ATE, ``T / e - (1 - T) / (1 - e)``."""
        return self.t / self.e - (1 - self.t) / (1 - self.e)


def mean_and_se(psi, sw=None, groups=None):
    """``sum w psi / sum w`` and the influence-function SE (clusters summed first, G/(G-1))."""
    w = np.ones_like(psi) if sw is None else sw
    theta = float(np.sum(w * psi) / np.sum(w))
    contrib = w * (psi - theta)
    scale = 1.0
    if groups is not None:
        contrib = np.bincount(groups, weights=contrib)
        g = contrib.shape[0]
        scale = g / (g - 1) if g > 1 else 1.0
    return theta, float(np.sqrt(scale * np.sum(contrib**2)) / np.sum(w))


def score_parts(est, name: str = "est") -> ScoreParts:
    """Read the AIPW score's pieces from a fitted estimator, with clear errors."""
    if isinstance(est, type):
        raise TypeError(f"`{name}` must be a fitted estimator instance; got the class {est.__name__}.")
    cls = type(est).__name__
    if not hasattr(est, "fit"):
        raise TypeError(f"`{name}` must be a fitted causalkit estimator; got {cls}.")
    if not any(k.endswith("_") and not k.startswith("__") for k in vars(est)):
        raise NotFittedError(f"This {cls} instance is not fitted yet; call `fit` before a sensitivity analysis.")
    parts = getattr(est, "_score_parts_", None)
    if parts is None:
        if getattr(est, "continuous_treatment_", False):
            raise TypeError(
                f"`{name}` ({cls}) was fitted with a continuous treatment; the bounds need a binary "
                "treatment's Riesz representer and arm means, which this fit does not have.")
        raise TypeError(
            f"`{name}` ({cls}) does not keep what the bounds need: its fit stores no outcome "
            "residuals, Riesz representer (propensities) and folds (`_score_parts_`). Use a fitted "
            "causalkit.ate.AIPW or a binary-treatment causalkit.hte learner.")
    missing = [k for k in _KEYS if k not in parts]
    if missing:
        raise TypeError(f"`{name}` ({cls}) lacks {missing} among the score parts the bounds need.")
    keep = np.asarray(parts["keep"], dtype=bool)
    idx = np.flatnonzero(keep)
    sub = (lambda a: None if a is None else np.asarray(a)[keep])
    groups = parts["groups"]
    if groups is not None:
        groups = np.unique(np.asarray(groups)[keep], return_inverse=True)[1]
    # Folds are re-indexed to the kept units.
    pos = np.full(keep.shape[0], -1)
    pos[idx] = np.arange(idx.size)
    folds = []
    for tr, te in folds_from_ids(parts["fold_id"]):
        tr2, te2 = pos[tr], pos[te]
        folds.append((tr2[tr2 >= 0], te2[te2 >= 0]))
    return ScoreParts(
        y=sub(parts["y"]).astype(float), t=sub(parts["treatment"]).astype(float),
        mu0=sub(parts["mu0"]).astype(float), mu1=sub(parts["mu1"]).astype(float),
        e=sub(parts["propensity"]).astype(float), sw=sub(parts["sample_weight"]), groups=groups,
        folds=folds, keep=keep.copy(), n_total=int(keep.shape[0]), name=cls)
