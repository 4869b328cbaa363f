"""The `AttemptSink` contract (`dialer.listener.ports`): `MemoryAttempts` and `SqlAttemptSink`
on SQLite and PostgreSQL. What is unsettled, what a record settles, replays, foreign calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import NOT_DIALLED, UNSETTLED, AttemptOutcome
from campaigns.models import CallAttempt, Lead
from dialer.calls.machine import CallEnd
from dialer.db.base import transaction
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.fakes import MemoryAttempts
from dialer.listener.ports import AttemptSink, Unsettled
from tests.conftest import Backend, seed_running_campaign

PORT = "attempt_sink"
T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


class Harness(Protocol):
    sink: AttemptSink

    def originated(self, node: str, call_uuid: str, at: datetime, trunk: str = "") -> Unsettled:
        """An attempt row written before its originate left (no outcome yet)."""
        ...

    def records(self, call_uuid: str) -> int:
        """How many ends of the call were taken."""
        ...

    def outcome(self, call_uuid: str) -> str | None:
        """The outcome the call's attempt holds (None: not settled)."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.memory = MemoryAttempts()
        self.sink: AttemptSink = self.memory

    def originated(self, node: str, call_uuid: str, at: datetime, trunk: str = "") -> Unsettled:
        row = Unsettled(call_uuid, 1, 1, len(self.memory.pending) + 1, trunk)
        self.memory.pending.append((node, at, row))
        return row

    def records(self, call_uuid: str) -> int:
        return sum(end.call_uuid == call_uuid for _, end in self.memory.ended)

    def outcome(self, call_uuid: str) -> str | None:
        for _, end in self.memory.ended:
            if end.call_uuid == call_uuid:
                if end.unsettled:
                    return UNSETTLED
                return end.outcome.value if end.outcome else NOT_DIALLED
        return None


class SqlHarness:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(sessions, 1, {})
        with sessions() as session:
            self.lead_id = session.scalars(select(Lead.id)).one()
        self.sink: AttemptSink = SqlAttemptSink(sessions)

    def originated(self, node: str, call_uuid: str, at: datetime, trunk: str = "") -> Unsettled:
        with transaction(self.sessions) as session:
            row = CallAttempt(
                call_uuid=call_uuid, lead_id=self.lead_id, campaign_id=self.campaign_id,
                node=node, trunk=trunk or None, dialed_number="+8613800000000", originated_at=at,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return Unsettled(call_uuid, self.campaign_id, self.lead_id, row.id, trunk)

    def records(self, call_uuid: str) -> int:
        with self.sessions() as session:
            ended = select(func.count()).where(
                CallAttempt.call_uuid == call_uuid, CallAttempt.outcome.is_not(None)
            )
            return int(session.scalar(ended) or 0)

    def outcome(self, call_uuid: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(CallAttempt.outcome).where(CallAttempt.call_uuid == call_uuid)
            )


@pytest.fixture
def h(backend: Backend) -> Harness:
    return MemoryHarness() if backend.is_fake else SqlHarness(backend.sessions())


def end_of(
    row: Unsettled | None, call_uuid: str = "", outcome: AttemptOutcome = AttemptOutcome.NO_ANSWER
) -> CallEnd:
    """The listener's end of ``row``'s call; without a row, a call that carries no ids."""
    return CallEnd(
        call_uuid=row.call_uuid if row else call_uuid,
        campaign_id=row.campaign_id if row else None,
        lead_id=row.lead_id if row else None,
        attempt_id=row.attempt_id if row else None,
        outcome=outcome,
        disposition="x",
        hangup_cause="NO_ANSWER",
        abandoned=False,
        trunk=row.trunk if row else "",
        ended_at=T0 + timedelta(minutes=5),
    )


def test_unsettled_lists_a_nodes_attempts_originated_before_the_bound(h: Harness) -> None:
    early = h.originated("fs1", "u-1", T0, trunk="carrier_a")
    also = h.originated("fs1", "u-2", T0 + timedelta(seconds=30))
    h.originated("fs1", "u-3", T0 + timedelta(seconds=60))  # at the bound: not before it
    h.originated("fs2", "u-4", T0)
    before = T0 + timedelta(seconds=60)
    found = sorted(h.sink.unsettled("fs1", before), key=lambda u: u.call_uuid)
    assert found == [early, also]
    assert found[0].trunk == "carrier_a" and found[1].trunk == ""
    assert [u.call_uuid for u in h.sink.unsettled("fs2", before)] == ["u-4"]
    assert h.sink.unsettled("fs3", before) == []
    assert h.sink.unsettled("fs1", T0) == []


def test_a_recorded_end_settles_its_attempt_only(h: Harness) -> None:
    first = h.originated("fs1", "u-1", T0)
    second = h.originated("fs1", "u-2", T0)
    h.sink.record("fs1", end_of(first))
    assert h.records("u-1") == 1 and h.records("u-2") == 0
    assert h.sink.unsettled("fs1", T0 + timedelta(hours=1)) == [second]


def test_a_replayed_end_is_taken_once(h: Harness) -> None:
    row = h.originated("fs1", "u-1", T0)
    h.sink.record("fs1", end_of(row, outcome=AttemptOutcome.CONNECTED))
    h.sink.record("fs1", end_of(row, outcome=AttemptOutcome.CONNECTED))  # replayed after a restart
    h.sink.record("fs1", end_of(row, outcome=AttemptOutcome.BUSY))
    assert h.records("u-1") == 1
    assert h.sink.unsettled("fs1", T0 + timedelta(hours=1)) == []


def test_an_end_without_a_row_is_taken_and_one_without_ids_is_not(h: Harness) -> None:
    row = h.originated("fs1", "u-1", T0)
    h.sink.record("fs1", end_of(None, "not-a-dialer-call"))
    assert h.records("not-a-dialer-call") == 0
    assert h.sink.unsettled("fs1", T0 + timedelta(hours=1)) == [row]
    # the originator's row was never written (it died before): the end still counts
    unwritten = Unsettled("u-9", row.campaign_id, row.lead_id, 0, "carrier_b")
    h.sink.record("fs1", end_of(unwritten))
    assert h.records("u-9") == 1
    assert h.sink.unsettled("fs1", T0 + timedelta(hours=1)) == [row]


def test_an_unknown_end_is_replaced_by_the_first_definitive_one(h: Harness) -> None:
    row = h.originated("fs1", "u-1", T0)
    unknown = replace(end_of(row), outcome=None, unsettled=True)
    h.sink.record("fs1", unknown)
    assert h.outcome("u-1") == UNSETTLED
    assert h.sink.unsettled("fs1", T0 + timedelta(hours=1)) == []  # not adopted again
    h.sink.record("fs1", unknown)
    h.sink.record("fs1", end_of(row, outcome=AttemptOutcome.CONNECTED))  # its CDR, late
    assert h.outcome("u-1") == AttemptOutcome.CONNECTED
    h.sink.record("fs1", end_of(row, outcome=AttemptOutcome.BUSY))
    h.sink.record("fs1", unknown)
    assert (h.outcome("u-1"), h.records("u-1")) == (AttemptOutcome.CONNECTED, 1)
