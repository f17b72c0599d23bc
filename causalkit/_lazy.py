"""Lazy imports of optional, heavy dependencies with a message naming the extra."""

from __future__ import annotations

import importlib

#: The name under which the project is published on PyPI (``pip install``). The import
#: package is ``causalkit``; the distribution has its own name because ``causalkit`` on
#: PyPI belongs to an unrelated project (as scikit-learn is installed as ``scikit-learn``
#: and imported as ``sklearn``).
DIST_NAME = "causalkit-inference"

_PIP_NAMES = {"torch": "torch", "matplotlib": "matplotlib", "dask": "dask[distributed]",
              "distributed": "dask[distributed]", "ray": "ray"}


def install_hint(extra: str) -> str:
    """The pip command that installs this project with ``extra``."""
    return f'pip install "{DIST_NAME}[{extra}]"'


def require(module: str, *, extra: str):
    """Import ``module`` or raise ImportError saying which extra of the project installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise ImportError(
            f"This feature needs `{top}`, which is not installed. Install it with "
            f"`{install_hint(extra)}` (or `pip install {_PIP_NAMES.get(top, top)}`)."
        ) from exc
