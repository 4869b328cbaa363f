"""The `CallLog` contract (`dialer.postcall.ports`): `MemoryCallLog` and `SqlCallLog` on
SQLite and PostgreSQL. Newest first, each filter, the limit, unknown campaigns and calls, a
call's whole record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Campaign, Lead, WebhookDelivery
from dialer.db.base import transaction
from dialer.postcall.adapters import SqlCallLog
from dialer.postcall.call_log import CallLine, CallLogError, CallRecord, WebhookState, call_query
from dialer.postcall.fakes import MemoryCallLog
from dialer.postcall.ports import CallLog
from tests.conftest import Backend

PORT = "call_log"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def record(
    n: int, campaign: str = "spring", outcome: str | None = "busy", minutes: int = 0
) -> CallRecord:
    """Call ``n``: originated ``minutes`` after T0 (ended 30 s later unless in progress)."""
    started = T0 + timedelta(minutes=minutes)
    line = CallLine(
        call_uuid=f"00000000-0000-4000-8000-{n:012d}", campaign=campaign,
        number=f"+86138001380{n:02d}", outcome=outcome, trunk="cheap_cn",
        hangup_cause="USER_BUSY", started_at=started,
        ended_at=None if outcome is None else started + timedelta(seconds=30),
    )  # fmt: skip
    return CallRecord(
        line=line, lead_id=0, attempt_no=1, node="fs1", agent=None, abandoned=False,
        answered_at=None, connected_at=None, hangup_cause_q850=17, sip_status="486",
        disposition=None, disposition_note=None, disposition_at=None, callback_at=None,
        webhook=None,
    )  # fmt: skip


class Harness(Protocol):
    log: CallLog

    def add(self, call: CallRecord) -> CallRecord:
        """Store the call (its campaign is created on first use); the record as stored
        (with its lead's id)."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryCallLog(campaigns={"spring", "autumn"})
        self.log: CallLog = self.memory

    def add(self, call: CallRecord) -> CallRecord:
        stored = replace(call, lead_id=len(self.memory.records) + 1)
        self.memory.records[call.line.call_uuid] = stored
        return stored


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.log: CallLog = SqlCallLog(sessions)
        with transaction(sessions) as session:
            session.add_all(Campaign(name=n, queue_name="q") for n in ("spring", "autumn"))

    def add(self, call: CallRecord) -> CallRecord:
        line = call.line
        with transaction(self.sessions) as session:
            campaign_id = session.scalars(
                select(Campaign.id).where(Campaign.name == line.campaign)
            ).one()
            lead = Lead(
                campaign_id=campaign_id, phone_e164=line.number, phone_raw=line.number,
                country="CN", number_type="mobile",
            )  # fmt: skip
            session.add(lead)
            session.flush()
            attempt = CallAttempt(
                call_uuid=line.call_uuid, lead_id=lead.id, campaign_id=campaign_id,
                attempt_no=call.attempt_no, node=call.node, trunk=line.trunk,
                dialed_number=line.number, originated_at=line.started_at,
                answered_at=call.answered_at, connected_at=call.connected_at,
                ended_at=line.ended_at, hangup_cause=line.hangup_cause,
                hangup_cause_q850=call.hangup_cause_q850, sip_status=call.sip_status,
                outcome=line.outcome, agent=call.agent, abandoned=call.abandoned,
                disposition=call.disposition, disposition_note=call.disposition_note,
                disposition_at=call.disposition_at, callback_at=call.callback_at,
            )  # fmt: skip
            session.add(attempt)
            session.flush()
            if call.webhook is not None:
                hook = call.webhook
                session.add(
                    WebhookDelivery(
                        attempt_id=attempt.id,
                        url=hook.url,
                        state=hook.state,
                        tries=hook.tries,
                        status_code=hook.status_code,
                        error=hook.error,
                        last_try_at=hook.last_try_at,
                        next_try_at=hook.next_try_at,
                        delivered_at=hook.delivered_at,
                    )
                )
            return replace(call, lead_id=lead.id)


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


def uuids(lines: list[CallLine]) -> list[str]:
    return [line.call_uuid for line in lines]


def test_calls_come_newest_first_the_later_originate_first_on_a_tie(h: Harness) -> None:
    calls = [h.add(record(1, minutes=5)), h.add(record(2, minutes=0)), h.add(record(3, minutes=5))]
    listed = h.log.recent_calls(call_query())
    assert uuids(listed) == [calls[2].line.call_uuid, calls[0].line.call_uuid,
                             calls[1].line.call_uuid]  # fmt: skip
    assert listed[0] == calls[2].line


def test_each_filter_and_the_limit(h: Harness) -> None:
    a = h.add(record(1, "spring", "busy", minutes=0)).line.call_uuid
    b = h.add(record(2, "autumn", "busy", minutes=1)).line.call_uuid
    c = h.add(record(3, "spring", "no_answer", minutes=2)).line.call_uuid
    d = h.add(record(4, "spring", None, minutes=3)).line.call_uuid
    assert uuids(h.log.recent_calls(call_query(campaign="spring"))) == [d, c, a]
    assert uuids(h.log.recent_calls(call_query(outcome="busy"))) == [b, a]
    since = T0 + timedelta(minutes=1)
    assert uuids(h.log.recent_calls(call_query(since=since))) == [d, c, b]
    assert uuids(h.log.recent_calls(call_query(limit=2))) == [d, c]
    both = call_query(campaign="spring", outcome="busy", since=T0)
    assert uuids(h.log.recent_calls(both)) == [a]


def test_an_unknown_campaign_is_named(h: Harness) -> None:
    h.add(record(1))
    with pytest.raises(CallLogError, match="no campaign named 'winter'"):
        h.log.recent_calls(call_query(campaign="winter"))


def test_a_call_record_is_whole(h: Harness) -> None:
    hook = WebhookState(
        url="https://crm.example/hook", state="retrying", tries=2, status_code=None,
        error="ConnectError", last_try_at=T0 + timedelta(minutes=1),
        next_try_at=T0 + timedelta(minutes=2), delivered_at=None,
    )  # fmt: skip
    full = replace(
        record(1, outcome="connected"), agent="1001", answered_at=T0 + timedelta(seconds=5),
        connected_at=T0 + timedelta(seconds=6), disposition="callback",
        disposition_note="after lunch", disposition_at=T0 + timedelta(minutes=3),
        callback_at=T0 + timedelta(hours=4), webhook=hook,
    )  # fmt: skip
    stored = h.add(full)
    plain = h.add(record(2, outcome=None))
    assert h.log.call_record(full.line.call_uuid) == stored
    assert h.log.call_record(plain.line.call_uuid) == plain
    assert h.log.call_record("no-such-call") is None
