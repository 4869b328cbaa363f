"""In-memory twins of the API calls context's seams, for unit tests and benchmarks."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

from campaigns.domain import UNSETTLED
from dialer.apicalls.adapters import outcome_text
from dialer.apicalls.ports import (
    CLAIM_TTL,
    AgentFacts,
    ApiCall,
    CallStatus,
    CampaignFacts,
    NewApiCall,
    Placed,
)
from dialer.calls.agent_first import AgentFirstEnd
from dialer.routing.table import RoutingTable

__all__ = ["MemoryApiCallStore", "MemoryDirectory"]

_NEVER = datetime.min.replace(tzinfo=UTC)


class MemoryApiCallStore:
    """`dialer.apicalls.ports.ApiCallStore` in a dict; one lock makes ``insert`` atomic."""

    def __init__(self, campaigns: dict[int, str] | None = None) -> None:
        self.calls: dict[str, ApiCall] = {}
        self._keys: dict[tuple[str, str], tuple[str, str]] = {}
        self._claims: dict[str, tuple[str, datetime]] = {}
        self._campaigns = campaigns or {}
        self._lock = threading.Lock()

    def insert(self, call: NewApiCall) -> tuple[ApiCall, str, bool]:
        with self._lock:
            if call.idempotency_key is not None:
                taken = self._keys.get((call.key_id, call.idempotency_key))
                if taken is not None:
                    return self.calls[taken[0]], taken[1], False
                self._keys[(call.key_id, call.idempotency_key)] = (
                    call.call_uuid,
                    call.request_sha256,
                )
            stored = ApiCall(
                id=len(self.calls) + 1,
                call_uuid=call.call_uuid,
                kind=call.kind,
                key_id=call.key_id,
                number=call.number,
                status=call.status,
                created_at=call.created_at,
                agent=call.agent,
                campaign=call.campaign or self._campaigns.get(call.campaign_id or 0),
                campaign_id=call.campaign_id,
                trunks=call.trunks,
                ext=call.ext,
                due_at=call.due_at,
                trunk=call.trunk,
                caller_id=call.caller_id,
                node=call.node,
                originated_at=call.created_at if call.status is CallStatus.DIALING else None,
            )
            self.calls[call.call_uuid] = stored
            return stored, call.request_sha256, True

    def by_idempotency_key(self, key_id: str, idempotency_key: str) -> tuple[ApiCall, str] | None:
        taken = self._keys.get((key_id, idempotency_key))
        return None if taken is None else (self.calls[taken[0]], taken[1])

    def get(self, call_uuid: str) -> ApiCall | None:
        return self.calls.get(call_uuid)

    def fail(self, call_uuid: str, reason: str, at: datetime) -> None:
        with self._lock:
            call = self.calls.get(call_uuid)
            if call is not None and call.status is not CallStatus.ENDED:
                self._claims.pop(call_uuid, None)
                self.calls[call_uuid] = replace(
                    call, status=CallStatus.FAILED, disposition=reason, ended_at=at
                )

    def claim_due_callbacks(self, now: datetime, limit: int, claimer: str) -> list[ApiCall]:
        with self._lock:
            due = sorted(
                (
                    c
                    for c in self.calls.values()
                    if c.status is CallStatus.SCHEDULED
                    and c.due_at is not None
                    and c.due_at <= now
                    and (
                        c.call_uuid not in self._claims
                        or self._claims[c.call_uuid][1] < now - CLAIM_TTL
                    )
                ),
                key=lambda c: (c.due_at or now, c.id),
            )[:limit]
            for call in due:
                self._claims[call.call_uuid] = (claimer, now)
            return due

    def release_callback(self, call_uuid: str, claimer: str) -> None:
        with self._lock:
            if self._claims.get(call_uuid, ("", _NEVER))[0] == claimer:
                del self._claims[call_uuid]

    def start_callback(self, call_uuid: str, claimer: str, placed: Placed) -> bool:
        with self._lock:
            call = self.calls.get(call_uuid)
            if call is None or self._claims.get(call_uuid, ("", _NEVER))[0] != claimer:
                return False
            if call.status is not CallStatus.SCHEDULED:
                return False
            del self._claims[call_uuid]
            self.calls[call_uuid] = replace(
                call,
                status=CallStatus.DIALING,
                agent=placed.agent,
                trunk=placed.trunk,
                caller_id=placed.caller_id,
                node=placed.node,
                originated_at=placed.at,
            )
            return True

    def settle_stale(self, originated_before: datetime, at: datetime) -> list[str]:
        with self._lock:
            stale = [
                c
                for c in self.calls.values()
                if c.status is CallStatus.DIALING
                and c.originated_at is not None
                and c.originated_at < originated_before
            ]
            for call in stale:
                self.calls[call.call_uuid] = replace(
                    call,
                    status=CallStatus.ENDED,
                    outcome=UNSETTLED,
                    disposition="its end was never seen",
                    ended_at=at,
                )
            return sorted(c.call_uuid for c in stale)

    def agents_in_calls(self) -> set[str]:
        return {c.agent for c in self.calls.values() if c.status is CallStatus.DIALING and c.agent}

    def record_end(self, node: str, end: AgentFirstEnd) -> ApiCall | None:
        with self._lock:
            call = self.calls.get(end.call_uuid)
            if call is None or call.status is CallStatus.ENDED:
                return None
            ended = replace(
                call,
                status=CallStatus.ENDED,
                node=node or call.node,
                outcome=outcome_text(end),
                disposition=end.disposition,
                trunk=end.trunk or call.trunk,
                hangup_cause=end.hangup_cause or None,
                hangup_cause_q850=end.hangup_cause_q850,
                sip_status=end.sip_status or None,
                agent_answered_at=end.agent_answered_at,
                answered_at=end.answered_at,
                connected_at=end.connected_at,
                ended_at=end.ended_at,
            )
            self.calls[end.call_uuid] = ended
            return ended


class MemoryDirectory:
    """`dialer.apicalls.ports.Directory` over plain dicts."""

    def __init__(
        self,
        table: RoutingTable,
        agents: list[AgentFacts] | None = None,
        campaigns: list[CampaignFacts] | None = None,
        dnc: set[str] | None = None,
    ) -> None:
        self.table = table
        self.agents = {a.name: a for a in agents or []}
        self.campaigns = {c.name: c for c in campaigns or []}
        self.dnc = dnc or set()

    def agent(self, name: str) -> AgentFacts | None:
        return self.agents.get(name)

    def agents_of_queue(self, queue: str) -> list[AgentFacts]:
        return [a for a in self.agents.values() if queue in a.queues]

    def campaign(self, name: str) -> CampaignFacts | None:
        return self.campaigns.get(name)

    def campaign_by_id(self, campaign_id: int) -> CampaignFacts | None:
        return next((c for c in self.campaigns.values() if c.id == campaign_id), None)

    def dnc_listed(self, number_e164: str, campaign_id: int | None, now: datetime) -> bool:
        return any(number_e164.startswith(entry) for entry in self.dnc)

    def routing_table(self) -> RoutingTable:
        return self.table


class MemoryAgentHolds:
    """`dialer.apicalls.ports.AgentHolds` in a set: ``held`` the agents held now, ``log``
    every (``hold`` | ``release``, agent) in order."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.log: list[tuple[str, str]] = []

    def hold(self, agent: str) -> None:
        self.held.add(agent)
        self.log.append(("hold", agent))

    def release(self, agent: str) -> None:
        self.held.discard(agent)
        self.log.append(("release", agent))
