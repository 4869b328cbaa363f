"""Placement (pure): the node with the most headroom that takes the call; several calls of
one snapshot spread; full, draining, disconnected and unbound nodes are skipped."""

from __future__ import annotations

from collections import Counter

from dialer.nodes.placement import NodesSnapshot, NodeView, choose, room


def place_many(snapshot: NodesSnapshot, calls: int, trunk: str | None = None) -> Counter[str]:
    placed: Counter[str] = Counter()
    for _ in range(calls):
        node = choose(snapshot, trunk)
        if node is None:
            break
        placed[node] += 1
        snapshot = snapshot.placed(node)
    return placed


def test_calls_of_one_snapshot_spread_by_headroom() -> None:
    snapshot = NodesSnapshot(
        (NodeView("big", max_sessions=200), NodeView("small", max_sessions=100)),
        sessions_per_call=2,
    )
    assert place_many(snapshot, 30) == {"big": 20, "small": 10}


def test_the_node_with_the_most_free_share_goes_first() -> None:
    snapshot = NodesSnapshot(
        (NodeView("a", sessions=50, max_sessions=100), NodeView("b", sessions=10, max_sessions=40)),
    )
    assert choose(snapshot, None) == "b"  # 75% free against 50%


def test_nodes_are_placed_on_until_full_and_no_further() -> None:
    snapshot = NodesSnapshot(
        (NodeView("a", max_sessions=6), NodeView("b", sessions=3, max_sessions=4)),
        sessions_per_call=2,
    )
    assert place_many(snapshot, 10) == {"a": 3}  # b has 1 free: a call needs 2


def test_sps_tokens_bound_the_calls_of_a_snapshot() -> None:
    snapshot = NodesSnapshot(
        (NodeView("a", max_sessions=100, tokens=2.5), NodeView("b", max_sessions=100, tokens=1.0)),
    )
    assert place_many(snapshot, 10) == {"a": 2, "b": 1}


def test_draining_and_disconnected_nodes_are_skipped() -> None:
    snapshot = NodesSnapshot(
        (
            NodeView("a", draining=True),
            NodeView("b", connected=False),
            NodeView("c", sessions=90, max_sessions=100),
        ),
    )
    assert choose(snapshot, None) == "c"
    gone = NodesSnapshot((NodeView("a", draining=True), NodeView("b", connected=False)))
    assert choose(gone, None) is None


def test_a_trunk_bound_to_nodes_goes_only_there() -> None:
    snapshot = NodesSnapshot(
        (
            NodeView("a", max_sessions=100, trunks=frozenset({"cn1"})),
            NodeView("b", max_sessions=100, sessions=80, trunks=frozenset({"us1", "cn2"})),
            NodeView("c", max_sessions=100, sessions=90),  # unbound: every trunk
        ),
    )
    assert choose(snapshot, "cn1") == "a"
    assert choose(snapshot, "us1") == "b"
    assert choose(snapshot, "other") == "c"
    assert choose(snapshot.exhausted("c"), "other") is None


def test_unknown_capacity_spreads_evenly_and_deterministically() -> None:
    snapshot = NodesSnapshot((NodeView("fs2"), NodeView("fs1"), NodeView("fs3")))
    assert [choose(snapshot, None) for _ in range(2)] == ["fs1", "fs1"]
    assert place_many(snapshot, 9) == {"fs1": 3, "fs2": 3, "fs3": 3}


def test_room_is_what_the_eligible_nodes_take_now() -> None:
    snapshot = NodesSnapshot(
        (
            NodeView("a", sessions=10, max_sessions=20, tokens=9.5),  # 5 by sessions
            NodeView("b", max_sessions=100, tokens=3.9),  # 3 by rate
            NodeView("c", draining=True, max_sessions=100),
            NodeView("d", connected=False),
        ),
        sessions_per_call=2,
    )
    assert room(snapshot) == 8
    assert room(snapshot) == sum(place_many(snapshot, 100).values())
    assert room(NodesSnapshot((NodeView("a", max_sessions=10), NodeView("e")))) is None
    assert room(NodesSnapshot()) == 0
