"""Bandit off-policy estimators: causalkit vs Open Bandit Pipeline on identical inputs.

10^6 logged rounds x 20 actions; every estimator (IPS, SNIPS, DM, DR, SNDR,
switch-DR, exponentially smoothed IPS) for one target policy, from given logging
propensities and precomputed reward predictions (no model fitting is timed).
The values agree to 1e-9 (checked before timing). Run: ``python benchmarks/bench_ope.py``.
Options: ``--n`` rounds, ``--actions``, ``--repeats``, ``--estimators``.

By default each estimator is its own benchmark (``ope_<estimator>_n1e6``): causalkit's
fit + value against a plain-numpy floor (validate the logs and the policy once, then
the formula and its SE) and against obp, on process CPU time with one thread. The
model-based estimators (DM, DR, SNDR, Switch-DR) take the reward predictions at
``value`` (``model_reward="given"``, as obp takes them at ``estimate_policy_value``);
``causalkit-fit-q`` times the same estimators with the predictions given to ``fit``.
Repeats alternate the candidates' order; ratios are per-repeat pairs (median,
quartiles, range) on process CPU time and on wall time.
``--all-at-once`` runs the older benchmark of all seven together against obp.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import RESULTS, Benchmark, library_versions, machine_facts

from causalkit.ope import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    SelfNormalizedDR,
    SwitchDR,
)


def make_inputs(n, k, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k))
    pi0 = np.exp(logits)
    pi0 /= pi0.sum(axis=1, keepdims=True)
    u = rng.random(n)
    a = np.minimum((pi0.cumsum(axis=1) < u[:, None]).sum(axis=1), k - 1)
    pscore = pi0[np.arange(n), a]
    pi = np.exp(2 * rng.normal(size=(n, k)))
    pi /= pi.sum(axis=1, keepdims=True)
    q = rng.random((n, k))
    y = (rng.random(n) < q[np.arange(n), a]).astype(float)
    X = rng.normal(size=(n, 5))
    return X, y, a, pscore, pi, q


def causalkit_all(X, y, a, pscore, pi, q, k):
    out = {}
    base = {"action": a, "propensity": pscore}
    model = dict(base, estimated_rewards=q)
    out["ips"] = IPS(n_actions=k).fit(X, y, **base).value(pi).value
    out["snips"] = SNIPS(n_actions=k).fit(X, y, **base).value(pi).value
    out["dm"] = DirectMethod(n_actions=k).fit(X, y, **model).value(pi).value
    out["dr"] = DoublyRobust(n_actions=k).fit(X, y, **model).value(pi).value
    out["sndr"] = SelfNormalizedDR(n_actions=k).fit(X, y, **model).value(pi).value
    out["switch"] = SwitchDR(n_actions=k, tau=10.0).fit(X, y, **model).value(pi).value
    out["es"] = ExponentialSmoothingIPS(n_actions=k, beta=0.5).fit(X, y, **base).value(pi).value
    return out


def obp_all(y, a, pscore, pi, q):
    import obp.ope as o

    ad, qr = pi[:, :, None], q[:, :, None]
    kw = {"reward": y, "action": a, "pscore": pscore, "action_dist": ad}
    out = {
        "ips": o.InverseProbabilityWeighting().estimate_policy_value(**kw),
        "snips": o.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**kw),
        "dm": o.DirectMethod().estimate_policy_value(**kw, estimated_rewards_by_reg_model=qr),
        "dr": o.DoublyRobust().estimate_policy_value(**kw, estimated_rewards_by_reg_model=qr),
        "sndr": o.SelfNormalizedDoublyRobust().estimate_policy_value(
            **kw, estimated_rewards_by_reg_model=qr),
        "switch": o.SwitchDoublyRobust(tau=10.0).estimate_policy_value(
            **kw, estimated_rewards_by_reg_model=qr),
    }
    # obp has no exponentially smoothed IPS: the same formula in plain numpy
    out["es"] = float(np.mean(y * ad[np.arange(len(a)), a, 0] / pscore ** 0.5))
    return out


def _check_policy_floor(pi):
    """The policy checks written plainly: finite, non-negative, rows sum to 1."""
    s = pi.sum(axis=1)
    if not np.isfinite(s).all() or pi.min() < 0 or (np.abs(s - 1) > 1e-6).any():
        raise ValueError("bad policy")


def _check_logs_floor(y, a, pscore, k):
    if not np.isfinite(y.sum()) or a.min() < 0 or a.max() >= k or not (pscore > 0).all() \
            or not (pscore <= 1).all():
        raise ValueError("bad logs")


def floors(y, a, pscore, pi, q, k):
    """Least work per estimator in plain numpy: validate the policy (and the reward
    predictions) once, then the formula with its influence-function SE."""
    n = len(y)
    rows = np.arange(n)

    def ips():
        _check_logs_floor(y, a, pscore, k)
        _check_policy_floor(pi)
        psi = pi[rows, a] / pscore * y
        return psi.mean(), psi.std() / np.sqrt(n)

    def snips():
        _check_logs_floor(y, a, pscore, k)
        _check_policy_floor(pi)
        w = pi[rows, a] / pscore
        theta = np.dot(w, y) / w.sum()
        return theta, np.sqrt(np.sum((w * (y - theta)) ** 2)) / w.sum()

    def _dr_parts():
        _check_logs_floor(y, a, pscore, k)
        _check_policy_floor(pi)
        if not np.isfinite(q.sum()):
            raise ValueError("bad q")
        return np.einsum("ij,ij->i", pi, q), q[rows, a], pi[rows, a] / pscore

    def dm():
        _check_logs_floor(y, a, pscore, k)
        _check_policy_floor(pi)
        if not np.isfinite(q.sum()):
            raise ValueError("bad q")
        d = np.einsum("ij,ij->i", pi, q)
        return d.mean(), d.std() / np.sqrt(n)

    def dr():
        d, qa, w = _dr_parts()
        psi = d + w * (y - qa)
        return psi.mean(), psi.std() / np.sqrt(n)

    def sndr():
        d, qa, w = _dr_parts()
        corr = w * (y - qa)
        c = corr.sum() / w.sum()
        infl = (d - d.mean()) + (corr - c * w) / w.mean()
        return d.mean() + c, np.sqrt(np.sum(infl ** 2)) / n

    def switch():
        d, qa, w = _dr_parts()
        psi = d + np.where(w <= 10.0, w, 0.0) * (y - qa)
        return psi.mean(), psi.std() / np.sqrt(n)

    def es():
        _check_logs_floor(y, a, pscore, k)
        _check_policy_floor(pi)
        psi = pi[rows, a] / pscore ** 0.5 * y
        return psi.mean(), psi.std() / np.sqrt(n)

    return {"ips": ips, "snips": snips, "dm": dm, "dr": dr, "sndr": sndr, "switch": switch, "es": es}


#: The model-based estimators: given reward predictions, timed on both paths.
MODEL_KEYS = ("dm", "dr", "sndr", "switch")
#: Targets on the median per-repeat CPU ratio to the floor.
TARGETS = {"ips": 1.0, "snips": 1.0, "dm": 1.5, "dr": 1.5, "sndr": 1.5, "switch": 1.5, "es": 1.5}


def causalkit_each(X, y, a, pscore, pi, q, k):
    """fit + value; the model-based estimators take the predictions at ``value``
    (``model_reward="given"``, nothing large copied or kept)."""
    base = {"action": a, "propensity": pscore}
    g = {"n_actions": k, "model_reward": "given"}
    return {
        "ips": lambda: IPS(n_actions=k).fit(X, y, **base).value(pi),
        "snips": lambda: SNIPS(n_actions=k).fit(X, y, **base).value(pi),
        "dm": lambda: DirectMethod(**g).fit(X, y, **base).value(pi, estimated_rewards=q),
        "dr": lambda: DoublyRobust(**g).fit(X, y, **base).value(pi, estimated_rewards=q),
        "sndr": lambda: SelfNormalizedDR(**g).fit(X, y, **base).value(pi, estimated_rewards=q),
        "switch": lambda: SwitchDR(tau=10.0, **g).fit(X, y, **base).value(pi, estimated_rewards=q),
        "es": lambda: ExponentialSmoothingIPS(n_actions=k, beta=0.5).fit(X, y, **base).value(pi),
    }


def causalkit_fit_time(X, y, a, pscore, pi, q, k):
    """The model-based estimators with the predictions given to ``fit`` (the estimator
    keeps a private copy of the (n, k) matrix)."""
    model = {"action": a, "propensity": pscore, "estimated_rewards": q}
    return {
        "dm": lambda: DirectMethod(n_actions=k).fit(X, y, **model).value(pi),
        "dr": lambda: DoublyRobust(n_actions=k).fit(X, y, **model).value(pi),
        "sndr": lambda: SelfNormalizedDR(n_actions=k).fit(X, y, **model).value(pi),
        "switch": lambda: SwitchDR(n_actions=k, tau=10.0).fit(X, y, **model).value(pi),
    }


def obp_each(y, a, pscore, pi, q):
    import obp.ope as o

    ad, qr = pi[:, :, None], q[:, :, None]
    kw = {"reward": y, "action": a, "pscore": pscore, "action_dist": ad}
    return {
        "ips": lambda: o.InverseProbabilityWeighting().estimate_policy_value(**kw),
        "snips": lambda: o.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**kw),
        "dm": lambda: o.DirectMethod().estimate_policy_value(**kw, estimated_rewards_by_reg_model=qr),
        "dr": lambda: o.DoublyRobust().estimate_policy_value(**kw, estimated_rewards_by_reg_model=qr),
        "sndr": lambda: o.SelfNormalizedDoublyRobust().estimate_policy_value(
            **kw, estimated_rewards_by_reg_model=qr),
        "switch": lambda: o.SwitchDoublyRobust(tau=10.0).estimate_policy_value(
            **kw, estimated_rewards_by_reg_model=qr),
    }


def paired_ratios(report, label, against):
    """Median, quartiles and range of the per-repeat ratios ``label / against`` on both
    clocks. Repeats alternate (A B C, C B A, ...), so repeat r of each candidate ran
    back to back: the ratio of a pair cancels most of the machine's drift."""
    out = {}
    for clock, times in (("cpu", report.cpu_times), ("wall", report.times)):
        r = np.asarray(times[label]) / np.asarray(times[against])
        q25, med, q75 = np.percentile(r, [25, 50, 75])
        out[clock] = {"median": float(med), "q25": float(q25), "q75": float(q75),
                      "min": float(r.min()), "max": float(r.max()), "repeats": int(r.size),
                      "ratio_of_medians": float(np.median(times[label]) / np.median(times[against]))}
    return out


def _fmt(d):
    return f"{d['median']:.2f} [{d['q25']:.2f}, {d['q75']:.2f}] ({d['min']:.2f}-{d['max']:.2f})"


def per_estimator(args, X, y, a, pscore, pi, q):
    """One benchmark per estimator: causalkit (fit + value) against its numpy floor and obp."""
    from threadpoolctl import threadpool_limits

    spread = {}

    k = args.actions
    ours, fl, theirs = causalkit_each(X, y, a, pscore, pi, q, k), floors(y, a, pscore, pi, q, k), \
        obp_each(y, a, pscore, pi, q)
    at_fit = causalkit_fit_time(X, y, a, pscore, pi, q, k)
    for key in args.estimators:
        v = ours[key]()
        f = fl[key]()
        assert abs(v.value - f[0]) < 1e-9 and abs(v.stderr - f[1]) < 1e-9 * max(1.0, f[1]), (key, v, f)
        if key in at_fit:  # the two paths give the same numbers
            v2 = at_fit[key]()
            assert abs(v.value - v2.value) < 1e-12 and abs(v.stderr - v2.stderr) < 1e-12, (key, v, v2)
        model = key in MODEL_KEYS
        bench = Benchmark(f"ope_{key}_n{args.n:.0e}".replace("+0", ""), description=(
            f"{key}: fit + value for one policy, n={args.n:,} rounds x {k} actions, given propensities"
            + (" and reward predictions (causalkit: passed to value, model_reward='given'; "
               "causalkit-fit-q: passed to fit, which keeps a private copy)" if model else "")
            + "; one thread. Floor = plain numpy: check the logs and the policy once (finite, "
            "non-negative, rows sum to 1; the reward predictions finite), then the formula and its SE."))
        bench.add("causalkit", ours[key])
        if model:
            bench.add("causalkit-fit-q", at_fit[key])
        bench.add("floor", fl[key])
        if key in theirs:
            bench.add("obp", theirs[key])
            bench.note("obp 0.4.1 estimate_policy_value on the same arrays (value only, no SE); its "
                       "input checks include the policy's row sums.")
        bench.note("values and SEs of causalkit and the floor agree to 1e-9 (checked before timing).")
        with threadpool_limits(1):
            report = bench.run(repeats=args.repeats, baseline="floor", memory=False, clock="cpu")
        row = {"floor": paired_ratios(report, "causalkit", "floor")}
        if "obp" in report.times:
            row["obp"] = paired_ratios(report, "causalkit", "obp")
        if model:
            row["floor (fit-q)"] = paired_ratios(report, "causalkit-fit-q", "floor")
        spread[key] = row
        for against, d in row.items():
            who = "causalkit-fit-q" if against == "floor (fit-q)" else "causalkit"
            report.notes.append(f"{who} / {against.split(' ')[0]}, per-repeat pairs, median [quartiles] "
                                f"(range): CPU {_fmt(d['cpu'])}; wall {_fmt(d['wall'])}.")
        report.notes.append(_verdict(key, row))
        print(report.markdown())
        report.save()
    write_spread(args, spread)


def _verdict(key, row):
    """The criterion, stated: the median of the per-repeat CPU ratios to the floor at most
    the target (and at most 1.0 over obp); the upper quartile is reported beside it."""
    t = TARGETS[key]
    d = row["floor"]["cpu"]
    out = (f"criterion: median per-repeat CPU ratio to the floor <= {t:g}: "
           f"{'met' if d['median'] <= t else 'NOT met'} ({d['median']:.2f}); upper quartile "
           f"{d['q75']:.2f} ({'also' if d['q75'] <= t else 'not'} within)")
    if "obp" in row:
        o = row["obp"]["cpu"]
        out += f"; x obp median {o['median']:.2f} ({'<=' if o['median'] <= 1 else '>'} 1)"
    return out + "."


def write_spread(args, spread):
    """``ope_speed_n1e6[_<label>].json`` and ``.md``: every estimator's paired ratios."""
    name = f"ope_speed_n{args.n:.0e}".replace("+0", "") + (f"_{args.label}" if args.label else "")
    lines = [f"# {name}", "",
             f"causalkit fit + value over its numpy floor and over obp, n={args.n:,} x "
             f"{args.actions} actions, one thread, {args.repeats} alternating repeats. Each cell: "
             "median of the per-repeat ratios [quartiles] (range).", ""]
    if args.label:
        lines += [f"Label: {args.label}.", ""]
    lines += ["Criterion: the median per-repeat CPU ratio to the floor at most the target "
              "(IPS, SNIPS 1.0; the others 1.5) and to obp at most 1.0. Repeats alternate the "
              "candidates' order, so each pair ran back to back; the upper quartile shows how often "
              "a pair misses on this shared 2-core machine. The model-based rows time the "
              "predictions passed to value (model_reward='given'); the last column times them "
              "passed to fit (a private 160 MB copy).", "",
              "| estimator | target | x floor (CPU) | met (median / q75) | x floor (wall) | x obp (CPU) "
              "| x obp (wall) | predictions at fit: x floor (CPU) |",
              "|---|---|---|---|---|---|---|---|"]
    for key, row in spread.items():
        t = TARGETS[key]
        d = row["floor"]["cpu"]
        cells = [f"{t:g}", _fmt(d), f"{'yes' if d['median'] <= t else 'NO'} / "
                 f"{'yes' if d['q75'] <= t else 'no'}", _fmt(row["floor"]["wall"])]
        cells += [_fmt(row["obp"]["cpu"]), _fmt(row["obp"]["wall"])] if "obp" in row else ["", ""]
        cells += [_fmt(row["floor (fit-q)"]["cpu"])] if "floor (fit-q)" in row else [""]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    facts = machine_facts()
    load = os.getloadavg()
    lines += ["", "Machine: " + ", ".join(f"{k}={v}" for k, v in facts.items())
              + f", load average at the end {load[0]:.1f}", ""]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps(
        {"name": name, "label": args.label, "n": args.n, "actions": args.actions,
         "repeats": args.repeats, "paired_ratios": spread, "machine": facts,
         "loadavg_end": load, "versions": library_versions()}, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--actions", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--estimators", nargs="*", default=["ips", "snips", "dm", "dr", "sndr", "switch", "es"])
    ap.add_argument("--label", default="",
                    help="suffix of the spread summary file (e.g. a commit measured for comparison)")
    ap.add_argument("--all-at-once", action="store_true",
                    help="the older single benchmark of all 7 estimators against obp")
    args = ap.parse_args()
    X, y, a, pscore, pi, q = make_inputs(args.n, args.actions)
    if not args.all_at_once:
        per_estimator(args, X, y, a, pscore, pi, q)
        return
    ours = causalkit_all(X, y, a, pscore, pi, q, args.actions)
    theirs = obp_all(y, a, pscore, pi, q)
    for key in ours:
        assert abs(ours[key] - theirs[key]) < 1e-9, (key, ours[key], theirs[key])
    bench = Benchmark("ope_bandit", description=(
        f"All 7 bandit estimators for one policy, n={args.n:,} rounds x {args.actions} actions, "
        "given propensities and reward predictions (values agree to 1e-9)."))
    bench.add("causalkit", lambda: causalkit_all(X, y, a, pscore, pi, q, args.actions))
    bench.add("obp", lambda: obp_all(y, a, pscore, pi, q))
    bench.note("obp 0.4.1 has no exponentially smoothed IPS; its row runs a numpy one-liner.")
    bench.note("causalkit also validates every input (finite, ranges, policy rows sum to 1) and "
               "returns standard errors; obp's estimate_policy_value returns the value only.")
    report = bench.run(repeats=args.repeats, baseline="obp", memory=False)
    print(report.markdown())
    report.save()


if __name__ == "__main__":
    main()
