"""Monte Carlo studies (deselected by default; run with ``-m slow``)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from causalkit.datasets import make_bandit_feedback, make_iv_mdp
from causalkit.ope import IPS, SNIPS, DoublyRobust, IVMDPEvaluator, MDPEvaluator

REPS = 500


@pytest.mark.slow
def test_bandit_ci_coverage_500_replications():
    makers = {"IPS": lambda: IPS(), "SNIPS": lambda: SNIPS(),
              "DR": lambda: DoublyRobust(model_reward=LinearRegression(), cv=2, random_state=0)}
    hits = {k: 0 for k in makers}
    truth = None
    for rep in range(REPS):
        d = make_bandit_feedback(5000, n_actions=4, logging_temperature=0.5,
                                 random_state=1000 + rep)
        truth = d.true_value
        for name, make in makers.items():
            lo, hi = make().fit(d.X, d.y, action=d.action, propensity=d.propensity).value(
                d.target_policy).conf_int()
            hits[name] += lo <= truth <= hi
    coverage = {k: v / REPS for k, v in hits.items()}
    print("coverage", coverage)
    for name, c in coverage.items():
        assert 0.93 <= c <= 0.97, (name, c)


def iv_mdp_bias_table(sizes=(100, 200, 500, 1000), reps=20, horizon=100):
    """Mean estimate, |bias| / truth and Monte Carlo SE of the bias, per method and size."""
    rows = []
    for n in sizes:
        est = {k: [] for k in ("IV-DR", "IV-DM", "NUC-DM", "NUC-MIS", "NUC-DR")}
        for rep in range(reps):
            d = make_iv_mdp(n, horizon=horizon, random_state=525 + rep)
            kw = {"action": d.action, "next_state": d.next_state, "episode": d.episode}
            iv = IVMDPEvaluator(random_state=rep).fit(d.X, d.y, instrument=d.instrument, **kw)
            nuc = MDPEvaluator(random_state=rep).fit(d.X, d.y, **kw)
            est["IV-DR"].append(iv.value(1.0).value)
            est["IV-DM"].append(iv.value(1.0, method="dm").value)
            est["NUC-DM"].append(nuc.value(1.0, method="dm").value)
            est["NUC-MIS"].append(nuc.value(1.0, method="mis").value)
            est["NUC-DR"].append(nuc.value(1.0).value)
        truth = d.true_value
        for k, v in est.items():
            v = np.asarray(v)
            rows.append((n, k, v.mean(), abs(v.mean() - truth) / truth, v.std(ddof=1) / np.sqrt(reps),
                         np.sqrt(np.mean((v - truth) ** 2)) / truth))
    return rows


@pytest.mark.slow
def test_iv_mdp_bias_falls_with_n_while_no_confounding_stays_biased():
    rows = iv_mdp_bias_table()
    for r in rows:
        n, name, mean, rel_bias, mc_se, rel_rmse = r
        print(f"n={n:5d} {name:<8s} mean {mean:.3f} rel.bias {rel_bias:.4f} mc-se {mc_se:.3f} "
              f"rel.rmse {rel_rmse:.4f}")
    get = {(r[0], r[1]): r for r in rows}
    truth = 20.0
    # the largest size: IV-DR bias within 3 Monte Carlo SEs of zero
    n_max = max(r[0] for r in rows)
    iv = get[(n_max, "IV-DR")]
    assert abs(iv[2] - truth) < 3 * iv[4] + 0.01 * truth
    # no-confounding DM and DR stay biased at every size, beyond 3 Monte Carlo SEs
    for n in {r[0] for r in rows}:
        for k in ("NUC-DM", "NUC-DR"):
            r = get[(n, k)]
            assert abs(r[2] - truth) > 3 * r[4], (n, k)
