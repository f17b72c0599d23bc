"""
CATE with weighted pseudo-outcome learners on data with a known truth
======================================================================

We simulate a confounded study where the treatment effect grows with the first
covariate, ``tau(X) = 1 + X1``, and the propensity depends on ``X1`` and ``X2``.
Three learners share the same cross-fitted nuisances (gradient boosting):

* the R-learner (U pseudo-outcome, weights ``(A - e)^2``);
* the DR-learner with inverse-variance weights ``e (1 - e)``;
* the U-learner with unit weights, which divides by ``A - e`` (never do this).

We compare their CATE predictions with the truth, test for heterogeneity with the
best linear predictor (BLP) and report group average effects (GATES) by quintile
of the out-of-fold CATE, each next to the true mean effect of its group.
"""

import matplotlib.pyplot as plt
import numpy as np

from causalkit.datasets import make_cate_data
from causalkit.hte import RLearner, WeightedPseudoOutcomeLearner

d = make_cate_data(4000, random_state=0)
test = make_cate_data(2000, random_state=1)

learners = {
    "R-learner": RLearner(cv=5, random_state=0),
    "DR, IVW": WeightedPseudoOutcomeLearner(pseudo="dr", weights="ivw_x", cv=5, random_state=0),
    "U, unit weights": WeightedPseudoOutcomeLearner(pseudo="u", weights="one", cv=5, random_state=0),
}
fig, axes = plt.subplots(1, 4, figsize=(16, 4))
for ax, (name, est) in zip(axes, learners.items()):
    est.fit(d.X, d.y, treatment=d.treatment)
    pred = est.cate(test.X)
    mse = np.mean((pred - test.true_cate) ** 2)
    ax.scatter(test.X[:, 0], pred, s=3, alpha=0.4, label="estimate")
    ax.plot(np.sort(test.X[:, 0]), 1 + np.sort(test.X[:, 0]), color="k", label="truth")
    ax.set(title=f"{name}\ntest MSE {mse:.3f}", xlabel="X1", ylabel="CATE", ylim=(-4, 6))
    print(f"{name:16s} test MSE {mse:.3f}   ATE {est.ate()}")
axes[0].legend()

r = learners["R-learner"]
print(r.blp())
gates = r.group_effects(5)
print(gates)

# truth of each group: the mean true CATE of its units
order = np.argsort(r.cate_oof_, kind="stable")
grp = np.empty(len(order), int)
grp[order] = np.arange(len(order)) * 5 // len(order)
truth = [d.true_cate[grp == g].mean() for g in range(5)]
lo_hi = gates.conf_int().to_numpy()[:5]
ax = axes[3]
x = np.arange(1, 6)
ax.errorbar(x, gates.values[:5], yerr=[gates.values[:5] - lo_hi[:, 0], lo_hi[:, 1] - gates.values[:5]],
            fmt="o", capsize=4, label="GATES, 95% CI")
ax.plot(x, truth, "k_", markersize=20, label="true group mean")
ax.set(title="R-learner group effects", xlabel="quintile of out-of-fold CATE", ylabel="effect")
ax.legend()
fig.tight_layout()
plt.show()
