"""TSLS fit time against linearmodels' IV2SLS, on the same data, at several n.

Five controls, two instruments, one endogenous treatment; both fit 2SLS with the HC0
("robust") covariance. causalkit's fit also computes its diagnostics (robust first-stage
F, Kleibergen-Paap statistics, Wooldridge's over-identification test and the
Anderson-Rubin inputs); linearmodels computes its first-stage diagnostics lazily, so
only its estimate and covariance are timed. Repeats alternate; the ratio is on process
CPU time (one BLAS thread: set the thread variables before numpy loads).

Run: python benchmarks/bench_tsls.py [--sizes 100000 1000000 4000000] [--repeats 3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from harness import Benchmark  # noqa: E402


def _data(n, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Z = rng.normal(size=(n, 2))
    u = rng.normal(size=n)
    d = Z @ [0.5, 0.3] + X[:, 0] + u + rng.normal(size=n)
    y = 1.0 * d + X @ np.full(5, 0.2) + u
    return X, y, d, Z


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import numpy as np
    from linearmodels.iv import IV2SLS

    from causalkit.iv import TSLS

    for n in args.sizes:
        X, y, d, Z = _data(n)
        exog = np.c_[np.ones(n), X]
        out = {}

        def ours(X=X, y=y, d=d, Z=Z, out=out):
            out["ours"] = TSLS().fit(X, y, treatment=d, instrument=Z).effect()

        def peer(exog=exog, y=y, d=d, Z=Z, out=out):
            res = IV2SLS(y, exog, d[:, None], Z).fit(cov_type="robust")
            out["peer"] = (float(res.params.iloc[-1]), float(res.std_errors.iloc[-1]))

        tag = f"{n // 1000}k" if n < 1_000_000 else f"{n / 1e6:g}M"
        bench = Benchmark(f"tsls_{tag}", f"TSLS (2SLS, HC0) vs linearmodels IV2SLS, n={n:,}, "
                                         "5 controls, 2 instruments, 1 treatment")
        bench.add("causalkit TSLS", ours)
        bench.add("linearmodels IV2SLS", peer)
        small = n <= 100_000  # traced memory and a warm-up run only where they are cheap
        report = bench.run(repeats=args.repeats, baseline="linearmodels IV2SLS", clock="cpu",
                           memory=small, warmup=small)
        e, (b, s) = out["ours"], out["peer"]
        report.notes.append(f"estimate {e.value:.10f} (SE {e.stderr:.10f}); linearmodels "
                            f"{b:.10f} (SE {s:.10f}); relative differences "
                            f"{abs(e.value / b - 1):.1e} and {abs(e.stderr / s - 1):.1e}")
        print(report.markdown())
        print(f"written to {report.save()}")


if __name__ == "__main__":
    main()
