"""One campaign's tick: snapshot -> pacing decision -> claim -> route + reserve -> originate.

Invariants:

* every claimed lead is either dialled (an attempt row exists and the originate left) or
  leaves ``dialing`` in the same tick: back to ``pending`` (untouched, or due again later when
  no trunk can reach it), or ``failed`` when its data cannot be put in an originate; a lead is
  ``dialing`` only while one call of it is up;
* an attempt row is written only while the lead is still ``dialing`` under this tick's claim
  (checked under a lock in the database), and only written attempts are originated;
* nothing is originated unless the lease was current after the attempt rows were written;
  a tick that finds its lease gone cancels its rows, frees its reservations and stops;
* claims are stamped ``owner#token`` (the lease's fencing token), so a row always says which
  grant of the lease produced it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from campaigns.domain import ClaimedLead
from dialer.agent_state import AgentState
from dialer.calls.machine import CallState
from dialer.clock import Clock, IdSource
from dialer.esl.originate import Recording, UnsafeValue, build_originate, spec_for
from dialer.metrics import DIAL_LEVEL, ORIGINATES, TICK_SECONDS, TRUNK_LINES
from dialer.nodes.placement import NodesSnapshot, room
from dialer.nodes.service import NodePlacer
from dialer.pacing import (
    AbandonBudget,
    AgentPhase,
    Limits,
    Outcome,
    Pacer,
    Snapshot,
    pacer_state,
)
from dialer.routing.claim import claim
from dialer.routing.lines import LineRebuilder
from dialer.routing.model import UsageSnapshot
from dialer.routing.ports import CapacityReservations, TrunkHealthStore
from dialer.routing.router import Candidate, RouterState, free_lines, route
from dialer.routing.table import RoutingTable
from dialer.runner.carry import Carried
from dialer.runner.feed import OutcomeFeed
from dialer.runner.live import dial_level
from dialer.runner.ports import (
    CampaignPlan,
    CampaignStore,
    Lease,
    LeaseStore,
    LiveView,
    NewAttempt,
    Originator,
    PacerStateStore,
)
from dialer.runner.snapshot import InFlight, agent_views

log = logging.getLogger(__name__)

# Limits.trunk_free_lines when a trunk of the campaign has no concurrency limit.
_UNLIMITED = 1_000_000


@dataclass(frozen=True, slots=True)
class TickConfig:
    """``lease_ttl_ms`` must exceed the longest tick; a trunk slot lives ``slot_lease_s``
    unless the listener frees it at hangup (a crashed listener's slots free themselves); a
    lead no trunk can reach is due again after ``unroutable_retry_s``."""

    lease_ttl_ms: int = 5_000
    slot_lease_s: float = 3_600.0
    failover_depth: int = 3
    warm_up_outcomes: int = 500
    unroutable_retry_s: float = 3_600.0
    pacer_state_ttl_s: int = 7 * 86_400


@dataclass
class TickDeps:
    """What a tick works with; ``clock`` gives its time, ``ids`` the call UUIDs it originates."""

    store: CampaignStore
    live: LiveView
    switch: Originator
    leases: LeaseStore
    reservations: CapacityReservations
    table: RoutingTable
    clock: Clock
    ids: IdSource
    config: TickConfig = field(default_factory=TickConfig)
    # Trunk health as the listeners record it; None: every trunk counts as healthy.
    health: TrunkHealthStore | None = None
    # Rebuilds the lines in use of trunks whose reservations were lost (a restarted Redis)
    # before the tick routes; None: nobody here rebuilds, pending trunks stay full.
    lines: LineRebuilder | None = None
    # Where a slice hands its pacer's state to the next; None: every slice relearns.
    pacer_states: PacerStateStore | None = None
    # Places each call on the node with the most headroom (`dialer.nodes`); None: the
    # connected nodes in turn.
    placer: NodePlacer | None = None
    # What the originate of a recording campaign's call sets; None: nothing is recorded.
    recording: Recording | None = None


@dataclass
class TickStats:
    """Counts of claimed leads by fate: ``launched``; ``unroutable`` (no trunk free now, back
    to pending), ``parked`` (no trunk reaches the number), ``fenced`` (the claim was no longer
    this tick's when its row was to be written), ``cancelled`` (row written, originate never
    left), ``unsafe`` (data that no originate can carry: lead failed)."""

    ticks: int = 0
    launched: int = 0
    unroutable: int = 0
    parked: int = 0
    fenced: int = 0
    cancelled: int = 0
    unsafe: int = 0
    decided: int = 0
    refusals: dict[str, int] = field(default_factory=dict)

    def refused(self, reason: str) -> None:
        self.refusals[reason] = self.refusals.get(reason, 0) + 1


@dataclass(frozen=True, slots=True)
class _Routed:
    lead: ClaimedLead
    call_uuid: str
    candidate: Candidate
    node: str


@dataclass
class _Unrouted:
    """Claimed leads without a reserved trunk: ``busy`` ones only for now (capacity, hours,
    health, caps), ``unreachable`` ones by no trunk of the campaign under the current table."""

    busy: list[int] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)


class _Sent(StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # the node's connection dropped: it surely never left
    UNSAFE = "unsafe"  # the lead's data cannot be put in an originate


class CampaignTicker:
    """Ticks one campaign under ``lease``; ``tick()`` returns False when pacing must stop.

    ``carried`` is what the previous slice handed on (`dialer.runner.carry`), its pacer
    already restored in ``pacer``: the outcome feed (`dialer.runner.feed`) goes on where it
    stood. Without it the pacer relearns from the newest ``warm_up_outcomes`` outcomes of the
    last hour.
    """

    def __init__(
        self, lease: Lease, pacer: Pacer, deps: TickDeps, carried: Carried | None = None
    ) -> None:
        self.lease = lease
        self.pacer = pacer
        self.deps = deps
        self.stats = TickStats()
        self.in_flight = InFlight()
        self._claimer = f"{lease.owner}#{lease.token}"
        self._router_state = RouterState()
        self._node_cursor = 0
        self._nodes: NodesSnapshot | None = None
        self.feed = OutcomeFeed(deps.store, lease.campaign_id, self.in_flight)
        plan = deps.store.plan(lease.campaign_id)
        window_s = plan.abandon_window_s if plan else 30 * 86_400.0
        agents = deps.live.agents()
        now = deps.clock.now()
        self._learn(self.feed.start(now, window_s, agents, carried, deps.config.warm_up_outcomes))

    def carried(self) -> Carried:
        """What the next slice needs to go on where this one stands."""
        return self.feed.carried(pacer_state(self.pacer))

    def _learn(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self.pacer.observe(outcome)

    def tick(self) -> bool:
        with TICK_SECONDS.labels(str(self.lease.campaign_id)).time():
            return self._tick()

    def _tick(self) -> bool:
        deps = self.deps
        self.stats.ticks += 1
        if not deps.leases.renew(self.lease, deps.config.lease_ttl_ms):
            return False
        plan = deps.store.plan(self.lease.campaign_id)
        if plan is None or not plan.running:
            return False
        now = deps.clock.now()
        agents = deps.live.agents()
        live_calls = deps.live.calls(plan.campaign_id)
        self._learn(self.feed.observe(agents, live_calls))
        nodes = deps.switch.nodes()
        usage = self._usage()
        snapshot = self._snapshot(plan, now, agents, live_calls, usage, bool(nodes))
        launch = self.pacer.decide(snapshot).launch
        self.stats.decided += launch
        _measure(plan.campaign_id, snapshot, len(live_calls) + launch, usage)
        if launch <= 0 or not nodes:
            return True
        launch = self._node_room(nodes, launch)
        if launch <= 0:
            return True
        leads = deps.store.claim(plan.campaign_id, launch, now, self._claimer)
        routed, unroutable = self._route(plan, leads, nodes, now, usage)
        return self._launch(plan, routed, unroutable, now)

    def _snapshot(
        self,
        plan: CampaignPlan,
        now: datetime,
        agents: list[AgentState],
        live_calls: list[CallState],
        usage: UsageSnapshot,
        dialing_allowed: bool,
    ) -> Snapshot:
        deps = self.deps
        live = {c.call_uuid: c for c in live_calls}
        views = agent_views(agents, plan.queue, now.timestamp())
        free = free_lines(plan.routing, now, deps.table, usage)
        trunk_free = _UNLIMITED if free is None else free
        # Due leads only bound the launch: counting past the most lines the pacer may
        # open this tick would scan a large campaign's backlog for nothing.
        staffed = sum(1 for a in views if a.phase is not AgentPhase.AWAY)
        most = min(trunk_free, math.floor(plan.max_lines_per_agent * staffed + 1e-9))
        limits = Limits(
            max_lines_per_agent=plan.max_lines_per_agent,
            trunk_free_lines=trunk_free,
            leads_due=deps.store.count_due(plan.campaign_id, now, most) if most > 0 else 0,
            dialing_allowed=dialing_allowed,
        )
        budget = AbandonBudget(
            target=plan.abandon_target,
            window_s=plan.abandon_window_s,
            answered_in_window=self.feed.answered,
            abandoned_in_window=self.feed.abandoned,
        )
        return Snapshot(
            agents=views,
            calls=self.in_flight.views(live, now.timestamp()),
            limits=limits,
            budget=budget,
            no_answer_timeout_s=float(plan.ring_timeout_s),
        )

    def _usage(self) -> UsageSnapshot:
        """Lines in use and health of the table's trunks, read once per tick: the snapshot's
        free lines and the routing see the same state (Redis still decides each claim)."""
        deps = self.deps
        names = [t.name for t in deps.table.trunks]
        if deps.lines is not None:
            pending = set(deps.lines.ensure(names))
        else:
            pending = set(deps.reservations.pending_rebuild(names))
        health = {} if deps.health is None else deps.health.snapshot(names)
        trunks = deps.reservations.usage(names)
        for t in deps.table.trunks:
            if t.name in pending:  # refuses every reservation until rebuilt: full
                seen = trunks[t.name]
                trunks[t.name] = replace(seen, in_flight=max(seen.in_flight, t.max_concurrency))
        return UsageSnapshot(trunks=trunks, health=health)

    def _route(
        self,
        plan: CampaignPlan,
        leads: list[ClaimedLead],
        nodes: list[str],
        now: datetime,
        usage: UsageSnapshot,
    ) -> tuple[list[_Routed], _Unrouted]:
        deps = self.deps
        routed: list[_Routed] = []
        unrouted = _Unrouted()
        for lead in leads:
            decision = route(
                lead.phone_e164,
                plan.routing,
                now,
                deps.table,
                usage,
                self._router_state,
                deps.config.failover_depth,
            )
            self._router_state = decision.state
            call_uuid = deps.ids.new_id()
            got = claim(
                decision,
                deps.table.by_name,
                deps.reservations,
                call_uuid,
                now,
                deps.config.slot_lease_s,
                health=deps.health,
            )
            if got.candidate is None:
                for _, refusal in got.refused:
                    self.stats.refused(refusal.value)
                for excluded in decision.exclusions if not got.refused else ():
                    self.stats.refused(excluded.reason)
                aside = unrouted.unreachable if decision.unreachable() else unrouted.busy
                aside.append(lead.id)
                continue
            node = self._node_for(got.candidate.trunk, nodes)
            if node is None:  # every node full, draining or at its sps: the lead waits
                self._release([_Routed(lead, call_uuid, got.candidate, "")])
                self.stats.refused("node")
                unrouted.busy.append(lead.id)
                continue
            routed.append(_Routed(lead, call_uuid, got.candidate, node))
        return routed, unrouted

    def _node_room(self, nodes: list[str], launch: int) -> int:
        """``launch`` bounded by the calls the nodes take now (`dialer.nodes.placement.room`),
        so that no lead is claimed only to go back; the nodes' snapshot is kept for
        `_node_for`."""
        placer = self.deps.placer
        self._nodes = None if placer is None else placer.snapshot(nodes)
        most = None if self._nodes is None else room(self._nodes)
        return launch if most is None else min(launch, most)

    def _node_for(self, trunk: str, nodes: list[str]) -> str | None:
        """The node of one call over ``trunk``: placed by load (`dialer.nodes`), the tick's
        calls counted in one snapshot of the nodes; without a placer, the nodes in turn."""
        placer = self.deps.placer
        if placer is None:
            node = nodes[self._node_cursor % len(nodes)]
            self._node_cursor += 1
            return node
        if self._nodes is None:
            self._nodes = placer.snapshot(nodes)
        placed, self._nodes = placer.place(self._nodes, trunk)
        return placed

    def _set_aside(self, unrouted: _Unrouted, now: datetime) -> None:
        store = self.deps.store
        if unrouted.busy:
            store.unclaim(unrouted.busy, self._claimer)
            self.stats.unroutable += len(unrouted.busy)
        if unrouted.unreachable:
            # Returned untouched they would be claimed first again on every tick, in place
            # of leads that can be dialled.
            until = now + timedelta(seconds=self.deps.config.unroutable_retry_s)
            store.park(unrouted.unreachable, self._claimer, until)
            self.stats.parked += len(unrouted.unreachable)

    def _launch(
        self, plan: CampaignPlan, routed: list[_Routed], unrouted: _Unrouted, now: datetime
    ) -> bool:
        deps = self.deps
        self._set_aside(unrouted, now)
        if not routed:
            return True
        rows = [
            NewAttempt(
                r.call_uuid,
                r.lead.id,
                plan.campaign_id,
                r.lead.attempts + 1,
                r.node,
                r.candidate.trunk,
                r.candidate.caller_id,
                r.lead.phone_e164,
            )
            for r in routed
        ]
        attempt_ids = deps.store.start_attempts(rows, self._claimer, now)
        written = [r for r in routed if r.call_uuid in attempt_ids]
        fenced = [r for r in routed if r.call_uuid not in attempt_ids]
        if fenced:
            # Someone else holds these leads now: no row, no call, nothing of theirs to undo.
            self._release(fenced)
            self.stats.fenced += len(fenced)
        try:
            current = deps.leases.is_current(self.lease)
        except Exception:
            # nothing was sent: the rows go back now rather than wait for the listener to
            # give up on calls nobody placed
            self._cancel_unsent(written, now)
            raise
        if not current:
            self._cancel(written, now)
            return False
        refused: list[_Routed] = []
        unsafe: list[_Routed] = []
        for r in written:
            sent = self._originate(plan, r, attempt_ids[r.call_uuid], now)
            if sent is _Sent.SENT:
                ORIGINATES.labels(str(plan.campaign_id), r.candidate.trunk).inc()
                self.in_flight.launch(r.call_uuid, now.timestamp())
                self.stats.launched += 1
            else:
                (unsafe if sent is _Sent.UNSAFE else refused).append(r)
        self._cancel(refused, now)
        self._fail(unsafe, now)
        return True

    def _originate(self, plan: CampaignPlan, r: _Routed, attempt_id: int, now: datetime) -> _Sent:
        try:
            spec = spec_for(
                r.lead,
                r.candidate,
                plan.campaign_id,
                call_uuid=r.call_uuid,
                attempt_id=attempt_id,
                extension=plan.extension,
                context=plan.context,
                ring_timeout_s=plan.ring_timeout_s,
                recording=self.deps.recording if plan.record else None,
            )
            args = build_originate(spec, now)
        except UnsafeValue as exc:
            log.warning("lead %s of campaign %s not dialled: %s", r.lead.id, plan.campaign_id, exc)
            return _Sent.UNSAFE
        return _Sent.SENT if self.deps.switch.originate(r.node, args) else _Sent.REFUSED

    def _release(self, routed: list[_Routed]) -> None:
        health = self.deps.health
        for r in routed:
            self.deps.reservations.release(r.candidate.trunk, r.call_uuid)
            if r.candidate.probe and health is not None:
                # a trial that was never placed says nothing: another may go at once
                health.record(
                    r.candidate.trunk, None, self.deps.clock.now().timestamp(), r.call_uuid
                )

    def _cancel(self, routed: list[_Routed], now: datetime) -> None:
        if not routed:
            return
        self._release(routed)
        self.deps.store.cancel_attempts([r.call_uuid for r in routed], self._claimer, now)
        self.stats.cancelled += len(routed)

    def _cancel_unsent(self, routed: list[_Routed], now: datetime) -> None:
        """`_cancel` when the backend of the reservations may be away: the rows are cancelled
        in the database; a line that cannot be freed now is rebuilt or lapses with its slot
        lease (`TickConfig.slot_lease_s`)."""
        if not routed:
            return
        self.deps.store.cancel_attempts([r.call_uuid for r in routed], self._claimer, now)
        self.stats.cancelled += len(routed)
        try:
            self._release(routed)
        except Exception as exc:
            log.warning(
                "campaign %s: lines of unsent calls not freed: %s", self.lease.campaign_id, exc
            )

    def _fail(self, routed: list[_Routed], now: datetime) -> None:
        """Leads whose originate can never be built end ``failed``: retrying cannot help."""
        if not routed:
            return
        self._release(routed)
        self.deps.store.fail_attempts([r.call_uuid for r in routed], self._claimer, now)
        self.stats.unsafe += len(routed)


def _measure(campaign_id: int, snapshot: Snapshot, lines: int, usage: UsageSnapshot) -> None:
    """The tick's figures for /metrics: dial level (``lines``, the calls up and launched, per
    staffed agent: `dialer.runner.live.dial_level`) and each trunk's lines in use as read."""
    staffed = sum(1 for a in snapshot.agents if a.phase is not AgentPhase.AWAY)
    DIAL_LEVEL.labels(str(campaign_id)).set(dial_level(lines, staffed))
    for trunk, used in usage.trunks.items():
        TRUNK_LINES.labels(trunk).set(used.in_flight)
