"""Coverage of the new ATE and IV intervals (issues 16 and 21).

Designs (each replication draws fresh data; 95% intervals; truth known):

- ``aipw-clustered``: 20 clusters of 50 units. Cluster random effects in the
  covariate, the treatment propensity, the outcome (sd 1) and the treatment
  effect (sd 0.5); the estimand is the superpopulation ATE 1.0. AIPW with
  ``groups=`` (linear nuisances); the interval with the default t(G - 1)
  critical values beside the same SE with normal critical values.
- ``aipw-att``: ``make_ate_data(2000)``, ATT and ATC (truth: the sample means of
  the true CATE among the treated / controls), linear nuisances.
- ``aipw-nrep``: ``make_ate_data(1000)``, ATE with ``n_rep=5`` (median rule).
- ``multiarm``: ``make_multiarm_data(2000)``, contrast 2 vs 0 (truth 2.0).
- ``tsls`` / ``dmliv``: ``make_linear_iv_data(2000, n_instruments=2)``, truth 1.0;
  DMLIV with linear nuisances (partialling-out score).
- ``tsls-weak``: ``make_linear_iv_data(1000, strength=0.1)`` (one weak instrument,
  first-stage F about 5): the Wald interval of TSLS beside the Anderson-Rubin set
  (``ar_conf_int``); for the AR row, "mean width" is over the bounded sets only and the
  SE columns repeat the Wald ones.

Run: python benchmarks/ate_iv_coverage.py [--reps 500] [--designs a,b] [--n-jobs 1]
Writes benchmarks/results/ate_iv_coverage.md (or ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # run from a checkout

RESULTS = Path(__file__).resolve().parent / "results"
DESIGNS = ("aipw-clustered", "aipw-att", "aipw-nrep", "multiarm", "tsls", "dmliv", "tsls-weak")


def _clustered(seed, G=20, m=50):
    import numpy as np
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), m)
    cx, ce, cy, ct = (rng.normal(size=G) for _ in range(4))
    x = rng.normal(size=(G * m, 2)) + cx[g][:, None]
    e = expit(0.6 * x[:, 0] + 0.5 * ce[g])
    t = (rng.random(G * m) < e).astype(int)
    tau = 1.0 + 0.5 * ct[g]
    y = x[:, 0] + 0.5 * x[:, 1] + cy[g] + t * tau + rng.normal(size=G * m)
    return x, y, t, g


def one(seed, designs):
    import numpy as np
    from scipy import stats
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalkit.ate import AIPW, MultiArmAIPW
    from causalkit.datasets import make_ate_data, make_linear_iv_data, make_multiarm_data
    from causalkit.iv import DMLIV, TSLS

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "aipw-clustered" in designs:
            x, y, t, g = _clustered(seed)
            e = AIPW(LinearRegression(), LogisticRegression(), cv=4, random_state=seed).fit(
                x, y, treatment=t, groups=g).ate()
            out["AIPW groups=, 20 clusters, t(19) (default)"] = (e.value, e.stderr, *e.conf_int(), 1.0)
            z = stats.norm.ppf(0.975)
            out["AIPW groups=, 20 clusters, normal"] = (
                e.value, e.stderr, e.value - z * e.stderr, e.value + z * e.stderr, 1.0)
        if "aipw-att" in designs:
            d = make_ate_data(2000, random_state=seed)
            est = AIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=seed).fit(
                d.X, d.y, treatment=d.treatment)
            tr = d.treatment == 1
            for k, truth in (("ATT", d.true_cate[tr].mean()), ("ATC", d.true_cate[~tr].mean())):
                e = est.effects_[k]
                out[f"AIPW {k}, make_ate_data(2000)"] = (e.value, e.stderr, *e.conf_int(), truth)
        if "aipw-nrep" in designs:
            d = make_ate_data(1000, random_state=seed)
            e = AIPW(LinearRegression(), LogisticRegression(), cv=3, n_rep=5,
                     random_state=seed).fit(d.X, d.y, treatment=d.treatment).ate()
            out["AIPW ATE n_rep=5 (median rule), make_ate_data(1000)"] = (
                e.value, e.stderr, *e.conf_int(), 1.0)
        if "multiarm" in designs:
            d = make_multiarm_data(2000, random_state=seed)
            e = MultiArmAIPW(LinearRegression(), LogisticRegression(), cv=3, random_state=seed).fit(
                d.X, d.y, treatment=d.treatment).contrast(0)["2 vs 0"]
            out["MultiArmAIPW contrast 2 vs 0, make_multiarm_data(2000)"] = (
                e.value, e.stderr, *e.conf_int(), 2.0)
        if "tsls" in designs or "dmliv" in designs:
            d = make_linear_iv_data(2000, n_instruments=2, random_state=seed)
            if "tsls" in designs:
                e = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument).effect()
                out["TSLS, 2 continuous instruments, make_linear_iv_data(2000)"] = (
                    e.value, e.stderr, *e.conf_int(), 1.0)
            if "dmliv" in designs:
                e = DMLIV(LinearRegression(), LinearRegression(), LinearRegression(), cv=3,
                          random_state=seed).fit(d.X, d.y, treatment=d.treatment,
                                                 instrument=d.instrument).effect()
                out["DMLIV (PLIV), 2 continuous instruments, make_linear_iv_data(2000)"] = (
                    e.value, e.stderr, *e.conf_int(), 1.0)
        if "tsls-weak" in designs:
            d = make_linear_iv_data(1000, strength=0.1, random_state=seed)
            est = TSLS().fit(d.X, d.y, treatment=d.treatment, instrument=d.instrument)
            e = est.effect()
            out["TSLS Wald interval, weak instrument, make_linear_iv_data(1000, strength=0.1)"] = (
                e.value, e.stderr, *e.conf_int(), 1.0)
            sets = est.ar_conf_int()
            inside = any(lo <= 1.0 <= hi for lo, hi in sets)
            if len(sets) == 1:
                lo, hi = sets[0]
            else:  # two half-lines: (-inf, inf) marks a cover, (inf, inf) a miss
                lo, hi = (-np.inf, np.inf) if inside else (np.inf, np.inf)
            out["TSLS Anderson-Rubin set, weak instrument, same data"] = (e.value, e.stderr, lo, hi, 1.0)
    return out


def main(argv=None):
    import numpy as np
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--designs", default=",".join(DESIGNS))
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", default="ate_iv_coverage.md")
    args = parser.parse_args(argv)
    designs = set(args.designs.split(","))
    t0 = time.time()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(one)(s, designs) for s in range(args.reps))
    elapsed = time.time() - t0
    lines = [f"# Coverage of ATE and IV intervals, {args.reps} replications (seeds 0..{args.reps - 1})",
             "", "| estimator, design | bias | MC SD | mean SE | SE / SD | mean width | coverage (MC SE) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key in rows[0]:
        a = np.array([r[key] for r in rows])
        cover = (a[:, 2] <= a[:, 4]) & (a[:, 4] <= a[:, 3])
        cov, sd = cover.mean(), a[:, 0].std(ddof=1)
        width = a[:, 3] - a[:, 2]
        width = width[np.isfinite(width)]
        lines.append(f"| {key} | {np.mean(a[:, 0] - a[:, 4]):+.4f} | {sd:.4f} | {a[:, 1].mean():.4f} | "
                     f"{a[:, 1].mean() / sd:.3f} | {width.mean() if width.size else np.inf:.4f} | "
                     f"{cov:.3f} ({np.sqrt(cov * (1 - cov) / len(a)):.3f}) |")
    lines += ["", f"Elapsed {elapsed:.0f} s (wall), n_jobs={args.n_jobs}."]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
