"""Off-policy evaluation: estimate a new policy's value from logged decisions.

Contextual bandits: :class:`IPS`, :class:`SNIPS`, :class:`DirectMethod`,
:class:`DoublyRobust`, :class:`SelfNormalizedDR`, :class:`SwitchDR` and
:class:`ExponentialSmoothingIPS`, all with ``fit(X, y, *, action, propensity=None)``,
``value(policy)``, ``compare({name: policy})`` and ``diagnostics(policy)``.

Policy learning: :class:`ExponentialSmoothingLearner` (minimises the PAC-Bayes bound
of Aouali et al., 2023), :class:`ClippedIPSLearner` and :class:`DirectMethodLearner`,
all with ``fit(X, y, *, action, propensity)`` and ``predict_proba(X)``;
:func:`learn_and_evaluate` learns on one split and evaluates on the other.

Markov decision processes: :class:`IVMDPEvaluator` (confounded, with an
instrument), the no-confounding baselines :class:`MDPEvaluator`, and :class:`STAR`
(an importance-weighted abstract reward process over a state abstraction).
"""

from ._bandit import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    RatioScoreEstimate,
    SelfNormalizedDR,
    SwitchDR,
)
from ._learning import (
    ClippedIPSLearner,
    DirectMethodLearner,
    ExponentialSmoothingLearner,
    learn_and_evaluate,
)
from ._mdp import IVMDPEvaluator, MDPEvaluator
from ._star import STAR

__all__ = [
    "IPS",
    "SNIPS",
    "RatioScoreEstimate",
    "STAR",
    "ClippedIPSLearner",
    "DirectMethodLearner",
    "ExponentialSmoothingLearner",
    "learn_and_evaluate",
    "DirectMethod",
    "DoublyRobust",
    "ExponentialSmoothingIPS",
    "IVMDPEvaluator",
    "MDPEvaluator",
    "SelfNormalizedDR",
    "SwitchDR",
]
