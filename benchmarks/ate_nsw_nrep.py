"""Seed sensitivity of the AIPW ATT on NSW treated units with CPS controls, and n_rep.

Data: Dehejia-Wahba NSW treated units (185) with the CPS comparison group (15,992),
as shipped by the ``causaldata`` package (``nsw_mixtape``, ``cps_mixtape``).
Covariates: age, educ, black, hisp, marr, nodegree, re74, re75, age^2, u74, u75.
AIPW with its default learners (gradient boosting), 5 folds. For each of several
seeds: the ATT with one cross-fitting, and with ``n_rep`` repetitions (median rule).
The experimental benchmark (NSW treated vs NSW controls) is about 1,794 dollars.

Run: python benchmarks/ate_nsw_nrep.py [--seeds 4] [--n-rep 5]
Writes benchmarks/results/ate_nsw_nrep.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout

RESULTS = Path(__file__).resolve().parent / "results"


def load():
    import causaldata
    import numpy as np

    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    cols = ["treat", "age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75", "re78"]
    df = np.concatenate([nsw[nsw.treat == 1][cols].to_numpy(float), cps[cols].to_numpy(float)])
    X = df[:, 1:9]
    X = np.c_[X, X[:, 0] ** 2, X[:, 6] == 0, X[:, 7] == 0]
    return X, df[:, 9], df[:, 0].astype(int)


def main(argv=None):
    import numpy as np

    from causalkit.ate import AIPW

    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--n-rep", type=int, default=5)
    args = parser.parse_args(argv)
    X, y, t = load()
    rows = []
    t0 = time.process_time()
    for seed in range(args.seeds):
        for n_rep in (1, args.n_rep):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e = AIPW(n_rep=n_rep, random_state=seed).fit(X, y, treatment=t).att()
            rows.append((seed, n_rep, e.value, e.stderr))
            print(rows[-1], flush=True)
    cpu = time.process_time() - t0
    lines = ["# AIPW ATT on NSW treated + CPS controls (causaldata), default learners, 5 folds", "",
             "| seed | n_rep | ATT | SE |", "|---:|---:|---:|---:|"]
    lines += [f"| {s} | {r} | {v:,.0f} | {se:,.0f} |" for s, r, v, se in rows]
    for r in (1, args.n_rep):
        v = np.array([row[2] for row in rows if row[1] == r])
        lines.append(f"\nn_rep={r}: range over seeds {v.min():,.0f} to {v.max():,.0f} "
                     f"(spread {v.max() - v.min():,.0f}).")
    lines += ["", f"Process CPU {cpu:.0f} s. Experimental benchmark about 1,794."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ate_nsw_nrep.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
