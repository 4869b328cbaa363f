"""Agent-first calls (click-to-call) from the recorded event sequences of transcripts u1-u3:
one end per call, keyed by the agent leg, the customer leg's result in it."""

from __future__ import annotations

import pytest

from campaigns.domain import AttemptOutcome
from dialer.calls.agent_first import AgentFirstEnd
from dialer.calls.machine import CallBook
from dialer.esl.events import Event
from dialer.listener.service import LISTENER_SUBSCRIPTION
from tests.support.transcripts import transcript_events

AGENT = {
    "u1_agent_first_customer_answers": "60971374-53c1-4792-91b6-609332e7de36",
    "u2_agent_first_customer_busy": "76b3361d-bf49-415c-9654-d73379c371f3",
    "u3_agent_first_agent_no_answer": "23ef35fd-580f-4845-9e63-b2797147f034",
}


def listened(name: str) -> list[Event]:
    """The transcript's events the listener subscribes to."""
    wanted = set(LISTENER_SUBSCRIPTION.events)
    return [e for e in transcript_events(name) if e.name in wanted]


def ends(events: list[Event]) -> tuple[list[AgentFirstEnd], CallBook]:
    book = CallBook()
    out = []
    for event in events:
        assert book.apply(event) is None  # never taken for a campaign call
        end = book.apply_agent_first(event)
        if end is not None:
            out.append(end)
    return out, book


def test_the_customer_answers_and_is_connected_to_the_agent_u1() -> None:
    (end,), book = ends(listened("u1_agent_first_customer_answers"))
    assert end.call_uuid == AGENT["u1_agent_first_customer_answers"]
    assert end.call_id == 42
    assert end.outcome is AttemptOutcome.CONNECTED
    assert end.trunk == "carrier_a" and end.dialed_number == "6138000000"
    assert end.hangup_cause == "NORMAL_CLEARING" and end.sip_status == "200"
    assert end.agent_answered_at is not None and end.answered_at is not None
    assert end.ended_at is not None and end.agent_answered_at < end.answered_at < end.ended_at
    assert not book.agent_first and not book.calls


def test_a_busy_customer_is_the_calls_outcome_after_the_agent_answered_u2() -> None:
    (end,), _ = ends(listened("u2_agent_first_customer_busy"))
    assert end.outcome is AttemptOutcome.BUSY
    assert end.hangup_cause == "USER_BUSY" and end.sip_status == "486"
    assert end.agent_answered_at is not None and end.answered_at is None
    assert end.trunk == "carrier_a"


def test_an_agent_who_does_not_answer_ends_the_call_before_any_customer_u3() -> None:
    (end,), _ = ends(listened("u3_agent_first_agent_no_answer"))
    assert end.outcome is None and end.agent_answered_at is None
    assert end.hangup_cause == "ALLOTTED_TIMEOUT"
    assert "agent did not answer" in end.disposition
    assert end.dialed_number == ""


@pytest.mark.parametrize("name", sorted(AGENT))
def test_the_late_job_result_and_replayed_events_change_nothing(name: str) -> None:
    events = listened(name)
    got, _ = ends(events + events)
    assert len(got) == 1
