"""Results and inference shared by every design.

:class:`Estimate`, :class:`EstimateTable` and :class:`EffectCurve` are what every
causalkit estimator returns; the bootstrap helpers build their uncertainty.
"""

from ._bootstrap import bootstrap, multiplier_bootstrap, seed_sequence, sup_t_critical_value
from ._results import EffectCurve, Estimate, EstimateTable, estimates_from_arrays

__all__ = [
    "Estimate",
    "EstimateTable",
    "EffectCurve",
    "estimates_from_arrays",
    "bootstrap",
    "multiplier_bootstrap",
    "sup_t_critical_value",
    "seed_sequence",
]
