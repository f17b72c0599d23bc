"""
One map, many trials: debiasing predicted outcomes
==================================================

An upstream model predicts a household outcome from 100 image-like proxies. It
was trained for accuracy, so its predictions shrink toward the mean. Twenty
downstream trials, each with its own true effect between -2 and 2, see only the
predictions (no labels). We estimate each trial's average treatment effect on

* the raw predictions (attenuated),
* predictions corrected by linear calibration and by Tweedie's formula, both
  learned once on the upstream model's held-out calibration split (no new labels),
* prediction-powered inference with 100 fresh labels per trial (a baseline that
  needs labels),

and plot the estimates against the truth. The upstream model is scikit-learn's
``MLPRegressor`` here to keep the example fast; ``benchmarks/calibration_study.py``
repeats the authors' simulation with a torch MLP.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalkit.calibration import (
    LinearCalibration,
    OutOfSupportWarning,
    TweedieCorrection,
    corrected_ate,
    ppi_ate,
)
from causalkit.datasets import make_proxy_outcome_data

# %%
# One map: the upstream model and its calibration split
# -----------------------------------------------------
# A survey population (no treatment effect) trains the model; 20% of it is held
# out and becomes the calibration set: predictions and truth of units the model
# never saw.
survey = make_proxy_outcome_data(10_000, ate=0.0, map_seed=0, random_state=0)
n_train = 8_000
upstream = make_pipeline(
    StandardScaler(),
    MLPRegressor(hidden_layer_sizes=(64, 32, 32), alpha=1e-2, early_stopping=True,
                 max_iter=300, random_state=0))
upstream.fit(survey.X[:n_train], survey.y[:n_train])
cal_pred = upstream.predict(survey.X[n_train:])
cal_truth = survey.y[n_train:]

lcc = LinearCalibration().fit(cal_pred, cal_truth)
tweedie = TweedieCorrection().fit(cal_pred, cal_truth)
print(f"calibration slope of predictions on truth: {lcc.slope_:.2f}; "
      f"residual SD: {tweedie.sigma_:.2f}")

# %%
# Many trials
# -----------
# Each trial draws 4,000 new units from the same map with its own true effect.
# Propensities are known (the trials randomise on a covariate). Trials with large
# effects push about 1% of their predictions beyond the calibration range, which
# :class:`~causalkit.calibration.OutOfSupportWarning` reports; we silence it here.
warnings.simplefilter("ignore", OutOfSupportWarning)
true_effects = np.linspace(-2, 2, 20)
rows = {name: [] for name in ("naive", "linear calibration", "Tweedie", "PPI (100 labels)")}
for k, tau in enumerate(true_effects):
    trial = make_proxy_outcome_data(4_000, ate=tau, map_seed=0, random_state=100 + k)
    pred = upstream.predict(trial.X)
    t, e = trial.treatment, trial.propensity
    rows["naive"].append(corrected_ate(None, pred, t, propensity=e))
    rows["linear calibration"].append(
        corrected_ate(lcc, pred, t, propensity=e, n_boot=100, random_state=k))
    rows["Tweedie"].append(
        corrected_ate(tweedie, pred, t, propensity=e, n_boot=100, random_state=k))
    lab = np.random.default_rng(k).choice(len(pred), 100, replace=False)
    unl = np.setdiff1d(np.arange(len(pred)), lab)
    rows["PPI (100 labels)"].append(
        ppi_ate(pred[unl], t[unl], pred[lab], trial.y[lab], t[lab],
                propensity=e[unl], labeled_propensity=e[lab]))

# %%
# Results
# -------
# The slope of the estimates on the true effects is about the calibration slope
# for the naive estimates and close to one for both corrections; PPI is unbiased
# but needs labels and has wider intervals.
print(f"{'estimator':<20} {'slope':>6} {'MAE':>6} {'coverage':>9}")
for name, ests in rows.items():
    v = np.array([e.value for e in ests])
    ci = np.array([e.conf_int() for e in ests])
    slope = np.polyfit(true_effects, v, 1)[0]
    mae = np.mean(np.abs(v - true_effects))
    cover = np.mean((ci[:, 0] <= true_effects) & (true_effects <= ci[:, 1]))
    print(f"{name:<20} {slope:6.2f} {mae:6.3f} {cover:9.2f}")

fig, ax = plt.subplots(figsize=(6.5, 5))
offsets = np.linspace(-0.045, 0.045, len(rows))
for off, (name, ests) in zip(offsets, rows.items()):
    v = np.array([e.value for e in ests])
    ci = np.array([e.conf_int() for e in ests])
    ax.errorbar(true_effects + off, v, yerr=[v - ci[:, 0], ci[:, 1] - v], fmt="o", ms=3,
                capsize=0, lw=0.8, label=name)
ax.plot([-2.2, 2.2], [-2.2, 2.2], color="k", lw=0.8, ls="--", label="truth")
ax.set_xlabel("true average treatment effect")
ax.set_ylabel("estimate (95% CI)")
ax.set_title("One upstream model, many downstream trials")
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()
plt.show()
