"""Average treatment effects under unconfoundedness (back-door adjustment)."""

from ._aipw import AIPW
from ._multi import MultiArmAIPW

__all__ = ["AIPW", "MultiArmAIPW"]
