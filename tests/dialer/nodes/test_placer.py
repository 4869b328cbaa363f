"""`NodePlacer` over the in-memory store and a scripted switch: capacity read from ``status``
(the transcript's reply), the operator's lower limits, the shared limits deciding each call,
a node that cannot be read, drain."""

from __future__ import annotations

from collections import Counter

from dialer.nodes.fakes import MemoryNodeStore, ScriptedStatusReader
from dialer.nodes.ports import Reading
from dialer.nodes.service import NodeConfig, NodePlacer, drain, set_switch_limits, undrain
from tests.support.clock import FakeClock

# as FreeSWITCH prints it (tests/data/esl/l2_max_sessions.esl.txt), the figures changed
STATUS = (
    "UP 0 years, 0 days, 0 hours, 4 minutes, 28 seconds, 219 milliseconds, 723 microseconds\n"
    "FreeSWITCH (Version 1.10.12-release  64bit) is ready\n"
    "17 session(s) since startup\n"
    "{sessions} session(s) - peak 2, last 5min 2 \n"
    "0 session(s) per Sec out of max {sps}, peak 27, last 5min 27 \n"
    "{most} session(s) max\n"
    "min idle cpu 0.00/23.77\n"
)


def status(sessions: int, sps: int, most: int) -> str:
    return STATUS.format(sessions=sessions, sps=sps, most=most)


def placer(
    reader: ScriptedStatusReader, configs: tuple[NodeConfig, ...] = ()
) -> tuple[NodePlacer, MemoryNodeStore, FakeClock]:
    clock = FakeClock()
    store = MemoryNodeStore(clock)
    return NodePlacer(store, reader, configs, clock), store, clock


def place_tick(p: NodePlacer, connected: list[str], calls: int, trunk: str = "t1") -> Counter[str]:
    snapshot = p.snapshot(connected)
    placed: Counter[str] = Counter()
    for _ in range(calls):
        node, snapshot = p.place(snapshot, trunk)
        if node is None:
            break
        placed[node] += 1
    return placed


def test_capacity_is_read_from_status_and_bounds_the_calls() -> None:
    reader = ScriptedStatusReader({"a": status(0, 61, 40), "b": status(4, 21, 20)})
    p, store, _ = placer(reader)
    assert place_tick(p, ["a", "b"], 100) == {"a": 20, "b": 8}  # sessions: 40/2, (20-4)/2
    assert {n for n, _ in reader.asked} == {"a", "b"}
    assert store.records(["a"])["a"].reading == Reading(0, 61, 40, 0, reader_at(p))


def reader_at(p: NodePlacer) -> float:
    record = p.store.records(["a"])["a"]
    assert record.reading is not None
    return record.reading.at_s


def test_the_sps_bucket_spreads_a_tick_and_refills_by_the_next() -> None:
    reader = ScriptedStatusReader({"a": status(0, 9, 1000), "b": status(0, 5, 1000)})
    p, _, clock = placer(reader)
    assert place_tick(p, ["a", "b"], 100) == {"a": 4, "b": 2}  # bursts 4.5 and 2.5
    clock.advance(1.0)
    assert place_tick(p, ["a", "b"], 100) == {"a": 4, "b": 2}  # full again, not fuller


def test_the_operator_lowers_the_switch_limits_and_binds_trunks() -> None:
    reader = ScriptedStatusReader({"a": status(0, 1000, 1000), "b": status(0, 1000, 1000)})
    configs = (NodeConfig("a", max_sessions=6), NodeConfig("b", sps=5, trunks=frozenset({"t2"})))
    p, _, _ = placer(reader, configs)
    assert place_tick(p, ["a", "b"], 100, trunk="t1") == {"a": 3}
    assert place_tick(p, ["a", "b"], 100, trunk="t2") == {"b": 2}


def test_a_node_not_connected_or_draining_gets_no_call() -> None:
    reader = ScriptedStatusReader({"a": status(0, 1000, 1000), "b": status(0, 1000, 1000)})
    p, store, _ = placer(reader)
    assert place_tick(p, ["b"], 4) == {"b": 4}
    drain(store, "b")
    assert place_tick(p, ["a", "b"], 4) == {"a": 4}
    undrain(store, "b")
    assert place_tick(p, ["a", "b"], 4) == {"a": 2, "b": 2}  # as many placed on each


def test_a_refusal_of_the_shared_limits_moves_the_call_to_the_next_node() -> None:
    reader = ScriptedStatusReader({"a": status(0, 1000, 10), "b": status(0, 1000, 10)})
    p, _, _ = placer(reader)
    first = p.snapshot(["a", "b"])
    other = p.snapshot(["a", "b"])  # another process, same moment
    assert place_tick(p, ["a", "b"], 9) == {"a": 5, "b": 4}
    node, _ = p.place(first, "t1")  # a looks empty to this old snapshot, but is full
    assert node == "b"
    assert p.place(other.exhausted("b"), "t1")[0] is None


def test_a_node_whose_status_cannot_be_read_keeps_its_last_reading() -> None:
    reader = ScriptedStatusReader({"a": status(0, 1000, 8)})
    p, _, clock = placer(reader)
    assert place_tick(p, ["a"], 100) == {"a": 4}
    reader.down.add("a")
    clock.advance(5)
    assert place_tick(p, ["a"], 100) == {}
    assert p.rows(["a"])[0].sessions == 0 and p.rows(["a"])[0].limits.max_sessions == 8


def test_fsctl_sets_the_switch_limits() -> None:
    replies = {"fsctl sps 50": "+OK sessions per second: 50\n",
               "fsctl max_sessions 200": "+OK max sessions: 200\n"}  # fmt: skip
    reader = ScriptedStatusReader(lambda _node, command: replies[command])
    assert set_switch_limits(reader, "a", sps=50, max_sessions=200) == (50, 200)
    assert reader.asked == [("a", "fsctl sps 50"), ("a", "fsctl max_sessions 200")]


def test_a_node_is_read_once_per_refresh_period() -> None:
    reader = ScriptedStatusReader({"a": status(0, 1000, 1000)})
    p, _, clock = placer(reader)
    for _ in range(3):
        p.snapshot(["a"])
        clock.advance(0.3)
    assert reader.asked == [("a", "status")]
    clock.advance(0.2)
    p.snapshot(["a"])
    assert reader.asked == [("a", "status")] * 2


def test_a_node_never_read_is_read_at_once_though_another_process_reads_it_too() -> None:
    # a cold start: every request or pacer needs the node, one of them won the refresh;
    # the others read it too rather than refuse calls, and place within its limits
    reader = ScriptedStatusReader({"a": status(0, 11, 60)})
    p, store, _ = placer(reader)
    assert store.claim_refresh("a", 1.0)  # another process is asking its status
    assert place_tick(p, ["a"], 100) == {"a": 5}  # its bucket holds 5.5
    assert reader.asked == [("a", "status")]
