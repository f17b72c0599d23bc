"""Sensitivity of back-door estimates to unobserved confounding.

A layer above the designs: it reads fitted estimators (their out-of-fold nuisances and
folds) and never refits them. One verb per question, each taking the fitted estimator:

- :func:`ovb_bounds`, :func:`ovb_benchmark`, :func:`plot_ovb_contour`: omitted-variable-bias
  bounds of Chernozhukov, Cinelli, Newey, Sharma & Syrgkanis (2022);
- :func:`gamma_bounds`, :func:`gamma_star`, :func:`cate_bounds`: bounds under Γ-selection
  of Yadlowsky, Namkoong, Basu, Duchi & Tian (2022).
"""

from ._gamma import GammaBounds, GammaStar, cate_bounds, gamma_bounds, gamma_star
from ._ovb import OVBBenchmark, OVBBounds, ovb_benchmark, ovb_bounds, plot_ovb_contour

__all__ = [
    "OVBBounds", "OVBBenchmark", "ovb_bounds", "ovb_benchmark", "plot_ovb_contour",
    "GammaBounds", "GammaStar", "gamma_bounds", "gamma_star", "cate_bounds",
]
