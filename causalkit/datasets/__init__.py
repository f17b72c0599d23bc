"""Data-generating processes with known truth, and loaders for shipped real data.

Each design keeps its generators in a private module ``_<design>.py``; this
package re-exports them all.
"""

from ._ate import make_ate_data, make_multiarm_data
from ._base import Dataset

__all__ = ["Dataset", "make_ate_data", "make_multiarm_data"]


def _extend():
    # Designs add generators in their own private modules ``_<name>.py``;
    # re-export the ``__all__`` of every such module present.
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_") or info.name in ("_ate", "_base"):
            continue
        m = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(m, "__all__", []):
            globals()[name] = getattr(m, name)
            __all__.append(name)


_extend()
del _extend
