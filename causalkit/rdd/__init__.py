"""Regression discontinuity designs: distribution-valued outcomes (R3D) and scalar RDD."""

from ._r3d import DistributionalRDD, pooled_quantile_rdd

__all__ = ["DistributionalRDD", "pooled_quantile_rdd"]
