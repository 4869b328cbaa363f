"""`LineRebuilder` over fake nodes and the in-memory reservations: what is rebuilt, and what
keeps a trunk full (a node that does not answer, another process's fence); the tick counts
a pending trunk as full and rebuilds it before it routes."""

from __future__ import annotations

import json
from urllib.parse import quote

from dialer.esl.fakes import FakeEslConnection
from dialer.esl.ports import Subscription
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.lines import LineRebuilder
from dialer.routing.ports import Refusal, ReservationRequest
from dialer.runner.tick import CampaignTicker
from tests.dialer.runner.test_runner_tick import CID, FixedPacer, setup
from tests.support.clock import FakeClock

U = "c0ffee00-0000-4000-8000-0000000000{:02d}"  # apart from the tick's SequentialIds
NO_CHANNEL = "-ERR No such channel!\n"


def dump_text(uuid: str, **variables: str) -> str:
    """A ``uuid_dump`` reply as FreeSWITCH prints it (transcript t): URL-encoded lines."""
    lines = ["Event-Name: CHANNEL_DATA", f"Unique-ID: {uuid}", "Call-Direction: outbound"]
    lines += [f"variable_{k}: {quote(v)}" for k, v in variables.items()]
    return "\n".join(lines) + "\n"


def customer(uuid: str, gateway: str) -> str:
    return dump_text(uuid, dialer_attempt_id="1", sip_gateway_name=gateway, cc_side="member")


class Node:
    """A node's channels: ``dumps`` by uuid (None: gone by the time it is dumped)."""

    def __init__(self, name: str, dumps: dict[str, str | None]) -> None:
        self.dumps = dumps
        self.listed = 0
        self.conn = FakeEslConnection(name, Subscription(events=()), _ignore, self.respond)

    def respond(self, command: str) -> str:
        if command == "show channels as json":
            self.listed += 1
            rows = [{"uuid": u, "direction": "outbound"} for u in self.dumps]
            return json.dumps({"row_count": len(rows), "rows": rows}) + "\n"
        if command.startswith("uuid_dump "):
            return self.dumps.get(command.split()[1]) or NO_CHANNEL
        return "-ERR Command not found!\n"


def _ignore(_event: object) -> None:
    return None


def rebuilder(
    reservations: InMemoryReservations, *nodes: Node, holder: str = "pacer-a"
) -> LineRebuilder:
    return LineRebuilder(reservations, {n.conn.node: n.conn for n in nodes}, holder, 600.0)


def fresh() -> tuple[InMemoryReservations, FakeClock]:
    clock = FakeClock()
    return InMemoryReservations(clock, rebuilt=False), clock


def test_the_dialers_calls_on_every_node_become_the_trunks_lines() -> None:
    reservations, _ = fresh()
    n1 = Node(
        "fs1",
        {
            U.format(1): customer(U.format(1), "cheap"),
            U.format(2): dump_text(  # its agent leg carries the ids too
                U.format(2), dialer_attempt_id="1", cc_member_session_uuid=U.format(1)
            ),
            U.format(3): None,  # hung up between the listing and the dump
            "not-a-uuid": customer("not-a-uuid", "cheap"),  # never put in a command
        },
    )
    n2 = Node(
        "fs2",
        {
            U.format(4): customer(U.format(4), "cheap"),
            U.format(5): customer(U.format(5), "premium"),
            U.format(6): dump_text(U.format(6), sip_gateway_name="cheap"),  # not the dialer's
        },
    )
    lines = rebuilder(reservations, n1, n2)
    assert lines.ensure(["cheap", "premium", "idle"]) == []
    usage = reservations.usage(["cheap", "premium", "idle"])
    assert {t: u.in_flight for t, u in usage.items()} == {"cheap": 2, "premium": 1, "idle": 0}
    assert not any("not-a-uuid" in cmd for cmd in n1.conn.sent)
    assert reservations.release("cheap", U.format(4))  # the listener frees it at hangup
    assert lines.ensure(["cheap"]) == [] and n1.listed == 2  # nothing pending: no listing


def test_a_node_that_does_not_answer_keeps_the_trunks_full() -> None:
    reservations, _ = fresh()
    n1 = Node("fs1", {U.format(1): customer(U.format(1), "cheap")})
    n2 = Node("fs2", {})
    n2.conn.drop()
    lines = rebuilder(reservations, n1, n2)
    assert lines.ensure(["cheap"]) == ["cheap"]
    request = ReservationRequest(U.format(9), "cheap", max_concurrency=5, max_cps=0, lease_s=60)
    assert reservations.reserve(request).refusal == Refusal.REBUILDING
    n2.conn.restore()
    assert lines.ensure(["cheap"]) == []  # the same holder goes on under its fence
    assert reservations.usage(["cheap"])["cheap"].in_flight == 1


def test_a_trunk_another_process_rebuilds_is_left_to_it() -> None:
    reservations, clock = fresh()
    node = Node("fs1", {U.format(1): customer(U.format(1), "cheap")})
    assert reservations.begin_rebuild(["cheap"], "pacer-b", 60.0) == ["cheap"]
    lines = rebuilder(reservations, node)
    assert lines.ensure(["cheap"]) == ["cheap"]
    assert node.listed == 0
    clock.advance(61)  # pacer-b died: its fence lapses
    assert lines.ensure(["cheap"]) == []


def test_a_call_that_ends_during_the_rebuild_does_not_keep_its_line() -> None:
    reservations, _ = fresh()
    node = Node("fs1", {U.format(1): customer(U.format(1), "cheap")})
    dump = node.respond

    def ends_after_dump(command: str) -> str:
        reply = dump(command)
        if command.startswith("uuid_dump"):
            node.dumps.clear()  # its hangup (and release) came before the restore
        return reply

    node.conn = FakeEslConnection("fs1", Subscription(events=()), _ignore, ends_after_dump)
    assert rebuilder(reservations, node).ensure(["cheap"]) == []
    assert reservations.usage(["cheap"])["cheap"].in_flight == 0


def ticker_on(reservations: InMemoryReservations, *nodes: Node) -> CampaignTicker:
    """A tick on trunk ``t1`` (5 lines) whose pacer asks for 4 calls; ``nodes`` given: it
    rebuilds pending trunks from them."""
    deps, _, _, leases, _ = setup(max_concurrency=5)
    deps.reservations = reservations
    deps.lines = rebuilder(reservations, *nodes) if nodes else None
    lease = leases.acquire(CID, "w1", 10_000)
    assert lease is not None
    return CampaignTicker(lease, FixedPacer(4), deps)


def test_a_pending_trunk_counts_as_full() -> None:
    reservations, _ = fresh()
    ticker = ticker_on(reservations)
    assert ticker.tick()
    assert ticker.stats.launched == 0
    assert ticker.pacer.snapshots[-1].limits.trunk_free_lines == 0  # type: ignore[attr-defined]


def test_the_tick_rebuilds_the_lines_before_it_routes() -> None:
    reservations, _ = fresh()
    up = {U.format(i): customer(U.format(i), "t1") for i in (1, 2, 3)}
    ticker = ticker_on(reservations, Node("fs1", up))
    assert ticker.tick()
    assert ticker.stats.launched == 2  # 5 lines, 3 up
    assert ticker.stats.refusals.get("concurrency", 0) == 2
    assert reservations.usage(["t1"])["t1"].in_flight == 5
