"""The (conditional) front-door criterion on a causal DAG, with networkx.

Definition 4 of Xu et al. (2024): a set ``Z`` satisfies the conditional front-door
(CFD) criterion relative to ``(T, Y)`` with adjustment set ``W`` when

1. ``Z`` intercepts every directed path from ``T`` to ``Y``;
2. ``W`` blocks every back-door path from ``T`` to ``Z``;
3. ``{T} | W`` blocks every back-door path from ``Z`` to ``Y``.

With ``W`` empty this is Pearl's (1995) front-door criterion. As for any back-door
set, ``W`` must hold no descendant of ``T`` (reported under condition 2).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import networkx as nx

from ..utils.validation import check_bool, check_integer

__all__ = ["FrontDoorCheck", "check_frontdoor", "frontdoor_sets"]


def _d_separated(G, x, y, z):
    # networkx >= 3.3 names it is_d_separator; older versions d_separated.
    fn = getattr(nx, "is_d_separator", None) or nx.d_separated
    return fn(G, set(x), set(y), set(z))


@dataclass(frozen=True)
class FrontDoorCheck:
    """Result of :func:`check_frontdoor`.

    Attributes
    ----------
    satisfied : bool
        Whether every condition of the criterion holds.
    condition : int or None
        The first failing condition (1, 2 or 3 of Definition 4), ``None`` when satisfied.
    path : list or None
        A path (node list, from the first node to the last) witnessing the failure:
        a directed ``T -> ... -> Y`` path avoiding ``Z`` (condition 1), an open
        back-door path from ``T`` to a node of ``Z`` or a directed path from ``T`` into
        ``W`` (condition 2), or an open back-door path from ``Z`` to ``Y`` (condition 3).
    reason : str
        A sentence saying what fails, or that the criterion holds.
    failures : list of (int, list, str)
        Every failing condition with its witness path and reason.

    Examples
    --------
    >>> import networkx as nx
    >>> from causalkit.frontdoor import check_frontdoor
    >>> G = nx.DiGraph([("U", "T"), ("U", "Y"), ("T", "M"), ("M", "Y")])
    >>> res = check_frontdoor(G, "T", "Y", ["M"])
    >>> res.satisfied, res.condition
    (True, None)
    >>> bad = check_frontdoor(nx.DiGraph([("T", "M"), ("M", "Y"), ("T", "Y")]), "T", "Y", ["M"])
    >>> bad.condition, bad.path
    (1, ['T', 'Y'])
    """

    satisfied: bool
    condition: int | None
    path: list | None
    reason: str
    failures: list = field(default_factory=list)

    def __bool__(self):
        return self.satisfied


def _as_set(nodes, name, G):
    if nodes is None:
        return set()
    if isinstance(nodes, (str, int)) or not hasattr(nodes, "__iter__"):
        nodes = [nodes]
    out = set(nodes)
    missing = [v for v in out if v not in G]
    if missing:
        raise ValueError(f"`{name}` names node(s) {sorted(map(str, missing))} not in `graph`.")
    return out


def _check_graph(graph):
    if not isinstance(graph, nx.DiGraph):
        raise TypeError(f"`graph` must be a networkx.DiGraph; got {type(graph).__name__}.")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise ValueError(f"`graph` must be acyclic; it has the cycle {cycle}.")


def _path_open(G, path, given):
    """Whether ``path`` (a node list in the skeleton of ``G``) is d-connected given ``given``."""
    for i in range(1, len(path) - 1):
        a, b, c = path[i - 1], path[i], path[i + 1]
        collider = G.has_edge(a, b) and G.has_edge(c, b)
        if collider:
            if b not in given and not (nx.descendants(G, b) & given):
                return False
        elif b in given:
            return False
    return True


def _open_backdoor_path(G, source, targets, given, cutoff=None):
    """Shortest open path from ``source`` to a node of ``targets`` that starts with an
    edge into ``source``; ``None`` when every such path is blocked by ``given``."""
    skel = G.to_undirected(as_view=True)
    best = None
    for tgt in targets:
        for path in nx.all_simple_paths(skel, source, tgt, cutoff=cutoff):
            if not G.has_edge(path[1], path[0]):
                continue
            if set(path[1:-1]) & ({source} | set(targets)) - {tgt}:
                continue
            if _path_open(G, path, given) and (best is None or len(path) < len(best)):
                best = list(path)
    return best


def check_frontdoor(graph, treatment, outcome, mediators, adjustment=None) -> FrontDoorCheck:
    """Check the (conditional) front-door criterion on a causal DAG.

    Parameters
    ----------
    graph : networkx.DiGraph
        The causal DAG, unobserved variables included as ordinary nodes.
    treatment, outcome : node
        ``T`` and ``Y``.
    mediators : node or iterable of nodes
        The proposed front-door set ``Z``.
    adjustment : node or iterable of nodes, optional
        The conditioning set ``W`` of the conditional front-door criterion (Xu et al.,
        2024, Definition 4). ``None`` or empty checks Pearl's front-door criterion.

    Returns
    -------
    FrontDoorCheck
        Truthy when the criterion holds; otherwise says which condition fails first and
        along which path.

    Examples
    --------
    >>> import networkx as nx
    >>> from causalkit.frontdoor import check_frontdoor
    >>> G = nx.DiGraph([("W", "T"), ("W", "Z"), ("W", "Y"), ("U", "T"), ("U", "Y"),
    ...                 ("T", "Z"), ("Z", "Y"), ("Z", "X")])
    >>> bool(check_frontdoor(G, "T", "Y", ["Z"], adjustment=["W"]))
    True
    >>> res = check_frontdoor(G, "T", "Y", ["Z"])
    >>> res.condition, res.path
    (2, ['T', 'W', 'Z'])
    """
    _check_graph(graph)
    T = _as_set(treatment, "treatment", graph)
    Yset = _as_set(outcome, "outcome", graph)
    if len(T) != 1 or len(Yset) != 1:
        raise ValueError("`treatment` and `outcome` must each be a single node.")
    (t,), (y,) = tuple(T), tuple(Yset)
    if t == y:
        raise ValueError("`treatment` and `outcome` must be different nodes.")
    Z = _as_set(mediators, "mediators", graph)
    if not Z:
        raise ValueError("`mediators` is empty; give at least one front-door node.")
    W = _as_set(adjustment, "adjustment", graph)
    for name, s in (("mediators", Z), ("adjustment", W)):
        if s & {t, y}:
            raise ValueError(f"`{name}` must not contain the treatment or the outcome.")
    if Z & W:
        raise ValueError(f"`mediators` and `adjustment` overlap in {sorted(map(str, Z & W))}.")

    failures = []
    # (1) Z intercepts every directed path T -> Y.
    H = graph.subgraph(set(graph) - Z)
    if nx.has_path(H, t, y):
        p = nx.shortest_path(H, t, y)
        failures.append((1, p, f"the directed path {' -> '.join(map(str, p))} avoids `mediators`"))
    # (2) W holds no descendant of T and blocks every back-door path T -> Z.
    desc = nx.descendants(graph, t) & W
    if desc:
        w = sorted(desc, key=str)[0]
        p = nx.shortest_path(graph, t, w)
        failures.append((2, p, f"`adjustment` holds {w!r}, a descendant of the treatment "
                               f"({' -> '.join(map(str, p))})"))
    else:
        G2 = graph.copy()
        G2.remove_edges_from(list(graph.out_edges(t)))
        if not _d_separated(G2, {t}, Z, W):
            p = _open_backdoor_path(graph, t, Z, W)
            failures.append((2, p, "the back-door path " + " - ".join(map(str, p or []))
                             + " from the treatment to `mediators` is open given `adjustment`"))
    # (3) {T} | W blocks every back-door path Z -> Y.
    G3 = graph.copy()
    G3.remove_edges_from([e for z in Z for e in graph.out_edges(z)])
    given = W | {t}
    if not _d_separated(G3, Z, {y}, given):
        best = None
        for z in sorted(Z, key=str):
            p = _open_backdoor_path(graph, z, [y], given)
            if p is not None and (best is None or len(p) < len(best)):
                best = p
        failures.append((3, best, "the back-door path " + " - ".join(map(str, best or []))
                         + " from `mediators` to the outcome is open given the treatment and "
                           "`adjustment`"))
    if not failures:
        return FrontDoorCheck(True, None, None, "the criterion holds", [])
    cond, path, reason = failures[0]
    return FrontDoorCheck(False, cond, path, f"condition {cond} fails: {reason}", failures)


def frontdoor_sets(graph, treatment, outcome, *, latent=None, max_size=3,
                   conditional=True) -> list:
    """List the (W, Z) pairs that satisfy the (conditional) front-door criterion.

    A brute-force search over observed nodes: ``Z`` ranges over non-empty sets of
    observed descendants of the treatment that are ancestors of the outcome, ``W`` over
    sets of observed non-descendants of the treatment (the empty set first). Only
    minimal pairs are kept: no listed pair contains another (componentwise).

    Parameters
    ----------
    graph : networkx.DiGraph
        The causal DAG.
    treatment, outcome : node
    latent : iterable of nodes, optional
        Unobserved nodes, never used in ``W`` or ``Z``. Default: nodes with the node
        attribute ``latent=True``.
    max_size : int, default 3
        Largest size of ``W`` and of ``Z`` searched.
    conditional : bool, default True
        Also search non-empty ``W`` (conditional front-door); ``False`` lists Pearl's
        front-door sets only.

    Returns
    -------
    list of (frozenset, frozenset)
        ``(W, Z)`` pairs, smallest first.

    Examples
    --------
    >>> import networkx as nx
    >>> from causalkit.frontdoor import frontdoor_sets
    >>> G = nx.DiGraph([("W", "T"), ("W", "Z"), ("W", "Y"), ("U", "T"), ("U", "Y"),
    ...                 ("T", "Z"), ("Z", "Y"), ("Z", "X")])
    >>> [(sorted(w), sorted(z)) for w, z in frontdoor_sets(G, "T", "Y", latent=["U"])]
    [(['W'], ['Z'])]
    """
    _check_graph(graph)
    for name, v in (("treatment", treatment), ("outcome", outcome)):
        if v not in graph:
            raise ValueError(f"`{name}` {v!r} is not a node of `graph`.")
    max_size = check_integer(max_size, "max_size", low=1)
    check_bool(conditional, "conditional")
    if latent is None:
        latent = {v for v, d in graph.nodes(data=True) if d.get("latent", False)}
    hidden = _as_set(latent, "latent", graph)
    observed = set(graph) - hidden - {treatment, outcome}
    desc_t = nx.descendants(graph, treatment)
    anc_y = nx.ancestors(graph, outcome)
    z_pool = sorted(observed & desc_t & anc_y, key=str)
    w_pool = sorted(observed - desc_t, key=str)
    found = []
    w_sizes = range(0, max_size + 1) if conditional else [0]
    for kz in range(1, max_size + 1):
        for Z in itertools.combinations(z_pool, kz):
            for kw in w_sizes:
                for W in itertools.combinations(w_pool, kw):
                    Zs, Ws = frozenset(Z), frozenset(W)
                    if any(Ws >= w0 and Zs >= z0 for w0, z0 in found):
                        continue
                    if check_frontdoor(graph, treatment, outcome, Z, W).satisfied:
                        found.append((Ws, Zs))
    return sorted(found, key=lambda p: (len(p[0]) + len(p[1]), sorted(map(str, p[1])),
                                        sorted(map(str, p[0]))))
