"""Seams of the runner: the campaign's database rows, the live switch state, the switch, the
campaign leases.

Each `Protocol` has an in-memory fake in `dialer.runner.fakes` and a real adapter in
`dialer.runner.adapters`: SQL for the database, the listener's `LiveState` for the live state,
one `EslConnection` per node for the switch and for what the switch has loaded (`SwitchProbe`,
read before a campaign starts), Redis for the leases.

Campaign leases: at most one pacer paces a campaign, and a late one can prove nothing. A lease
names its holder and carries a fencing token that grows with every grant, so an action stamped
with a token from a lapsed lease is recognizably stale (``is_current``). Leases expire by
themselves: a dead worker's campaigns are free again after ``ttl_ms``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from campaigns.domain import ClaimedLead
from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.pacing import Mode
from dialer.routing.model import CampaignRouting

# CallAttempt.hangup_cause of an attempt (outcome `campaigns.domain.NOT_DIALLED`) whose
# originate was not sent (lease lost, node refused at once).
NOT_SENT_CAUSE = "NOT_SENT"
# Lead.last_outcome and CallAttempt.hangup_cause of a lead whose data cannot be carried in an
# originate (`dialer.esl.originate.UnsafeValue`): the lead is final, ``failed``.
UNSAFE_VALUE = "unsafe_value"
UNSAFE_VALUE_CAUSE = "UNSAFE_VALUE"
# Lead.last_outcome of a lead that no trunk of its campaign can reach (it waits, ``pending``).
UNROUTABLE = "unroutable"


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """What a tick needs of a campaign, read once per slice.

    ``running`` False stops the pacing; ``extension``/``context`` name the campaign's dialplan
    entry (answered call -> its mod_callcenter ``queue``, whose tiered agents are the ones the
    pacer counts); ``abandon_window_s`` is the legal window.
    """

    campaign_id: int
    name: str
    running: bool
    mode: Mode
    extension: str
    context: str
    queue: str = ""
    routing: CampaignRouting = field(default_factory=CampaignRouting)
    abandon_target: float = 0.03
    abandon_window_s: float = 30 * 86_400.0
    ring_timeout_s: int = 30
    max_lines_per_agent: float = 4.0
    record: bool = False
    """Record each answered call (`TickDeps.recording` says how)."""


@dataclass(frozen=True, slots=True)
class NewAttempt:
    """The CallAttempt row written before the originate leaves (``attempt_no`` counts from 1)."""

    call_uuid: str
    lead_id: int
    campaign_id: int
    attempt_no: int
    node: str
    trunk: str
    caller_id: str | None
    dialed_number: str


@dataclass(frozen=True, slots=True)
class EndedAttempt:
    """A finished CallAttempt as the listener recorded it (aware UTC times)."""

    attempt_id: int
    outcome: str
    abandoned: bool
    originated_at: datetime
    ended_at: datetime
    answered_at: datetime | None = None
    connected_at: datetime | None = None
    agent: str | None = None
    call_uuid: str = ""


class CampaignStore(Protocol):
    """The campaign's rows. Claims and attempt rows commit before the call's originate."""

    def plan(self, campaign_id: int) -> CampaignPlan | None: ...

    def count_due(self, campaign_id: int, now: datetime, cap: int) -> int:
        """Due leads inside their calling window, counted up to ``cap``."""
        ...

    def claim(self, campaign_id: int, limit: int, now: datetime, claimer: str) -> list[ClaimedLead]:
        """Up to ``limit`` due leads inside their calling window, turned ``dialing``."""
        ...

    def start_attempts(
        self, attempts: Sequence[NewAttempt], claimer: str, now: datetime
    ) -> dict[str, int]:
        """Write the rows of the leads ``claimer`` still holds (``dialing``, ``claimed_by ==
        claimer``, checked under a lock on the lead rows); call uuid -> attempt id of each row
        written. An attempt missing from the result was fenced off: its lead was released or
        claimed by someone else, it has no row and must not be originated."""
        ...

    def unclaim(self, lead_ids: Sequence[int], claimer: str) -> None:
        """Leads ``claimer`` holds that were not dialled go back to ``pending`` untouched."""
        ...

    def cancel_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        """Attempts whose originate never left: outcome ``not_dialled``, lead back pending."""
        ...

    def fail_attempts(self, call_uuids: Sequence[str], claimer: str, now: datetime) -> None:
        """Attempts whose originate can never be built from their lead's data: outcome
        ``not_dialled``, hangup cause ``UNSAFE_VALUE``; the lead, if ``claimer`` holds it,
        ends ``failed`` with last outcome ``unsafe_value`` (its attempt count unchanged)."""
        ...

    def park(self, lead_ids: Sequence[int], claimer: str, until: datetime) -> None:
        """Leads ``claimer`` holds that no trunk can reach go back to ``pending``, due again at
        ``until``, last outcome ``unroutable`` (their attempt count unchanged)."""
        ...

    def release_orphans(self, campaign_id: int, claimed_before: datetime, keep: str) -> int:
        """Leads left ``dialing`` by a dead pacer (claimed before ``claimed_before`` by anyone
        but ``keep``, with no attempt in flight) go back to ``pending``; how many."""
        ...

    def ended_since(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        """Attempts that ended at or after ``since``, oldest end first."""
        ...

    def latest_ended(self, campaign_id: int, since: datetime, limit: int) -> list[EndedAttempt]:
        """The ``limit`` attempts that ended last, at or after ``since``, oldest end first
        (what a pacer relearns from: the newest outcomes, never the oldest)."""
        ...

    def budget_counts(self, campaign_id: int, since: datetime) -> tuple[int, int]:
        """(answered by a person, abandoned) among attempts originated since ``since``."""
        ...


class LiveView(Protocol):
    """The listener's picture of the switches (agents of mod_callcenter, calls in flight)."""

    def agents(self) -> list[AgentState]: ...

    def calls(self, campaign_id: int) -> list[CallState]: ...


class Originator(Protocol):
    """The switch nodes this worker can originate on."""

    def nodes(self) -> list[str]:
        """Connected nodes, in a stable order."""
        ...

    def originate(self, node: str, args: str) -> bool:
        """Send ``bgapi originate <args>``; False when it surely never left (node down)."""
        ...


@dataclass(frozen=True, slots=True)
class Lease:
    campaign_id: int
    owner: str
    token: int


class LeaseStore(Protocol):
    def acquire(self, campaign_id: int, owner: str, ttl_ms: int) -> Lease | None:
        """A new lease with a token above every earlier one, or None while another holds it."""

    def renew(self, lease: Lease, ttl_ms: int) -> bool:
        """Extend ``lease``; False when it lapsed or another lease replaced it."""

    def release(self, lease: Lease) -> bool:
        """Give ``lease`` up if it is still the current one."""

    def is_current(self, lease: Lease) -> bool: ...

    def holder(self, campaign_id: int) -> Lease | None: ...


class PacerStateStore(Protocol):
    """What a campaign's pacer has learnt, kept between slices and across workers.

    ``state`` is JSON-able data (`dialer.runner.carry`). A save is fenced by the lease: it is
    stored only while ``lease`` is the campaign's current lease and no state saved under a
    higher token exists, so a worker whose lease lapsed cannot overwrite what its successor
    saved. States expire by themselves after ``ttl_s`` unsaved.
    """

    def save(self, lease: Lease, state: Mapping[str, Any], ttl_s: int) -> bool:
        """Store ``state`` for ``lease``'s campaign; False when fenced off (nothing written)."""
        ...

    def load(self, campaign_id: int) -> Mapping[str, Any] | None:
        """The last state saved for the campaign, None if none (or it is not readable)."""
        ...


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """What a campaign needs of every node: its mod_callcenter ``queue``, its dialplan
    ``context`` and the ``gateways`` (trunk names) it may dial through."""

    queue: str
    context: str
    gateways: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TieredAgent:
    """An agent with a tier in the probed queue, and its mod_callcenter status."""

    name: str
    status: str


@dataclass(frozen=True, slots=True)
class NodeReadiness:
    """What one node has loaded for a `ProbeRequest`.

    ``unreachable`` says why the node could not be asked (the rest is then empty);
    ``queues`` are the queue names mod_callcenter has loaded; ``context_loaded`` whether the
    dialplan context exists, ``extensions`` its extensions -> the queues their ``callcenter``
    steps enter; ``gateways`` each requested gateway -> its sofia ``Status`` (``UP``,
    ``DOWN``), None when the node has no such gateway; ``tiered_agents`` the agents with a
    tier in the requested queue.
    """

    node: str
    unreachable: str | None = None
    queues: frozenset[str] = frozenset()
    context_loaded: bool = False
    extensions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    gateways: Mapping[str, str | None] = field(default_factory=dict)
    tiered_agents: tuple[TieredAgent, ...] = ()


class SwitchProbe(Protocol):
    """Asks every configured node what it has loaded; never raises for a node that is down
    (its `NodeReadiness` says why instead)."""

    def observe(self, request: ProbeRequest) -> list[NodeReadiness]:
        """One `NodeReadiness` per configured node, in the configured order."""
        ...
