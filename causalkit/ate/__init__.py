"""Average treatment effects under unconfoundedness (back-door adjustment)."""

from ._aipw import AIPW

__all__ = ["AIPW"]
