"""Data with a known conditional average treatment effect (CATE)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from ._base import FINITE, FLAG, INT, SCALE, SIZE, Dataset, checked, read_packaged_file

__all__ = ["load_ihdp", "make_cate_data", "make_fisher_hte"]


@checked(n=SIZE, n_features=INT, overlap=FINITE, noise=SCALE, as_frame=FLAG)
def make_cate_data(n: int = 2000, n_features: int = 5, *, treatment: str = "binary",
                   overlap: float = 1.0, noise: float = 1.0, as_frame: bool = False,
                   random_state=None) -> Dataset:
    """Confounded treatment whose effect is linear in the first covariate.

    ``X ~ N(0, I_p)``; ``tau(X) = 1 + X1`` (so the ATE is 1);
    ``b(X) = sin(X1) + X2^2 / 2 + X3``; ``Y = b(X) + T tau(X) + noise * N(0, 1)``.
    A binary treatment has ``P(T=1|X) = expit(overlap * (0.8 X1 - 0.5 X2))``;
    a continuous one is ``T = 0.5 X1 - 0.3 X2 + N(0, 1)`` and ``tau(X)`` is then
    the slope of ``E[Y | T, X]`` in ``T``.

    Parameters
    ----------
    n : int
        Number of units.
    n_features : int
        Number of covariates (at least 3).
    treatment : {"binary", "continuous"}
        Kind of treatment.
    overlap : float
        Larger values push propensities toward 0 and 1 (binary treatment only).
    noise : float
        Standard deviation of the outcome noise.
    as_frame : bool
        Return ``X`` as a DataFrame with columns ``x0, x1, ...``.
    random_state : int or None
        Seed.

    Returns
    -------
    Dataset
        ``X``, ``y``, ``treatment``, ``true_cate`` (per unit), ``true_ate``,
        ``propensity`` (binary only) and ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_cate_data
    >>> d = make_cate_data(300, random_state=0)
    >>> d.X.shape, d.true_ate
    ((300, 5), 1.0)
    """
    if n_features < 3:
        raise ValueError(f"`n_features` must be at least 3; got {n_features}.")
    if treatment not in ("binary", "continuous"):
        raise ValueError(f"`treatment` must be 'binary' or 'continuous'; got {treatment!r}.")
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, n_features))
    cate = 1.0 + X[:, 0]
    base = np.sin(X[:, 0]) + X[:, 1] ** 2 / 2 + X[:, 2]
    extra = {}
    if treatment == "binary":
        e = expit(overlap * (0.8 * X[:, 0] - 0.5 * X[:, 1]))
        t = (rng.random(n) < e).astype(np.int64)
        extra["propensity"] = e
    else:
        t = 0.5 * X[:, 0] - 0.3 * X[:, 1] + rng.normal(size=n)
    y = base + t * cate + noise * rng.normal(size=n)
    if as_frame:
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(n_features)])
    return Dataset(
        X=X, y=y, treatment=t, true_cate=cate, true_ate=1.0, **extra,
        description=(f"Confounded {treatment} treatment, tau(X) = 1 + X1, ATE = 1; "
                     "X1 drives treatment and outcome."),
    )


def _fisher_params(setup, n, p, rng):
    if setup == "A":
        X = rng.uniform(0, 1, size=(n, p))
        b = np.sin(np.pi * X[:, 0] * X[:, 1]) + 2 * (X[:, 2] - 0.5) ** 2 + X[:, 3] + 0.5 * X[:, 4]
        e = np.clip(np.sin(np.pi * X[:, 0] * X[:, 1]), 0.1, 0.9)
        tau = (X[:, 0] + X[:, 1]) / 2
    elif setup == "B":
        X = rng.normal(size=(n, p))
        b = np.maximum.reduce([np.zeros(n), X[:, 0] + X[:, 1], X[:, 2]]) + np.maximum(0, X[:, 3] + X[:, 4])
        e = np.full(n, 0.5)
        tau = X[:, 0] + np.log1p(np.exp(X[:, 1]))
    elif setup == "C":
        X = rng.normal(size=(n, p))
        b = 2 * np.log1p(np.exp(X[:, 0] + X[:, 1] + X[:, 2]))
        e = 1 / (1 + np.exp(X[:, 1] + X[:, 2]))
        tau = np.ones(n)
    elif setup == "D":
        X = rng.normal(size=(n, p))
        b = (np.maximum(X[:, 0] + X[:, 1] + X[:, 2], 0) + np.maximum(X[:, 3] + X[:, 4], 0)) / 2
        e = 1 / (1 + np.exp(-X[:, 0]) + np.exp(-X[:, 1]))
        tau = np.maximum(X[:, 0] + X[:, 1] + X[:, 2], 0) - np.maximum(X[:, 3] + X[:, 4], 0)
    elif setup == "E":
        X = rng.uniform(-1, 1, size=(n, 1))
        x = X[:, 0]
        e = 0.1 + 0.8 * (x > 0)
        b = ((x <= -0.5) * 0.5 * (x + 2) ** 2 + (x / 2 + 0.875) * ((x > -0.5) & (x < 0))
             + ((x > 0) & (x < 0.5)) * (-5 * (x - 0.2) ** 2 + 1.075) + (x > 0.5) * (x + 0.125))
        tau = np.zeros(n)
    else:  # "F"
        X = rng.uniform(0.05, 0.95, size=(n, 1))
        e = X[:, 0].copy()
        b = np.ones(n)
        tau = np.ones(n)
    return X, b, e, tau


@checked(n=SIZE, n_features=INT, noise=SCALE)
def make_fisher_hte(setup: str = "A", n: int = 1000, n_features: int = 10, *, noise: float = 1.0,
                    random_state=None) -> Dataset:
    """The six simulation setups A-F of Fisher (2024) for CATE learners.

    ``Y = b(X) + (T - 0.5) tau(X) + noise * N(0, 1)`` with ``T ~ Bernoulli(e(X))``.
    Setups A-D are those of Nie and Wager (2021, Section 6): A has a bounded,
    nonlinear propensity and a simple CATE; B is a randomised trial (``e = 0.5``)
    with a complex CATE; C has a constant effect and strong confounding; D has
    unrelated treated and control arms. E (after Kennedy, 2023) and F have one
    covariate and a jump or a ramp in the propensity. Setups E and F ignore
    ``n_features``. In F, ``b = 1`` and ``tau = 1``, as in the authors' code.

    Parameters
    ----------
    setup : {"A", "B", "C", "D", "E", "F"}
        Which data-generating process.
    n : int
        Number of units.
    n_features : int
        Number of covariates for A-D (at least 5).
    noise : float
        Standard deviation of the outcome noise (``sigma = 1`` in the paper).
    random_state : int or None
        Seed.

    Returns
    -------
    Dataset
        ``X``, ``y``, ``treatment``, ``propensity`` (true ``e(X)``),
        ``true_cate``, ``true_ate`` (the sample mean of ``tau``) and ``description``.

    References
    ----------
    Fisher, A. (2024). Inverse-variance weighting for estimation of heterogeneous
    treatment effects. ICML 2024 (arXiv:2310.11620).
    Nie, X. and Wager, S. (2021). Quasi-oracle estimation of heterogeneous treatment
    effects. Biometrika 108(2), 299-319.

    Examples
    --------
    >>> from causalkit.datasets import make_fisher_hte
    >>> d = make_fisher_hte("C", 200, random_state=0)
    >>> d.X.shape, float(d.true_cate.mean())
    ((200, 10), 1.0)
    """
    setup = str(setup).upper()
    if setup not in ("A", "B", "C", "D", "E", "F"):
        raise ValueError(f"`setup` must be one of 'A'..'F'; got {setup!r}.")
    if setup in "ABCD" and n_features < 5:
        raise ValueError(f"Setups A-D need `n_features` >= 5; got {n_features}.")
    rng = np.random.default_rng(random_state)
    X, b, e, tau = _fisher_params(setup, n, n_features, rng)
    t = (rng.random(n) < e).astype(np.int64)
    y = b + (t - 0.5) * tau + noise * rng.normal(size=n)
    return Dataset(X=X, y=y, treatment=t, propensity=e, true_cate=tau, true_ate=float(tau.mean()),
                   description=f"Fisher (2024) simulation setup {setup}, n={n}.")


IHDP_SHA256 = "83b35661bfd6da8c824dce8b9de12ac45c450844e9449a4e998ac015a4a09f16"
_IHDP_POST_TREATMENT = ("ncdctt", "dose400")


def load_ihdp(*, as_frame: bool = True) -> Dataset:
    """The Infant Health and Development Program (IHDP) randomised trial, IQ at 36 months.

    985 low-birth-weight premature infants were randomised (1985) to intensive
    child care and home visits (``treatment = 1``) or follow-up only. The outcome
    is the Stanford-Binet IQ score at 36 months (``iqsb.36``); the 77 children
    without it are dropped (908 remain). ``X`` holds the 34 baseline covariates
    (birth weight, mother's age, education, race, site...); the post-treatment
    columns ``ncdctt`` and ``dose400`` (attendance) are left out. The file is the
    one EconML (MIT licence) ships as ``econml/data/ihdp/example.csv``; it is read
    from the installed ``econml`` package, checked against its SHA-256, and never
    copied into causalkit. See ``datasets/ihdp.md`` for the card.

    Parameters
    ----------
    as_frame : bool, default True
        Return ``X`` as a DataFrame (else a float array; names in ``feature_names``).

    Returns
    -------
    Dataset
        ``X``, ``y``, ``treatment``, ``feature_names`` and ``description`` (no truth:
        this is real data).

    References
    ----------
    Brooks-Gunn, J., Liaw, F. and Klebanov, P. K. (1992). Effects of early intervention
    on cognitive function of low birth weight preterm infants. J. Pediatrics 120(3).
    Hill, J. L. (2011). Bayesian nonparametric modeling for causal inference. JCGS 20(1).

    Examples
    --------
    >>> from causalkit.datasets import load_ihdp      # reads the file the econml package ships
    >>> d = load_ihdp()
    >>> d.X.shape, int(d.treatment.sum())
    ((908, 34), 347)
    """
    raw = read_packaged_file("econml", "data/ihdp/example.csv", IHDP_SHA256,
                             loader="load_ihdp", what="the IHDP file bundled with EconML",
                             install="pip install econml")
    import io

    df = pd.read_csv(io.BytesIO(raw))
    df = df[df["iqsb.36"].notna()].reset_index(drop=True)
    X = df.drop(columns=["iqsb.36", "treat", *_IHDP_POST_TREATMENT]).astype(float)
    names = list(X.columns)
    return Dataset(X=X if as_frame else X.to_numpy(), y=df["iqsb.36"].to_numpy(dtype=float),
                   treatment=df["treat"].to_numpy(dtype=np.int64), feature_names=names,
                   description="IHDP randomised trial (1985-88): IQ at 36 months, 908 infants "
                               "with the outcome, 34 baseline covariates.")
