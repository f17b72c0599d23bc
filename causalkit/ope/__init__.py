"""Off-policy evaluation: estimate a new policy's value from logged decisions.

Contextual bandits: :class:`IPS`, :class:`SNIPS`, :class:`DirectMethod`,
:class:`DoublyRobust`, :class:`SelfNormalizedDR`, :class:`SwitchDR` and
:class:`ExponentialSmoothingIPS`, all with ``fit(X, y, *, action, propensity=None)``,
``value(policy)``, ``compare({name: policy})`` and ``diagnostics(policy)``.

Markov decision processes: :class:`IVMDPEvaluator` (confounded, with an
instrument) and the no-confounding baselines :class:`MDPEvaluator`.
"""

from ._bandit import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    SelfNormalizedDR,
    SwitchDR,
)
from ._mdp import IVMDPEvaluator, MDPEvaluator

__all__ = [
    "IPS",
    "SNIPS",
    "DirectMethod",
    "DoublyRobust",
    "ExponentialSmoothingIPS",
    "IVMDPEvaluator",
    "MDPEvaluator",
    "SelfNormalizedDR",
    "SwitchDR",
]
