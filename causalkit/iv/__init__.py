"""Instrumental variables: the ATE with an invalid instrument, and classic IV estimates."""

from ._classic import DMLIV, TSLS
from ._invalid import InvalidIV

__all__ = ["InvalidIV", "TSLS", "DMLIV"]
