"""
How much hidden confounding would overturn the effect of quitting smoking on weight?
====================================================================================

NHEFS (the National Health and Nutrition Examination Survey Epidemiologic Follow-up Study,
as shipped by the ``causaldata`` package; 1,566 smokers with complete data): did quitting
smoking between 1971 and 1982 (``qsmk``) change weight gain (``wt82_71``, kg)? AIPW adjusts
for the usual covariates (Hernán & Robins, *Causal Inference: What If*, chapter 12): sex,
race, age, education, smoking intensity and years, exercise, activity and baseline weight,
with squares of the continuous ones.

Two sensitivity analyses then read the fitted estimator, without refitting it:

1. omitted-variable-bias bounds (Chernozhukov et al. 2022): how strong, relative to an
   observed covariate group, would a hidden confounder have to be to move the effect to 0?
2. Γ-selection bounds (Yadlowsky et al. 2022): how large an odds ratio of hidden selection
   into quitting would make the interval include 0?
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from causaldata import nhefs_complete
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalkit.ate import AIPW
from causalkit.sensitivity import gamma_bounds, gamma_star, ovb_benchmark, ovb_bounds, plot_ovb_contour

df = nhefs_complete.load_pandas().data
cont = ["age", "smokeintensity", "smokeyrs", "wt71"]
X = pd.concat([
    df[["sex", "race"] + cont].astype(float),
    (df[cont] ** 2).add_suffix("_sq"),
    pd.get_dummies(df["education"].astype(int), prefix="edu", drop_first=True, dtype=float),
    pd.get_dummies(df["exercise"].astype(int), prefix="exercise", drop_first=True, dtype=float),
    pd.get_dummies(df["active"].astype(int), prefix="active", drop_first=True, dtype=float),
], axis=1)
y, t = df["wt82_71"].to_numpy(float), df["qsmk"].to_numpy(int)

est = AIPW(LinearRegression(), make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
           cv=5, random_state=0).fit(X, y, treatment=t)
print(est.ate())

# %%
# Omitted-variable bias: benchmarks from observed covariate groups
# ----------------------------------------------------------------
# Leaving a group out and comparing gives the strength (cf_y, cf_d, rho) of a confounder "as
# strong as" that group; the bounds at that strength say whether such a confounder could
# explain the effect away.
groups = {"baseline weight": ["wt71", "wt71_sq"], "age": ["age", "age_sq"],
          "smoking intensity": ["smokeintensity", "smokeintensity_sq"]}
benchmarks = []
for label, cols in groups.items():
    bm = ovb_benchmark(est, X, y, treatment=t, drop=cols)
    benchmarks.append(bm)
    b = bm.bounds(est)
    lo, hi = b.conf_int()
    print(f"{label:18s} cf_y={bm.cf_y:.3f} cf_d={bm.cf_d:.3f} rho={bm.rho:+.2f}  "
          f"bounds [{b.lower.value:.2f}, {b.upper.value:.2f}] kg, 95% CI [{lo:.2f}, {hi:.2f}]")
b = ovb_bounds(est, cf_y=0.03, cf_d=0.03)
print(f"robustness value RV = {b.rv:.3f}, RVa (95%) = {b.rva:.3f}")

# %%
# Γ-selection: bounds against the odds ratio of hidden selection
# ---------------------------------------------------------------
res = gamma_bounds(est, X, gamma=np.exp(np.linspace(0, np.log(4), 20)))
gs = gamma_star(est, X)
print(res.summary().iloc[[0, 5, 10, 19]].round(2).to_string(index=False))
print(gs)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
plot_ovb_contour(est, cf_y=np.linspace(0, 0.3, 31), cf_d=np.linspace(0, 0.3, 31),
                 benchmarks=benchmarks, ax=axes[0])
res.plot(ax=axes[1])
axes[1].axvline(gs.value, color="red", lw=1, label=f"Γ* = {gs.value:.2f}")
axes[1].legend(frameon=False)
axes[1].set_ylabel("ATE of quitting on weight gain (kg)")
fig.tight_layout()
plt.show()
