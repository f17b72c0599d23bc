"""Shared fixtures. ``shared_dir`` points at ../shared (skips when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CAUSALKIT_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's ../shared folder (method notes, golden fixtures)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent: golden-fixture tests skip here")
    return SHARED


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)
