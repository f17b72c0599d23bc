"""Confidence sets that need not be one interval (test inversion, e.g. Anderson-Rubin)."""

from __future__ import annotations

import numpy as np


class ConfidenceSet(list):
    """A confidence set: a list of disjoint intervals ``(lower, upper)`` in increasing order.

    An Anderson-Rubin set may be one bounded interval, two half-lines, the whole line
    ``[(-inf, inf)]``, several intervals, or empty ``[]`` (every value rejected: with
    more instruments than treatments, evidence against the model itself). ``method``
    says how the set was computed.

    Examples
    --------
    >>> from causalkit.inference import ConfidenceSet
    >>> s = ConfidenceSet([(-float("inf"), -1.0), (2.0, float("inf"))], method="example",
    ...                   alpha=0.05)
    >>> s.contains(3.0), s.contains(0.0), s.bounded, s.empty
    (True, False, False, False)
    """

    def __init__(self, intervals, *, method: str, alpha: float, name: str = ""):
        super().__init__((float(lo), float(hi)) for lo, hi in intervals)
        self.method = method
        self.alpha = float(alpha)
        self.name = name

    @property
    def bounded(self) -> bool:
        """True when every interval has finite ends (an empty set is bounded)."""
        return all(np.isfinite(lo) and np.isfinite(hi) for lo, hi in self)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the set (ends included)."""
        return any(lo <= value <= hi for lo, hi in self)

    def __repr__(self) -> str:
        body = " U ".join(f"[{lo:.6g}, {hi:.6g}]" for lo, hi in self) or "empty"
        label = f"{self.name}: " if self.name else ""
        return f"ConfidenceSet({label}{body}; {1 - self.alpha:.0%}, {self.method})"
