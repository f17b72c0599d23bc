"""Data-generating processes with known truth, and loaders for shipped real data.

Each design keeps its generators in a private module ``_<design>.py``; this
package re-exports them all.
"""

from ._ate import make_ate_data
from ._base import Dataset

__all__ = ["Dataset", "make_ate_data"]


def _extend():
    # Designs add generators in their own private modules; re-export any present.
    import importlib

    for mod in ("_hte", "_frontdoor", "_iv", "_rdd", "_montecarlo", "_ope", "_calibration"):
        try:
            m = importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise
            continue
        for name in getattr(m, "__all__", []):
            globals()[name] = getattr(m, name)
            __all__.append(name)


_extend()
del _extend
