"""API calls placed by `dialer.nodes` on the in-memory twins: the node is chosen after the
trunk, so a trunk bound to nodes goes only there; when no node takes the call it is refused
(503), nothing is sent and its line is freed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dialer.apicalls.service import CallDeps, CallRefused, CallRequest, place_call
from dialer.nodes.fakes import MemoryNodeStore, ScriptedStatusReader
from dialer.nodes.ports import NodeRecord
from dialer.nodes.service import NodeConfig, NodePlacer, drain, undrain
from dialer.runner.fakes import MemorySwitch
from tests.dialer.apicalls.test_apicalls_service import AGENT, NUMBER, make_deps, trunk
from tests.support.clock import FakeClock

STATUS = (
    "0 session(s) - peak 0, last 5min 0 \n"
    "0 session(s) per Sec out of max 1000, peak 0, last 5min 0 \n"
    "1000 session(s) max\n"
)


def placed_deps(*configs: NodeConfig) -> tuple[CallDeps, MemorySwitch, MemoryNodeStore]:
    deps = make_deps(trunk("cheap", "0.01", max_concurrency=1), trunk("dear", "0.09"))
    switch = MemorySwitch(node_names=["fs1", "fs2"])
    store = MemoryNodeStore(deps.clock)
    deps.switch = switch
    deps.placer = NodePlacer(
        store, ScriptedStatusReader(lambda _n, _c: STATUS), configs, deps.clock
    )
    return deps, switch, store


def test_a_call_goes_to_a_node_that_has_its_trunk() -> None:
    deps, switch, _ = placed_deps(NodeConfig("fs1", trunks=frozenset({"dear"})))
    call, _ = place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    assert (call.trunk, call.node) == ("cheap", "fs2")
    named = CallRequest("13800138001", AGENT.name, trunks=("dear",))
    assert place_call(deps, "sys", None, named)[0].node == "fs1"  # the only one with dear
    assert [node for node, _ in switch.sent] == ["fs2", "fs1"]


def test_no_node_for_the_call_refuses_it_and_frees_its_line() -> None:
    deps, switch, store = placed_deps(NodeConfig("fs1", trunks=frozenset({"dear"})))
    drain(store, "fs2")
    with pytest.raises(CallRefused) as refused:
        place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name, trunks=("cheap",)))
    assert refused.value.status == 503 and "no switch can take the call" in refused.value.detail
    assert switch.sent == []
    undrain(store, "fs2")
    call, _ = place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name, trunks=("cheap",)))
    assert call.node == "fs2"  # cheap's one line was freed by the refusal


def test_calls_within_the_usage_ttl_share_one_snapshot_that_counts_their_placements() -> None:
    deps, switch, store = placed_deps()
    reads: list[tuple[str, ...]] = []
    read_records = store.records

    def counted(nodes: Sequence[str]) -> dict[str, NodeRecord]:
        reads.append(tuple(nodes))
        return read_records(nodes)

    store.records = counted  # type: ignore[method-assign]
    place_call(deps, "sys", None, CallRequest("13800138000", AGENT.name, trunks=("dear",)))
    first = len(reads)  # the snapshot of the first call (the nodes read, then recorded)
    for i in range(1, 3):
        place_call(deps, "sys", None, CallRequest(f"1380013800{i}", AGENT.name, trunks=("dear",)))
    assert len(reads) == first
    assert sorted(node for node, _ in switch.sent) == ["fs1", "fs1", "fs2"]  # spread
    assert isinstance(deps.clock, FakeClock)
    deps.clock.advance(deps.usage_ttl_s)
    place_call(deps, "sys", None, CallRequest("13800138009", AGENT.name, trunks=("dear",)))
    assert len(reads) > first
