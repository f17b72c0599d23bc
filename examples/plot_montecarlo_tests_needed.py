"""
How many tests does the crash-rate estimate need?
=================================================

An automated vehicle is tested in importance-sampled overtaking scenarios
(:func:`causalkit.datasets.make_overtaking_tests`, a simplified version of the
setting of Yang et al.). The crash rate is estimated by plain importance
sampling (IS) and by sparse control variates
(:class:`causalkit.montecarlo.SparseControlVariates`), and the relative
half-width of the 95% interval is plotted against the number of tests.

Two outcomes are compared: the crash indicator of each test, and the crash
probability given the scenario (what a simulator with a known crash model can
log). Controls built from the critical manoeuvres cannot remove the coin flip
of the crash itself, so the gain is small for the indicator; for the crash
probability, with known probabilities of the number of critical steps, the
variance nearly vanishes (the zero-variance case of the method).
"""

import matplotlib.pyplot as plt
import numpy as np

from causalkit.datasets import make_overtaking_tests
from causalkit.montecarlo import SparseControlVariates

sizes = np.array([1_000, 2_000, 5_000, 10_000, 20_000, 50_000])
reps = 3
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
for ax, outcome in zip(axes, ["crash", "probability"]):
    curves = {"plain IS": [], "sparse CV": []}
    for n in sizes:
        rhw_is, rhw_cv = [], []
        for r in range(reps):
            d = make_overtaking_tests(n, outcome=outcome, random_state=100 * r + 7)
            probs = d.stratum_probs if outcome == "probability" else None
            scv = SparseControlVariates(stratum_probs=probs).fit(d.X, d.y, weights=d.weights)
            rhw_is.append(scv.relative_half_width(plain=True))
            rhw_cv.append(scv.relative_half_width())
        curves["plain IS"].append(np.median(rhw_is))
        curves["sparse CV"].append(np.median(rhw_cv))
    for label, values in curves.items():
        ax.loglog(sizes, values, "o-", label=label)
    ax.axhline(0.1, color="grey", ls=":", lw=1)
    ax.set_xlabel("number of tests")
    ax.set_ylabel("relative half-width of the 95% CI")
    ax.set_title(f"y = crash {'indicator' if outcome == 'crash' else 'probability'}")
    ax.legend()
    print(f"{outcome}: tests needed for RHW 0.1 - plain IS {scv.n_tests_needed(0.1, plain=True):,}, "
          f"sparse CV {scv.n_tests_needed(0.1):,} (variance reduction {scv.variance_reduction_:.3g}x)")
fig.tight_layout()
plt.show()
