"""Shared fixtures. ``shared_dir`` points at ../shared (skips when absent)."""

from __future__ import annotations

import os
from pathlib import Path

# The suite runs one inner thread per process (causalkit's thread policy, causalkit.config):
# on a shared machine, OpenMP and torch threads that spin-wait on a busy core make a run
# ten to a hundred times slower with identical numbers. Set before numpy/OpenMP load, and
# inherited by joblib workers and subprocesses. A variable the caller set wins.
for _var in ("CAUSALKIT_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

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
