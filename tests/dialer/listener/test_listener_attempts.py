"""SqlAttemptSink: the CallAttempt row and the lead's next step, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.rules import RetryPolicy, RetryRule
from dialer.calls.machine import CallEnd
from dialer.listener.adapters import SqlAttemptSink
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
SeedDialingLead = Callable[[RetryPolicy, int], tuple[int, int]]  # the conftest fixture


def abandon_policy(quiet_s: int = 0) -> RetryPolicy:
    return RetryPolicy(
        rules={AttemptOutcome.ABANDONED: RetryRule(delay_s=60)}, abandoned_quiet_s=quiet_s
    )


def end(
    campaign_id: int, lead_id: int, outcome: AttemptOutcome | None, uuid: str = "u-1"
) -> CallEnd:
    return CallEnd(
        call_uuid=uuid,
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=1,
        outcome=outcome,
        disposition="x",
        hangup_cause="NORMAL_CLEARING",
        abandoned=outcome is AttemptOutcome.ABANDONED,
        trunk="carrier_a",
        answered_at=NOW - timedelta(seconds=10),
        ended_at=NOW,
    )


def test_abandoned_call_is_recorded_and_quiet_for_72h(
    sessions: sessionmaker[Session], seed_dialing_lead: SeedDialingLead
) -> None:
    campaign_id, lead_id = seed_dialing_lead(abandon_policy(quiet_s=72 * 3600), 3)
    sink = SqlAttemptSink(sessions, clock=FakeClock(NOW))
    sink.record("fs1", end(campaign_id, lead_id, AttemptOutcome.ABANDONED))
    sink.record("fs1", end(campaign_id, lead_id, AttemptOutcome.ABANDONED))  # replay: no effect
    with sessions() as s:
        [attempt] = s.scalars(select(CallAttempt)).all()
        assert (attempt.outcome, attempt.abandoned, attempt.node, attempt.trunk) == (
            "abandoned",
            True,
            "fs1",
            "carrier_a",
        )
        lead = s.get(Lead, lead_id)
        assert lead is not None
        assert (lead.status, lead.attempts, lead.last_outcome) == (
            LeadStatus.PENDING,
            1,
            "abandoned",
        )
        assert lead.next_attempt_at == NOW + timedelta(hours=72)


def test_connected_call_completes_the_lead(
    sessions: sessionmaker[Session], seed_dialing_lead: SeedDialingLead
) -> None:
    campaign_id, lead_id = seed_dialing_lead(abandon_policy(), 3)
    SqlAttemptSink(sessions, clock=FakeClock(NOW)).record(
        "fs1", end(campaign_id, lead_id, AttemptOutcome.CONNECTED)
    )
    with sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None and lead.status is LeadStatus.DONE and lead.attempts == 1


def test_refused_call_does_not_count(
    sessions: sessionmaker[Session], seed_dialing_lead: SeedDialingLead
) -> None:
    campaign_id, lead_id = seed_dialing_lead(abandon_policy(), 3)
    SqlAttemptSink(sessions, clock=FakeClock(NOW)).record("fs1", end(campaign_id, lead_id, None))
    with sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead is not None and lead.status is LeadStatus.PENDING and lead.attempts == 0
        [attempt] = s.scalars(select(CallAttempt)).all()
        assert attempt.outcome == "not_dialled"


def test_unsettled_attempts_of_a_node(
    sessions: sessionmaker[Session], seed_dialing_lead: SeedDialingLead
) -> None:
    campaign_id, lead_id = seed_dialing_lead(abandon_policy(), 3)
    rows = [
        ("a", "fs1", None, NOW - timedelta(minutes=10)),
        ("b", "fs1", "busy", NOW - timedelta(minutes=10)),
        ("c", "fs1", None, NOW - timedelta(seconds=10)),
        ("d", "fs2", None, NOW - timedelta(minutes=10)),
    ]
    with sessions() as s, s.begin():
        for call_uuid, node, outcome, at in rows:
            s.add(
                CallAttempt(
                    call_uuid=call_uuid,
                    lead_id=lead_id,
                    campaign_id=campaign_id,
                    node=node,
                    trunk="carrier_a",
                    dialed_number="6138000000",
                    originated_at=at,
                    outcome=outcome,
                )
            )
    sink = SqlAttemptSink(sessions, clock=FakeClock(NOW))
    found = sink.unsettled("fs1", NOW - timedelta(minutes=2))
    assert [(u.call_uuid, u.lead_id, u.trunk) for u in found] == [("a", lead_id, "carrier_a")]


def test_the_causes_of_a_failed_call_are_recorded(
    sessions: sessionmaker[Session], seed_dialing_lead: SeedDialingLead
) -> None:
    campaign_id, lead_id = seed_dialing_lead(abandon_policy(), 3)
    failed = replace(
        end(campaign_id, lead_id, AttemptOutcome.FAILED),
        hangup_cause="NORMAL_TEMPORARY_FAILURE",
        hangup_cause_q850=41,
        sip_status="503",
        answered_at=None,
    )
    SqlAttemptSink(sessions, clock=FakeClock(NOW)).record("fs1", failed)
    with sessions() as s:
        [attempt] = s.scalars(select(CallAttempt)).all()
        assert (
            attempt.trunk,
            attempt.hangup_cause,
            attempt.hangup_cause_q850,
            attempt.sip_status,
        ) == ("carrier_a", "NORMAL_TEMPORARY_FAILURE", 41, "503")
