"""The (conditional) front-door criterion on causal DAGs."""

from __future__ import annotations

import networkx as nx
import pytest

from causalkit.frontdoor import FrontDoorCheck, check_frontdoor, frontdoor_sets

FIG2 = [("W", "T"), ("W", "Z"), ("W", "Y"), ("U", "T"), ("U", "Y"),
        ("T", "Z"), ("Z", "Y"), ("Z", "X")]


@pytest.fixture
def fig2():
    return nx.DiGraph(FIG2)


def test_fig2_satisfies_cfd_with_w(fig2):
    res = check_frontdoor(fig2, "T", "Y", ["Z"], adjustment=["W"])
    assert isinstance(res, FrontDoorCheck)
    assert res.satisfied and bool(res)
    assert res.condition is None and res.path is None and res.failures == []


def test_fig2_plain_frontdoor_fails_condition_2(fig2):
    res = check_frontdoor(fig2, "T", "Y", "Z")
    assert not res
    assert res.condition == 2
    assert res.path == ["T", "W", "Z"]
    # Condition 3 also fails without W (Z <- W -> Y); every failure is listed.
    conds = {c: p for c, p, _ in res.failures}
    assert set(conds) == {2, 3}
    assert conds[3] == ["Z", "W", "Y"]


def test_condition_1_direct_edge(fig2):
    G = fig2.copy()
    G.add_edge("T", "Y")
    res = check_frontdoor(G, "T", "Y", ["Z"], adjustment=["W"])
    assert res.condition == 1
    assert res.path == ["T", "Y"]


def test_condition_1_path_through_other_node(fig2):
    G = fig2.copy()
    G.add_edges_from([("T", "V"), ("V", "Y")])
    res = check_frontdoor(G, "T", "Y", ["Z"], adjustment=["W"])
    assert res.condition == 1 and res.path == ["T", "V", "Y"]
    assert check_frontdoor(G, "T", "Y", ["Z", "V"], adjustment=["W"]).satisfied


def test_condition_2_confounded_treatment_mediator(fig2):
    G = fig2.copy()
    G.add_edges_from([("H", "T"), ("H", "Z")])
    res = check_frontdoor(G, "T", "Y", ["Z"], adjustment=["W"])
    assert res.condition == 2 and res.path == ["T", "H", "Z"]
    assert "open" in res.reason


def test_condition_2_descendant_of_treatment_in_w(fig2):
    res = check_frontdoor(fig2, "T", "Y", ["Z"], adjustment=["W", "X"])
    assert res.condition == 2
    assert res.path == ["T", "Z", "X"]
    assert "descendant" in res.reason


def test_condition_3_confounded_mediator_outcome(fig2):
    G = fig2.copy()
    G.add_edges_from([("H", "Z"), ("H", "Y")])
    res = check_frontdoor(G, "T", "Y", ["Z"], adjustment=["W"])
    assert res.condition == 3 and res.path == ["Z", "H", "Y"]
    # U -> Z: both T - Z and Z - Y back doors open through U.
    G2 = fig2.copy()
    G2.add_edge("U", "Z")
    res2 = check_frontdoor(G2, "T", "Y", ["Z"], adjustment=["W"])
    assert [c for c, _, _ in res2.failures] == [2, 3]
    assert res2.failures[0][1] == ["T", "U", "Z"]
    assert res2.failures[1][1] == ["Z", "U", "Y"]


def test_collider_on_backdoor_path_stays_blocked():
    # T <- U -> C <- Z: the collider C keeps the path closed unless conditioned on.
    G = nx.DiGraph([("U", "T"), ("U", "Y"), ("T", "Z"), ("Z", "Y"), ("U", "C"), ("Z2", "C"),
                    ("Z2", "Z")])
    assert check_frontdoor(G, "T", "Y", ["Z"]).satisfied
    res = check_frontdoor(G, "T", "Y", ["Z"], adjustment=["C"])
    assert res.condition == 2 and res.path == ["T", "U", "C", "Z2", "Z"]


def test_pearl_smoking_graph():
    G = nx.DiGraph([("U", "smoking"), ("U", "cancer"), ("smoking", "tar"), ("tar", "cancer")])
    assert check_frontdoor(G, "smoking", "cancer", ["tar"]).satisfied
    assert frontdoor_sets(G, "smoking", "cancer", latent=["U"]) == [(frozenset(), frozenset({"tar"}))]


def test_frontdoor_sets_fig2(fig2):
    sets = frontdoor_sets(fig2, "T", "Y", latent=["U"])
    assert sets == [(frozenset({"W"}), frozenset({"Z"}))]
    assert frontdoor_sets(fig2, "T", "Y", latent=["U"], conditional=False) == []
    nx.set_node_attributes(fig2, {"U": True}, "latent")
    assert frontdoor_sets(fig2, "T", "Y") == sets
    # Each listed pair satisfies the criterion.
    for w, z in sets:
        assert check_frontdoor(fig2, "T", "Y", z, adjustment=w)


def test_frontdoor_sets_none_when_latent_confounds_mediator(fig2):
    G = fig2.copy()
    G.add_edges_from([("U", "Z")])
    assert frontdoor_sets(G, "T", "Y", latent=["U"]) == []


def test_bad_graph_inputs(fig2):
    with pytest.raises(TypeError, match="`graph` must be a networkx.DiGraph"):
        check_frontdoor(nx.Graph(FIG2), "T", "Y", ["Z"])
    cyc = fig2.copy()
    cyc.add_edge("Y", "T")
    with pytest.raises(ValueError, match="`graph` must be acyclic"):
        check_frontdoor(cyc, "T", "Y", ["Z"])
    with pytest.raises(ValueError, match="`mediators` names node"):
        check_frontdoor(fig2, "T", "Y", ["Q"])
    with pytest.raises(ValueError, match="`mediators` is empty"):
        check_frontdoor(fig2, "T", "Y", [])
    with pytest.raises(ValueError, match="`mediators` and `adjustment` overlap"):
        check_frontdoor(fig2, "T", "Y", ["Z"], adjustment=["Z"])
    with pytest.raises(ValueError, match="must not contain the treatment"):
        check_frontdoor(fig2, "T", "Y", ["Z", "T"])
    with pytest.raises(ValueError, match="`treatment` 'Q' is not a node"):
        frontdoor_sets(fig2, "Q", "Y")
