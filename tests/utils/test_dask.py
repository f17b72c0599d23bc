"""The Dask path of the moment-based estimators: the numpy path's numbers and messages.

Every estimator runs on a real ``distributed.LocalCluster`` (two workers, threads in
one process: ``processes=False`` keeps the fixture at about a second; the benchmark
``benchmarks/bench_dask.py`` runs worker processes) and for several chunkings, and must
give the same value and standard error as numpy arrays to 1e-10 relative.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from causalkit.calibration import (  # noqa: E402
    LinearCalibration,
    TweedieCorrection,
    corrected_mean,
    ppi_mean,
)
from causalkit.datasets import make_bandit_feedback  # noqa: E402
from causalkit.montecarlo import ControlVariates, cuped  # noqa: E402
from causalkit.ope import (  # noqa: E402
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    ExponentialSmoothingIPS,
    SelfNormalizedDR,
    SwitchDR,
)
from causalkit.rdd import RDD  # noqa: E402

RTOL = 1e-10
#: row chunkings: one block, and uneven blocks (the last one shorter)
CHUNKS = [None, 400]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def D(a, chunks=None):
    """A numpy array as a Dask array with ``chunks`` rows per block (None: one block)."""
    a = np.asarray(a)
    rows = a.shape[0] if chunks is None else chunks
    return da.from_array(a, chunks=(rows,) + a.shape[1:])


def assert_same(a, b, rtol=RTOL):
    """Two Estimates with the same value, SE, n and method."""
    assert abs(a.value - b.value) <= rtol * abs(a.value), (a, b)
    assert abs(a.stderr - b.stderr) <= rtol * a.stderr, (a, b)
    assert a.n == b.n and a.method == b.method and a.name == b.name


def same_error(fn_numpy, fn_dask, exc=ValueError):
    with pytest.raises(exc) as e1:
        fn_numpy()
    with pytest.raises(exc) as e2:
        fn_dask()
    assert str(e1.value) == str(e2.value)


def no_rows_kept(est, n):
    """No fitted attribute holds rows: neither a Dask collection nor an array of length n."""
    for k, v in vars(est).items():
        assert not hasattr(v, "__dask_graph__"), k
        if isinstance(v, np.ndarray):
            assert v.shape[0] != n, k


# --------------------------------------------------------------------------- OPE


@pytest.fixture(scope="module")
def bandit():
    d = make_bandit_feedback(1500, n_actions=4, random_state=0)
    rng = np.random.default_rng(1)
    q = np.clip(rng.normal(0.5, 0.3, size=(1500, 4)), 0, 1)
    sw = rng.uniform(0.5, 2.0, 1500)
    return d, q, sw


OPE = [(IPS, {}), (SNIPS, {"clip": 3.0}), (DirectMethod, {}), (DoublyRobust, {}),
       (SelfNormalizedDR, {"clip": 5.0}), (SwitchDR, {"tau": 2.0}),
       (ExponentialSmoothingIPS, {"beta": 0.5})]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("cls,kw", OPE, ids=[f"{c.__name__}{k}" for c, k in OPE])
def test_ope_same_numbers(client, bandit, cls, kw, chunks):
    d, q, sw = bandit
    model = cls._needs_reward_model
    for prop, weights, policy in ((d.propensity, None, D(d.target_policy, 500)),
                                  (d.logging_policy, sw, d.target_policy)):
        e1 = cls(**kw).fit(d.X, d.y, action=d.action, propensity=prop,
                           estimated_rewards=q if model else None, sample_weight=weights)
        e2 = cls(**kw).fit(D(d.X, chunks), D(d.y, chunks), action=D(d.action, chunks),
                           propensity=D(prop, chunks), estimated_rewards=D(q, chunks) if model else None,
                           sample_weight=None if weights is None else D(weights, chunks))
        # the policy as a Dask array with its own chunks (realigned), or as numpy
        assert_same(e1.value(d.target_policy), e2.value(policy))
        assert e1.diagnostics_["propensity_min"] == e2.diagnostics_["propensity_min"]
        np.testing.assert_array_equal(e1.diagnostics_["action_counts"],
                                      e2.diagnostics_["action_counts"])


def test_ope_policy_kinds_and_compare(client, bandit):
    from sklearn.linear_model import LogisticRegression

    d, q, _ = bandit
    clf = LogisticRegression(max_iter=300).fit(d.X, d.action)
    e1 = DoublyRobust().fit(d.X, d.y, action=d.action, propensity=d.propensity, estimated_rewards=q)
    e2 = DoublyRobust().fit(D(d.X, 400), D(d.y, 400), action=D(d.action, 400),
                            propensity=D(d.propensity, 400), estimated_rewards=D(q, 400))
    uniform = np.full((1500, 4), 0.25)

    def greedy(X):
        return np.eye(4)[np.argmax(X[:, :4], axis=1)] * 0.7 + 0.075

    assert_same(e1.value(clf), e2.value(clf))
    assert_same(e1.value(greedy), e2.value(greedy))
    t1, t2 = e1.compare({"u": uniform, "g": greedy}), e2.compare({"u": D(uniform), "g": greedy})
    for a, b in zip(t1.estimates, t2.estimates):
        assert_same(a, b)
    g1, g2 = e1.diagnostics(d.target_policy), e2.diagnostics(D(d.target_policy))
    for key in g1:
        assert np.isclose(g1[key], g2[key], rtol=RTOL), key


def test_ope_many_blocks_on_the_cluster_keeps_no_rows(client, bandit):
    d, _, sw = bandit
    e1 = SNIPS().fit(d.X, d.y, action=d.action, propensity=d.propensity, sample_weight=sw)
    est = SNIPS().fit(D(d.X, 100), D(d.y, 100), action=D(d.action, 100),
                      propensity=D(d.propensity, 100), sample_weight=D(sw, 100))
    with distributed.get_task_stream(client) as ts:
        assert_same(e1.value(d.target_policy), est.value(D(d.target_policy, 100)))
    assert len(ts.data) >= 15  # one task per block at least, run by the workers
    for k, v in vars(est).items():  # lazy collections (graphs), never computed rows
        if isinstance(v, np.ndarray):
            assert v.shape[0] != 1500, k


def _shared_source(d, q, rows):
    """The bandit arrays as Dask arrays cut from ONE task per block (like the columns of
    one file, or a generator), so every block of every array shares a parent task."""
    import dask

    n = d.y.shape[0]
    cols = (d.X, d.y, d.action, d.propensity, d.target_policy, q)

    def load(lo, hi):
        return tuple(c[lo:hi] for c in cols)

    out = [[] for _ in cols]
    for lo in range(0, n, rows):
        hi = min(lo + rows, n)
        parts = dask.delayed(load, pure=True, nout=len(cols))(lo, hi)
        for j, c in enumerate(cols):
            out[j].append(da.from_delayed(parts[j], shape=(hi - lo,) + c.shape[1:], dtype=c.dtype))
    return [da.concatenate(o) for o in out]


def test_one_task_per_block_with_a_shared_source(client, bandit):
    """Each block's reduction is one task with its block's source fused in (nothing left
    for work stealing to move between workers), and the numbers are numpy's."""
    from causalkit.utils._chunked import combine, reduce_blocks

    d, q, _ = bandit
    X, y, a, p, P, Q = _shared_source(d, q, 400)
    lazy = reduce_blocks(lambda off, yb, pb, Pb: {"s": float(yb @ (Pb[:, 0] / pb)), "n": yb.size},
                         [y, p, P], combine, lazy=True)
    graph = dict(lazy.__dask_graph__())
    blocks = [k for k in graph if isinstance(k, tuple) and str(k[0]).startswith("causalkit-block")]
    assert len(blocks) == 4  # 1500 rows in blocks of 400
    assert not any("load" in str(k) or "getitem" in str(k) or "concatenate" in str(k)
                   for k in graph)
    # the block function is one node that every block task reads (shipped once per worker,
    # not pickled into each task)
    fns = [k for k in graph if str(k).startswith("causalkit-fn")]
    assert len(fns) == 1
    assert all(fns[0] in graph[k].dependencies for k in blocks)
    st = lazy.compute()
    assert st["n"] == 1500
    assert np.isclose(st["s"], d.y @ (d.target_policy[:, 0] / d.propensity), rtol=RTOL)
    e1 = DoublyRobust().fit(d.X, d.y, action=d.action, propensity=d.propensity, estimated_rewards=q)
    e2 = DoublyRobust().fit(X, y, action=a, propensity=p, estimated_rewards=Q)
    assert_same(e1.value(d.target_policy), e2.value(P))


def test_merge_tree_fan_in_is_bounded(client):
    """The per-block summaries are merged in a tree that takes at most ``_FAN_IN`` of them
    per task (no task gathers every block's summary), ``ceil(log_fan_in(blocks))`` levels
    deep, in block order; the merged sums are numpy's."""
    from causalkit.utils._chunked import _FAN_IN, reduce_blocks

    rng = np.random.default_rng(3)
    y = rng.normal(size=1500)
    nblocks = 150
    lazy = reduce_blocks(lambda off, yb: {"s": float(yb.sum()), "first": ("first_row", off)},
                         [D(y, 10)], lambda a, b: {"s": a["s"] + b["s"], "first": a["first"]},
                         lazy=True)
    deps = lazy.__dask_graph__().get_all_dependencies()
    blocks = {k for k in deps if isinstance(k, tuple) and str(k[0]).startswith("causalkit-block")}
    assert len(blocks) == nblocks
    merges = {k for k in deps if k not in blocks and deps[k] and k != lazy.key}
    assert all(len(deps[k]) <= _FAN_IN for k in merges)
    assert max(len(deps[k]) for k in merges) == _FAN_IN  # the bound is reached, not exceeded
    depth = {}

    def level(k):
        if k not in depth:
            depth[k] = 0 if k in blocks else 1 + max(level(d) for d in deps[k])
        return depth[k]

    assert level(lazy.key) - 1 == int(np.ceil(np.log(nblocks) / np.log(_FAN_IN)))  # 3 levels
    assert len(merges) < nblocks / (_FAN_IN - 1) + 3
    st = lazy.compute()
    assert np.isclose(st["s"], y.sum(), rtol=RTOL) and st["first"] == ("first_row", 0)


def test_ope_dask_dataframe_input(client, bandit):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    d, _, _ = bandit
    X = pd.DataFrame(d.X, columns=[f"x{j}" for j in range(d.X.shape[1])])
    Xd = dd.from_pandas(X, npartitions=3)
    yd = dd.from_pandas(pd.Series(d.y), npartitions=3)
    e1 = SNIPS().fit(X, d.y, action=d.action, propensity=d.propensity)
    e2 = SNIPS().fit(Xd, yd, action=D(d.action, 700), propensity=d.propensity)
    assert_same(e1.value(d.target_policy), e2.value(d.target_policy))
    assert list(e2.feature_names_in_) == list(X.columns)


def test_ope_needs_given_nuisances(client, bandit):
    d, _, _ = bandit
    with pytest.raises(ValueError, match="`propensity=`"):
        IPS().fit(D(d.X), D(d.y), action=D(d.action))
    with pytest.raises(ValueError, match="`estimated_rewards=`"):
        DoublyRobust().fit(D(d.X), D(d.y), action=D(d.action), propensity=D(d.propensity))


def test_ope_same_messages(client, bandit):
    d, q, _ = bandit
    y = d.y.astype(float).copy()
    y[[7, 900]] = np.nan
    same_error(lambda: IPS().fit(d.X, y, action=d.action, propensity=d.propensity),
               lambda: IPS().fit(D(d.X, 200), D(y, 200), action=D(d.action, 200),
                                 propensity=D(d.propensity, 200)))
    p = d.propensity.copy()
    p[[3, 1200]] = [0.0, 1.5]
    same_error(lambda: IPS().fit(d.X, d.y, action=d.action, propensity=p),
               lambda: IPS().fit(D(d.X, 200), D(d.y, 200), action=D(d.action, 200),
                                 propensity=D(p, 200)))
    a = d.action.astype(float)
    a[5] = 1.5
    same_error(lambda: IPS().fit(d.X, d.y, action=a, propensity=d.propensity),
               lambda: IPS().fit(D(d.X), D(d.y), action=D(a), propensity=D(d.propensity)))
    big = q.copy()
    big[10, 2] = 1e150
    same_error(lambda: DoublyRobust().fit(d.X, d.y, action=d.action, propensity=d.propensity,
                                          estimated_rewards=big),
               lambda: DoublyRobust().fit(D(d.X, 200), D(d.y, 200), action=D(d.action, 200),
                                          propensity=D(d.propensity, 200),
                                          estimated_rewards=D(big, 200)))
    bad = d.target_policy.copy()
    bad[1100] *= 2
    e1 = IPS().fit(d.X, d.y, action=d.action, propensity=d.propensity)
    e2 = IPS().fit(D(d.X, 200), D(d.y, 200), action=D(d.action, 200),
                   propensity=D(d.propensity, 200))
    same_error(lambda: e1.value(bad), lambda: e2.value(D(bad, 250)))
    same_error(lambda: e1.value(np.full((1500, 3), 1 / 3)),
               lambda: e2.value(D(np.full((1500, 3), 1 / 3))))
    # probability on an action never logged
    f1 = IPS(n_actions=5).fit(d.X, d.y, action=d.action, propensity=d.propensity)
    f2 = IPS(n_actions=5).fit(D(d.X, 300), D(d.y, 300), action=D(d.action, 300),
                              propensity=D(d.propensity, 300))
    five = np.full((1500, 5), 0.2)
    same_error(lambda: f1.value(five), lambda: f2.value(D(five, 300)))


def _block_tasks(ts):
    """The block tasks in a task stream: one per block and pass (the block's loads are
    fused into it)."""
    return sum("causalkit-block" in str(t["key"]) for t in ts.data)


@pytest.mark.parametrize("cls,kw", [(IPS, {}), (SNIPS, {"clip": 3.0}), (DoublyRobust, {}),
                                    (SwitchDR, {"tau": 2.0})])
def test_fit_compare_is_one_pass_with_the_same_numbers(client, bandit, cls, kw):
    """``fit_compare`` reads every block once (one task per block, with its load fused
    in) for the checks of ``fit`` and all the
    policies (a Dask matrix, a numpy matrix, a callable), and gives ``fit`` + ``compare``'s
    numbers on numpy; ``compare`` after a Dask fit is one more pass for all policies."""
    d, q, _ = bandit
    X, y, a, p, P, Q = _shared_source(d, q, 400)
    uniform = np.full((1500, 4), 0.25)

    def greedy(X):
        return np.eye(4)[np.argmax(X[:, :4], axis=1)] * 0.7 + 0.075

    model = cls._needs_reward_model
    e1 = cls(**kw)
    t1 = e1.fit_compare(d.X, d.y, action=d.action, propensity=d.propensity,
                        estimated_rewards=q if model else None,
                        policies={"t": d.target_policy, "u": uniform, "g": greedy})
    e2 = cls(**kw)
    with distributed.get_task_stream(client) as ts:
        t2 = e2.fit_compare(X, y, action=a, propensity=p, estimated_rewards=Q if model else None,
                            policies={"t": P, "u": uniform, "g": greedy})
    assert _block_tasks(ts) == 4  # 1500 rows in blocks of 400, each read once
    for r1, r2 in zip(t1.estimates, t2.estimates):
        assert_same(r1, r2)
    assert e2.n_actions_ == e1.n_actions_ == 4
    np.testing.assert_array_equal(e1.diagnostics_["action_counts"], e2.diagnostics_["action_counts"])
    with distributed.get_task_stream(client) as ts:
        t3 = e2.compare({"t": P, "g": greedy})
    assert _block_tasks(ts) == 4
    assert_same(t1.estimates[0], t3.estimates[0])
    assert_same(t1.estimates[2], t3.estimates[1])


def test_fit_compare_same_messages_and_fallbacks(client, bandit):
    d, _, _ = bandit
    five = np.full((1500, 5), 0.2)
    p = d.propensity.copy()
    p[[3, 1200]] = [0.0, 1.5]
    # fit's errors come first (the policy sums of a bad block are skipped)
    same_error(lambda: IPS().fit_compare(d.X, d.y, action=d.action, propensity=p,
                                         policies={"t": d.target_policy}),
               lambda: IPS().fit_compare(D(d.X, 200), D(d.y, 200), action=D(d.action, 200),
                                         propensity=D(p, 200), policies={"t": D(d.target_policy)}))
    a = d.action.copy()
    a[10] = 7  # beyond the policy's 4 columns: fit's range error, not an index error
    same_error(lambda: IPS(n_actions=4).fit_compare(d.X, d.y, action=a, propensity=d.propensity,
                                                    policies={"t": d.target_policy}),
               lambda: IPS(n_actions=4).fit_compare(D(d.X, 200), D(d.y, 200), action=D(a, 200),
                                                    propensity=D(d.propensity, 200),
                                                    policies={"t": D(d.target_policy)}))
    # then the policy's own: mass on an action never logged, rows not summing to one
    same_error(lambda: IPS(n_actions=5).fit_compare(d.X, d.y, action=d.action,
                                                    propensity=d.propensity, policies={"f": five}),
               lambda: IPS(n_actions=5).fit_compare(D(d.X, 300), D(d.y, 300),
                                                    action=D(d.action, 300),
                                                    propensity=D(d.propensity, 300),
                                                    policies={"f": D(five, 300)}))
    bad = d.target_policy.copy()
    bad[1100] *= 2
    same_error(lambda: IPS().fit_compare(d.X, d.y, action=d.action, propensity=d.propensity,
                                         policies={"t": d.target_policy, "b": bad}),
               lambda: IPS().fit_compare(D(d.X, 200), D(d.y, 200), action=D(d.action, 200),
                                         propensity=D(d.propensity, 200),
                                         policies={"t": d.target_policy, "b": D(bad, 250)}))
    # the number of actions unknown before the pass (1-D propensity, a callable policy):
    # fit, then compare, with the same numbers
    e1 = IPS().fit_compare(d.X, d.y, action=d.action, propensity=d.propensity,
                           policies={"c": lambda X: np.full((X.shape[0], 4), 0.25)})
    e2 = IPS().fit_compare(D(d.X, 400), D(d.y, 400), action=D(d.action, 400),
                           propensity=D(d.propensity, 400),
                           policies={"c": lambda X: np.full((X.shape[0], 4), 0.25)})
    assert_same(e1.estimates[0], e2.estimates[0])
    with pytest.raises(ValueError, match="non-empty dict"):
        IPS().fit_compare(D(d.X), D(d.y), action=D(d.action), propensity=D(d.propensity),
                          policies={})


# --------------------------------------------------------------------------- control variates


@pytest.fixture(scope="module")
def mc():
    rng = np.random.default_rng(2)
    n = 2000
    Z = rng.normal(size=(n, 3))
    y = 10 + Z @ [1.0, 0.5, -0.2] + rng.normal(size=n)
    w = rng.uniform(0.5, 1.5, n)
    strata = np.array(["a", "b", "c"])[rng.integers(0, 3, n)]
    strata[:3] = "tiny"  # pooled: fewer than p + 2 draws
    return Z, y, w, strata


@pytest.mark.parametrize("chunks", CHUNKS)
def test_control_variates_same_numbers(client, mc, chunks):
    import pandas as pd

    Z, y, w, strata = mc
    for kw in ({}, {"weights": w}, {"strata": strata, "weights": w}):
        for alpha in (0.0, 0.3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e1 = ControlVariates(control_means=0.0, alpha=alpha).fit(Z, y, **kw)
                e2 = ControlVariates(control_means=0.0, alpha=alpha).fit(
                    D(Z, chunks), D(y, chunks), **{k: D(v, chunks) for k, v in kw.items()})
            assert_same(e1.mean_, e2.mean_)
            assert_same(e1.plain_, e2.plain_)
            np.testing.assert_allclose(e1.coef_, e2.coef_, rtol=1e-9)
            assert list(e1.strata_) == list(e2.strata_)
            pd.testing.assert_frame_equal(e1.diagnostics_["strata"], e2.diagnostics_["strata"],
                                          rtol=1e-9)
            no_rows_kept(e2, Z.shape[0])


def test_control_variates_dask_dataframe(client, mc):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    Z, y, _, strata = mc
    X = pd.DataFrame(Z, columns=["a", "b", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e1 = ControlVariates().fit(X, y, strata=strata)
        e2 = ControlVariates().fit(dd.from_pandas(X, npartitions=3), D(y, 700),
                                   strata=dd.from_pandas(pd.Series(strata), npartitions=3))
    assert_same(e1.mean_, e2.mean_)
    assert list(e2.feature_names_in_) == ["a", "b", "c"]


def test_control_variates_dask_errors(client, mc):
    Z, y, _, _ = mc
    with pytest.raises(ValueError, match="`cv=None`"):
        ControlVariates(cv=5).fit(D(Z), D(y))
    with pytest.raises(ValueError, match="collinear"):
        ControlVariates().fit(D(np.c_[Z, Z[:, 0]]), D(y))
    Zn = Z.copy()
    Zn[1500, 1] = np.inf
    same_error(lambda: ControlVariates().fit(Zn, y), lambda: ControlVariates().fit(D(Zn, 256), D(y, 256)))
    w = np.ones(len(y))
    w[9] = -1
    same_error(lambda: ControlVariates().fit(Z, y, weights=w),
               lambda: ControlVariates().fit(D(Z), D(y), weights=D(w)))


@pytest.mark.parametrize("chunks", CHUNKS)
def test_cuped_same_numbers(client, mc, chunks):
    Z, y, _, _ = mc
    t = np.random.default_rng(3).integers(0, 2, len(y))
    yt = y + 0.2 * t
    assert_same(cuped(yt, t, Z), cuped(D(yt, chunks), D(t, chunks), D(Z, chunks)))
    assert_same(cuped(yt, t, Z, alpha=1.0), cuped(D(yt, chunks), D(t, chunks), D(Z, chunks), alpha=1.0))
    same_error(lambda: cuped(yt, t + 1, Z), lambda: cuped(D(yt, chunks), D(t + 1, chunks), D(Z, chunks)))


# --------------------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def cal():
    rng = np.random.default_rng(4)
    y = rng.normal(2.0, 1.0, 1500)
    x = 1 + 0.5 * y + 0.3 * rng.normal(size=1500)
    w = rng.uniform(0.5, 2.0, 1500)
    pred = 1 + 0.5 * rng.normal(2.0, 1.0, 6000) + 0.3 * rng.normal(size=6000)
    wd = rng.uniform(0.5, 2.0, 6000)
    return x, y, w, pred, wd


@pytest.mark.parametrize("chunks", CHUNKS)
def test_linear_calibration_same_numbers(client, cal, chunks):
    x, y, w, _, _ = cal
    for sw in (None, w):
        l1 = LinearCalibration().fit(x, y, sample_weight=sw)
        l2 = LinearCalibration().fit(D(x, chunks), D(y, chunks),
                                     sample_weight=None if sw is None else D(sw, chunks))
        assert np.isclose(l1.slope_, l2.slope_, rtol=RTOL, atol=0)
        assert np.isclose(l1.intercept_, l2.intercept_, rtol=RTOL, atol=0)
        np.testing.assert_allclose(l1.coef_cov_, l2.coef_cov_, rtol=RTOL)
        assert l1.support_ == l2.support_
        no_rows_kept(l2, len(x))
    same_error(lambda: LinearCalibration().fit(np.ones(50), y[:50]),
               lambda: LinearCalibration().fit(D(np.ones(50)), D(y[:50])))


@pytest.mark.parametrize("chunks", CHUNKS)
def test_corrected_mean_and_ppi_same_numbers(client, cal, chunks):
    x, y, _, pred, wd = cal
    lcc = LinearCalibration().fit(x, y)
    tw = TweedieCorrection().fit(x, y)
    cases = [(None, True, wd), (lcc, True, None), (lcc, True, wd), (lcc, False, None),
             (tw, False, wd)]
    for corr, unc, sw in cases:
        a = corrected_mean(corr, pred, sample_weight=sw, calibration_uncertainty=unc,
                           n_boot=30, random_state=0)
        b = corrected_mean(corr, D(pred, chunks), sample_weight=None if sw is None else D(sw, chunks),
                           calibration_uncertainty=unc, n_boot=30, random_state=0)
        assert_same(a, b)
    ref = ppi_mean(pred, x, y)
    assert_same(ref, ppi_mean(D(pred, chunks), x, y))
    assert_same(ref, ppi_mean(D(pred, chunks), D(x, chunks), D(y, chunks)))
    with pytest.raises(ValueError, match="calibration_uncertainty=False"):
        corrected_mean(tw, D(pred), calibration_uncertainty=True)
    fitted_on_dask = LinearCalibration().fit(D(x), D(y))
    with pytest.raises(ValueError, match="calibration_uncertainty=False"):
        corrected_mean(fitted_on_dask, pred)
    assert_same(corrected_mean(lcc, pred, calibration_uncertainty=False),
                corrected_mean(fitted_on_dask, D(pred), calibration_uncertainty=False))


# --------------------------------------------------------------------------- RDD


@pytest.fixture(scope="module")
def rd():
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.uniform(-1, 1, n)
    t = (rng.uniform(size=n) < 0.2 + 0.6 * (x >= 0)).astype(float)
    y = 3 + 0.5 * x + 0.3 * x**2 + 0.8 * t + 0.3 * rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    return x, t, y, w


RD_CASES = [{}, {"kernel": "uniform", "bias_bandwidth": 0.6, "vce": "hc0"},
            {"kernel": "epanechnikov", "deriv": 1, "p": 2}, {"bandwidth": (0.3, 0.5), "rho": 0.8}]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("kw", RD_CASES, ids=[str(k) for k in RD_CASES])
def test_rdd_same_numbers(client, rd, kw, chunks):
    x, t, y, w = rd
    params = dict(bandwidth=0.4, vce="hc1", masspoints="off")
    params.update(kw)
    for tr, sw in ((None, None), (t, w)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e1 = RDD(**params).fit(x, y, treatment=tr, sample_weight=sw)
            e2 = RDD(**params).fit(D(x, chunks), D(y, chunks),
                                   treatment=None if tr is None else D(tr, chunks),
                                   sample_weight=None if sw is None else D(sw, chunks))
        for a, b in ((e1.conventional_, e2.conventional_), (e1.bias_corrected_, e2.bias_corrected_),
                     (e1.effect_, e2.effect_)):
            assert_same(a, b)
        if tr is not None:
            for a, b in zip(e1.first_stage_.estimates, e2.first_stage_.estimates):
                assert_same(a, b)
        assert e1.n_ == e2.n_ and e1.n_effective_ == e2.n_effective_
        no_rows_kept(e2, len(x))


def test_rdd_names_the_argument(client, rd):
    x, _, y, _ = rd
    with pytest.raises(ValueError, match="`bandwidth=`"):
        RDD(vce="hc1", masspoints="off").fit(D(x), D(y))
    with pytest.raises(ValueError, match="`vce='hc1'`"):
        RDD(bandwidth=0.4, masspoints="off").fit(D(x), D(y))
    with pytest.raises(ValueError, match="`masspoints='off'`"):
        RDD(bandwidth=0.4, vce="hc1").fit(D(x), D(y))
    same_error(lambda: RDD(bandwidth=0.4, vce="hc1", masspoints="off", cutoff=5.0).fit(x, y),
               lambda: RDD(bandwidth=0.4, vce="hc1", masspoints="off", cutoff=5.0).fit(D(x), D(y)))


# --------------------------------------------------------------------------- packaging


def test_dask_is_imported_lazily():
    code = ("import sys, causalkit, causalkit.ope, causalkit.montecarlo, causalkit.calibration, "
            "causalkit.rdd; import causalkit.utils._chunked; "
            "sys.exit(1 if any(m == 'dask' or m.startswith('dask.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
