"""Data with an invalid binary instrument (direct instrument-outcome effect) and known ATE."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._base import Dataset

__all__ = ["make_invalid_iv_data"]

_BLOCKS = ("instrument", "treatment", "outcome", "confounding")


def make_invalid_iv_data(n_samples=5000, *, effect=1.0, direct_effect=0.5, misspecify=(),
                         random_state=None):
    r"""A binary instrument that violates the exclusion restriction, with known ATE.

    The base design (with ``misspecify=()``) is

    .. math::

        X, U &\sim N(0, 1),\quad Z \sim \mathrm{Bernoulli}(\mathrm{expit}(0.5 X)),\\
        A &\sim \mathrm{Bernoulli}(0.2 + 0.4 Z + 0.05 \tanh X + 0.15 \tanh U),\\
        Y &= \beta A + \gamma Z + X + U + \varepsilon,\quad \varepsilon \sim N(0, 1),

    with ``effect`` :math:`\beta = 1` and ``direct_effect`` :math:`\gamma = 0.5`
    (the instrument affects the outcome directly, so the Wald ratio is biased:
    about 2.25). The treatment probability is additive in ``Z`` and ``U`` (no
    additive instrument-confounder interaction) and the treatment variance
    differs between instrument arms, so the ATE :math:`\beta` is identified.

    The four nuisance blocks of :class:`causalkit.iv.InvalidIV` are linear in the
    features ``X_basis = [X, tanh X]`` (and ``Z``): the instrument logit, the
    treatment probability :math:`E[A \mid Z, X]`, the outcome regression
    :math:`E[Y - \beta A \mid Z, X] = \gamma Z + X` and the confounding covariance
    :math:`\mathrm{Cov}(A, Y - \beta A \mid Z, X)` (a constant). Each name in
    ``misspecify`` bends one block away from that span and leaves the others and
    the ATE unchanged:

    - ``"instrument"``: the instrument logit becomes :math:`0.5 X + 0.8 (X^2 - 1)`;
    - ``"treatment"``: :math:`0.05 \tanh X` becomes :math:`0.05 \cos(3X)`;
    - ``"outcome"``: the outcome gains :math:`0.75 (X^2 - 1)`;
    - ``"confounding"``: the confounder enters the outcome as :math:`U (1 + X^2)`.

    Parameters
    ----------
    n_samples : int, default 5000
    effect : float, default 1.0
        The (homogeneous) treatment effect, hence the ATE.
    direct_effect : float, default 0.5
        The instrument's direct effect on the outcome (0 makes the instrument valid).
    misspecify : sequence of str, default ()
        Blocks to bend: any of ``"instrument"``, ``"treatment"``, ``"outcome"``,
        ``"confounding"``.
    random_state : int, RandomState or None

    Returns
    -------
    Dataset
        ``X`` (n, 1), ``X_basis`` (n, 2) = ``[X, tanh X]``, ``y``, ``treatment``,
        ``instrument``, ``true_ate``, ``description``.

    Examples
    --------
    >>> from causalkit.datasets import make_invalid_iv_data
    >>> d = make_invalid_iv_data(1000, random_state=0)
    >>> d.X.shape, d.true_ate
    ((1000, 1), 1.0)
    """
    if isinstance(misspecify, str):
        misspecify = (misspecify,)
    unknown = set(misspecify) - set(_BLOCKS)
    if unknown:
        raise ValueError(f"`misspecify` names unknown block(s) {sorted(unknown)}; "
                         f"choose from {list(_BLOCKS)}.")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 10:
        raise ValueError(f"`n_samples` must be an integer >= 10; got {n_samples!r}.")
    rng = check_random_state(random_state)
    x = rng.normal(size=n_samples)
    u = rng.normal(size=n_samples)
    logit = 0.5 * x + (0.8 * (x**2 - 1) if "instrument" in misspecify else 0.0)
    z = (rng.uniform(size=n_samples) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    fx = 0.05 * (np.cos(3 * x) if "treatment" in misspecify else np.tanh(x))
    p = 0.2 + 0.4 * z + fx + 0.15 * np.tanh(u)
    a = (rng.uniform(size=n_samples) < p).astype(np.int8)
    conf = u * (1 + x**2) if "confounding" in misspecify else u
    y = effect * a + direct_effect * z + x + conf + rng.normal(size=n_samples)
    if "outcome" in misspecify:
        y = y + 0.75 * (x**2 - 1)
    return Dataset(
        X=x[:, None], X_basis=np.c_[x, np.tanh(x)], y=y, treatment=a, instrument=z,
        true_ate=float(effect),
        description=("Binary instrument with a direct effect on the outcome (exclusion "
                     f"violated); ATE {effect}; misspecified blocks: {list(misspecify) or 'none'}."),
    )
