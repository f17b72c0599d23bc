"""causalkit: statistical and causal inference in scikit-learn style.

Estimators live in one subpackage per causal design (``causalkit.ate``,
``causalkit.hte``, ``causalkit.frontdoor``, ``causalkit.iv``, ``causalkit.rdd``,
``causalkit.montecarlo``, ``causalkit.ope``, ``causalkit.calibration``); results
share the vocabulary of :mod:`causalkit.inference`. Subpackages are imported on
first access, so ``import causalkit`` is cheap. ``get_config``, ``set_config`` and
``config_context`` (:mod:`causalkit.config`) set the library's thread policy.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0.dev0"

_SUBPACKAGES = (
    "ate", "hte", "frontdoor", "iv", "rdd", "montecarlo", "ope", "calibration",
    "sensitivity", "inference", "datasets", "graphs", "plotting", "utils", "testing", "config",
)
_CONFIG = ("get_config", "set_config", "config_context")

__all__ = ["__version__", *_CONFIG, *_SUBPACKAGES]


def __getattr__(name):
    if name in _CONFIG:
        return getattr(importlib.import_module(f"{__name__}.config"), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'causalkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES) | set(_CONFIG))
