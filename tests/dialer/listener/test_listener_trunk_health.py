"""The listener feeds trunk health; the SQL sink lets carrier failures not count (bounded)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.rules import RetryPolicy, RetryRule
from dialer.calls.machine import CallEnd
from dialer.calls.retry import CARRIER_STREAK_LOOKBACK, carrier_retry_delay_s
from dialer.esl.events import Event
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.fakes import MemoryAttempts, MemoryLiveState, MemoryTrunks
from dialer.listener.service import NodeListener
from dialer.routing.fakes import InMemoryTrunkHealth
from dialer.routing.health import Availability, HealthPolicy, TrunkHealth
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
NOW_S = NOW.timestamp()


def job(trunk: str, reply: str, call_uuid: str = "") -> Event:
    """An originate's BACKGROUND_JOB with no channel before it (gateway down, node limits)."""
    call_uuid = call_uuid or str(uuid.uuid4())
    arg = (
        f"{{origination_uuid={call_uuid},dialer_campaign_id=1,dialer_lead_id=2,"
        f"dialer_attempt_id=3}}sofia/gateway/{trunk}/13800138000 cc_c XML campaign"
    )
    headers = {
        "Event-Name": "BACKGROUND_JOB",
        "Job-UUID": str(uuid.uuid4()),
        "Job-Command": "originate",
        "Job-Command-Arg": arg,
    }
    return Event(headers, body=f"{reply}\n")


def listener(health: object) -> NodeListener:
    return NodeListener(
        "fs1",
        MemoryLiveState(),
        MemoryAttempts(),
        MemoryTrunks(),
        clock=FakeClock(NOW),
        health=health,  # type: ignore[arg-type]
    )


def test_trunk_failures_suspend_the_trunk_and_refusals_say_nothing() -> None:
    health = InMemoryTrunkHealth(HealthPolicy(failure_threshold=2, cooldown_s=30))
    node = listener(health)
    node.handle(job("bad", "-ERR GATEWAY_DOWN"))
    node.handle(job("bad", "-ERR DESTINATION_OUT_OF_ORDER"))  # back-pressure: no verdict
    assert health.snapshot(["bad"])["bad"].consecutive_failures == 1
    node.handle(job("bad", "-ERR NORMAL_TEMPORARY_FAILURE"))
    assert health.snapshot(["bad"])["bad"].availability(NOW_S + 1) is Availability.DOWN
    node.handle(job("good", "-ERR USER_BUSY"))  # a callee outcome: the trunk works
    trial = str(uuid.uuid4())
    assert health.claim_trial("bad", trial, NOW_S + 30)
    node.handle(job("bad", "-ERR USER_BUSY", trial))
    assert health.snapshot(["bad", "good"]) == {}


def test_only_the_trial_call_ends_a_suspension() -> None:
    """Calls placed before the suspension, still up when it began, end normally: the trunk
    stays suspended until its trial call's outcome; a trial the node refused is void."""
    health = InMemoryTrunkHealth(HealthPolicy(failure_threshold=2, cooldown_s=30))
    node = listener(health)
    for _ in range(2):
        node.handle(job("bad", "-ERR NORMAL_TEMPORARY_FAILURE"))
    suspended = health.snapshot(["bad"])["bad"]
    node.handle(job("bad", "-ERR USER_BUSY"))  # an older call: the trunk carried it
    assert health.snapshot(["bad"]) == {"bad": suspended}
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert health.claim_trial("bad", first, NOW_S + 30)
    node.handle(job("bad", "-ERR DESTINATION_OUT_OF_ORDER", first))  # the node's limit
    assert health.snapshot(["bad"])["bad"].availability(NOW_S + 30) is Availability.PROBE
    assert health.claim_trial("bad", second, NOW_S + 30)
    node.handle(job("bad", "-ERR USER_BUSY", second))
    assert health.snapshot(["bad"]) == {}


class BrokenHealth:
    def record(
        self, trunk: str, trunk_failure: bool | None, now_s: float, call_uuid: str = ""
    ) -> TrunkHealth:
        raise ConnectionError("redis is away")


def test_a_failing_health_store_never_stops_the_record() -> None:
    node = listener(BrokenHealth())
    attempts = node._attempts
    end = node.handle(job("bad", "-ERR GATEWAY_DOWN"))
    assert end is not None and isinstance(attempts, MemoryAttempts)
    assert [e.call_uuid for _, e in attempts.ended] == [end.call_uuid]


def fail(
    sessions: sessionmaker[Session], ids: tuple[int, int], outcome: AttemptOutcome | None
) -> Lead:
    campaign_id, lead_id = ids
    cause = "GATEWAY_DOWN" if outcome is AttemptOutcome.FAILED else "DESTINATION_OUT_OF_ORDER"
    end = CallEnd(
        call_uuid=str(uuid.uuid4()),
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=None,
        outcome=outcome,
        disposition=cause,
        hangup_cause=cause,
        abandoned=False,
        trunk="bad",
        ended_at=NOW,
    )
    SqlAttemptSink(sessions, clock=FakeClock(NOW)).record("fs1", end)
    with sessions() as s, s.begin():
        lead = s.get(Lead, lead_id)
        assert lead is not None
        if lead.status is LeadStatus.PENDING:
            lead.status = LeadStatus.DIALING  # claimed again
            s.flush()
        s.expunge(lead)
        return lead


def test_carrier_failures_never_count_and_come_back_later_and_later(
    sessions: sessionmaker[Session],
    seed_dialing_lead: Callable[[RetryPolicy, int], tuple[int, int]],
) -> None:
    ids = seed_dialing_lead(RetryPolicy(rules={AttemptOutcome.FAILED: RetryRule(delay_s=60)}), 2)
    delays_s = []
    for _ in range(CARRIER_STREAK_LOOKBACK + 2):
        lead = fail(sessions, ids, AttemptOutcome.FAILED)
        assert lead.attempts == 0
        delays_s.append((lead.next_attempt_at.replace(tzinfo=UTC) - NOW).total_seconds())
        fail(sessions, ids, None)  # node refusals neither count nor end the streak
    assert delays_s == [carrier_retry_delay_s(n) for n in range(len(delays_s))]
    with sessions() as s:
        outcomes = s.scalars(select(CallAttempt.outcome).order_by(CallAttempt.id)).all()
    assert outcomes.count("failed") == CARRIER_STREAK_LOOKBACK + 2
