"""In-memory twins of the listener's seams (`dialer.listener.ports`), for unit tests; the
contract tests in ``tests/contracts/`` hold each to its real adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.domain import AttemptOutcome
from dialer.agent_state import AgentState
from dialer.calls.agent_first import AgentFirstEnd
from dialer.calls.machine import CallEnd, CallState
from dialer.calls.safety import SafetyFacts, SafetyLimits
from dialer.listener.ports import SafetyView, Unsettled


@dataclass
class MemoryLiveState:
    """In-memory `LiveState`."""

    _calls: dict[str, dict[str, CallState]] = field(default_factory=dict)
    _agents: dict[str, dict[str, AgentState]] = field(default_factory=dict)

    def put_call(self, node: str, state: CallState) -> None:
        self._calls.setdefault(node, {})[state.call_uuid] = state

    def drop_call(self, node: str, call_uuid: str) -> None:
        self._calls.get(node, {}).pop(call_uuid, None)

    def calls(self, node: str) -> dict[str, CallState]:
        return dict(self._calls.get(node, {}))

    def put_agent(self, node: str, agent: AgentState) -> None:
        self._agents.setdefault(node, {})[agent.name] = agent

    def drop_agent(self, node: str, name: str) -> None:
        self._agents.get(node, {}).pop(name, None)

    def agents(self, node: str) -> dict[str, AgentState]:
        return dict(self._agents.get(node, {}))


@dataclass
class MemoryAttempts:
    """In-memory `AttemptSink`; ``pending`` holds (node, originated at, attempt) rows,
    ``ended`` the (node, end) taken: the first end of each dialer call (one with campaign and
    lead ids), as the SQL sink records it; a replayed end is ignored, an unsettled one is
    replaced by the first definitive end after it."""

    ended: list[tuple[str, CallEnd]] = field(default_factory=list)
    pending: list[tuple[str, datetime, Unsettled]] = field(default_factory=list)

    def record(self, node: str, end: CallEnd) -> None:
        if end.lead_id is None or end.campaign_id is None:
            return
        taken = [i for i, (_, e) in enumerate(self.ended) if e.call_uuid == end.call_uuid]
        if taken:
            if end.unsettled or not self.ended[taken[0]][1].unsettled:
                return
            del self.ended[taken[0]]  # an unknown attempt settled at last (its CDR)
        self.ended.append((node, end))
        self.pending = [p for p in self.pending if p[2].call_uuid != end.call_uuid]

    def unsettled(self, node: str, originated_before: datetime) -> list[Unsettled]:
        return [u for n, at, u in self.pending if n == node and at < originated_before]


@dataclass
class MemoryApiCalls:
    """In-memory `ApiCallSink`: ``ended`` the (node, end) recorded, the first of each call."""

    ended: list[tuple[str, AgentFirstEnd]] = field(default_factory=list)

    def record_end(self, node: str, end: AgentFirstEnd) -> None:
        if all(e.call_uuid != end.call_uuid for _, e in self.ended):
            self.ended.append((node, end))


@dataclass
class MemoryTrunks:
    """In-memory `TrunkRelease`: ``held`` maps call uuid -> trunk."""

    held: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    def release(self, trunk: str, call_uuid: str) -> bool:
        self.released.append(call_uuid)
        return self.held.pop(call_uuid, None) == trunk


@dataclass(frozen=True, slots=True)
class SafetyCall:
    """A recorded call of a campaign as `MemorySafety` counts it."""

    campaign_id: int
    originated_at: datetime
    answered_by_person: bool
    abandoned: bool


@dataclass
class MemorySafetyCampaign:
    name: str
    limits: SafetyLimits
    running: bool = True
    pause_reason: str | None = None
    paused_at: datetime | None = None


@dataclass
class MemorySafety:
    """In-memory `SafetyStore`: ``campaigns`` by id; its calls are ``calls`` (in the order
    they were recorded) and, when ``attempts`` is given, the ends it took (originated at
    their answer time: the fake knows no origination times)."""

    campaigns: dict[int, MemorySafetyCampaign] = field(default_factory=dict)
    calls: list[SafetyCall] = field(default_factory=list)
    attempts: MemoryAttempts | None = None

    def _calls(self) -> list[SafetyCall]:
        taken = self.attempts.ended if self.attempts is not None else []
        ended = [
            SafetyCall(
                end.campaign_id,
                end.answered_at,
                end.outcome is not AttemptOutcome.ANSWERING_MACHINE,
                end.abandoned,
            )
            for _, end in taken
            if end.campaign_id is not None and end.answered_at is not None
        ]
        return self.calls + ended

    def safety_view(self, campaign_id: int, now: datetime) -> SafetyView | None:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or not campaign.running:
            return None
        since = now - timedelta(days=campaign.limits.window_days)
        mine = [c for c in self._calls() if c.campaign_id == campaign_id]
        window = [c for c in mine if c.originated_at >= since and c.answered_by_person]
        recent = [c.abandoned for c in reversed(mine) if c.answered_by_person]
        facts = SafetyFacts(
            len(window),
            sum(c.abandoned for c in window),
            tuple(recent[: campaign.limits.run_limit]),
        )
        return SafetyView(campaign.name, campaign.limits, facts)

    def pause(self, campaign_id: int, reason: str, at: datetime) -> bool:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or not campaign.running:
            return False
        campaign.running, campaign.pause_reason, campaign.paused_at = False, reason, at
        return True
