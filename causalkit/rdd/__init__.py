"""Regression discontinuity designs: distribution-valued outcomes (R3D) and scalar RDD."""

from ._density import RDDensity, rd_density_test
from ._r3d import DistributionalRDD, pooled_quantile_rdd
from ._rdplot import RDPlot, rd_plot
from ._scalar import RDD, MassPointsWarning, rd_bandwidth, rd_batch

__all__ = ["RDD", "DistributionalRDD", "MassPointsWarning", "RDDensity", "RDPlot",
           "pooled_quantile_rdd", "rd_bandwidth", "rd_batch", "rd_density_test", "rd_plot"]
