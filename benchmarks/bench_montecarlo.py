"""ControlVariates vs statsmodels OLS: the same regression-control-variate fit.

Fits y on [1, Z - mu] for n draws and p = 20 controls; causalkit's Cholesky of
the centred Gram matrix (chunked) and pivoted QR against statsmodels' OLS
(pinv-based) with its intercept and standard error. Checks the numbers agree.

Run:  python benchmarks/bench_montecarlo.py [n ...] [--repeats 3]
(default n = 1e6 and 1e7; at 1e7 statsmodels and the QR solver are left out (memory) and
the ratios are to the floor: one finiteness check and a normal-equations solve).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One OpenMP/BLAS thread from the start: a pool started with more threads and capped
# later keeps an idle thread spinning, which inflates CPU time on a busy machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Benchmark

from causalkit.montecarlo import ControlVariates


def data(n, p=20, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.uniform(size=(n, p))
    y = np.exp(Z[:, 0]) + Z[:, 1:] @ np.linspace(0.1, 1.0, p - 1) + 0.1 * rng.normal(size=n)
    return Z, y


def run_one(n, repeats=3, peers=True):
    import statsmodels.api as sm

    Z, y = data(n)
    mu = np.full(Z.shape[1], 0.5)
    chol = lambda: ControlVariates(control_means=mu).fit(Z, y).mean()
    qr = lambda: ControlVariates(control_means=mu, solver="qr").fit(Z, y).mean()

    def statsmodels_ols():
        r = sm.OLS(y, sm.add_constant(Z - mu, has_constant="add")).fit()
        return r.params[0], r.bse[0]

    def floor():
        # the least any such fit must do: check the inputs once for finiteness, then
        # solve the normal equations of y on [1, Z] (intercept = the CV mean at Z - mu)
        if not (np.isfinite(Z).all() and np.isfinite(y).all()):
            raise ValueError("non-finite input")
        s = Z.sum(axis=0)
        A = np.empty((Z.shape[1] + 1,) * 2)
        A[0, 0], A[0, 1:], A[1:, 0], A[1:, 1:] = n, s, s, Z.T @ Z
        b = np.r_[y.sum(), Z.T @ y]
        coef = np.linalg.solve(A, b)
        return coef[0] + mu @ coef[1:]

    if peers:
        a, b, (v, se) = chol(), qr(), statsmodels_ols()
        assert abs(b.value - v) < 1e-9 * abs(v)
    else:  # the Cholesky fit against the floor's solve only
        a = chol()
        v, se = floor(), a.stderr
    assert abs(floor() - v) < 1e-6 * abs(v)
    assert abs(a.value - v) < 1e-9 * abs(v)
    assert abs(a.stderr / se - 1) < 1e-3, (a.stderr, se)
    big = n >= 10**7
    bench = Benchmark(f"montecarlo_n{n:.0e}".replace("+", ""),
                      description=f"ControlVariates against a normal-equations floor"
                                  f"{' and statsmodels OLS' if peers and not big else ''}, n={n:,}, p=20")
    bench.add("floor", floor).add("causalkit-cholesky", chol)
    if not big and peers:
        bench.add("causalkit-qr", qr)
        bench.add("statsmodels", statsmodels_ols)
    bench.note("floor: np.isfinite over Z and y once, then the normal equations of y on [1, Z] "
               "(Z'Z by syrk, Z'y, column sums) and one solve; no scores, no SE")
    bench.note("clock: process CPU time (single-threaded BLAS via causalkit.config_context)")
    bench.note(f"intercept agrees to 1e-9 relative; SE to {abs(a.stderr / se - 1):.1e}")
    import causalkit

    with causalkit.config_context(n_threads=1):
        rep = bench.run(repeats=repeats, baseline="floor", warmup=False, memory=not big,
                        clock="cpu")
    rep.save()
    print(rep.markdown())


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=float, default=[1e6, 1e7])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true", help="floor and Cholesky only")
    a = ap.parse_args(argv)
    for n in a.sizes:
        run_one(int(n), a.repeats, peers=not a.no_peers)


if __name__ == "__main__":
    main()
