"""Real adapters of the listener's seams: Redis live state, SQL attempt records, SQL
campaign safety (`SqlSafetyStore`).

Redis layout (one hash per node and kind, JSON values):
``dialer:live:<node>:calls`` call uuid -> `CallState` fields;
``dialer:live:<node>:agents`` agent name -> `AgentState` fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import (
    NOT_DIALLED,
    UNSETTLED,
    AttemptOutcome,
    CampaignStatus,
    LeadStatus,
)
from campaigns.models import CallAttempt, Campaign, Lead
from campaigns.service import retry_policy_of
from dialer.agent_state import AgentState
from dialer.calls.machine import CallEnd, CallState
from dialer.calls.retry import CARRIER_STREAK_LOOKBACK, lead_update
from dialer.calls.safety import SafetyFacts, SafetyLimits
from dialer.calls.trunk import carrier_failed
from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.db.base import transaction
from dialer.listener.ports import SafetyView, Unsettled

log = logging.getLogger(__name__)


class RedisLiveState:
    """`dialer.listener.ports.LiveState` in Redis."""

    def __init__(self, client: redis.Redis[Any], prefix: str = "dialer:live") -> None:
        self._r = client
        self._prefix = prefix

    def _key(self, node: str, kind: str) -> str:
        return f"{self._prefix}:{node}:{kind}"

    def put_call(self, node: str, state: CallState) -> None:
        self._r.hset(self._key(node, "calls"), state.call_uuid, json.dumps(asdict(state)))

    def drop_call(self, node: str, call_uuid: str) -> None:
        self._r.hdel(self._key(node, "calls"), call_uuid)

    def calls(self, node: str) -> dict[str, CallState]:
        raw = self._r.hgetall(self._key(node, "calls"))
        return {_s(k): CallState(**json.loads(v)) for k, v in raw.items()}

    def put_agent(self, node: str, agent: AgentState) -> None:
        self._r.hset(self._key(node, "agents"), agent.name, json.dumps(asdict(agent)))

    def drop_agent(self, node: str, name: str) -> None:
        self._r.hdel(self._key(node, "agents"), name)

    def agents(self, node: str) -> dict[str, AgentState]:
        raw = self._r.hgetall(self._key(node, "agents"))
        return {_s(k): _agent_from_json(v) for k, v in raw.items()}


def _s(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _agent_from_json(raw: str | bytes) -> AgentState:
    data = json.loads(raw)
    data["queues"] = tuple(data.get("queues", ()))
    return AgentState(**data)


class SqlAttemptSink:
    """`dialer.listener.ports.AttemptSink`: fills the CallAttempt row (created by the
    originator, or here when missing) and moves the lead on, in one transaction.

    ``notify(attempt_id)`` is called once per newly recorded attempt, after the commit (a
    replayed end calls nothing); its failure is logged and never undoes the record. ``clock``
    dates an end the switch did not date and the lead's next attempt.

    The first end recorded stands (events or CDR, whichever comes first; a later one is
    ignored), except ``unknown`` (`CallEnd.unsettled`): that holds the lead (``failed``,
    last outcome ``unknown``, no attempt counted) until a later definitive end (its CDR)
    replaces it and moves the lead on as if it had been dialling.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock = SYSTEM_CLOCK,
        notify: Callable[[int], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._notify = notify

    def record(self, node: str, end: CallEnd) -> None:
        if end.lead_id is None or end.campaign_id is None:
            return  # not a dialer call (no ids): nothing to record
        attempt_id = self._write(node, end)
        if attempt_id is None or self._notify is None or end.unsettled:
            return
        try:
            self._notify(attempt_id)
        except Exception:
            log.exception("post-call notification of attempt %s failed", attempt_id)

    def _write(self, node: str, end: CallEnd) -> int | None:
        """The recorded attempt's id; None when it had been recorded before."""
        with transaction(self._sessions) as session:
            attempt = session.scalar(
                select(CallAttempt).where(CallAttempt.call_uuid == end.call_uuid)
            )
            if attempt is None:
                attempt = CallAttempt(
                    call_uuid=end.call_uuid,
                    lead_id=end.lead_id,
                    campaign_id=end.campaign_id,
                    dialed_number=end.dialed_number,
                )
                session.add(attempt)
            elif attempt.outcome is not None and (end.unsettled or attempt.outcome != UNSETTLED):
                return None  # already recorded (event replayed after a restart, CDR after)
            was_unsettled = attempt.outcome == UNSETTLED
            attempt.node = node or attempt.node
            attempt.trunk = end.trunk or attempt.trunk
            attempt.answered_at = end.answered_at
            attempt.connected_at = end.connected_at
            attempt.ended_at = end.ended_at or self._clock.now()
            attempt.hangup_cause = end.hangup_cause[:64]
            attempt.hangup_cause_q850 = end.hangup_cause_q850
            attempt.sip_status = end.sip_status[:8] or None
            attempt.outcome = _outcome_text(end)
            attempt.agent = end.agent or None
            attempt.abandoned = end.abandoned
            attempt.recording_path = end.recording_path or attempt.recording_path
            if end.unsettled:
                _hold_lead(session, end)
            else:
                self._move_lead(session, end, was_unsettled)
            session.flush()
            return attempt.id

    def unsettled(self, node: str, originated_before: datetime) -> list[Unsettled]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallAttempt).where(
                    CallAttempt.node == node,
                    CallAttempt.outcome.is_(None),
                    CallAttempt.originated_at < originated_before,
                )
            ).all()
            return [
                Unsettled(r.call_uuid, r.campaign_id, r.lead_id, r.id, r.trunk or "") for r in rows
            ]

    def _move_lead(self, session: Session, end: CallEnd, was_unsettled: bool = False) -> None:
        lead = session.get(Lead, end.lead_id, with_for_update=True)
        campaign = session.get(Campaign, end.campaign_id)
        if lead is None or campaign is None:
            return
        # a lead released from an unknown attempt is no longer that attempt's to move
        if lead.status is not LeadStatus.DIALING if not was_unsettled else not _is_held(lead):
            return
        carrier_failures = 0
        if carrier_failed(end.outcome, end.hangup_cause):
            # The lead's latest earlier attempts, node refusals skipped: how many of them in
            # a row failed for their trunk (the longer, the later the next try).
            earlier = session.execute(
                select(CallAttempt.outcome, CallAttempt.hangup_cause)
                .where(
                    CallAttempt.lead_id == lead.id,
                    CallAttempt.call_uuid != end.call_uuid,
                    CallAttempt.outcome.is_not(None),
                    CallAttempt.outcome != NOT_DIALLED,
                )
                .order_by(CallAttempt.id.desc())
                .limit(CARRIER_STREAK_LOOKBACK)
            ).all()
            while carrier_failures < len(earlier) and carrier_failed(*earlier[carrier_failures]):
                carrier_failures += 1
        update = lead_update(
            end,
            lead.id,
            lead.attempts,
            retry_policy_of(campaign),
            campaign.max_attempts,
            self._clock.now(),
            carrier_failures,
        )
        lead.status = update.status
        lead.attempts = update.attempts
        lead.next_attempt_at = update.next_attempt_at
        lead.last_outcome = update.last_outcome
        lead.claimed_at = None
        lead.claimed_by = None


class SqlSafetyStore:
    """`dialer.listener.ports.SafetyStore` on the campaigns and call_attempts tables.

    Calls answered by a person are those with an answer time that were not answering
    machines (as the pacer's budget counts them); the window is by origination time, the
    recent calls by end time. `pause` is one conditional UPDATE, so of two listeners pausing
    one campaign at once only one is told it did.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def safety_view(self, campaign_id: int, now: datetime) -> SafetyView | None:
        with self._sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None or campaign.status is not CampaignStatus.RUNNING:
                return None
            limits = SafetyLimits(
                campaign.abandon_target_pct,
                campaign.abandon_window_days,
                campaign.abandon_run_limit,
            )
            by_person = (
                CallAttempt.campaign_id == campaign_id,
                CallAttempt.answered_at.is_not(None),
                CallAttempt.outcome != AttemptOutcome.ANSWERING_MACHINE.value,
            )
            since = now - timedelta(days=limits.window_days)
            answered, abandoned = session.execute(
                select(
                    func.count(),
                    func.count().filter(CallAttempt.abandoned.is_(True)),
                ).where(*by_person, CallAttempt.originated_at >= since)
            ).one()
            recent = session.scalars(
                select(CallAttempt.abandoned)
                .where(*by_person, CallAttempt.ended_at.is_not(None))
                .order_by(CallAttempt.ended_at.desc(), CallAttempt.id.desc())
                .limit(limits.run_limit)
            ).all()
            facts = SafetyFacts(int(answered or 0), int(abandoned or 0), tuple(recent))
            return SafetyView(campaign.name, limits, facts)

    def pause(self, campaign_id: int, reason: str, at: datetime) -> bool:
        with transaction(self._sessions) as session:
            result = session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.RUNNING)
                .values(status=CampaignStatus.PAUSED, pause_reason=reason, paused_at=at)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)


def _outcome_text(end: CallEnd) -> str:
    if end.unsettled:
        return UNSETTLED
    return end.outcome.value if end.outcome else NOT_DIALLED


def _is_held(lead: Lead) -> bool:
    """A lead held by an ``unknown`` attempt (`_hold_lead`), not yet released."""
    return lead.status is LeadStatus.FAILED and lead.last_outcome == UNSETTLED


def _hold_lead(session: Session, end: CallEnd) -> None:
    """The lead of an unsettled attempt: out of the dialling (``failed``, last outcome
    ``unknown``), its attempt count unchanged, until a CDR settles it or a manager releases
    it (`campaigns.service.release_unknown_leads`)."""
    lead = session.get(Lead, end.lead_id, with_for_update=True)
    if lead is None or lead.status is not LeadStatus.DIALING:
        return
    lead.status = LeadStatus.FAILED
    lead.last_outcome = UNSETTLED
    lead.claimed_at = None
    lead.claimed_by = None
