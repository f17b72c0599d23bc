"""Regression discontinuity designs with known truth: scalar and distribution-valued outcomes."""

from __future__ import annotations

import numpy as np

from ._base import FINITE, FLAG, SIZE, Dataset, checked

__all__ = ["make_r3d_data", "make_rdd_data"]


@checked(n_units=SIZE, n_obs=SIZE, delta=FINITE, fuzzy=FLAG, ragged=FLAG)
def make_r3d_data(n_units=500, *, n_obs=50, delta=1.0, dgp="normal", fuzzy=False, ragged=False,
                  q_grid=None, random_state=None) -> Dataset:
    r"""Units with a running variable and a within-unit sample (R3D designs).

    ``X ~ U(-1, 1)``, cutoff 0, treatment ``D = 1{X >= 0}`` (sharp) or
    ``T ~ Bernoulli(0.1 + 0.8 D)`` (fuzzy, effect through ``T``). Each unit draws
    ``n_obs`` observations (``ragged``: between ``n_obs/2`` and ``3 n_obs/2``):

    * ``"normal"`` (Monte Carlo DGP 1 of the R3D package): ``N(5 + 5X + delta D,
      max(|1 + X|, 0.1)^2)``;
    * ``"exponential"`` (DGP 2): ``N(2X + delta D, 1) + 2 Exp(rate = clip(1 + X/2,
      0.5, 1.5))``;
    * ``"two_level"``: a unit effect ``mu_i ~ N(0, 1 + D)`` and ``N(mu_i + X + delta D, 1)``:
      the units' distributions differ, so the pooled distribution's quantiles jump
      at the cutoff although every unit's quantile function shifts by ``delta``.

    In every case the two sides differ at the cutoff only by a location shift of the
    average quantile function, so the true effect is ``tau(q) = delta`` for all q.

    Returns a :class:`Dataset` with ``X`` (n, 1), ``y`` (list of arrays),
    ``treatment`` (fuzzy only), ``q_grid`` and ``true_tau`` on it.

    Examples
    --------
    >>> from causalkit.datasets import make_r3d_data
    >>> d = make_r3d_data(100, n_obs=20, delta=1.0, random_state=0)
    >>> d.X.shape, len(d.y), len(d.y[0])      # one running value and one sample per unit
    ((100, 1), 100, 20)
    >>> float(d.true_tau[0])
    1.0
    """
    rng = np.random.default_rng(random_state)
    if dgp not in ("normal", "exponential", "two_level"):
        raise ValueError(f"`dgp` must be 'normal', 'exponential' or 'two_level'; got {dgp!r}.")
    q = np.array([0.1, 0.25, 0.5, 0.75, 0.9]) if q_grid is None else np.asarray(q_grid, float)
    x = rng.uniform(-1, 1, n_units)
    d = (x >= 0).astype(float)
    t = rng.binomial(1, 0.1 + 0.8 * d).astype(float) if fuzzy else d
    sizes = (rng.integers(max(1, n_obs // 2), 3 * n_obs // 2 + 1, n_units) if ragged
             else np.full(n_units, n_obs))
    mu = rng.normal(0, np.sqrt(1 + d)) if dgp == "two_level" else np.zeros(n_units)
    y = []
    for i in range(n_units):
        k = sizes[i]
        if dgp == "normal":
            y.append(rng.normal(5 + 5 * x[i] + delta * t[i], max(abs(1 + x[i]), 0.1), k))
        elif dgp == "exponential":
            rate = np.clip(1 + 0.5 * x[i], 0.5, 1.5)
            y.append(rng.normal(2 * x[i] + delta * t[i], 1, k) + 2 * rng.exponential(1 / rate, k))
        else:
            y.append(rng.normal(mu[i] + x[i] + delta * t[i], 1, k))
    out = Dataset(X=x[:, None], y=y, q_grid=q, true_tau=np.full(q.shape, float(delta)),
                  description=f"R3D design '{dgp}' ({'fuzzy' if fuzzy else 'sharp'}), "
                              f"{n_units} units, true tau(q) = {delta:g}.")
    if fuzzy:
        out["treatment"] = t.astype(int)
    return out


@checked(n=SIZE, effect=FINITE, fuzzy=FLAG)
def make_rdd_data(n=1000, *, effect=1.0, fuzzy=False, random_state=None) -> Dataset:
    r"""Scalar sharp or fuzzy RDD with a nonlinear conditional mean.

    ``X ~ 2 Beta(2, 4) - 1`` (Calonico, Cattaneo and Titiunik 2014 style), cutoff 0,
    ``Y = 0.48 + 1.27X + 7.18X^2 + 20.21X^3 + 21.54X^4 + 7.33X^5`` on the left and
    ``0.52 + 0.84X - 3.00X^2 + 7.99X^3 - 9.01X^4 + 3.56X^5`` on the right (Lee 2008
    fit), ``+ effect`` for the treated, ``+ N(0, 0.1295^2)``. Fuzzy: treatment
    ``T ~ Bernoulli(0.2 + 0.6 1{X >= 0})`` and ``Y`` gains ``effect * T``; the true
    (local average) effect is ``effect``.

    Examples
    --------
    >>> from causalkit.datasets import make_rdd_data
    >>> d = make_rdd_data(500, effect=0.5, random_state=0)
    >>> d.X.shape, d.true_effect
    ((500, 1), 0.5)
    """
    rng = np.random.default_rng(random_state)
    x = 2 * rng.beta(2, 4, n) - 1
    d = (x >= 0).astype(float)
    left = 0.48 + 1.27 * x + 7.18 * x**2 + 20.21 * x**3 + 21.54 * x**4 + 7.33 * x**5
    right = 0.52 + 0.84 * x - 3.00 * x**2 + 7.99 * x**3 - 9.01 * x**4 + 3.56 * x**5
    t = rng.binomial(1, 0.2 + 0.6 * d).astype(float) if fuzzy else d
    base = np.where(d == 1, right - 0.04, left)  # continuous at 0 (0.52 - 0.04 = 0.48)
    y = base + effect * t + rng.normal(0, 0.1295, n)
    out = Dataset(X=x[:, None], y=y, true_effect=float(effect),
                  description=f"{'Fuzzy' if fuzzy else 'Sharp'} RDD, n={n}, effect {effect:g}.")
    if fuzzy:
        out["treatment"] = t.astype(int)
    return out
