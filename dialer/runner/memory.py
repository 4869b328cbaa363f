"""In-memory twins of the tick's seams, for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from campaigns.selection import ClaimedLead
from dialer.calls.machine import CallState
from dialer.listener.switch_state import AgentState
from dialer.runner.ports import CampaignPlan, EndedAttempt, NewAttempt


@dataclass
class MemoryLead:
    lead: ClaimedLead
    status: str = "pending"
    claimed_by: str | None = None


@dataclass
class MemoryCampaignStore:
    """`CampaignStore` over dicts; leads are due in insertion order, windows always open."""

    plans: dict[int, CampaignPlan] = field(default_factory=dict)
    leads: dict[int, dict[int, MemoryLead]] = field(default_factory=dict)
    attempts: dict[str, tuple[int, NewAttempt, str | None]] = field(default_factory=dict)
    ended: list[tuple[int, EndedAttempt]] = field(default_factory=list)

    def add_lead(self, campaign_id: int, lead_id: int, phone_e164: str) -> None:
        lead = ClaimedLead(lead_id, phone_e164, 0, 0, datetime(2026, 1, 1, tzinfo=UTC), "", "", {})
        self.leads.setdefault(campaign_id, {})[lead_id] = MemoryLead(lead)

    def plan(self, campaign_id: int) -> CampaignPlan | None:
        return self.plans.get(campaign_id)

    def _pending(self, campaign_id: int) -> list[MemoryLead]:
        return [m for m in self.leads.get(campaign_id, {}).values() if m.status == "pending"]

    def count_due(self, campaign_id: int, now: datetime, cap: int) -> int:
        return min(cap, len(self._pending(campaign_id)))

    def claim(self, campaign_id: int, limit: int, now: datetime, claimer: str) -> list[ClaimedLead]:
        chosen = self._pending(campaign_id)[: max(0, limit)]
        for m in chosen:
            m.status, m.claimed_by = "dialing", claimer
        return [m.lead for m in chosen]

    def start_attempts(self, attempts: Sequence[NewAttempt], now: datetime) -> list[int]:
        ids = []
        for a in attempts:
            attempt_id = len(self.attempts) + 1
            self.attempts[a.call_uuid] = (attempt_id, a, None)
            ids.append(attempt_id)
        return ids

    def _lead(self, lead_id: int) -> MemoryLead | None:
        for leads in self.leads.values():
            if lead_id in leads:
                return leads[lead_id]
        return None

    def unclaim(self, lead_ids: Sequence[int], claimer: str) -> None:
        for lead_id in lead_ids:
            m = self._lead(lead_id)
            if m is not None and m.status == "dialing" and m.claimed_by == claimer:
                m.status, m.claimed_by = "pending", None

    def cancel_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        for call_uuid in call_uuids:
            attempt_id, row, _ = self.attempts[call_uuid]
            self.attempts[call_uuid] = (attempt_id, row, "not_dialled")
            self.unclaim([row.lead_id], claimer)

    def release_orphans(self, campaign_id: int, claimed_before: datetime, keep: str) -> int:
        open_leads = {row.lead_id for _, row, outcome in self.attempts.values() if outcome is None}
        freed = 0
        for lead_id, m in self.leads.get(campaign_id, {}).items():
            if m.status == "dialing" and m.claimed_by != keep and lead_id not in open_leads:
                m.status, m.claimed_by = "pending", None
                freed += 1
        return freed

    def ended_since(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        rows = [e for c, e in self.ended if c == campaign_id and e.ended_at >= since]
        return sorted(rows, key=lambda e: e.ended_at)[:limit]

    def budget_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        rows = [e for c, e in self.ended if c == campaign_id and e.originated_at >= since]
        answered = sum(e.answered_at is not None and e.outcome != "answering_machine" for e in rows)
        return answered, sum(e.abandoned for e in rows)

    def dialing(self) -> set[int]:
        return {
            lead_id
            for leads in self.leads.values()
            for lead_id, m in leads.items()
            if m.status == "dialing"
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
    """`Switch` that records originates; ``down`` nodes are not offered, ``refusing`` ones
    are offered but refuse at once (the connection dropped between the two)."""

    node_names: list[str] = field(default_factory=lambda: ["fs1"])
    down: set[str] = field(default_factory=set)
    refusing: set[str] = field(default_factory=set)
    sent: list[tuple[str, str]] = field(default_factory=list)

    def nodes(self) -> list[str]:
        return [n for n in self.node_names if n not in self.down]

    def originate(self, node: str, args: str) -> bool:
        if node in self.down or node in self.refusing:
            return False
        self.sent.append((node, args))
        return True
