"""Real adapters of the post-call seams: SQL for attempts, deliveries and dispositions;
httpx for webhooks (its transport is the seam tests replace with ``httpx.MockTransport``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.dnc import add_entry
from campaigns.models import CallAttempt, Campaign, Lead, WebhookDelivery
from dialer.db.base import transaction
from dialer.postcall.dispositions import (
    AttemptFacts,
    Disposition,
    DispositionError,
    DispositionRequest,
    LeadChange,
)
from dialer.postcall.ports import Decide, WebhookJob
from dialer.postcall.webhooks import (
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
    lead; one ``webhook_deliveries`` row per attempt."""

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
            delivery = session.scalar(
                select(WebhookDelivery).where(WebhookDelivery.attempt_id == attempt_id)
            )
            tries = delivery.tries if delivery else 0
            delivered = delivery is not None and delivery.delivered_at is not None
            return WebhookJob(_record(attempt, campaign, number), url, tries, delivered)

    def record_try(
        self, attempt_id: int, url: str, result: TryResult, verdict: Verdict, at: datetime
    ) -> None:
        with transaction(self._sessions) as session:
            row = session.scalar(
                select(WebhookDelivery)
                .where(WebhookDelivery.attempt_id == attempt_id)
                .with_for_update()
            )
            if row is None:
                row = WebhookDelivery(attempt_id=attempt_id, tries=0)
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


def describe_call(sessions: sessionmaker[Session], call_uuid: str) -> dict[str, str] | None:
    """An attempt, its disposition and its webhook delivery as label -> text; None when
    there is no such call."""
    with sessions() as session:
        attempt = session.scalar(select(CallAttempt).where(CallAttempt.call_uuid == call_uuid))
        if attempt is None:
            return None
        delivery = session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.attempt_id == attempt.id)
        )
    view = {
        "call": attempt.call_uuid,
        "lead": str(attempt.lead_id),
        "attempt": str(attempt.attempt_no),
        "number": attempt.dialed_number,
        "outcome": attempt.outcome or "in progress",
        "ended": _text(attempt.ended_at),
        "agent": attempt.agent or "-",
        "disposition": attempt.disposition or "-",
        "disposition at": _text(attempt.disposition_at),
        "callback at": _text(attempt.callback_at),
        "note": attempt.disposition_note or "-",
    }
    if delivery is None:
        view["webhook"] = "-"
        return view
    code = "no response" if delivery.status_code is None else f"HTTP {delivery.status_code}"
    view["webhook"] = f"{delivery.state} after {delivery.tries} tries, last {code}"
    view["webhook url"] = delivery.url
    view["webhook last try"] = _text(delivery.last_try_at)
    view["webhook delivered"] = _text(delivery.delivered_at)
    view["webhook next try"] = _text(delivery.next_try_at)
    view["webhook error"] = delivery.error or "-"
    return view


def _text(at: datetime | None) -> str:
    return at.isoformat() if at is not None else "-"
