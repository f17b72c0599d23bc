"""The contract between ``benchmarks/coverage.py`` and the per-family coverage studies.

Every module ``benchmarks/coverage_studies/<family>.py`` defines ``studies()``, which returns
a list of :class:`Study`. A study names one estimator's *default* (or a named option's)
95% interval on one data-generating process at one sample size, and knows how to run one
Monte Carlo replication for a given seed. ``benchmarks/coverage.py`` runs the replications
(seeds ``0 .. reps-1``, offset by the study's ``seed_offset``), and :func:`summarise` turns
them into one table row.

A replication returns a :class:`Rep`: the point estimate, its standard error, the interval's
ends and the true value of the estimand for that replication (the truth may vary by draw,
for example a sample-average effect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Rep:
    """One replication: estimate, SE, interval [lo, hi] and the truth it should cover."""

    estimate: float
    stderr: float
    lo: float
    hi: float
    truth: float


@dataclass
class Study:
    """One row of the coverage table.

    Parameters
    ----------
    family : str
        The design family (``"ate"``, ``"hte"``, ``"rdd"``, ...), used to group rows.
    estimator : str
        What a user would write, e.g. ``"AIPW()"`` or ``"RDD(bwselect='cerrd')"``.
    dgp : str
        A short name of the data-generating process (e.g. ``"t(3) noise"``).
    n : int
        Sample size of one replication.
    one_rep : callable
        ``one_rep(seed) -> Rep``; deterministic given the seed.
    default : bool
        True when the interval is what the estimator gives with its default options.
    guide_n : bool
        True when ``n`` is a sample size the family's guide recommends (the [0.93, 0.97]
        target applies to these rows).
    note : str
        Anything a reader needs (the option that fixes a miss, a known reason).
    quick_reps, full_reps : int
        Replications for ``--quick`` and ``--full`` (expensive estimators may ask for fewer,
        and the table says so).
    seed_offset : int
        Added to the replication index to form the seed.
    """

    family: str
    estimator: str
    dgp: str
    n: int
    one_rep: Callable[[int], Rep]
    default: bool = True
    guide_n: bool = True
    note: str = ""
    quick_reps: int = 100
    full_reps: int = 500
    seed_offset: int = 0
    extra: dict = field(default_factory=dict)


def summarise(study: Study, reps: list[Rep], seconds: float = float("nan")) -> dict:
    """Coverage with its Monte Carlo SE, bias, mean width and mean SE / Monte Carlo SD."""
    est = np.array([r.estimate for r in reps], dtype=float)
    se = np.array([r.stderr for r in reps], dtype=float)
    lo = np.array([r.lo for r in reps], dtype=float)
    hi = np.array([r.hi for r in reps], dtype=float)
    truth = np.array([r.truth for r in reps], dtype=float)
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    covered = (lo <= truth) & (truth <= hi) & ok
    r = len(reps)
    c = float(covered.mean()) if r else float("nan")
    err = est - truth
    sd = float(np.std(err[ok], ddof=1)) if ok.sum() > 1 else float("nan")
    return {
        "family": study.family,
        "estimator": study.estimator,
        "dgp": study.dgp,
        "n": study.n,
        "reps": r,
        "coverage": c,
        "mc_se": float(np.sqrt(c * (1 - c) / r)) if r else float("nan"),
        "bias": float(np.mean(err[ok])) if ok.any() else float("nan"),
        "mean_width": float(np.mean((hi - lo)[ok])) if ok.any() else float("nan"),
        "se_over_sd": float(np.mean(se[ok]) / sd) if sd and np.isfinite(sd) else float("nan"),
        "misses_above": int(((lo > truth) & ok).sum()),
        "misses_below": int(((hi < truth) & ok).sum()),
        "failed": int((~ok).sum()),
        "default": study.default,
        "guide_n": study.guide_n,
        "note": study.note,
        "seconds": seconds,
    }
