"""Front-door and conditional front-door adjustment.

:class:`FrontDoor` estimates the average treatment effect through an observed mediator
set when an unmeasured confounder links treatment and outcome; :func:`check_frontdoor`
and :func:`frontdoor_sets` check the (conditional) front-door criterion on a causal
graph before any estimation. :class:`CFDiVAE` learns the conditional front-door
adjustment variable from proxies with an identifiable VAE (torch, imported when a
model is trained).
"""

from ..graphs import FrontDoorCheck, check_frontdoor, frontdoor_sets
from ._cfdivae import CFDiVAE, SeedInstabilityWarning, linear_cfd_two_step
from ._frontdoor import FrontDoor

__all__ = ["CFDiVAE", "FrontDoor", "FrontDoorCheck", "SeedInstabilityWarning", "check_frontdoor",
           "frontdoor_sets", "linear_cfd_two_step"]
