"""The demo and the command line: readable numbers, a total, skipped rows, warnings, --family."""

from __future__ import annotations

import io
import math
import os
import re
import warnings

import numpy as np
import pytest

import causalkit
from causalkit import _cli, _demo
from causalkit._demo import DemoRow, format_estimate, format_seconds, run_demo
from causalkit.inference import Estimate
from causalkit.utils.validation import PositivityWarning


@pytest.mark.parametrize("se", [3e-7, 4.12e-4, 0.006, 0.06, 0.6, 6.0, 60.0, 6e4])
def test_interval_digits_follow_the_standard_error(se):
    est = Estimate(1.718281828 * max(1.0, se), se, n=100, method="m")
    f = format_estimate(est, truth=est.value)
    lo, hi = (float(x) for x in f["95% CI"].strip("[]").split(", "))
    assert lo < hi  # never printed as a point
    # the SE shows two significant digits, the interval ends the same decimals
    digits = re.sub(r"^[0.]*", "", f["SE"].replace(".", ""))
    assert len(digits) >= 2
    assert float(f["SE"]) == pytest.approx(se, rel=0.05)
    dec = len(f["SE"].split(".")[1]) if "." in f["SE"] else 0
    assert all(len(x.split(".")[1]) == dec if dec else "." not in x
               for x in f["95% CI"].strip("[]").split(", "))
    assert f["truth"] == f["estimate"]


def test_zero_standard_error_still_shows_significant_digits():
    f = format_estimate(Estimate(0.0012345, 0.0, n=1, method="exact"))
    assert f["estimate"] == "0.001234" or f["estimate"] == "0.001235"


@pytest.mark.parametrize("secs, text", [(0.0, "<0.01"), (0.004, "<0.01"), (0.5, "0.50"),
                                        (9.994, "9.99"), (12.34, "12.3"), (250.4, "250")])
def test_seconds_precision(secs, text):
    assert format_seconds(secs) == text


def _row(fn, **kw):
    return DemoRow("design", "Est", "data", fn, **kw)


def _run_rows(monkeypatch, rows, **kw):
    monkeypatch.setattr(_demo, "collect_rows", lambda families=None: rows)
    out, prog = io.StringIO(), io.StringIO()
    res = run_demo(quick=True, out=out, progress=prog, **kw)
    return res, out.getvalue(), prog.getvalue()


def test_table_total_and_coverage(monkeypatch):
    rows = [_row(lambda q: (Estimate(1.0, 0.1, n=10, method="m", name="ATE"), 1.05)),
            _row(lambda q: (Estimate(3.0, 0.1, n=10, method="m", name="ATE"), 1.0))]
    res, out, prog = _run_rows(monkeypatch, rows)
    assert [r["covers"] for r in res] == [True, False]
    assert "[0.80, 1.20]" in out and "1.05" in out
    assert re.search(r"2 rows fitted, 1 of 2 95% intervals cover the truth\. Total \S+ s wall, "
                     r"\S+ s CPU\.", out)
    assert "n_threads=1" in prog and "done in" in prog


def test_row_with_a_missing_dependency_says_why(monkeypatch):
    called = []
    rows = [_row(lambda q: called.append(q), needs=("causalkit_no_such_module",), extra="torch")]
    res, out, prog = _run_rows(monkeypatch, rows)
    assert not called
    assert res[0]["status"] == "skipped: needs causalkit_no_such_module"
    assert "skipped: needs causalkit_no_such_module" in out
    assert 'pip install "causalkit-inference[torch]"' in prog
    assert "0 rows fitted" in out and "1 skipped" in out


def test_cfdivae_row_is_listed_with_its_requirement():
    rows = _demo.collect_rows(["frontdoor"])
    cfd = [r for r in rows if r.estimator == "CFDiVAE"]
    assert len(cfd) == 1 and cfd[0].needs == ("torch",) and cfd[0].extra == "torch"
    assert {r.family for r in rows} == {"frontdoor"}


def test_named_warnings_are_shown_once_per_row_and_others_are_not(monkeypatch):
    def noisy(q):
        for _ in range(3):
            warnings.warn("propensities near 0", PositivityWarning, stacklevel=1)
        warnings.warn("an internal detail", RuntimeWarning, stacklevel=1)
        return Estimate(1.0, 0.1, n=10, method="m"), 1.0

    res, out, prog = _run_rows(monkeypatch, [_row(noisy), _row(noisy)])
    assert prog.count("warning: PositivityWarning: propensities near 0") == 2  # once per row
    assert "internal detail" not in prog
    assert res[0]["warnings"] == ["PositivityWarning: propensities near 0"]


def test_demo_runs_under_the_requested_thread_policy(monkeypatch):
    seen = []
    rows = [_row(lambda q: (seen.append(causalkit.get_config()["n_threads"])
                            or (Estimate(1.0, 0.1, n=10, method="m"), 1.0)))]
    _run_rows(monkeypatch, rows, n_threads=2)
    assert seen == [2]


def test_unknown_family_is_named():
    with pytest.raises(ValueError, match="`family` must be among .*'rdd'.*got \\['nope'\\]"):
        _demo.collect_rows(["nope"])


def test_cli_version_and_bare_help(capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(["--version"])
    assert exc.value.code == 0
    assert causalkit.__version__ in capsys.readouterr().out
    assert _cli.main([]) == 0
    out = capsys.readouterr().out
    assert "usage: causalkit" in out and "demo" in out


def test_cli_rejects_an_unknown_family_and_bad_threads(capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(["demo", "--family", "nope"])
    assert exc.value.code == 2 and "--family must be among" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli.main(["demo", "--threads", "0"])
    assert "positive integer" in capsys.readouterr().err


def test_cli_runs_one_family(capsys, monkeypatch):
    for var in _cli._THREAD_ENV:
        monkeypatch.delenv(var, raising=False)  # restored after the test
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # a user's own setting is kept
    assert _cli.main(["demo", "--quick", "--family", "montecarlo"]) == 0
    # OpenMP and BLAS are capped from the start (a pool capped later keeps a spinning thread)
    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["MKL_NUM_THREADS"] == "3"
    out = capsys.readouterr().out
    assert "ControlVariates" in out and "AIPW" not in out
    assert "2 of 2 95% intervals cover the truth" in out


@pytest.mark.slow
def test_quick_demo_every_row_covers_its_truth():
    out, prog = io.StringIO(), io.StringIO()
    rows = run_demo(quick=True, out=out, progress=prog)
    fitted = [r for r in rows if r["status"] == "ok"]
    assert len(fitted) >= 17
    for r in fitted:
        assert math.isfinite(r["estimate"]) and r["stderr"] > 0
        if r["estimator"] == "CFDiVAE":
            # its bootstrap SE is the second stage's only; the learned mediator adds a bias
            # of a few per cent at 3000 units (the tolerance of tests/frontdoor)
            assert abs(r["estimate"] - r["truth"]) < 3 * r["stderr"] + 0.1 * abs(r["truth"]), r
        else:
            # every row's data have a known truth and a fixed seed; the 95% interval covers it
            assert r["covers"], r
    assert np.isfinite([r["seconds"] for r in fitted]).all()
