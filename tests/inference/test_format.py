"""Results and diagnostics print in one readable style."""

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalkit.inference import Diagnostics, EffectCurve, Estimate, EstimateTable, format_pvalue
from causalkit.inference._format import decimals, format_frame, format_value

ROOT = Path(__file__).resolve().parents[2]
LONG_METHOD = "AIPW, 5-fold cross-fitted, repeated 3 times, influence-function SE, t(19) with clusters"


@pytest.mark.parametrize("p, text", [(0.0, "< 1e-16"), (1e-300, "< 1e-16"), (2e-16, "2.0e-16"),
                                     (0.00042, "4.2e-04"), (0.0312, "0.031"), (1.0, "1.000"),
                                     (float("nan"), "nan")])
def test_pvalue_text(p, text):
    assert format_pvalue(p) == text


def test_a_huge_z_prints_a_floor_not_zero():
    est = Estimate(5.0, 0.05, n=1000, method="m", name="ATE")
    assert est.pvalue == 0.0            # the number stays a number
    assert "< 1e-16" in str(est) and "p < 1e-16" in repr(est)
    assert format_frame(est.summary())[0].loc["ATE", "P>|z|"] == "< 1e-16"


@pytest.mark.parametrize("se", [0.0612, 0.000412, 3.4, 250.0])
def test_digits_follow_the_standard_error_and_intervals_are_never_points(se):
    est = Estimate(1.718281828 * (1 + se), se, n=100, method="m", name="x")
    row = format_frame(est.summary())[0].loc["x"]
    value, stderr, lo, hi = row["estimate"], row["std err"], row["[0.025"], row["0.975]"]
    assert len({value, lo, hi}) == 3
    d = decimals(se)
    for cell in (value, stderr, lo, hi):            # one decimal place for all four
        assert (len(cell.split(".")[1]) == d) if d else ("." not in cell)
    assert len(stderr.replace(".", "").lstrip("0")) == 2 or se >= 10   # two significant digits


def test_summary_prints_whole_under_a_narrow_display_and_keeps_its_numbers():
    est = Estimate(1.0234567, 0.0612345, n=2000, method=LONG_METHOD, name="ATE")
    with pd.option_context("display.width", 40, "display.max_columns", 3):
        text = str(est.summary())
        html = est.summary()._repr_html_()
    assert LONG_METHOD in text and "..." not in text and "\\" not in text
    assert "1.023" in text and "0.061" in text and "n: 2000" in text
    assert LONG_METHOD in html and "&lt; 1e-16" in html and "0.975]" in html
    frame = est.summary()
    assert isinstance(frame, pd.DataFrame) and frame.loc["ATE", "estimate"] == 1.0234567
    assert type(frame.loc[["ATE"]]) is pd.DataFrame       # anything derived is a plain frame
    assert str(est) == text


def test_table_rounds_each_row_from_its_own_standard_error():
    tab = EstimateTable([Estimate(1.02345, 0.0612, n=10, method="a", name="big"),
                         Estimate(0.0012345, 0.0000412, n=10, method="b", name="small")],
                        title="Two scales")
    text = repr(tab)
    assert text.splitlines()[0] == "EstimateTable: Two scales"
    assert "1.023" in text and "0.001234" in text and "0.000041" in text
    assert "method" in text.splitlines()[1]           # methods differ: kept as a column
    assert "n: 10" in text                            # n is shared: written once below
    assert "<b>Two scales</b>" in tab._repr_html_()


def test_curve_prints_every_grid_point():
    rng = np.random.default_rng(0)
    curve = EffectCurve(grid=np.linspace(0.01, 0.99, 99), values=np.ones(99), stderr=np.full(99, 0.1),
                        draws=rng.normal(0, 0.1, (300, 99)), n=500, method="m", name="tau(q)",
                        grid_name="quantile")
    with pd.option_context("display.max_rows", 10):
        text = str(curve)
    assert text.startswith("tau(q) over 99 quantile points")
    assert len(text.splitlines()) == 1 + 1 + 99 and "..." not in text
    assert "uniform lower" in text and repr(curve).startswith("EffectCurve(")


def test_diagnostics_print_as_a_table_and_stay_a_dict():
    d = Diagnostics({"propensity_min": 0.012345678, "n_trimmed": 3, "flag": True,
                     "sd": np.array([0.5, 1.25]), "long": np.arange(100.0),
                     "strata": pd.DataFrame({"size": [10, 20], "r2": [0.123456, 0.5]}),
                     "nested": {"a": 1.0e-7}})
    text = repr(d)
    lines = text.splitlines()
    assert lines[0].split() == ["propensity_min", "0.01235"]
    assert "n_trimmed" in lines[1] and lines[1].endswith(" 3")
    assert "[0.5, 1.25]" in text and "array of shape (100,), from 0 to 99" in text
    assert "strata:" in text and "0.1235" in text and "nested:" in text and "1e-07" in text
    assert str(d) == text and "<table>" in d._repr_html_()
    tests = repr(Diagnostics({"overid_pvalue": 0.0, "first_stage_F_pvalue": 0.0123}))
    assert "overid_pvalue         < 1e-16" in tests and "0.012" in tests
    # a dict in every other respect
    plain = dict(d)
    assert isinstance(d, dict) and d["n_trimmed"] == 3 and list(d) == list(plain)
    again = pickle.loads(pickle.dumps(d))
    assert type(again) is Diagnostics and list(again) == list(d)
    assert json.loads(json.dumps({"a": 1.5, "b": 2})) == Diagnostics({"a": 1.5, "b": 2})
    assert json.dumps(Diagnostics({"a": 1.5})) == '{"a": 1.5}'
    assert type(d.copy()) is Diagnostics and repr(Diagnostics()) == "Diagnostics({})"


@pytest.mark.parametrize("value, text", [(0.012345678, "0.01235"), (123456.7, "1.235e+05"),
                                         (7, "7"), (np.int64(7), "7"), (None, "None"), ("x", "x"),
                                         ([1.0, 2.0], "[1, 2]")])
def test_diagnostic_values(value, text):
    assert format_value(value) == text


def test_every_family_stores_its_diagnostics_as_diagnostics():
    """Each ``self.diagnostics_ = ...`` (or ``est.diagnostics_`` in the Dask paths) in the
    package wraps its value in Diagnostics."""
    bare = []
    for path in (ROOT / "causalkit").rglob("*.py"):
        for m in re.finditer(r"(?:self|est)\.diagnostics_ = (.*)", path.read_text()):
            if not m.group(1).startswith("Diagnostics("):
                bare.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert not bare, bare


def test_a_fitted_estimator_prints_labelled_results():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.ate import AIPW
    from causalkit.datasets import make_ate_data

    d = make_ate_data(400, random_state=0)
    est = AIPW(LinearRegression(), LogisticRegression(), cv=2, random_state=0).fit(
        d.X, d.y, treatment=d.treatment)
    assert isinstance(est.diagnostics_, Diagnostics)
    text = repr(est.diagnostics_)
    assert "propensity_min" in text and not re.search(r"\d\.\d{6,}", text)   # 4 significant digits
    out = str(est.ate())
    assert "estimate" in out and "P>|z|" in out and "method: AIPW" in out
