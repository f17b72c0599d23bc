"""
Evaluating candidate policies from bandit logs
==============================================

A logging policy chose one of five actions for 20,000 contexts and recorded the
reward. We evaluate three candidate policies offline with every bandit
estimator in :mod:`causalkit.ope` and plot the estimates with 95% confidence
intervals beside the true values (known here because the data are simulated).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression

from causalkit.datasets import make_bandit_feedback
from causalkit.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    SelfNormalizedDR,
    SwitchDR,
)

d = make_bandit_feedback(20_000, n_actions=5, random_state=0)
n, k = d.target_policy.shape

# %%
# Candidate policies: epsilon-greedy on the true reward (the generator's target),
# uniform random, and a classifier imitating the actions that paid off.
uniform = np.full((n, k), 1 / k)
paid = d.y == 1
imitator = LogisticRegression(max_iter=500).fit(d.X[paid], d.action[paid])
policies = {"eps-greedy": d.target_policy, "uniform": uniform, "imitator": imitator}
true = {"eps-greedy": d.true_value_sample,
        "uniform": float(np.mean(d.expected_reward.mean(axis=1))),
        "imitator": float(np.mean(np.sum(imitator.predict_proba(d.X) * d.expected_reward, axis=1)))}

model = HistGradientBoostingRegressor(max_iter=100)
estimators = {
    "IPS": IPS(), "SNIPS": SNIPS(),
    "DM": DirectMethod(model_reward=model, cv=3, random_state=0),
    "DR": DoublyRobust(model_reward=model, cv=3, random_state=0),
    "SNDR": SelfNormalizedDR(model_reward=model, cv=3, random_state=0),
    "Switch-DR": SwitchDR(tau=10.0, model_reward=model, cv=3, random_state=0),
    "ES-IPS (beta=0.8)": ExponentialSmoothingIPS(beta=0.8),
}
tables = {}
for name, est in estimators.items():
    est.fit(d.X, d.y, action=d.action, propensity=d.logging_policy)
    tables[name] = est.compare(policies)
print(tables["DR"].summary())
print("IPS weight diagnostics for the target policy:")
for key, value in estimators["IPS"].diagnostics(d.target_policy).items():
    print(f"  {key:32s} {value:.4g}" if isinstance(value, float) else f"  {key:32s} {value}")

# %%
# Estimates with 95% intervals; the dashed lines are the true values on these
# contexts.
fig, ax = plt.subplots(figsize=(8, 4.5))
offsets = np.linspace(-0.3, 0.3, len(estimators))
for j, (name, tab) in enumerate(tables.items()):
    for i, pol in enumerate(policies):
        e = tab[pol]
        lo, hi = e.conf_int()
        ax.errorbar(i + offsets[j], e.value, yerr=[[e.value - lo], [hi - e.value]], fmt="o",
                    color=f"C{j}", label=name if i == 0 else None, capsize=2)
for i, pol in enumerate(policies):
    ax.hlines(true[pol], i - 0.4, i + 0.4, colors="k", linestyles="--")
ax.set_xticks(range(len(policies)), list(policies))
ax.set_ylabel("policy value")
ax.set_title("Offline estimates of three policies (dashed: truth)")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()
plt.show()
