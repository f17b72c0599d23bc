"""Conditional front-door data with a latent mediator seen through proxies (CFDiVAE's setting)."""

from __future__ import annotations

import numpy as np

from ._base import COUNT, FINITE, INT, SCALE, SIZE, Dataset, checked

__all__ = ["make_cfd_data"]


@checked(n=SIZE, confounder_strength=FINITE, d_latent=INT, n_covariates=COUNT, proxy_noise=SCALE,
         proxy_map_seed=COUNT)
def make_cfd_data(n=10000, *, confounder_strength=1.0, d_latent=2, d_proxy=None, n_covariates=2,
                  proxy_noise=0.1, proxy_map_seed=0, random_state=None) -> Dataset:
    r"""A latent conditional front-door mediator observed only through noisy proxies.

    The graph of Xu et al. (2024, Fig. 2): covariates :math:`W` cause :math:`T`,
    :math:`Z` and :math:`Y`; an unobserved :math:`U` causes :math:`T` and :math:`Y`;
    the effect of :math:`T` on :math:`Y` runs only through the latent mediator
    :math:`Z` (the CFD adjustment variable), which is seen through proxies
    :math:`X`. With :math:`W \sim N(0, I_m)`, :math:`U \sim N(0, 1)`:

    .. math::

        T &\sim \mathrm{Bernoulli}(\mathrm{expit}(a^\top W + U)), \\
        Z &= \beta_{TZ} T + B_{WZ} W + e_Z, \quad e_Z \sim N(0, I_{d}), \\
        X &= F Z + s\,\varepsilon, \quad \varepsilon \sim N(0, I_{d_X}), \\
        Y &= \beta_{ZY}^\top Z + \beta_{WY}^\top W + 0.4\,\gamma\, U + e_Y,

    with :math:`F` a fixed random :math:`d_X \times d` matrix of full column rank
    (``proxy_map_seed``), :math:`\gamma` = ``confounder_strength`` and
    coefficients fixed below. The true ATE is :math:`\beta_{TZ}^\top\beta_{ZY}`
    for every ``confounder_strength``; a back-door adjustment for :math:`W` is
    biased through :math:`U` in proportion to :math:`\gamma`. The paper's own
    generator is not public; this is the linear structural form it describes.

    Parameters
    ----------
    n : int
    confounder_strength : float
        :math:`\gamma`, the strength of the unobserved confounder's effect on ``y``.
    d_latent : int
        Dimension :math:`d` of :math:`Z`.
    d_proxy : int, optional
        Number of proxies :math:`d_X` (default ``2 * d_latent``, at least 3).
    n_covariates : int
        Dimension :math:`m` of :math:`W` (``X`` of the returned data set).
    proxy_noise : float
        :math:`s`.
    proxy_map_seed : int
        Seed of :math:`F` (the same proxies' meaning across draws).
    random_state : int, Generator or None

    Returns
    -------
    Dataset
        ``X`` (covariates W), ``y``, ``treatment``, ``proxies``, ``mediator`` (the true
        latent Z, for oracle checks), ``confounder`` (U), ``true_ate``,
        ``description``.

    References
    ----------
    Xu, Z., Cheng, D., Li, J., Liu, J., Liu, L. and Yu, K. (2024). Causal inference
    with conditional front-door adjustment and identifiable variational
    autoencoder. ICLR 2024.

    Examples
    --------
    >>> from causalkit.datasets import make_cfd_data
    >>> d = make_cfd_data(1000, random_state=0)
    >>> d.proxies.shape, d.true_ate
    ((1000, 4), 1.5)
    """
    d = int(d_latent)
    if d < 1:
        raise ValueError(f"`d_latent` must be at least 1; got {d_latent}.")
    dx = max(3, 2 * d) if d_proxy is None else int(d_proxy)
    if dx < d:
        raise ValueError(f"`d_proxy` ({dx}) must be at least `d_latent` ({d}) for the map to be "
                         "injective.")
    m = int(n_covariates)
    rng = np.random.default_rng(random_state)
    coef = np.random.default_rng(12345)
    a = np.linspace(0.5, -0.5, m) if m > 1 else np.array([0.5])
    beta_tz = np.linspace(1.0, 0.5, d)
    beta_zy = np.ones(d)
    B_wz = coef.uniform(-0.5, 0.5, size=(d, m))
    beta_wy = coef.uniform(-0.5, 0.5, size=m)
    F = np.random.default_rng(proxy_map_seed).normal(size=(dx, d))
    n = int(n)
    W = rng.normal(size=(n, m))
    U = rng.normal(size=n)
    t = (rng.random(n) < 1.0 / (1.0 + np.exp(-(W @ a + U)))).astype(np.int64)
    Z = t[:, None] * beta_tz + W @ B_wz.T + rng.normal(size=(n, d))
    proxies = Z @ F.T + proxy_noise * rng.normal(size=(n, dx))
    y = Z @ beta_zy + W @ beta_wy + 0.4 * confounder_strength * U + rng.normal(size=n)
    return Dataset(
        X=W, y=y, treatment=t, proxies=proxies, mediator=Z, confounder=U,
        true_ate=float(beta_tz @ beta_zy),
        description=(f"Conditional front-door: {m} covariates, latent mediator of dimension {d} "
                     f"seen through {dx} proxies (noise {proxy_noise}), unobserved confounder of "
                     f"strength {confounder_strength}; true ATE {float(beta_tz @ beta_zy)}."),
    )
