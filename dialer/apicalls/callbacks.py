"""Callbacks: stored for later (`schedule_callback`), dialled by beat's pass over the due ones
(`dispatch_callbacks`) as click-to-calls are (`dialer.apicalls.service`), agent first.

Invariants: a callback is dialled once, only inside its callee's calling hours, and only to
an agent the listener sees free (Available, Waiting) and on no other API call: the one it is
reserved for, or one of its campaign's queue; so it is never abandoned. One whose number
turned unreachable or DNC since is ``failed``; one no trunk can take now waits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.rules import CallingWindow
from dialer.agent_admin import STATE_WAITING, STATUS_AVAILABLE
from dialer.agent_state import AgentState
from dialer.apicalls.holds import release_agent_of
from dialer.apicalls.ports import (
    STALE_AFTER,
    AgentFacts,
    ApiCall,
    CallKind,
    CallStatus,
    CampaignFacts,
    NewApiCall,
    Placed,
)
from dialer.apicalls.service import (
    CallbackRequest,
    CallDeps,
    CallRefused,
    Target,
    agent_of,
    earlier_call,
    ext_checked,
    originate_call,
    release_line,
    request_sha256,
    reserve_line,
    same_request,
    target_of,
)

__all__ = ["DispatchStats", "dispatch_callbacks", "free_agents", "schedule_callback"]

log = logging.getLogger(__name__)


def _calling_window(campaign: CampaignFacts | None) -> CallingWindow:
    return campaign.window if campaign is not None else CallingWindow()


def schedule_callback(
    deps: CallDeps, key_id: str, idempotency_key: str | None, request: CallbackRequest
) -> tuple[ApiCall, bool]:
    """Store a callback (status ``scheduled``; `dispatch_callbacks` dials it): (the call,
    True), or the first request's call for a retry. Raises `CallRefused`: neither campaign
    nor agent, a time in the past or outside the callee's calling hours, and every refusal
    of a click-to-call."""
    sha = request_sha256(CallKind.CALLBACK, request)
    now = deps.clock.now()
    try:
        due, agent, target = _checked_callback(deps, request, now)
    except CallRefused as refused:
        return earlier_call(deps, key_id, idempotency_key, sha, refused), False
    new = NewApiCall(
        call_uuid=deps.ids.new_id(),
        kind=CallKind.CALLBACK,
        key_id=key_id,
        number=target.number.e164,
        status=CallStatus.SCHEDULED,
        created_at=now,
        idempotency_key=idempotency_key,
        request_sha256=sha,
        agent=agent.name if agent else None,
        campaign_id=target.campaign.id if target.campaign else None,
        campaign=target.campaign.name if target.campaign else None,
        trunks=request.trunks,
        ext=request.ext,
        due_at=due,
    )
    call, first_sha, created = deps.store.insert(new)
    if not created:
        return same_request((call, first_sha), sha), False
    return call, True


def _checked_callback(
    deps: CallDeps, request: CallbackRequest, now: datetime
) -> tuple[datetime, AgentFacts | None, Target]:
    """When the callback is due, its agent (if named) and target; `CallRefused` naming what
    is wrong."""
    ext_checked(request.ext)
    if request.campaign is None and request.agent is None:
        raise CallRefused(422, "name a campaign (its queue takes the call) or an agent", "body")
    due = request.at or now
    if due.tzinfo is None:
        raise CallRefused(422, "the time needs an offset (e.g. +08:00 or Z)", "body.at")
    if due < now:
        raise CallRefused(422, f"{due.isoformat()} is in the past", "body.at")
    agent = agent_of(deps.directory, request.agent) if request.agent else None
    target = target_of(deps, request.number, request.campaign, request.trunks, now)
    if not _calling_window(target.campaign).is_open(",".join(target.number.time_zones), due):
        raise CallRefused(
            422, f"{due.isoformat()} is outside the callee's calling hours", "body.at"
        )
    return due, agent, target


def free_agents(agents: Sequence[AgentState]) -> dict[str, AgentState]:
    """Agents the listener sees Available and Waiting, by name."""
    return {a.name: a for a in agents if a.status == STATUS_AVAILABLE and a.state == STATE_WAITING}


@dataclass
class DispatchStats:
    dialled: int = 0
    waiting: int = 0
    failed: int = 0


def dispatch_callbacks(deps: CallDeps, claimer: str, limit: int = 50) -> DispatchStats:
    """Dial the callbacks due now whose agent is free (agent-first, so none is abandoned),
    inside their callee's calling hours; the others stay scheduled for a later pass. One
    free agent takes one callback per pass."""
    stats = DispatchStats()
    now = deps.clock.now()
    # calls whose end was lost would keep their agents from callbacks and queue calls for ever
    for call_uuid in deps.store.settle_stale(now - STALE_AFTER, now):
        release_agent_of(deps.store, deps.holds, call_uuid)
    due = deps.store.claim_due_callbacks(now, limit, claimer)
    if not due:
        return stats
    free = free_agents(deps.live.agents() if deps.live is not None else [])
    for name in deps.store.agents_in_calls():  # mod_callcenter does not see API calls
        free.pop(name, None)
    for call in due:
        try:
            placed = _dispatch_one(deps, call, free, claimer, now)
        except CallRefused as exc:
            if exc.status != 503:  # DNC since, no trunk reaches it any more: never dialled
                deps.store.fail(call.call_uuid, exc.detail, now)
                stats.failed += 1
                continue
            log.info("callback %s not dialled now: %s", call.call_uuid, exc.detail)
            placed = False
        if placed:
            stats.dialled += 1
        else:
            deps.store.release_callback(call.call_uuid, claimer)
            stats.waiting += 1
    return stats


def _free_agent_for(
    deps: CallDeps, call: ApiCall, campaign: CampaignFacts | None, free: dict[str, AgentState]
) -> AgentFacts | None:
    if call.agent is not None:
        return deps.directory.agent(call.agent) if call.agent in free else None
    if campaign is None:
        return None
    for facts in deps.directory.agents_of_queue(campaign.queue):
        if facts.name in free:
            return facts
    return None


def _dispatch_one(
    deps: CallDeps, call: ApiCall, free: dict[str, AgentState], claimer: str, now: datetime
) -> bool:
    campaign = (
        deps.directory.campaign_by_id(call.campaign_id) if call.campaign_id is not None else None
    )
    target = target_of(deps, call.number, campaign.name if campaign else None, call.trunks, now)
    if not _calling_window(campaign).is_open(",".join(target.number.time_zones), now):
        return False
    agent = _free_agent_for(deps, call, campaign, free)
    if agent is None or not deps.switch.nodes():
        return False
    candidate = reserve_line(deps, target, call.call_uuid, now)
    node = deps.next_node(candidate.trunk)
    if node is None:
        release_line(deps, candidate.trunk, call.call_uuid)
        return False
    placed = Placed(agent.name, candidate.trunk, candidate.caller_id, node, now)
    if not deps.store.start_callback(call.call_uuid, claimer, placed):
        release_line(deps, candidate.trunk, call.call_uuid)
        return True  # no longer ours: not to be handed back
    del free[agent.name]
    try:
        originate_call(deps, call, agent, candidate, node)
    except CallRefused as exc:
        log.warning("callback %s failed: %s", call.call_uuid, exc.detail)
    return True
