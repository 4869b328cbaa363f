"""Wiring of the CDR context: the store and the settling on the database."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from dialer.cdr.adapters import SqlCdrStore, SqlRates
from dialer.cdr.ports import CdrStore
from dialer.cdr.report_http import CostReportApi
from dialer.cdr.service import CdrDeps
from dialer.clock import Clock
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.ports import TrunkRelease

__all__ = ["cdr_deps", "cdr_store", "cost_report_api"]


def cdr_store(sessions: sessionmaker[Session]) -> CdrStore:
    """CDRs kept in the database."""
    return SqlCdrStore(sessions)


def cdr_deps(
    sessions: sessionmaker[Session],
    clock: Clock,
    notify: Callable[[int], None] | None = None,
    trunks: TrunkRelease | None = None,
) -> CdrDeps:
    """CDRs stored and settled in the database, dated by ``clock``; ``notify(attempt_id)``
    hands each attempt a CDR settled to the post-call work; ``trunks``: the reservations
    (routing's, in Redis) whose lines settled calls free; each CDR priced by its trunk's
    rate deck."""
    return CdrDeps(
        SqlCdrStore(sessions),
        SqlAttemptSink(sessions, clock, notify),
        clock,
        trunks,
        SqlRates(sessions),
    )


def cost_report_api(sessions: sessionmaker[Session], clock: Clock, zone: str) -> CostReportApi:
    """The cost report over the CDRs in the database, days in time zone ``zone``."""
    return CostReportApi(SqlCdrStore(sessions), sessions, clock, ZoneInfo(zone))
