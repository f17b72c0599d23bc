"""Bootstrap helpers: nonparametric (rows or clusters) and Gaussian multiplier.

Reproducibility: every replicate's random stream is spawned up front from one
:class:`numpy.random.SeedSequence`, and replicates are split into fixed batches,
so the same ``random_state`` gives the same draws whatever the joblib backend,
``n_jobs`` or batch scheduling.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
from joblib import Parallel, delayed

from .._progress import parallel, progress
from ..config import inner_threads, limit_threads
from ..utils.validation import check_alpha, check_bool, check_groups, check_integer

__all__ = [
    "seed_sequence",
    "bootstrap",
    "multiplier_bootstrap",
    "sup_t_critical_value",
]


def seed_sequence(random_state) -> np.random.SeedSequence:
    """A :class:`~numpy.random.SeedSequence` from an int, a Generator, a
    RandomState or ``None`` (fresh entropy).

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference import seed_sequence
    >>> a = seed_sequence(0).spawn(2)
    >>> b = seed_sequence(0).spawn(2)
    >>> np.random.default_rng(a[1]).random() == np.random.default_rng(b[1]).random()
    True
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.SeedSequence(random_state)
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31)))
    raise TypeError(
        f"`random_state` must be None, an int, a numpy Generator or RandomState; got "
        f"{type(random_state).__name__}."
    )


def _batches(n_boot: int, batch_size: int):
    return [(s, min(s + batch_size, n_boot)) for s in range(0, n_boot, batch_size)]


def _resample_batch(threads, statistic, arrays, seeds, cluster_index, n):
    with limit_threads(threads):
        return _resample_batch_task(statistic, arrays, seeds, cluster_index, n)


def _resample_batch_task(statistic, arrays, seeds, cluster_index, n):
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        if cluster_index is None:
            idx = rng.integers(0, n, size=n)
        else:
            picked = rng.integers(0, len(cluster_index), size=len(cluster_index))
            idx = np.concatenate([cluster_index[g] for g in picked])
        out.append(np.atleast_1d(np.asarray(statistic(*(a[idx] for a in arrays)), dtype=float)))
    return out


def bootstrap(
    statistic: Callable,
    *arrays,
    n_boot: int = 999,
    groups=None,
    random_state=None,
    n_jobs=None,
    batch_size: int = 50,
    verbose: bool = False,
) -> np.ndarray:
    """Nonparametric bootstrap replicates of ``statistic(*arrays)``.

    Rows are resampled with replacement; with ``groups``, whole clusters are.

    Parameters
    ----------
    statistic : callable
        Maps the resampled arrays to a number or a 1-D array.
    *arrays : array-like
        Arrays with the same first dimension, resampled together.
    n_boot : int
        Number of replicates.
    groups : array-like, optional
        Cluster labels: clusters are resampled instead of rows.
    random_state : int, Generator or None
        Seed; the same seed gives the same replicates on every joblib backend.
    n_jobs : int or None
        Parallel jobs (joblib); ``None`` means 1 unless a ``parallel_config`` says otherwise.
        Inner BLAS/OpenMP threads per task follow :mod:`causalkit.config`.
    batch_size : int
        Replicates per joblib task.
    verbose : bool, default False
        Show a progress bar (tqdm, on standard error) over the draws, advanced as each
        batch of ``batch_size`` replicates finishes.

    Returns
    -------
    ndarray of shape (n_boot, k)
        The replicates.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference import bootstrap
    >>> x = np.arange(100.0)
    >>> reps = bootstrap(np.mean, x, n_boot=200, random_state=0)
    >>> reps.shape
    (200, 1)
    >>> bool(abs(reps.std() - x.std() / 10) < 1.0)
    True
    """
    if not arrays:
        raise ValueError("bootstrap needs at least one array to resample.")
    arrays = [np.asarray(a) for a in arrays]
    n = arrays[0].shape[0]
    for i, a in enumerate(arrays):
        if a.shape[0] != n:
            raise ValueError(f"All arrays must have {n} rows; array {i} has {a.shape[0]}.")
    n_boot = check_integer(n_boot, "n_boot", low=1)
    batch_size = check_integer(batch_size, "batch_size", low=1)
    check_bool(verbose, "verbose")
    codes = check_groups(groups, n=n)
    cluster_index = None
    if codes is not None:
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
        cluster_index = [order[bounds[g]:bounds[g + 1]] for g in range(codes.max() + 1)]
    seeds = seed_sequence(random_state).spawn(int(n_boot))
    threads = inner_threads(n_jobs, n_rows=n)
    batches = _batches(int(n_boot), batch_size)
    with limit_threads(threads), progress(total=int(n_boot), desc="bootstrap", unit="draw",
                                          verbose=verbose) as bar:
        parts = []
        for part in parallel(n_jobs, verbose)(
                delayed(_resample_batch)(threads, statistic, arrays, seeds[s:e], cluster_index, n)
                for s, e in batches):
            parts.append(part)
            bar.update(len(part))
    return np.vstack([r for part in parts for r in part])


_WEIGHTS = ("gaussian", "rademacher", "mammen")


def _multiplier_batch(psi, seeds, kind, codes, n_clusters):
    out = np.empty((len(seeds), psi.shape[1]))
    n = psi.shape[0]
    m = n if codes is None else n_clusters
    for j, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        if kind == "gaussian":
            xi = rng.standard_normal(m)
        elif kind == "rademacher":
            xi = rng.integers(0, 2, size=m) * 2.0 - 1.0
        else:  # Mammen's two-point law
            s5 = np.sqrt(5.0)
            a, b = -(s5 - 1) / 2, (s5 + 1) / 2
            xi = np.where(rng.random(m) < (s5 + 1) / (2 * s5), a, b)
        if codes is not None:
            xi = xi[codes]
        out[j] = xi @ psi / n
    return out


def multiplier_bootstrap(
    influence,
    *,
    n_boot: int = 999,
    weights: str = "gaussian",
    groups=None,
    random_state=None,
    n_jobs=None,
    batch_size: int = 100,
) -> np.ndarray:
    """Multiplier bootstrap draws of ``(1/n) sum_i xi_i psi_i``.

    With ``psi`` the (centred) influence-function values of ``G`` estimates, the
    draws approximate the law of ``estimate - truth``; their sup over the grid
    gives uniform bands (Chernozhukov, Chetverikov and Kato, 2013).

    Parameters
    ----------
    influence : array-like of shape (n,) or (n, G)
        Influence-function values, one row per unit.
    n_boot : int
        Number of draws.
    weights : {"gaussian", "rademacher", "mammen"}
        Law of the multipliers ``xi`` (mean 0, variance 1).
    groups : array-like, optional
        Cluster labels: one multiplier per cluster.
    random_state, n_jobs, batch_size
        As in :func:`bootstrap`.

    Returns
    -------
    ndarray of shape (n_boot, G)

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference import multiplier_bootstrap
    >>> psi = np.random.default_rng(0).normal(size=(1000, 3))
    >>> draws = multiplier_bootstrap(psi, n_boot=2000, random_state=1)
    >>> bool(np.allclose(draws.std(axis=0), psi.std(axis=0) / np.sqrt(1000), rtol=0.1))
    True
    """
    psi = np.asarray(influence, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    if psi.ndim != 2:
        raise ValueError(f"`influence` must be 1-D or 2-D; got shape {psi.shape}.")
    if weights not in _WEIGHTS:
        raise ValueError(f"`weights` must be one of {_WEIGHTS}; got {weights!r}.")
    n_boot = check_integer(n_boot, "n_boot", low=1)
    batch_size = check_integer(batch_size, "batch_size", low=1)
    codes = check_groups(groups, n=psi.shape[0])
    n_clusters = None if codes is None else int(codes.max()) + 1
    seeds = seed_sequence(random_state).spawn(int(n_boot))
    with limit_threads(inner_threads(n_jobs, n_rows=psi.shape[0])):
        parts = Parallel(n_jobs=n_jobs)(
            delayed(_multiplier_batch)(psi, seeds[s:e], weights, codes, n_clusters)
            for s, e in _batches(int(n_boot), batch_size)
        )
    return np.vstack(parts)


def sup_t_critical_value(draws, stderr, alpha: float = 0.05) -> float:
    """``1 - alpha`` quantile of ``max_g |draws_g| / stderr_g`` (uniform band width).

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference import sup_t_critical_value
    >>> draws = np.random.default_rng(0).normal(size=(4000, 1))   # one coordinate
    >>> 1.9 < sup_t_critical_value(draws, np.ones(1)) < 2.05        # the normal quantile, 1.96
    True
    >>> draws = np.random.default_rng(0).normal(size=(4000, 10))  # ten independent ones
    >>> 2.6 < sup_t_critical_value(draws, np.ones(10)) < 3.1      # wider, for joint coverage
    True
    """
    alpha = check_alpha(alpha)
    draws = np.asarray(draws, dtype=float)
    se = np.asarray(stderr, dtype=float)
    se = np.where(se > 0, se, np.inf)
    return float(np.quantile(np.abs(draws / se).max(axis=1), 1 - alpha))
