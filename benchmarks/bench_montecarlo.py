"""ControlVariates vs statsmodels OLS: the same regression-control-variate fit.

Fits y on [1, Z - mu] for n draws and p = 20 controls; causalkit's Cholesky of
the centred Gram matrix (chunked) and pivoted QR against statsmodels' OLS
(pinv-based) with its intercept and standard error. Checks the numbers agree.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_montecarlo.py [n ...]
(default n = 1e6 and 1e7; the 1e7 case needs ~6 GB for statsmodels).
"""

from __future__ import annotations

import sys
from pathlib import Path

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


def run_one(n):
    import statsmodels.api as sm

    Z, y = data(n)
    mu = np.full(Z.shape[1], 0.5)
    chol = lambda: ControlVariates(control_means=mu).fit(Z, y).mean()
    qr = lambda: ControlVariates(control_means=mu, solver="qr").fit(Z, y).mean()

    def statsmodels_ols():
        r = sm.OLS(y, sm.add_constant(Z - mu, has_constant="add")).fit()
        return r.params[0], r.bse[0]

    a, b, (v, se) = chol(), qr(), statsmodels_ols()
    assert abs(a.value - v) < 1e-9 * abs(v) and abs(b.value - v) < 1e-9 * abs(v)
    assert abs(a.stderr / se - 1) < 1e-3, (a.stderr, se)
    big = n >= 10**7
    bench = Benchmark(f"montecarlo_n{n:.0e}".replace("+", ""),
                      description=f"ControlVariates vs statsmodels OLS, n={n:,}, p=20")
    bench.add("causalkit-cholesky", chol)
    if not big:
        bench.add("causalkit-qr", qr)
    bench.add("statsmodels", statsmodels_ols)
    bench.note(f"intercept agrees to 1e-9 relative; SE to {abs(a.stderr / se - 1):.1e}")
    rep = bench.run(repeats=1 if big else 3, baseline="statsmodels", warmup=False, memory=not big)
    rep.save()


def main(sizes):
    for n in sizes:
        run_one(n)


if __name__ == "__main__":
    sizes = [int(float(s)) for s in sys.argv[1:]] or [10**6, 10**7]
    main(sizes)
