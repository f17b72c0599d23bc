"""Causal graphs (networkx DAGs): identification criteria checked before estimation.

:func:`check_frontdoor` reports whether a mediator set satisfies the front-door or
the conditional front-door criterion (Xu et al. 2024, Definition 4), and which
condition fails along which path; :func:`frontdoor_sets` lists candidate
(adjustment, mediator) sets. The design subpackages re-export what they use
(``causalkit.frontdoor.check_frontdoor`` is this function).
"""

from ._criteria import FrontDoorCheck, check_frontdoor, frontdoor_sets

__all__ = ["FrontDoorCheck", "check_frontdoor", "frontdoor_sets"]
