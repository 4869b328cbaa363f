"""The listener and agent-first calls (click-to-call), fed from transcripts u1-u3: each call's
end recorded once on the API call, its line freed; a call the switch lost is ended unknown
at the next reconciliation."""

from __future__ import annotations

from campaigns.domain import AttemptOutcome
from dialer.apicalls.adapters import outcome_text
from dialer.esl.events import Event
from dialer.esl.fakes import FakeEslConnection
from dialer.listener.fakes import MemoryApiCalls, MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.service import LISTENER_SUBSCRIPTION, NodeListener
from tests.support.transcripts import transcript_events

U1 = "60971374-53c1-4792-91b6-609332e7de36"
U3 = "23ef35fd-580f-4845-9e63-b2797147f034"


def make(
    show: str = '{"row_count": 0}\n',
) -> tuple[NodeListener, MemoryApiCalls, MemoryTrunks, MemoryAttempts, FakeEslConnection]:
    api_calls, trunks, attempts = (
        MemoryApiCalls(),
        MemoryTrunks({U1: "carrier_a"}),
        MemoryAttempts(),
    )
    listener = NodeListener("fs1", MemoryLiveState(), attempts, trunks, api_calls=api_calls)

    def responder(command: str) -> str:
        return show if command.startswith("show") else "+OK\n"

    conn = FakeEslConnection("fs1", LISTENER_SUBSCRIPTION, listener.on_event, responder)
    listener.attach(conn)
    return listener, api_calls, trunks, attempts, conn


def listened(name: str) -> list[Event]:
    wanted = set(LISTENER_SUBSCRIPTION.events)
    return [e for e in transcript_events(name) if e.name in wanted]


def test_a_click_to_call_is_recorded_once_and_its_line_freed() -> None:
    listener, api_calls, trunks, attempts, conn = make()
    for event in listened("u1_agent_first_customer_answers"):
        conn.emit(event)
    listener.drain()
    [(node, end)] = api_calls.ended
    assert node == "fs1" and end.call_uuid == U1 and end.outcome is AttemptOutcome.CONNECTED
    assert trunks.released == [U1] and trunks.held == {}
    assert attempts.ended == [] and listener.book.agent_first == {}


def test_an_agent_who_does_not_answer_is_its_own_outcome() -> None:
    listener, api_calls, _, _, conn = make()
    for event in listened("u3_agent_first_agent_no_answer"):
        conn.emit(event)
    listener.drain()
    [(_, end)] = api_calls.ended
    assert end.call_uuid == U3 and outcome_text(end) == "agent_no_answer"


def test_a_call_the_switch_lost_is_ended_unknown_at_the_next_reconcile() -> None:
    listener, api_calls, _, _, conn = make()
    events = listened("u1_agent_first_customer_answers")
    answered = next(i for i, e in enumerate(events) if e.name == "CHANNEL_ANSWER")
    for event in events[: answered + 1]:
        conn.emit(event)
    listener.drain()
    assert api_calls.ended == [] and U1 in listener.book.agent_first
    listener.on_connect()  # reconciles: the switch has no channel any more
    listener.drain()
    [(_, end)] = api_calls.ended
    assert end.unsettled and outcome_text(end) == "unknown"
    for event in events[answered + 1 :]:  # late events of it change nothing
        conn.emit(event)
    listener.drain()
    assert len(api_calls.ended) == 1
