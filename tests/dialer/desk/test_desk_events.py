"""The desk's events read from mod_callcenter's (transcript t: the dialer's ids exported to
the agent leg) and published by the listener as it handles them."""

from __future__ import annotations

from dialer.desk.fakes import MemoryDeskBus
from dialer.desk.ports import DeskEvent, DeskEventKind
from dialer.desk.service import desk_event
from dialer.esl.events import Event
from dialer.esl.fakes import FakeEslConnection
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from tests.support.transcripts import transcript_events

T = "t_origination_uuid_export_vars"
T_CALL = "c6019a7b-6024-4b1f-864d-c6cb2c92389b"


def _desk_events(events: list[Event]) -> list[DeskEvent]:
    return [d for d in map(desk_event, events) if d is not None]


def test_bridge_agent_start_carries_the_dialers_ids_and_the_customers_call_uuid() -> None:
    found = _desk_events(transcript_events(T))
    calls = [d for d in found if d.kind is DeskEventKind.CALL]
    assert calls == [
        DeskEvent("agent2@default", DeskEventKind.CALL, call_uuid=T_CALL, attempt_id=99,
                  lead_id=12345, campaign_id=7, at_us=calls[0].at_us)
    ]  # fmt: skip
    assert calls[0].at_us > 0
    ends = [d for d in found if d.kind is DeskEventKind.CALL_END]
    assert [(e.agent, e.call_uuid) for e in ends] == [("agent2@default", T_CALL)]
    assert ends[0].at_us >= calls[0].at_us
    # the agent's own changes while it takes the call
    assert {d.kind for d in found} >= {DeskEventKind.STATE}


def test_events_that_are_no_agents_make_no_desk_event() -> None:
    plain = [e for e in transcript_events(T) if e.name != "CUSTOM"]
    assert plain and _desk_events(plain) == []
    no_agent = Event({"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info",
                      "CC-Action": "bridge-agent-start"})  # fmt: skip
    assert desk_event(no_agent) is None


def test_a_desk_event_survives_its_json() -> None:
    event = DeskEvent("a@d", DeskEventKind.STATUS, value="Available", at_us=5)
    assert DeskEvent.from_json(event.as_json()) == event


def test_the_listener_publishes_each_agent_event_in_order_and_a_failing_bus_stops_nothing() -> None:
    bus = MemoryDeskBus()
    attempts = MemoryAttempts()
    listener = NodeListener(
        "fs1", MemoryLiveState(), attempts, MemoryTrunks({T_CALL: "carrier_a"}), desk=bus
    )
    conn = FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event,
                             lambda c: '{"row_count": 0}\n')  # fmt: skip
    listener.attach(conn)
    for event in transcript_events(T):
        conn.emit(event)
    listener.drain()
    assert bus.published == _desk_events(transcript_events(T))
    assert len(attempts.ended) == 1

    class Broken:
        def publish(self, event: DeskEvent) -> None:
            raise ConnectionError("redis away")

    attempts = MemoryAttempts()
    listener = NodeListener(
        "fs1", MemoryLiveState(), attempts, MemoryTrunks({T_CALL: "carrier_a"}), desk=Broken()
    )
    conn = FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event,
                             lambda c: '{"row_count": 0}\n')  # fmt: skip
    listener.attach(conn)
    for event in transcript_events(T):
        conn.emit(event)
    listener.drain()
    assert len(attempts.ended) == 1
