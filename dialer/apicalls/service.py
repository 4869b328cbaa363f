"""API calls: click-to-call now, callbacks later; the logic behind ``/v1/calls`` and
``/v1/callbacks``. I/O only through `dialer.apicalls.ports`, `dialer.routing.ports` and the
pacer's `Originator`.

Every call is agent-first (`dialer.esl.originate.build_agent_first`): the agent's phone rings
first and the customer is dialled only once the agent answered, so an API call is never
abandoned. The customer leg is routed and reserved exactly as a campaign call's
(`dialer.routing.router.route`, `dialer.routing.claim.claim`: caller ID, callee prefix,
concurrency, CPS, blind areas, per-number and caller-ID caps, trunk health), among the
trunks the request names or else the campaign's trunk group (every trunk without one).

Invariants:

* a refused request writes nothing and holds no line (`CallRefused` says why and names the
  field);
* with an ``Idempotency-Key``, one call per (API key, Idempotency-Key): a retry gets the
  call of the first request and dials nothing (a unique constraint decides, also between
  concurrent requests); the same key with another request is refused;
* a line is reserved under the call's uuid before its row is written, and freed whenever
  the originate does not leave.

Callbacks are in `dialer.apicalls.callbacks`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from campaigns.numbers import Invalid, Normalized, normalize
from dialer.apicalls.holds import release_agent
from dialer.apicalls.ports import (
    AgentFacts,
    AgentHolds,
    ApiCall,
    ApiCallStore,
    CallKind,
    CallStatus,
    CampaignFacts,
    Directory,
    NewApiCall,
)
from dialer.clock import Clock, IdSource
from dialer.esl.originate import AgentFirstSpec, Recording, UnsafeValue, build_agent_first
from dialer.nodes.placement import NodesSnapshot
from dialer.nodes.service import NodePlacer
from dialer.routing.claim import claim
from dialer.routing.lines import LineRebuilder
from dialer.routing.model import CampaignRouting, UsageSnapshot
from dialer.routing.ports import CapacityReservations, TrunkHealthStore
from dialer.routing.router import Candidate, RouteDecision, RouterState, route
from dialer.routing.table import RoutingTable
from dialer.runner.ports import LiveView, Originator

log = logging.getLogger(__name__)

MAX_EXT_BYTES = 4096
"""The largest ``ext`` accepted, as compact JSON in UTF-8."""


class CallRefused(Exception):
    """A request that cannot be placed: HTTP ``status``, why, and the request ``field``."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


@dataclass(frozen=True, slots=True)
class CallRequest:
    """``POST /v1/calls``: ring ``agent``, then dial ``number`` (read in the campaign's
    region, else DIALER_DEFAULT_REGION), through one of ``trunks`` if any are named."""

    number: str
    agent: str
    campaign: str | None = None
    trunks: tuple[str, ...] = ()
    ext: Any = None


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """``POST /v1/callbacks``: call ``number`` back at ``at`` (None: now) for ``agent`` (then
    only that agent takes it) or for ``campaign``'s queue (any free agent of it)."""

    number: str
    at: datetime | None = None
    campaign: str | None = None
    agent: str | None = None
    trunks: tuple[str, ...] = ()
    ext: Any = None


@dataclass
class CallDeps:
    """What placing a call works with. ``live`` (the listener's agents) decides which agents
    are free for callbacks; ``router`` keeps the weighted round-robin between calls. Shared
    by the API's request threads: what they race on (router scores, node cursor, the usage
    snapshot) only ranks trunks and spreads nodes; limits are decided in Redis."""

    store: ApiCallStore
    directory: Directory
    switch: Originator
    reservations: CapacityReservations
    clock: Clock
    ids: IdSource
    health: TrunkHealthStore | None = None
    live: LiveView | None = None
    slot_lease_s: float = 3_600.0
    failover_depth: int = 3
    agent_ring_s: int = 20
    # a number without +country and without a campaign is read in it (DIALER_DEFAULT_REGION)
    default_region: str = "CN"
    router: RouterState = field(default_factory=RouterState)
    # rebuilds the lines in use of trunks whose reservations Redis lost (as the pacer does),
    # so that API calls go out when no pacer runs; None: pending trunks stay full
    lines: LineRebuilder | None = None
    usage_ttl_s: float = 0.25
    usage_cache: tuple[float, tuple[str, ...], UsageSnapshot] | None = None
    usage_lock: threading.Lock = field(default_factory=threading.Lock)
    # keeps an agent on an API call from mod_callcenter's queue calls; None: not kept
    holds: AgentHolds | None = None
    # places each call on the node with the most headroom (`dialer.nodes`); None: in turn
    placer: NodePlacer | None = None
    # what the originate of a call for a recording campaign sets; None: nothing is recorded
    recording: Recording | None = None
    nodes_cache: tuple[float, tuple[str, ...], NodesSnapshot] | None = None
    _node_cursor: int = 0

    def next_node(self, trunk: str | None = None) -> str | None:
        """The node of one call over ``trunk``; None when no node takes it now."""
        nodes = self.switch.nodes()
        if not nodes:
            return None
        if self.placer is not None:
            return self._placed(tuple(nodes), trunk)
        self._node_cursor += 1
        return nodes[self._node_cursor % len(nodes)]

    def _placed(self, nodes: tuple[str, ...], trunk: str | None) -> str | None:
        """The placer's node, ranked on a snapshot read at most every ``usage_ttl_s`` (as
        the trunks' usage; each take is still decided in Redis); a snapshot in which no node
        takes the call is read again before the call is refused."""
        assert self.placer is not None
        now_s = self.clock.monotonic_s()
        cached = self.nodes_cache
        fresh = cached is not None and cached[1] == nodes and now_s - cached[0] < self.usage_ttl_s
        if cached is not None and fresh:
            node, after = self.placer.place(cached[2], trunk)
            if node is not None:
                self.nodes_cache = (cached[0], nodes, after)
                return node
        node, after = self.placer.place(self.placer.snapshot(nodes), trunk)
        self.nodes_cache = (now_s, nodes, after)
        return node


@dataclass(frozen=True, slots=True)
class Target:
    number: Normalized
    campaign: CampaignFacts | None
    table: RoutingTable
    routing: CampaignRouting


# --- checks ---------------------------------------------------------------------------------


def ext_checked(ext: Any) -> Any:
    """``ext`` unchanged, or `CallRefused` (413) when its JSON exceeds `MAX_EXT_BYTES`."""
    size = len(json.dumps(ext, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_EXT_BYTES:
        raise CallRefused(413, f"ext is {size} bytes of JSON, at most {MAX_EXT_BYTES}", "body.ext")
    return ext


def request_sha256(kind: CallKind, request: CallRequest | CallbackRequest) -> str:
    """What a retry must repeat to be the same request."""
    text = json.dumps([kind.value, asdict(request)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def campaign_of(directory: Directory, name: str | None) -> CampaignFacts | None:
    if name is None:
        return None
    found = directory.campaign(name)
    if found is None:
        raise CallRefused(422, f"no campaign named {name!r}", "body.campaign")
    return found


def agent_of(directory: Directory, name: str) -> AgentFacts:
    found = directory.agent(name)
    if found is None:
        raise CallRefused(422, f"no agent named {name!r}", "body.agent")
    return found


def target_of(
    deps: CallDeps, number: str, campaign_name: str | None, trunks: Sequence[str], now: datetime
) -> Target:
    """The number read and checked (valid, not DNC, reachable by some trunk) and the table
    and routing it is dialled with; `CallRefused` naming what is wrong."""
    directory = deps.directory
    campaign = campaign_of(directory, campaign_name)
    region = campaign.default_region if campaign else deps.default_region
    parsed = normalize(number, region)
    if isinstance(parsed, Invalid):
        raise CallRefused(422, f"{number!r} is not a phone number: {parsed.reason}", "body.number")
    if directory.dnc_listed(parsed.e164, campaign.id if campaign else None, now):
        raise CallRefused(422, f"{parsed.e164} is on the do-not-call list", "body.number")
    table = directory.routing_table()
    routing = campaign.routing if campaign else CampaignRouting()
    if trunks:
        unknown = [t for t in trunks if t not in table.by_name]
        if unknown:
            raise CallRefused(422, f"no trunk named {', '.join(unknown)}", "body.trunks")
        table = RoutingTable([table.by_name[t] for t in trunks], table.cost_band)
        routing = CampaignRouting(routing.name, None, routing.caller_id)
    decision = route(parsed.e164, routing, now, table, UsageSnapshot())
    if decision.unreachable():
        why = "; ".join(f"{e.trunk}: {e.reason}" for e in decision.exclusions) or "no trunk"
        raise CallRefused(422, f"no trunk can ever reach {parsed.e164} ({why})", "body.number")
    return Target(parsed, campaign, table, routing)


def _usage(deps: CallDeps, table: RoutingTable) -> UsageSnapshot:
    """Lines in use and health of the table's trunks, read at most every ``usage_ttl_s``
    (as a pacer reads them once per tick): they only rank the trunks; Redis still decides
    each reservation (`claim`)."""
    names = tuple(t.name for t in table.trunks)
    now_s = deps.clock.monotonic_s()
    cached = deps.usage_cache
    if cached is not None and cached[1] == names and now_s - cached[0] < deps.usage_ttl_s:
        return cached[2]
    # one request thread reads; the others rank with the snapshot they have meanwhile
    # (every request thread reading at the same moment cost more than the rest of a call)
    if not deps.usage_lock.acquire(blocking=cached is None or cached[1] != names):
        return cached[2] if cached is not None else UsageSnapshot()
    try:
        if deps.lines is not None:
            deps.lines.ensure(names)
        health = {} if deps.health is None else deps.health.snapshot(names)
        usage = UsageSnapshot(trunks=deps.reservations.usage(names), health=health)
        deps.usage_cache = (deps.clock.monotonic_s(), names, usage)
    finally:
        deps.usage_lock.release()
    return usage


def reserve_line(deps: CallDeps, target: Target, call_uuid: str, now: datetime) -> Candidate:
    """Route and reserve a line for the customer leg under ``call_uuid``; 503 when no trunk
    can take it now."""
    usage = _usage(deps, target.table)
    decision: RouteDecision = route(
        target.number.e164,
        target.routing,
        now,
        target.table,
        usage,
        deps.router,
        deps.failover_depth,
    )
    deps.router = decision.state
    got = claim(
        decision,
        target.table.by_name,
        deps.reservations,
        call_uuid,
        now,
        deps.slot_lease_s,
        health=deps.health,
    )
    if got.candidate is None:
        why = [f"{t}: {r.value}" for t, r in got.refused]
        why += [f"{e.trunk}: {e.reason}" for e in decision.exclusions]
        raise CallRefused(503, f"no trunk can take the call now ({'; '.join(why) or 'none'})")
    return got.candidate


def release_line(deps: CallDeps, trunk: str, call_uuid: str) -> None:
    deps.reservations.release(trunk, call_uuid)


def same_request(found: tuple[ApiCall, str], sha: str) -> ApiCall:
    call, first_sha = found
    if first_sha and first_sha != sha:
        raise CallRefused(
            422,
            "this Idempotency-Key was used for another request; use a new key",
            "header.Idempotency-Key",
        )
    return call


def earlier_call(
    deps: CallDeps, key_id: str, idempotency_key: str | None, sha: str, refused: CallRefused
) -> ApiCall:
    """The call of an earlier request with the same ``idempotency_key``; ``refused`` is
    raised when there is none.

    Asked only when a request is refused, not before every request: a new request pays no
    lookup, a retry gets its first call even if it would be refused now (its number since
    put on the DNC list, its trunks full). A retry that passes the checks reserves a line
    and frees it when the store finds the first call (`ApiCallStore.insert`)."""
    found = deps.store.by_idempotency_key(key_id, idempotency_key) if idempotency_key else None
    if found is None:
        raise refused
    return same_request(found, sha)


# --- click-to-call --------------------------------------------------------------------------


def place_call(
    deps: CallDeps, key_id: str, idempotency_key: str | None, request: CallRequest
) -> tuple[ApiCall, bool]:
    """Place a click-to-call: (the call, True), or (the first request's call, False) for a
    retry with the same ``idempotency_key``. Raises `CallRefused`."""
    sha = request_sha256(CallKind.CLICK_TO_CALL, request)
    now = deps.clock.now()
    call_uuid = deps.ids.new_id()
    try:
        ext_checked(request.ext)
        agent = agent_of(deps.directory, request.agent)
        target = target_of(deps, request.number, request.campaign, request.trunks, now)
        candidate = reserve_line(deps, target, call_uuid, now)
        node = deps.next_node(candidate.trunk)
        if node is None:
            release_line(deps, candidate.trunk, call_uuid)
            raise CallRefused(503, "no switch can take the call now (connected, not full)")
    except CallRefused as refused:
        return earlier_call(deps, key_id, idempotency_key, sha, refused), False
    new = NewApiCall(
        call_uuid=call_uuid,
        kind=CallKind.CLICK_TO_CALL,
        key_id=key_id,
        number=target.number.e164,
        status=CallStatus.DIALING,
        created_at=now,
        idempotency_key=idempotency_key,
        request_sha256=sha,
        agent=agent.name,
        campaign_id=target.campaign.id if target.campaign else None,
        campaign=target.campaign.name if target.campaign else None,
        trunks=request.trunks,
        ext=request.ext,
        trunk=candidate.trunk,
        caller_id=candidate.caller_id,
        node=node,
    )
    call, first_sha, created = deps.store.insert(new)
    if not created:  # an earlier request with the same key stored its call
        release_line(deps, candidate.trunk, call_uuid)
        return same_request((call, first_sha), sha), False
    originate_call(deps, call, agent, candidate, node)
    return call, True


def originate_call(
    deps: CallDeps, call: ApiCall, agent: AgentFacts, candidate: Candidate, node: str
) -> None:
    """Send the stored call's originate; on failure the call is ``failed``, its line freed,
    and `CallRefused` raised."""
    spec = AgentFirstSpec(
        call_uuid=call.call_uuid,
        agent_contact=agent.contact,
        agent_caller_id=call.number,
        dial_string=candidate.dial_string,
        caller_id=candidate.caller_id,
        call_id=call.id,
        agent_ring_timeout_s=deps.agent_ring_s,
        recording=_recording_of(deps, call),
    )
    try:
        args = build_agent_first(spec, deps.clock.now())
    except UnsafeValue as exc:
        fail_call(deps, call, candidate.trunk, f"cannot be dialled: {exc}")
        raise CallRefused(
            422, f"agent {agent.name!r} cannot be dialled: {exc}", "body.agent"
        ) from None
    if deps.holds is not None:  # before the agent's phone rings: no queue call meanwhile
        deps.holds.hold(agent.name)
    if not deps.switch.originate(node, args):
        fail_call(deps, call, candidate.trunk, f"switch {node} disconnected")
        release_agent(deps.store, deps.holds, agent.name)
        raise CallRefused(503, f"the switch {node} is not connected")


def _recording_of(deps: CallDeps, call: ApiCall) -> Recording | None:
    """The recording of a call placed for a campaign that records; None otherwise."""
    if deps.recording is None or call.campaign_id is None:
        return None
    campaign = deps.directory.campaign_by_id(call.campaign_id)
    return deps.recording if campaign is not None and campaign.record else None


def fail_call(deps: CallDeps, call: ApiCall, trunk: str, reason: str) -> None:
    release_line(deps, trunk, call.call_uuid)
    deps.store.fail(call.call_uuid, reason, deps.clock.now())


def get_call(store: ApiCallStore, call_uuid: str) -> ApiCall:
    """The call; `CallRefused` (404) when there is none."""
    call = store.get(call_uuid)
    if call is None:
        raise CallRefused(404, f"no call with uuid {call_uuid}")
    return call
