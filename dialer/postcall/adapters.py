"""Real adapters of the post-call seams: SQL for attempts, deliveries, dispositions and the
call log; httpx for webhooks (its transport is the seam tests replace with
``httpx.MockTransport``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.dnc import add_entry
from campaigns.models import CallAttempt, Campaign, Lead, WebhookDelivery
from dialer.db.base import transaction
from dialer.postcall.call_log import (
    CallLine,
    CallLogError,
    CallQuery,
    CallRecord,
    WebhookState,
)
from dialer.postcall.dispositions import (
    AttemptFacts,
    Disposition,
    DispositionError,
    DispositionRequest,
    LeadChange,
)
from dialer.postcall.ports import Decide, PauseJob, WebhookJob
from dialer.postcall.webhooks import (
    EVENT,
    PAUSED_EVENT,
    AttemptRecord,
    Delivered,
    RetryIn,
    TryResult,
    Verdict,
    delivery_state,
)

WEBHOOK_TIMEOUT_S = 10.0
_ERROR_CHARS = 500


class HttpxSender:
    """`dialer.postcall.ports.WebhookSender` over one pooled, thread-safe ``httpx.Client``.

    Redirects are not followed: a 3xx is the receiver's answer and is recorded as such.
    """

    def __init__(
        self, transport: httpx.BaseTransport | None = None, timeout_s: float = WEBHOOK_TIMEOUT_S
    ) -> None:
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout_s,
            follow_redirects=False,
            headers={"User-Agent": "dialer-webhook/1"},
        )

    def post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> TryResult:
        try:
            response = self._client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return TryResult(None, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS])
        error = "" if response.is_success else response.text[:_ERROR_CHARS]
        return TryResult(response.status_code, error)

    def close(self) -> None:
        self._client.close()


class SqlDeliveryStore:
    """`dialer.postcall.ports.DeliveryStore`: call_attempts joined with their campaign and
    lead; one ``webhook_deliveries`` row per attempt and event."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def webhook_job(self, attempt_id: int) -> WebhookJob | None:
        with self._sessions() as session:
            row = session.execute(
                select(CallAttempt, Campaign.name, Campaign.webhook_url, Lead.phone_e164)
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .join(Lead, Lead.id == CallAttempt.lead_id)
                .where(CallAttempt.id == attempt_id)
            ).one_or_none()
            if row is None or row[0].outcome is None:
                return None
            attempt, campaign, url, number = row
            delivery = _delivery(session, attempt_id, EVENT)
            tries = delivery.tries if delivery else 0
            delivered = delivery is not None and delivery.delivered_at is not None
            return WebhookJob(_record(attempt, campaign, number), url, tries, delivered)

    def pause_job(self, call_uuid: str) -> PauseJob | None:
        with self._sessions() as session:
            row = session.execute(
                select(CallAttempt.id, Campaign.id, Campaign.name, Campaign.webhook_url)
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .where(CallAttempt.call_uuid == call_uuid)
            ).one_or_none()
            if row is None:
                return None
            attempt_id, campaign_id, campaign, url = row
            delivery = _delivery(session, attempt_id, PAUSED_EVENT)
            tries = delivery.tries if delivery else 0
            delivered = delivery is not None and delivery.delivered_at is not None
            return PauseJob(attempt_id, campaign_id, campaign, url, tries, delivered)

    def record_try(
        self,
        attempt_id: int,
        url: str,
        result: TryResult,
        verdict: Verdict,
        at: datetime,
        event: str = EVENT,
    ) -> None:
        with transaction(self._sessions) as session:
            row = _delivery(session, attempt_id, event, lock=True)
            if row is None:
                row = WebhookDelivery(attempt_id=attempt_id, event=event, tries=0)
                session.add(row)
            row.url = url
            row.tries += 1
            row.state = delivery_state(verdict)
            row.status_code = result.status_code
            row.error = result.error
            row.last_try_at = at
            row.next_try_at = (
                at + timedelta(seconds=verdict.delay_s) if isinstance(verdict, RetryIn) else None
            )
            if isinstance(verdict, Delivered):
                row.delivered_at = at


def _delivery(
    session: Session, attempt_id: int, event: str, lock: bool = False
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.attempt_id == attempt_id, WebhookDelivery.event == event
    )
    return session.scalar(query.with_for_update() if lock else query)


def _record(attempt: CallAttempt, campaign: str, number: str) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=attempt.id,
        call_uuid=attempt.call_uuid,
        campaign_id=attempt.campaign_id,
        campaign=campaign,
        lead_id=attempt.lead_id,
        number_e164=number,
        attempt_no=attempt.attempt_no,
        outcome=attempt.outcome,
        abandoned=attempt.abandoned,
        originated_at=attempt.originated_at,
        answered_at=attempt.answered_at,
        connected_at=attempt.connected_at,
        ended_at=attempt.ended_at,
        agent=attempt.agent,
        trunk=attempt.trunk,
        hangup_cause=attempt.hangup_cause,
        hangup_cause_q850=attempt.hangup_cause_q850,
        sip_status=attempt.sip_status,
    )


class SqlDispositionStore:
    """`dialer.postcall.ports.DispositionStore`: the attempt and its lead are locked (in the
    listener's order: attempt, then lead), decided on, and written in one transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def dispose(self, request: DispositionRequest, decide: Decide, at: datetime) -> LeadChange:
        with transaction(self._sessions) as session:
            attempt = session.scalar(
                select(CallAttempt)
                .where(CallAttempt.call_uuid == request.call_uuid)
                .with_for_update()
            )
            if attempt is None:
                raise DispositionError(f"no call with uuid {request.call_uuid}")
            lead = session.get(Lead, attempt.lead_id, with_for_update=True)
            assert lead is not None  # the foreign key cascades deletes
            change = decide(_facts(session, attempt, lead))
            attempt.disposition = request.code.value
            attempt.disposition_note = request.note or None
            attempt.disposition_at = at
            attempt.callback_at = (
                change.next_attempt_at if request.code is Disposition.CALLBACK else None
            )
            lead.status = change.status
            if change.next_attempt_at is not None:
                lead.next_attempt_at = change.next_attempt_at
            if change.add_dnc:
                # Global: whoever asked not to be called is not called by any campaign.
                add_entry(
                    session, lead.phone_e164, region=lead.country, now=at,
                    source="disposition", reason=f"call {attempt.call_uuid}",
                )  # fmt: skip
            return change


def _facts(session: Session, attempt: CallAttempt, lead: Lead) -> AttemptFacts:
    latest = session.scalar(
        select(CallAttempt.call_uuid)
        .where(CallAttempt.lead_id == lead.id)
        .order_by(CallAttempt.id.desc())
        .limit(1)
    )
    return AttemptFacts(
        attempt.call_uuid,
        attempt.outcome,
        attempt.disposition,
        lead.status,
        latest or attempt.call_uuid,
    )


class SqlCallLog:
    """`dialer.postcall.ports.CallLog`: call_attempts joined with their campaign, and the
    webhook delivery of a call."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def recent_calls(self, query: CallQuery) -> list[CallLine]:
        with self._sessions() as session:
            scope = []
            if query.campaign is not None:
                campaign_id = session.scalar(
                    select(Campaign.id).where(Campaign.name == query.campaign)
                )
                if campaign_id is None:
                    raise CallLogError(f"no campaign named {query.campaign!r}")
                scope.append(CallAttempt.campaign_id == campaign_id)
            if query.outcome is not None:
                scope.append(CallAttempt.outcome == query.outcome)
            if query.since is not None:
                scope.append(CallAttempt.originated_at >= query.since)
            rows = session.execute(
                select(CallAttempt, Campaign.name)
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .where(*scope)
                .order_by(CallAttempt.originated_at.desc(), CallAttempt.id.desc())
                .limit(query.limit)
            ).tuples()
            return [_line(attempt, campaign) for attempt, campaign in rows]

    def call_record(self, call_uuid: str) -> CallRecord | None:
        with self._sessions() as session:
            row = session.execute(
                select(CallAttempt, Campaign.name)
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .where(CallAttempt.call_uuid == call_uuid)
            ).one_or_none()
            if row is None:
                return None
            attempt, campaign = row
            delivery = _delivery(session, attempt.id, EVENT)
            return CallRecord(
                line=_line(attempt, campaign),
                lead_id=attempt.lead_id,
                attempt_no=attempt.attempt_no,
                node=attempt.node,
                agent=attempt.agent,
                abandoned=attempt.abandoned,
                answered_at=attempt.answered_at,
                connected_at=attempt.connected_at,
                hangup_cause_q850=attempt.hangup_cause_q850,
                sip_status=attempt.sip_status,
                disposition=attempt.disposition,
                disposition_note=attempt.disposition_note,
                disposition_at=attempt.disposition_at,
                callback_at=attempt.callback_at,
                webhook=None if delivery is None else _webhook_state(delivery),
            )


def _line(attempt: CallAttempt, campaign: str) -> CallLine:
    return CallLine(
        call_uuid=attempt.call_uuid,
        campaign=campaign,
        number=attempt.dialed_number,
        outcome=attempt.outcome,
        trunk=attempt.trunk,
        hangup_cause=attempt.hangup_cause,
        started_at=attempt.originated_at,
        ended_at=attempt.ended_at,
    )


def _webhook_state(delivery: WebhookDelivery) -> WebhookState:
    return WebhookState(
        url=delivery.url,
        state=delivery.state,
        tries=delivery.tries,
        status_code=delivery.status_code,
        error=delivery.error,
        last_try_at=delivery.last_try_at,
        next_try_at=delivery.next_try_at,
        delivered_at=delivery.delivered_at,
    )
