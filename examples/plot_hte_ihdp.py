"""
Who gains from early intervention? CATE on the IHDP randomised trial
====================================================================

The Infant Health and Development Program randomised 985 low-birth-weight
premature infants to intensive child care and home visits. We study the effect on
IQ at 36 months (908 children with the outcome; see ``datasets/ihdp.md``; the file
is read from the installed EconML package).

Because treatment was randomised, the propensity model is the constant treated
share (``DummyClassifier``): the design, not a fitted model, removes confounding.
The outcome model (ridge) only reduces noise. We then

1. fit a linear CATE in four pre-registered-style modifiers (birth-weight stratum,
   mother's verbal score, age and college education) and read the sandwich table;
2. fit a flexible R-learner and test for heterogeneity with the BLP and group
   average effects (GATES), which stay valid for any final model.

Brooks-Gunn et al. (1992) reported larger gains for the heavier low-birth-weight
stratum (2001-2500 g); the ``bwg`` coefficient below points the same way.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, RidgeCV

from causalkit.datasets import load_ihdp
from causalkit.hte import RLearner

d = load_ihdp()
ridge = RidgeCV(alphas=[1, 10, 100, 1000])
prior = DummyClassifier(strategy="prior")
modifiers = ["bwg", "ppvt.imp", "momage", "mom.coll"]
pick = ColumnTransformer([("m", "passthrough", modifiers)], verbose_feature_names_out=False)

linear = RLearner(ridge, prior, LinearRegression(), featurizer=pick, cv=5, random_state=0)
linear.fit(d.X, d.y, treatment=d.treatment)
print(linear.ate())
print(linear.coef_table().summary()[["estimate", "std err", "P>|z|"]])

flexible = RLearner(ridge, prior, cv=5, random_state=0).fit(d.X, d.y, treatment=d.treatment)
print(flexible.blp().summary()[["estimate", "std err", "P>|z|"]])
gates = flexible.group_effects(3)
print(gates.summary()[["estimate", "std err", "[0.025", "0.975]"]])

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
cate = linear.cate(d.X)
for g, label in [(0, "birth weight <= 2000 g"), (1, "2001-2500 g")]:
    axes[0].hist(cate[d.X["bwg"].to_numpy() == g], bins=30, alpha=0.6, label=label)
axes[0].set(title="Linear CATE by birth-weight stratum", xlabel="IQ points", ylabel="children")
axes[0].legend()
ci = gates.conf_int().to_numpy()[:3]
x = np.arange(1, 4)
axes[1].errorbar(x, gates.values[:3], yerr=[gates.values[:3] - ci[:, 0], ci[:, 1] - gates.values[:3]],
                 fmt="o", capsize=4)
axes[1].axhline(flexible.ate().value, color="k", ls="--", label="ATE")
axes[1].set(title="Group effects by tercile of the flexible CATE", xticks=x,
            xlabel="tercile of out-of-fold CATE", ylabel="IQ points")
axes[1].legend()
fig.tight_layout()
plt.show()
