"""Heterogeneous treatment effects: weighted pseudo-outcome learners and the R-learner."""

from ._learner import PSEUDO_OUTCOMES, WEIGHTS, RLearner, WeightedPseudoOutcomeLearner

__all__ = ["PSEUDO_OUTCOMES", "WEIGHTS", "RLearner", "WeightedPseudoOutcomeLearner"]
