"""The Open Bandit Dataset sample that the ``obp`` package bundles (real logged bandit feedback)."""

from __future__ import annotations

import io

import numpy as np

from ._base import Dataset, read_packaged_file

__all__ = ["load_open_bandit"]

#: SHA-256 of each bundled file, obp 0.4.1 (see datasets/open_bandit.md).
OBD_SHA256 = {
    ("random", "all"): "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1",
    ("bts", "all"): "0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106",
    ("random", "women"): "e65f3bd3beb17664fa69cc129bf7bf852a775f8ffa630506e505fc905315bb34",
    ("bts", "women"): "e5d1b49a39b608585a2f3014a3f54970430cd37a495c1b73fceb85cdf428a5b8",
    ("random", "men"): "ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb",
    ("bts", "men"): "db6d1f7ed2d591ba521533e45286d4c1fba7fe57a8ad2e80342210335f43c527",
}
_N_ITEMS = {"all": 80, "men": 34, "women": 46}


def load_open_bandit(behavior_policy: str = "bts", campaign: str = "all", *, as_frame: bool = False) -> Dataset:
    """The 10,000-round sample of the Open Bandit Dataset for one logging policy and campaign.

    ZOZOTOWN's fashion e-commerce site showed items in three slots; each row is
    one (round, slot): the item shown (``action``), the slot (``position``), the
    click (``y``) and the logging policy's probability of showing that item in
    that slot (``propensity``). Two logging policies ran side by side on the same
    traffic: uniform random (``"random"``) and Bernoulli Thompson sampling
    (``"bts"``), so the random campaign's mean click rate is an on-policy truth
    for the uniform-random policy's value. The files are those the ``obp``
    package (Apache-2.0) bundles; they are read from the installed package,
    checked against their SHA-256 and never copied into causalkit. See
    ``datasets/open_bandit.md`` for the card.

    Parameters
    ----------
    behavior_policy : {"bts", "random"}, default "bts"
    campaign : {"all", "men", "women"}, default "all"
        80, 34 and 46 items.
    as_frame : bool, default False
        Return ``X`` as a DataFrame (else a float array; names in ``feature_names``).

    Returns
    -------
    Dataset
        ``X`` (one-hot user features and the user-item affinities, as Open Bandit
        Pipeline's default preprocessing), ``y`` (click), ``action`` (item id),
        ``position`` (slot 0..2), ``propensity``, ``n_actions``, ``timestamp``,
        ``feature_names`` and ``description`` (no truth: real data).

    References
    ----------
    Saito, Y., Aihara, S., Matsutani, M. and Narita, Y. (2021). Open bandit dataset
    and pipeline: towards realistic and reproducible off-policy evaluation.
    NeurIPS Datasets and Benchmarks.

    Examples
    --------
    >>> from causalkit.datasets import load_open_bandit   # reads the files obp ships
    >>> d = load_open_bandit("random", "men")
    >>> d.n_actions, len(d.y), sorted(set(d.position.tolist()))
    (34, 10000, [0, 1, 2])
    """
    if behavior_policy not in ("bts", "random"):
        raise ValueError(f"`behavior_policy` must be 'bts' or 'random'; got {behavior_policy!r}.")
    if campaign not in _N_ITEMS:
        raise ValueError(f"`campaign` must be 'all', 'men' or 'women'; got {campaign!r}.")
    raw = read_packaged_file("obp", f"dataset/obd/{behavior_policy}/{campaign}/{campaign}.csv",
                             OBD_SHA256[(behavior_policy, campaign)], loader="load_open_bandit",
                             what="the Open Bandit Dataset sample bundled with obp",
                             install="pip install obp")
    import pandas as pd

    df = pd.read_csv(io.BytesIO(raw), index_col=0)
    users = [f"user_feature_{j}" for j in range(4)]
    affinity = [c for c in df.columns if c.startswith("user-item_affinity_")]
    X = pd.concat([pd.get_dummies(df[users], dtype=float), df[affinity].astype(float)], axis=1)
    names = list(X.columns)
    return Dataset(
        X=X if as_frame else X.to_numpy(),
        y=df["click"].to_numpy(dtype=np.float64),
        action=df["item_id"].to_numpy(dtype=np.int64),
        position=df["position"].to_numpy(dtype=np.int64) - 1,
        propensity=df["propensity_score"].to_numpy(dtype=np.float64),
        n_actions=_N_ITEMS[campaign],
        timestamp=pd.to_datetime(df["timestamp"]).to_numpy(),
        feature_names=names,
        description=f"Open Bandit Dataset sample (obp 0.4.1), {behavior_policy} logging policy, "
                    f"'{campaign}' campaign: 10,000 rounds, {_N_ITEMS[campaign]} items, 3 slots.",
    )
