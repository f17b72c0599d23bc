"""Results and inference shared by every design.

:class:`Estimate`, :class:`EstimateTable` and :class:`EffectCurve` are what every
causalkit estimator returns (with :class:`ConfidenceSet` where a test inversion gives a
set that need not be one interval), :class:`Diagnostics` what its ``diagnostics_`` holds; the
bootstrap helpers build their uncertainty. All of them print in one style (digits from
the standard error, p-values floored at ``< 1e-16``, tables never cut to the display
width).
"""

from ._bootstrap import bootstrap, multiplier_bootstrap, seed_sequence, sup_t_critical_value
from ._confset import ConfidenceSet
from ._format import Diagnostics, format_pvalue
from ._results import EffectCurve, Estimate, EstimateTable, estimates_from_arrays

__all__ = [
    "Estimate",
    "EstimateTable",
    "EffectCurve",
    "ConfidenceSet",
    "Diagnostics",
    "format_pvalue",
    "estimates_from_arrays",
    "bootstrap",
    "multiplier_bootstrap",
    "sup_t_critical_value",
    "seed_sequence",
]
