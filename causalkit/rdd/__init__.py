"""Regression discontinuity designs."""
