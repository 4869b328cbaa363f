"""The API calls context on the database: `SqlApiCallStore` (the ``api_calls`` table) and
`SqlDirectory` (agents, campaigns, DNC and the routing table as the database has them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BigInteger, String, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from campaigns.domain import UNSETTLED
from campaigns.models import Campaign
from campaigns.rules import CallingWindow
from campaigns.selection import dnc_listed
from dialer.agents.orm import AgentRow, AgentTierRow
from dialer.apicalls.orm import ApiCallRow
from dialer.apicalls.ports import (
    CLAIM_TTL,
    AgentFacts,
    ApiCall,
    CallKind,
    CallStatus,
    CampaignFacts,
    NewApiCall,
    Placed,
)
from dialer.calls.agent_first import AgentFirstEnd
from dialer.db.base import UtcDateTime, transaction
from dialer.routing.orm import campaign_routing_of
from dialer.routing.ports import CapacityReservations
from dialer.routing.service import load_routing_table
from dialer.routing.table import RoutingTable

__all__ = ["SqlApiCallStore", "SqlDirectory", "outcome_text"]


def outcome_text(end: AgentFirstEnd) -> str:
    """The call's ``outcome``: the customer's attempt outcome, else why none was made
    (``unknown`` when the end was never seen)."""
    if end.unsettled:
        return UNSETTLED
    if end.outcome is not None:
        return end.outcome.value
    return "agent_no_answer" if end.agent_answered_at is None else "failed"


def _call(row: ApiCallRow, campaign: str | None) -> ApiCall:
    return ApiCall(
        id=row.id,
        call_uuid=row.call_uuid,
        kind=CallKind(row.kind),
        key_id=row.key_id,
        number=row.number,
        status=CallStatus(row.status),
        created_at=row.created_at,
        agent=row.agent,
        campaign=campaign,
        campaign_id=row.campaign_id,
        trunks=tuple(t for t in row.trunks.split(",") if t),
        ext=row.ext,
        due_at=row.due_at,
        outcome=row.outcome,
        disposition=row.disposition,
        trunk=row.trunk,
        caller_id=row.caller_id,
        node=row.node,
        hangup_cause=row.hangup_cause,
        hangup_cause_q850=row.hangup_cause_q850,
        sip_status=row.sip_status,
        originated_at=row.originated_at,
        agent_answered_at=row.agent_answered_at,
        answered_at=row.answered_at,
        connected_at=row.connected_at,
        ended_at=row.ended_at,
        recording_path=row.recording_path,
    )


# One Core INSERT ... RETURNING, compiled once: the ORM's unit of work, or a statement built
# per call, costs more CPU than the rest of placing the call.
_INSERT = insert(ApiCallRow).returning(ApiCallRow.id)


def _read(session: Session, row: ApiCallRow) -> ApiCall:
    name = None
    if row.campaign_id is not None:
        name = session.scalar(select(Campaign.name).where(Campaign.id == row.campaign_id))
    return _call(row, name)


class SqlApiCallStore:
    """`dialer.apicalls.ports.ApiCallStore` on the ``api_calls`` table. ``trunks`` frees the
    line of a call whose end does not name its trunk (an agent who never answered)."""

    def __init__(
        self, sessions: sessionmaker[Session], trunks: CapacityReservations | None = None
    ) -> None:
        self._sessions = sessions
        self._trunks = trunks

    def insert(self, call: NewApiCall) -> tuple[ApiCall, str, bool]:
        originated_at = call.created_at if call.status is CallStatus.DIALING else None
        values = {
            "call_uuid": call.call_uuid,
            "kind": call.kind.value,
            "key_id": call.key_id,
            "idempotency_key": call.idempotency_key,
            "request_sha256": call.request_sha256,
            "number": call.number,
            "agent": call.agent,
            "campaign_id": call.campaign_id,
            "trunks": ",".join(call.trunks),
            "ext": call.ext,
            "status": call.status.value,
            "due_at": call.due_at,
            "trunk": call.trunk,
            "caller_id": call.caller_id,
            "node": call.node,
            "created_at": call.created_at,
            "originated_at": originated_at,
        }
        try:
            with transaction(self._sessions) as session:
                new_id = session.connection().execute(_INSERT, values).scalar_one()
        except IntegrityError:
            if call.idempotency_key is None:
                raise
            found = self.by_idempotency_key(call.key_id, call.idempotency_key)
            if found is None:
                raise
            return found[0], found[1], False
        stored = ApiCall(
            id=new_id,
            call_uuid=call.call_uuid,
            kind=call.kind,
            key_id=call.key_id,
            number=call.number,
            status=call.status,
            created_at=call.created_at,
            agent=call.agent,
            campaign=call.campaign,
            campaign_id=call.campaign_id,
            trunks=call.trunks,
            ext=call.ext,
            due_at=call.due_at,
            trunk=call.trunk,
            caller_id=call.caller_id,
            node=call.node,
            originated_at=originated_at,
        )
        return stored, call.request_sha256, True

    def by_idempotency_key(self, key_id: str, idempotency_key: str) -> tuple[ApiCall, str] | None:
        with self._sessions() as session:
            row = session.scalar(
                select(ApiCallRow).where(
                    ApiCallRow.key_id == key_id, ApiCallRow.idempotency_key == idempotency_key
                )
            )
            return None if row is None else (_read(session, row), row.request_sha256)

    def get(self, call_uuid: str) -> ApiCall | None:
        with self._sessions() as session:
            row = session.scalar(select(ApiCallRow).where(ApiCallRow.call_uuid == call_uuid))
            return None if row is None else _read(session, row)

    def fail(self, call_uuid: str, reason: str, at: datetime) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(ApiCallRow)
                .where(ApiCallRow.call_uuid == call_uuid, ApiCallRow.status != "ended")
                .values(status="failed", disposition=reason, ended_at=at, claimed_by=None)
            )

    def claim_due_callbacks(self, now: datetime, limit: int, claimer: str) -> list[ApiCall]:
        with transaction(self._sessions) as session:
            query = (
                select(ApiCallRow)
                .where(
                    ApiCallRow.status == "scheduled",
                    ApiCallRow.due_at <= now,
                    or_(
                        ApiCallRow.claimed_by.is_(None),
                        ApiCallRow.claimed_at < now - CLAIM_TTL,
                    ),
                )
                .order_by(ApiCallRow.due_at, ApiCallRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(session.scalars(query))
            for row in rows:
                row.claimed_by = claimer
                row.claimed_at = now
            session.flush()
            return [_read(session, row) for row in rows]

    def release_callback(self, call_uuid: str, claimer: str) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(ApiCallRow)
                .where(ApiCallRow.call_uuid == call_uuid, ApiCallRow.claimed_by == claimer)
                .values(claimed_by=None)
            )

    def start_callback(self, call_uuid: str, claimer: str, placed: Placed) -> bool:
        with transaction(self._sessions) as session:
            done = session.execute(
                update(ApiCallRow)
                .where(
                    ApiCallRow.call_uuid == call_uuid,
                    ApiCallRow.claimed_by == claimer,
                    ApiCallRow.status == "scheduled",
                )
                .values(
                    status="dialing",
                    claimed_by=None,
                    agent=placed.agent,
                    trunk=placed.trunk,
                    caller_id=placed.caller_id,
                    node=placed.node,
                    originated_at=placed.at,
                )
            )
            return bool(getattr(done, "rowcount", 0))

    def settle_stale(self, originated_before: datetime, at: datetime) -> list[str]:
        with transaction(self._sessions) as session:
            done = session.scalars(
                update(ApiCallRow)
                .where(
                    ApiCallRow.status == "dialing",
                    ApiCallRow.originated_at < originated_before,
                )
                .values(
                    status="ended",
                    outcome=UNSETTLED,
                    disposition="its end was never seen",
                    ended_at=at,
                )
                .returning(ApiCallRow.call_uuid)
            )
            return sorted(done)

    def agents_in_calls(self) -> set[str]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ApiCallRow.agent).where(
                    ApiCallRow.status == "dialing", ApiCallRow.agent.is_not(None)
                )
            )
            return {name for name in rows if name}

    def record_end(self, node: str, end: AgentFirstEnd) -> ApiCall | None:
        with transaction(self._sessions) as session:
            row = session.scalar(
                select(ApiCallRow).where(ApiCallRow.call_uuid == end.call_uuid).with_for_update()
            )
            if row is None or row.status == "ended":
                return None
            row.status = "ended"
            row.node = node or row.node
            row.outcome = outcome_text(end)
            row.disposition = end.disposition
            row.trunk = end.trunk or row.trunk
            row.hangup_cause = end.hangup_cause[:64] or None
            row.hangup_cause_q850 = end.hangup_cause_q850
            row.sip_status = end.sip_status[:8] or None
            row.agent_answered_at = end.agent_answered_at
            row.answered_at = end.answered_at
            row.connected_at = end.connected_at
            row.ended_at = end.ended_at
            session.flush()
            ended = _read(session, row)
        if not end.trunk and ended.trunk and self._trunks is not None:
            self._trunks.release(ended.trunk, ended.call_uuid)
        return ended


_TABLE_TTL_S = 5.0
# `campaigns.selection.dnc_listed` built once over bound parameters (building its 15 probes
# costs more CPU than running them)
_DNC_QUERY = select(
    dnc_listed(
        bindparam("number", type_=String()),
        cast(int, bindparam("campaign_id", type_=BigInteger())),
        cast(datetime, bindparam("now", type_=UtcDateTime())),
    )
)
_T = TypeVar("_T")


class _Refreshed(Generic[_T]):
    """``load()``'s value, read again when older than ``ttl_s``: one thread reads while the
    others go on with the value they have; only the first read is waited for (a reload
    under a lock every thread waited on stalled every request in flight)."""

    def __init__(self, load: Callable[[], _T], ttl_s: float) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._held: tuple[float, _T] | None = None
        self._lock = threading.Lock()

    def get(self) -> _T:
        held = self._held
        if held is not None and time.monotonic() - held[0] <= self._ttl_s:
            return held[1]
        if held is not None and not self._lock.acquire(blocking=False):
            return held[1]  # another thread is reading it
        if held is None:
            self._lock.acquire()
        try:
            held = self._held
            if held is None or time.monotonic() - held[0] > self._ttl_s:
                held = (time.monotonic(), self._load())
                self._held = held
            return held[1]
        finally:
            self._lock.release()


class SqlDirectory:
    """`dialer.apicalls.ports.Directory` on the database. The routing table, and agents and
    campaigns found, are read again when older than ``table_ttl_s`` (a change shows up
    within that); DNC is always read live."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        cost_band: Decimal = Decimal(0),
        table_ttl_s: float = _TABLE_TTL_S,
    ) -> None:
        self._sessions = sessions
        self._cost_band = cost_band
        self._ttl_s = table_ttl_s
        self._table = _Refreshed(self._load_table, table_ttl_s)
        self._agents = _Refreshed(lambda: self._load_agents(None), table_ttl_s)
        self._facts_cache: dict[tuple[str, str], tuple[float, object]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, str], load: Callable[[], _T | None]) -> _T | None:
        """``load()``'s value, kept ``table_ttl_s`` when it found something (a missing
        agent or campaign is looked up again each time: one added is found at once)."""
        now_s = time.monotonic()
        with self._lock:
            hit = self._facts_cache.get(key)
        if hit is not None and now_s - hit[0] <= self._ttl_s:
            return cast("_T", hit[1])
        value = load()
        if value is not None:
            with self._lock:
                self._facts_cache[key] = (now_s, value)
        return value

    def agent(self, name: str) -> AgentFacts | None:
        """Every agent is read in one query, again when older than ``table_ttl_s`` (one
        query per agent cost more than the call); one not found is looked up alone, so that
        one added is found at once."""
        found = self._agents.get().get(name)
        if found is None:
            found = self._load_agents(name).get(name)
        return found

    def _load_agents(self, name: str | None) -> dict[str, AgentFacts]:
        """Agents by name: all of them, or the one named ``name``."""
        query = select(AgentRow).options(selectinload(AgentRow.tiers))
        if name is not None:
            query = query.where(AgentRow.name == name)
        with self._sessions() as session:
            return {
                row.name: AgentFacts(row.name, row.contact, tuple(t.queue for t in row.tiers))
                for row in session.scalars(query)
            }

    def agents_of_queue(self, queue: str) -> list[AgentFacts]:
        with self._sessions() as session:
            rows = session.execute(
                select(AgentRow.name, AgentRow.contact)
                .join(AgentTierRow, AgentTierRow.agent_id == AgentRow.id)
                .where(AgentTierRow.queue == queue)
                .order_by(AgentTierRow.level, AgentTierRow.position, AgentRow.name)
            )
            return [AgentFacts(name, contact, (queue,)) for name, contact in rows]

    def _facts(self, row: Campaign | None) -> CampaignFacts | None:
        if row is None:
            return None
        window: Any = row.calling_window
        return CampaignFacts(
            id=row.id,
            name=row.name,
            default_region=row.default_region,
            queue=row.queue_name,
            window=CallingWindow.model_validate(window) if window else CallingWindow(),
            routing=campaign_routing_of(row),
            webhook_url=row.webhook_url,
            record=bool(row.record),
        )

    def campaign(self, name: str) -> CampaignFacts | None:
        return self._cached(("campaign", name), lambda: self._load_campaign(name))

    def _load_campaign(self, name: str) -> CampaignFacts | None:
        with self._sessions() as session:
            return self._facts(session.scalar(select(Campaign).where(Campaign.name == name)))

    def campaign_by_id(self, campaign_id: int) -> CampaignFacts | None:
        with self._sessions() as session:
            return self._facts(session.get(Campaign, campaign_id))

    def dnc_listed(self, number_e164: str, campaign_id: int | None, now: datetime) -> bool:
        params = {"number": number_e164, "campaign_id": campaign_id or 0, "now": now}
        with self._sessions() as session:
            return bool(session.connection().execute(_DNC_QUERY, params).scalar())

    def routing_table(self) -> RoutingTable:
        return self._table.get()

    def _load_table(self) -> RoutingTable:
        with self._sessions() as session:
            return load_routing_table(session, self._cost_band)
