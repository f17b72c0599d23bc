"""Lazy imports of optional, heavy dependencies with a message naming the extra."""

from __future__ import annotations

import importlib

_PIP_NAMES = {"torch": "torch", "matplotlib": "matplotlib", "dask": "dask[distributed]",
              "distributed": "dask[distributed]", "ray": "ray"}


def require(module: str, *, extra: str):
    """Import ``module`` or raise ImportError saying which causalkit extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise ImportError(
            f"This feature needs `{top}`, which is not installed. Install it with "
            f"`pip install \"causalkit[{extra}]\"` (or `pip install {_PIP_NAMES.get(top, top)}`)."
        ) from exc
