"""Package-level promises: cheap import, lazy heavy dependencies, the demo."""

from __future__ import annotations

import subprocess
import sys

import pytest

import causalkit


def test_import_does_not_load_heavy_dependencies():
    code = ("import sys, causalkit, causalkit.inference, causalkit.ate; "
            "print(','.join(m for m in ('numba', 'torch', 'matplotlib', 'dask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_subpackages_and_version():
    assert causalkit.__version__
    assert causalkit.inference.Estimate is not None
    with pytest.raises(AttributeError):
        _ = causalkit.no_such_thing


def test_require_names_the_extra():
    from causalkit._lazy import require

    with pytest.raises(ImportError, match=r'pip install "causalkit-inference\[torch\]"'):
        require("torch_does_not_exist_here", extra="torch")


def test_demo_quick_prints_truth_beside_estimate(capsys):
    from causalkit._demo import run_demo

    rows = run_demo(quick=True, families=["ate"])  # the whole demo: tests/test_demo.py (slow)
    out = capsys.readouterr().out
    assert "AIPW" in out and "truth" in out
    aipw = next(r for r in rows if r["estimator"] == "AIPW")
    assert aipw["truth"] == 1.0 and aipw["covers"]


def test_packaged_data_files_are_hash_checked():
    import hashlib
    from importlib import resources

    import pytest

    from causalkit.datasets._base import read_packaged_file

    kw = dict(loader="load_x", what="the test file", install="pip install x")
    raw = (resources.files("causalkit") / "datasets/_base.py").read_bytes()
    good = hashlib.sha256(raw).hexdigest()
    assert read_packaged_file("causalkit", "datasets/_base.py", good, **kw) == raw
    with pytest.raises(ValueError, match="has SHA-256 .* not 0{64}; its contents changed"):
        read_packaged_file("causalkit", "datasets/_base.py", "0" * 64, **kw)
    with pytest.raises(ImportError, match=r"load_x reads the test file; install it with "
                                          r"`pip install x`"):
        read_packaged_file("causalkit_no_such_package", "a.csv", good, **kw)
