"""NodeListener with in-memory seams, fed from the transcripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from campaigns.domain import AttemptOutcome
from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.esl.events import EVENT_TYPES, Event, parse_event
from dialer.esl.fakes import FakeEslConnection
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.ports import LiveState
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from dialer.listener.switch_state import (
    agent_change,
    live_channel_uuids,
    parse_agent_list,
    parse_tier_list,
    reconciled,
)
from tests.support.clock import FakeClock
from tests.support.transcripts import transcript_frames

T_UUID = "c6019a7b-6024-4b1f-864d-c6cb2c92389b"


def frames(name: str) -> list[tuple[str, str, Event | None]]:
    out: list[tuple[str, str, Event | None]] = []
    for f in transcript_frames(name):
        event = parse_event(f) if f.content_type in EVENT_TYPES else None
        out.append((f.content_type, f.body_text(), event))
    return out


def events(name: str) -> list[Event]:
    return [e for _, _, e in frames(name) if e is not None]


def api_bodies(name: str) -> list[str]:
    return [body for ctype, body, _ in frames(name) if ctype == "api/response"]


def make(
    responder: Callable[[str], str] = lambda c: '{"row_count": 0}\n',
    live: LiveState | None = None,
    clock: Clock = SYSTEM_CLOCK,
    cdr_wait_s: float = 0.0,
) -> tuple[NodeListener, MemoryAttempts, MemoryTrunks, LiveState, FakeEslConnection]:
    live = live if live is not None else MemoryLiveState()
    attempts, trunks = MemoryAttempts(), MemoryTrunks({T_UUID: "carrier_a"})
    listener = NodeListener("fs1", live, attempts, trunks, clock=clock, cdr_wait_s=cdr_wait_s)
    conn = FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, responder)
    listener.attach(conn)
    return listener, attempts, trunks, live, conn


def test_switch_outputs_of_transcript_f() -> None:
    bodies = api_bodies("f_api_outputs")
    assert live_channel_uuids(bodies[4]) == set()
    assert live_channel_uuids(bodies[11]) >= {"32718e41-a9a3-4350-8aa7-cb6685d36ae0"}
    agents = parse_agent_list(bodies[7])
    assert agents == [
        # waiting: since its last status change; wrap-up 3 s after its bridge end
        AgentState(
            "agent1@default",
            "Available",
            "Waiting",
            changed_at_s=1795270226,
            bridge_end_s=1795270141,
            wrap_up_s=3,
        ),
        # in a queue call: since the bridge started
        AgentState(
            "agent2@default", "Available", "In a queue call", changed_at_s=1795270230, wrap_up_s=3
        ),
    ]
    assert agents[0].ready_from_s() == 1795270144
    assert parse_agent_list("+OK\n") == []
    assert parse_agent_list("-ERR no reply\n") == []
    assert parse_tier_list(bodies[10]) == {
        "agent1@default": ("sales@default",),
        "agent2@default": ("sales@default",),
    }
    assert parse_tier_list("+OK\n") == {}
    with pytest.raises(ValueError, match="not a tier list"):
        parse_tier_list("name|status\nx|y\n+OK\n")


def test_agent_events_keep_phase_start_and_bridge_end() -> None:
    def change(action: str, value: str) -> Event:
        key = "CC-Agent-Status" if action == "agent-status-change" else "CC-Agent-State"
        return Event({"Event-Name": "CUSTOM", "CC-Agent": "a@d", "CC-Action": action, key: value})

    talking = AgentState("a@d", "Available", "In a queue call", changed_at_s=100, wrap_up_s=5)
    after = agent_change(talking, change("agent-state-change", "Waiting"), 160)
    assert after == AgentState(
        "a@d", "Available", "Waiting", changed_at_s=160, bridge_end_s=160, wrap_up_s=5
    )
    assert after.ready_from_s() == 165
    # a repeated value is no change: the phase keeps its start
    same = agent_change(after, change("agent-state-change", "Waiting"), 170)
    assert same == after
    on_break = agent_change(after, change("agent-status-change", "On Break"), 180)
    assert on_break is not None and on_break.changed_at_s == 180 and on_break.bridge_end_s == 160
    fresh = agent_change(None, change("agent-status-change", "Available"), 1)
    assert fresh == AgentState("a@d", "Available", changed_at_s=1)
    offering = Event({"CC-Action": "agent-offering", "CC-Agent": "a@d"})
    assert agent_change(None, offering, 1) is None


def test_listed_agents_move_onto_the_dialers_clock() -> None:
    listed = AgentState("a@d", "Available", "Waiting", 1_000, bridge_end_s=990, wrap_up_s=10)
    # the switch's clock is 100 s behind ours
    moved = reconciled(None, listed, ("q@d",), skew_s=100)
    assert moved == AgentState("a@d", "Available", "Waiting", 1_100, 1_090, 10, 0, ("q@d",))
    # same phase as we already knew: the start time we had stays
    known = AgentState("a@d", "Available", "Waiting", changed_at_s=1_095.5)
    assert reconciled(known, listed, (), 100).changed_at_s == 1_095.5
    talking = AgentState("a@d", "Available", "In a queue call", changed_at_s=1_050)
    assert reconciled(talking, listed, (), 100).changed_at_s == 1_100


def test_the_subscription_keeps_background_jobs() -> None:
    assert "filter Event-Name BACKGROUND_JOB" in LISTENER_SUBSCRIPTION.commands()
    job = Event({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "x"}, "+OK\n")
    inbound = Event({"Event-Name": "CHANNEL_CREATE", "Call-Direction": "inbound"})
    assert LISTENER_SUBSCRIPTION.wants(job)
    assert not LISTENER_SUBSCRIPTION.wants(inbound)


def test_a_whole_call_is_recorded_released_and_forgotten() -> None:
    listener, attempts, trunks, live, conn = make()
    seen_in_flight = False
    for e in events("t_origination_uuid_export_vars"):
        conn.emit(e)
        listener.drain()
        seen_in_flight = seen_in_flight or T_UUID in live.calls("fs1")
    assert seen_in_flight
    [(node, end)] = attempts.ended
    assert (node, end.outcome, end.lead_id, end.agent) == (
        "fs1",
        AttemptOutcome.CONNECTED,
        12345,
        "agent2@default",
    )
    assert trunks.released == [T_UUID] and trunks.held == {}
    assert live.calls("fs1") == {}
    assert live.agents("fs1")["agent2@default"].state == "Waiting"


def test_agent_status_and_state_changes_merge() -> None:
    clock = FakeClock(datetime.fromtimestamp(0, UTC))
    listener, _, _, live, conn = make(clock=clock)
    changes = 0
    for e in events("i_agent_status_changes"):
        clock.advance(1)  # the k-th event arrives at k s
        conn.emit(e)
        listener.drain()
        changes += e.get("CC-Action").endswith("-change")
    assert changes == 6
    # timed by arrival: the last change of (status, state) was the sixth event to arrive
    assert live.agents("fs1") == {
        "agent1@default": AgentState("agent1@default", "Available", "Waiting", changed_at_s=6)
    }


def _answered(call_uuid: str) -> CallState:
    return CallState(call_uuid, 1, 2, 3, "carrier_a", created=True, answered_at_us=1)


def test_reconcile_ends_calls_the_switch_no_longer_has() -> None:
    gone, alive = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    show = json.dumps({"row_count": 1, "rows": [{"uuid": alive}]})
    bodies = api_bodies("f_api_outputs")
    replies = {"show": show, "agent": bodies[0], "tier": bodies[3], "core_uuid": ""}
    listener, attempts, _, live, _ = make(lambda c: replies[c.split()[1 if "_" in c else 0]])
    for call in (gone, alive):
        listener.book.calls[call] = _answered(call)
        live.put_call("fs1", _answered(call))
    listener.on_connect()
    listener.drain()
    # answered, then nothing: the customer may have talked to an agent (not abandoned)
    assert [(e.call_uuid, e.outcome, e.unsettled) for _, e in attempts.ended] == [
        (gone, None, True)
    ]
    assert set(live.calls("fs1")) == {alive}
    agent1 = live.agents("fs1")["agent1@default"]
    assert (agent1.status, agent1.queues, agent1.wrap_up_s) == ("Available", ("sales@default",), 3)
    # an agent the switch no longer lists is dropped at the next reconcile
    live.put_agent("fs1", AgentState("gone@default", "Available", "Waiting"))
    listener.agents["gone@default"] = AgentState("gone@default", "Available", "Waiting")
    listener.reconcile()
    assert set(live.agents("fs1")) == {"agent1@default", "agent2@default"}


def test_restarted_listener_resumes_from_live_state() -> None:
    live = MemoryLiveState()
    first, _, _, _, conn = make(live=live)
    evs = events("t_origination_uuid_export_vars")
    cut = next(i for i, e in enumerate(evs) if e.get("CC-Action") == "bridge-agent-start")
    for e in evs[: cut + 1]:
        conn.emit(e)
    first.drain()
    assert T_UUID in live.calls("fs1")
    second, attempts, _, _, conn2 = make(live=live)
    for e in evs[cut + 1 :]:
        conn2.emit(e)
    second.drain()
    [(_, end)] = attempts.ended
    assert end.outcome is AttemptOutcome.CONNECTED and end.connected_at is not None
    assert live.calls("fs1") == {}


def test_reconcile_spares_a_call_seen_after_the_snapshot() -> None:
    fresh = "00000000-0000-4000-8000-00000000000c"
    holder: list[FakeEslConnection] = []
    snapshots: list[str] = []

    def responder(command: str) -> str:
        if not command.startswith("show"):
            return "+OK\n"
        snapshots.append(command)
        if len(snapshots) == 1:
            # the call is created while the snapshot is on its way: not listed, but alive
            holder[0].emit(
                Event(
                    {
                        "Event-Name": "CHANNEL_CREATE",
                        "Unique-ID": fresh,
                        "Call-Direction": "outbound",
                        "variable_dialer_campaign_id": "1",
                        "variable_dialer_lead_id": "2",
                        "variable_dialer_attempt_id": "5",
                    }
                )
            )
        return '{"row_count": 0}\n'

    listener, attempts, _, live, conn = make(responder)
    holder.append(conn)
    listener.on_connect()
    listener.drain()
    assert attempts.ended == []
    assert fresh in live.calls("fs1")
    listener.on_connect()  # the next reconciliation ends it: the switch still lacks it
    listener.drain()
    assert [e.call_uuid for _, e in attempts.ended] == [fresh]


def test_reconcile_ends_attempts_nobody_heard_of() -> None:
    from datetime import timedelta

    from dialer.listener.ports import Unsettled

    now = 1_795_300_000.0
    old, recent, alive = (f"00000000-0000-4000-8000-0000000000{i}0" for i in (1, 2, 3))
    show = json.dumps({"row_count": 1, "rows": [{"uuid": alive}]})
    live_state = MemoryLiveState()
    attempts, trunks = MemoryAttempts(), MemoryTrunks({old: "carrier_a"})
    listener = NodeListener(
        "fs1",
        live_state,
        attempts,
        trunks,
        unsettled_after_s=120,
        clock=FakeClock(datetime.fromtimestamp(now, UTC)),
        cdr_wait_s=0,
    )
    conn = FakeEslConnection(
        "fs1", LISTENER_SUBSCRIPTION, listener.on_event, lambda c: show if "show" in c else "+OK"
    )
    listener.attach(conn)
    at = datetime.fromtimestamp(now, UTC)
    for call, age_s in ((old, 600), (recent, 30), (alive, 600)):
        row = Unsettled(call, 1, 10, 20, "carrier_a")
        attempts.pending.append(("fs1", at - timedelta(seconds=age_s), row))
    attempts.pending.append(("fs2", at - timedelta(seconds=600), Unsettled("x", 1, 1, 1)))
    listener.on_connect()
    listener.drain()
    assert [(e.call_uuid, e.outcome, e.unsettled, e.lead_id) for _, e in attempts.ended] == [
        (old, None, True, 10)
    ]
    assert trunks.released == [old]
    assert listener.book.calls == {}
