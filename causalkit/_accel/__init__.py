"""Compiled kernels (numba) and torch helpers. Private: no public API.

numba is imported only when a kernel is first called, and kernels are cached to
disk, so ``import causalkit`` stays fast.
"""

from __future__ import annotations

import functools

__all__ = ["lazy_njit", "torch_device"]


def lazy_njit(*jit_args, **jit_kwargs):
    """Decorator: compile with ``numba.njit(cache=True, ...)`` on first call only."""
    jit_kwargs.setdefault("cache", True)

    def wrap(func):
        compiled = None

        @functools.wraps(func)
        def call(*args, **kwargs):
            nonlocal compiled
            if compiled is None:
                import numba

                compiled = numba.njit(*jit_args, **jit_kwargs)(func)
            return compiled(*args, **kwargs)

        call.py_func = func
        return call

    return wrap


def torch_device(device="auto"):
    """Resolve ``device``: "auto" picks CUDA when available, else the CPU."""
    from .._lazy import require

    torch = require("torch", extra="torch")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
