"""Coverage of DistributionalRDD's 95% uniform band (R3D, distribution-valued outcomes).

``make_r3d_data`` (the R3D package's DGP 1 "normal" and DGP 2 "exponential": X ~ U(-1, 1),
50 observations per unit, quantile levels 0.1, 0.25, 0.5, 0.75, 0.9, true tau(q) = 1),
defaults (``method="frechet"``, p = 2, epanechnikov, 200 multiplier draws). A replication
covers when the band contains the whole true curve. The :class:`Rep` of a replication is
taken at the quantile level where the band is closest to missing (largest
``|tau_hat(q) - tau(q)| / half-width(q)``), so the row's coverage is the band's
simultaneous coverage; its bias, width and SE are those at that level.

Rows: the default band (``effect().conf_int(kind="uniform")``, studentized sup-t with HC3
residuals), the constant-width band ``band_``, and the studentized band with the R
package's raw residuals (``vce="hc0"``, the default before HC3).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._common import Rep, Study


def _one(seed, n, dgp, band, vce="hc3"):
    from causalkit.datasets import make_r3d_data
    from causalkit.rdd import DistributionalRDD

    d = make_r3d_data(n, n_obs=50, delta=1.0, dgp=dgp, random_state=10_000 + seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {} if vce == "hc3" else {"vce": vce}
        est = DistributionalRDD(q_grid=d.q_grid, random_state=seed, **kw).fit(d.X, d.y)
    curve = est.effect()
    lo, hi = curve.conf_int(0.05, kind="uniform") if band == "studentized" else est.band_
    tau, truth = est.tau_, d.true_tau
    half = np.maximum((hi - lo) / 2, 1e-300)
    j = int(np.argmax(np.abs(tau - truth) / half))
    return Rep(float(tau[j]), float(curve.stderr[j]), float(lo[j]), float(hi[j]),
               float(truth[j]))


def studies() -> list[Study]:
    out = []
    for n in (200, 500):
        for dgp in ("normal", "exponential"):
            name = f"make_r3d_data(dgp='{dgp}'), uniform band over 5 quantiles"
            out.append(Study(
                "rdd", "DistributionalRDD().effect().conf_int(kind='uniform')", name, n,
                lambda s, n=n, dgp=dgp: _one(s, n, dgp, "studentized"), seed_offset=0,
                note="row at the quantile closest to missing"))
            out.append(Study(
                "rdd", "DistributionalRDD().band_ (constant width)", name, n,
                lambda s, n=n, dgp=dgp: _one(s, n, dgp, "constant"), default=False,
                seed_offset=0))
            out.append(Study(
                "rdd", "DistributionalRDD(vce='hc0').effect().conf_int(kind='uniform')", name,
                n, lambda s, n=n, dgp=dgp: _one(s, n, dgp, "studentized", "hc0"), default=False,
                seed_offset=0, note="raw residuals and Gaussian draws (the R package; the default before)"))
    return out
