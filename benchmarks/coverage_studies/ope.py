"""Coverage studies of off-policy evaluation in contextual bandits: IPS, SNIPS, DR.

``make_bandit_feedback`` (5 actions, 5 features, binary rewards, epsilon-greedy target
policy with epsilon 0.3) with the logged propensities given. Overlap: the default
logging temperature 1, and a harsh one (temperature 3, epsilon 0.1: the target policy
is near-deterministic while the logging policy rarely takes its action, so the
importance weights are heavy). The estimand is the population policy value
(``true_value``; the influence-function SEs include the contexts' variability). Untuned
design: t(3) reward noise. Logged rounds are independent (the estimators take no
``groups=``), so there is no clustered row.
"""

from __future__ import annotations

from functools import partial

from ._common import Rep, Study
from ._designs import rep_of, t3_noise

HARSH = {"logging_temperature": 3.0, "epsilon": 0.1}


def ope(seed, name="IPS", n=2000, harsh=False, heavy=False, kw=None, t_ess=False):
    """One replication; ``t_ess``: the same estimate and SE with Student-t critical values
    on ``ESS - 1`` degrees of freedom (ESS: the importance weights' effective sample size),
    a candidate small-sample correction, not an estimator's default."""
    from sklearn.linear_model import LinearRegression

    from causalkit import ope as m
    from causalkit.datasets import make_bandit_feedback

    d = make_bandit_feedback(n, **(HARSH if harsh else {}), random_state=seed)
    y = d.y + t3_noise(seed, n, 0.5) if heavy else d.y
    extra = dict(kw or {})
    if name in ("DoublyRobust", "SelfNormalizedDR"):
        extra.setdefault("model_reward", LinearRegression())
        extra.setdefault("random_state", seed)
    if name == "SNIPS-wald":
        name, extra["interval"] = "SNIPS", "wald"
    est = getattr(m, name)(**extra).fit(d.X, y, action=d.action, propensity=d.propensity)
    e = est.value(d.target_policy)
    if t_ess:
        from scipy import stats

        ess = est.diagnostics(d.target_policy)["effective_sample_size"]
        half = stats.t.ppf(0.975, max(ess - 1.0, 1.0)) * e.stderr
        return Rep(float(e.value), float(e.stderr), float(e.value - half),
                   float(e.value + half), float(d.true_value))
    return rep_of(e, d.true_value)


def studies():
    """Design by design, so that each design's rows (IPS beside SNIPS, which covers where
    IPS does not) sit together in the table."""
    designs = (("make_bandit_feedback", 2000, {}, ""),
               ("make_bandit_feedback, harsh overlap", 2000, {"harsh": True},
                "temperature 3, epsilon 0.1"),
               ("make_bandit_feedback, harsh overlap", 500, {"harsh": True},
                "temperature 3, epsilon 0.1"),
               ("make_bandit_feedback + t(3) noise", 2000, {"heavy": True}, "heavy-tailed reward"))
    out = []
    for dgp, n, kw, dnote in designs:
        for name in ("IPS", "SNIPS", "DoublyRobust", "SNIPS-wald"):
            note = "linear reward model, cv=5" if name == "DoublyRobust" else ""
            lbl = f"{name}().value()" if name != "SNIPS-wald" else "SNIPS(interval='wald').value()"
            dflt = name != "SNIPS-wald"
            if not dflt:
                note = "the Wald interval, the default before the score interval"
            note = "; ".join(x for x in (note, dnote) if x)
            # the weighting estimators' Wald intervals that miss the band, and what covers
            misses = (name in ("IPS", "DoublyRobust") and n == 500 and kw.get("harsh")) or (
                name == "IPS" and kw.get("heavy"))
            if misses:
                note += "; the option that covers here: SNIPS() (the OPE guide)"
            reps = 500
            if name == "DoublyRobust" and not kw:
                # 0.922 over 500 replications: more, to tell a miss from Monte Carlo noise
                reps = 1500
            if name == "IPS" and kw.get("heavy"):
                reps = 2000  # cheap, and the row is close to the band
            out.append(Study("ope", lbl, dgp, n, partial(ope, name=name, n=n, **kw),
                             note=note, default=dflt, full_reps=reps))
            if misses and name in ("IPS", "DoublyRobust"):
                out.append(Study("ope", f"{name}().value(), Wald t(ESS - 1) (candidate, not "
                                 "default)", dgp, n, partial(ope, name=name, n=n, t_ess=True, **kw),
                                 note=dnote, default=False, full_reps=reps))
    return out
