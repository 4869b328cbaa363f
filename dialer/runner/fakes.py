"""In-memory twins of the runner's seams (`dialer.runner.ports`), for unit tests; the
contract tests in ``tests/contracts/`` hold each to its real adapter."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from campaigns.domain import (
    NOT_DIALLED,
    ClaimedLead,
    DncRule,
    LeadStatus,
    RetryOrder,
    claim_order_key,
)
from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.clock import Clock
from dialer.runner.ports import (
    NOT_SENT_CAUSE,
    UNROUTABLE,
    UNSAFE_VALUE,
    UNSAFE_VALUE_CAUSE,
    CampaignPlan,
    EndedAttempt,
    Lease,
    LeaseStore,
    NewAttempt,
    NodeReadiness,
    ProbeRequest,
    TieredAgent,
)


@dataclass
class MemoryLead:
    lead: ClaimedLead
    status: str = LeadStatus.PENDING
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    last_outcome: str | None = None


@dataclass
class MemoryAttempt:
    attempt_id: int
    row: NewAttempt
    outcome: str | None = None
    hangup_cause: str | None = None


@dataclass
class MemoryCampaignStore:
    """`CampaignStore` over dicts; windows always open; due leads in the SQL claim's order
    (`campaigns.domain.claim_order_key` under the campaign's ``retry_orders`` entry, retries
    first by default); a claimed lead a ``dnc`` rule forbids turns ``dnc`` and is left out."""

    plans: dict[int, CampaignPlan] = field(default_factory=dict)
    leads: dict[int, dict[int, MemoryLead]] = field(default_factory=dict)
    attempts: dict[str, MemoryAttempt] = field(default_factory=dict)
    ended: list[tuple[int, EndedAttempt]] = field(default_factory=list)
    dnc: list[DncRule] = field(default_factory=list)
    retry_orders: dict[int, RetryOrder] = field(default_factory=dict)

    def add_lead(
        self,
        campaign_id: int,
        lead_id: int,
        phone_e164: str,
        *,
        attempts: int = 0,
        priority: int = 0,
        due_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    ) -> None:
        lead = ClaimedLead(lead_id, phone_e164, attempts, priority, due_at, "", "", {})
        self.leads.setdefault(campaign_id, {})[lead_id] = MemoryLead(lead)

    def plan(self, campaign_id: int) -> CampaignPlan | None:
        return self.plans.get(campaign_id)

    def _due(self, campaign_id: int, now: datetime) -> list[MemoryLead]:
        due = [
            m
            for m in self.leads.get(campaign_id, {}).values()
            if m.status == LeadStatus.PENDING and m.lead.next_attempt_at <= now
        ]
        order = self.retry_orders.get(campaign_id, RetryOrder.RETRIES_FIRST)
        return sorted(
            due,
            key=lambda m: claim_order_key(
                order, m.lead.priority, m.lead.attempts, m.lead.next_attempt_at, m.lead.id
            ),
        )

    def count_due(self, campaign_id: int, now: datetime, cap: int) -> int:
        return min(cap, len(self._due(campaign_id, now)))

    def claim(self, campaign_id: int, limit: int, now: datetime, claimer: str) -> list[ClaimedLead]:
        chosen = self._due(campaign_id, now)[: max(0, limit)]
        claimed = []
        for m in chosen:
            if any(rule.forbids(m.lead.phone_e164, campaign_id, now) for rule in self.dnc):
                m.status = LeadStatus.DNC
                continue
            m.status, m.claimed_by, m.claimed_at = LeadStatus.DIALING, claimer, now
            claimed.append(m.lead)
        return claimed

    def _held(self, lead_id: int, claimer: str) -> MemoryLead | None:
        m = self._lead(lead_id)
        if m is None or m.status != LeadStatus.DIALING or m.claimed_by != claimer:
            return None
        return m

    def start_attempts(
        self, attempts: Sequence[NewAttempt], claimer: str, now: datetime
    ) -> dict[str, int]:
        written: dict[str, int] = {}
        for a in attempts:
            if self._held(a.lead_id, claimer) is None:
                continue
            attempt_id = len(self.attempts) + 1
            self.attempts[a.call_uuid] = MemoryAttempt(attempt_id, a)
            written[a.call_uuid] = attempt_id
        return written

    def _lead(self, lead_id: int) -> MemoryLead | None:
        for leads in self.leads.values():
            if lead_id in leads:
                return leads[lead_id]
        return None

    def _settle(self, lead_id: int, claimer: str, status: str) -> MemoryLead | None:
        m = self._held(lead_id, claimer)
        if m is not None:
            m.status, m.claimed_by, m.claimed_at = status, None, None
        return m

    def unclaim(self, lead_ids: Sequence[int], claimer: str) -> None:
        for lead_id in lead_ids:
            self._settle(lead_id, claimer, LeadStatus.PENDING)

    def _end_unsent(self, call_uuids: Sequence[str], cause: str) -> list[int]:
        lead_ids = []
        for call_uuid in call_uuids:
            attempt = self.attempts.get(call_uuid)
            if attempt is None:
                continue
            if attempt.outcome is None:
                attempt.outcome, attempt.hangup_cause = NOT_DIALLED, cause
            lead_ids.append(attempt.row.lead_id)
        return lead_ids

    def cancel_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        self.unclaim(self._end_unsent(call_uuids, NOT_SENT_CAUSE), claimer)

    def fail_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        for lead_id in self._end_unsent(call_uuids, UNSAFE_VALUE_CAUSE):
            m = self._settle(lead_id, claimer, LeadStatus.FAILED)
            if m is not None:
                m.last_outcome = UNSAFE_VALUE

    def park(self, lead_ids: Sequence[int], claimer: str, until: datetime) -> None:
        for lead_id in lead_ids:
            m = self._settle(lead_id, claimer, LeadStatus.PENDING)
            if m is not None:
                m.lead = replace(m.lead, next_attempt_at=until)
                m.last_outcome = UNROUTABLE

    def release_orphans(self, campaign_id: int, claimed_before: datetime, keep: str) -> int:
        open_leads = {a.row.lead_id for a in self.attempts.values() if a.outcome is None}
        freed = 0
        for lead_id, m in self.leads.get(campaign_id, {}).items():
            if (
                m.status == LeadStatus.DIALING
                and m.claimed_at is not None
                and m.claimed_at < claimed_before
                and m.claimed_by != keep
                and lead_id not in open_leads
            ):
                m.status, m.claimed_by, m.claimed_at = LeadStatus.PENDING, None, None
                freed += 1
        return freed

    def ended_since(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        rows = [e for c, e in self.ended if c == campaign_id and e.ended_at >= since]
        return sorted(rows, key=lambda e: e.ended_at)[:limit]

    def latest_ended(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        rows = [e for c, e in self.ended if c == campaign_id and e.ended_at >= since]
        newest = sorted(rows, key=lambda e: (e.ended_at, e.attempt_id))[-limit:] if limit else []
        return newest

    def budget_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        rows = [e for c, e in self.ended if c == campaign_id and e.originated_at >= since]
        answered = sum(e.answered_at is not None and e.outcome != "answering_machine" for e in rows)
        return answered, sum(e.abandoned for e in rows)

    def dialing(self) -> set[int]:
        return {
            lead_id
            for leads in self.leads.values()
            for lead_id, m in leads.items()
            if m.status == LeadStatus.DIALING
        }


@dataclass
class MemoryLiveView:
    """`LiveView` over plain lists."""

    agent_states: list[AgentState] = field(default_factory=list)
    call_states: list[CallState] = field(default_factory=list)

    def agents(self) -> list[AgentState]:
        return list(self.agent_states)

    def calls(self, campaign_id: int) -> list[CallState]:
        return [c for c in self.call_states if c.campaign_id == campaign_id]


@dataclass
class MemorySwitch:
    """`Originator` that records originates; ``down`` nodes are not offered, ``refusing`` ones
    are offered but refuse at once (the connection dropped between the two). Nodes are
    offered in name order; a node not in ``node_names`` is a `KeyError`."""

    node_names: list[str] = field(default_factory=lambda: ["fs1"])
    down: set[str] = field(default_factory=set)
    refusing: set[str] = field(default_factory=set)
    sent: list[tuple[str, str]] = field(default_factory=list)

    def nodes(self) -> list[str]:
        return sorted(n for n in self.node_names if n not in self.down)

    def originate(self, node: str, args: str) -> bool:
        if node not in self.node_names:
            raise KeyError(node)
        if node in self.down or node in self.refusing:
            return False
        self.sent.append((node, args))
        return True


class MemoryLeaseStore:
    """`LeaseStore` in dicts; a lease lives ``ttl_ms`` of the clock's monotonic time, as a
    Redis lease lives ``ttl_ms`` of the server's.

    As in Redis, a lease is known by its campaign and token alone: the owner it names is
    not checked."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._leases: dict[int, tuple[Lease, float]] = {}
        self._fences: dict[int, int] = {}

    def _live(self, campaign_id: int) -> Lease | None:
        held = self._leases.get(campaign_id)
        if held is None or held[1] <= self._clock.monotonic_s():
            self._leases.pop(campaign_id, None)
            return None
        return held[0]

    def _is_live(self, lease: Lease) -> bool:
        live = self._live(lease.campaign_id)
        return live is not None and live.token == lease.token

    def acquire(self, campaign_id: int, owner: str, ttl_ms: int) -> Lease | None:
        if self._live(campaign_id) is not None:
            return None
        token = self._fences.get(campaign_id, 0) + 1
        self._fences[campaign_id] = token
        lease = Lease(campaign_id, owner, token)
        self._leases[campaign_id] = (lease, self._clock.monotonic_s() + ttl_ms / 1000)
        return lease

    def renew(self, lease: Lease, ttl_ms: int) -> bool:
        if not self._is_live(lease):
            return False
        held = self._leases[lease.campaign_id][0]
        self._leases[lease.campaign_id] = (held, self._clock.monotonic_s() + ttl_ms / 1000)
        return True

    def release(self, lease: Lease) -> bool:
        if not self._is_live(lease):
            return False
        del self._leases[lease.campaign_id]
        return True

    def is_current(self, lease: Lease) -> bool:
        return self._is_live(lease)

    def holder(self, campaign_id: int) -> Lease | None:
        return self._live(campaign_id)


@dataclass
class MemoryNode:
    """What one in-memory node has loaded: mod_callcenter ``queues``, ``tiers`` (queue ->
    agents) and ``agent_status``; the ``dialplan`` (context -> extension -> the queues it
    enters); sofia ``gateways`` (name -> Status); ``down`` when it cannot be asked."""

    queues: set[str] = field(default_factory=set)
    dialplan: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    gateways: dict[str, str] = field(default_factory=dict)
    tiers: dict[str, list[str]] = field(default_factory=dict)
    agent_status: dict[str, str] = field(default_factory=dict)
    down: bool = False


class MemorySwitchProbe:
    """`SwitchProbe` over `MemoryNode` values, in the order given."""

    def __init__(self, nodes: dict[str, MemoryNode]) -> None:
        self.nodes = nodes

    def observe(self, request: ProbeRequest) -> list[NodeReadiness]:
        return [self._observe(name, node, request) for name, node in self.nodes.items()]

    @staticmethod
    def _observe(name: str, node: MemoryNode, request: ProbeRequest) -> NodeReadiness:
        if node.down:
            return NodeReadiness(name, unreachable="no Event Socket answers")
        context = node.dialplan.get(request.context)
        agents = node.tiers.get(request.queue, [])
        return NodeReadiness(
            name,
            queues=frozenset(node.queues),
            context_loaded=context is not None,
            extensions=dict(context or {}),
            gateways={g: node.gateways.get(g) for g in request.gateways},
            tiered_agents=tuple(TieredAgent(a, node.agent_status.get(a, "")) for a in agents),
        )


class MemoryPacerStates:
    """`PacerStateStore` in a dict, fenced by ``leases`` as Redis fences it by the lease key;
    states are kept as JSON text, so what cannot be serialized fails here as it would there.
    The expiry is not modelled."""

    def __init__(self, leases: LeaseStore) -> None:
        self._leases = leases
        self.saved: dict[int, tuple[int, str]] = {}

    def save(self, lease: Lease, state: Mapping[str, Any], ttl_s: int) -> bool:
        held = self.saved.get(lease.campaign_id)
        if not self._leases.is_current(lease) or (held is not None and held[0] > lease.token):
            return False
        self.saved[lease.campaign_id] = (lease.token, json.dumps(state))
        return True

    def load(self, campaign_id: int) -> Mapping[str, Any] | None:
        held = self.saved.get(campaign_id)
        return None if held is None else dict(json.loads(held[1]))
