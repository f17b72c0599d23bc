"""Validation and small helpers shared by every design."""

from .validation import (
    CausalkitWarning,
    FewObservationsWarning,
    PositivityWarning,
    WeakInstrumentWarning,
)

__all__ = ["CausalkitWarning", "PositivityWarning", "WeakInstrumentWarning", "FewObservationsWarning"]
