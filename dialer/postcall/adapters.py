"""Real adapters of the post-call seams: SQL for attempts, deliveries, dispositions and the
call log; httpx for webhooks (its transport is the seam tests replace with
``httpx.MockTransport``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.dnc import add_entry
from campaigns.models import CallAttempt, Campaign, Lead, WebhookDelivery, WebhookTry
from dialer.apicalls.orm import ApiCallRow
from dialer.apikeys.orm import ApiKeyRow
from dialer.cdr.orm import CdrRow
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
from dialer.postcall.ports import (
    ApiCallJob,
    ApiCallRef,
    CallDeliveries,
    Decide,
    DeliveryLog,
    DueTry,
    Owner,
    PauseJob,
    RetryJob,
    Target,
    TryLine,
    TrySent,
    WebhookJob,
)
from dialer.postcall.webhooks import (
    EVENT,
    PAUSED_EVENT,
    AttemptRecord,
    Delivered,
    RetryIn,
    TryResult,
    Verdict,
    dedupe_key,
    delivery_state,
)

WEBHOOK_TIMEOUT_S = 10.0
_ERROR_CHARS = 500
_RETRY_AFTER_CHARS = 64


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

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> TryResult:
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return TryResult(None, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS])
        error = "" if response.is_success else response.text[:_ERROR_CHARS]
        retry_after = response.headers.get("Retry-After", "")[:_RETRY_AFTER_CHARS]
        return TryResult(response.status_code, error, retry_after)

    def close(self) -> None:
        self._client.close()


def _target(url: str | None, secret: str | None) -> Target | None:
    return Target(url, secret or "") if url is not None else None


_CAMPAIGN_TARGET = (Campaign.webhook_url, Campaign.webhook_secret)
_KEY_TARGET = (ApiKeyRow.webhook_url, ApiKeyRow.webhook_secret)


def call_target(session: Session, api_key_id: str | None, campaign_id: int | None) -> Target | None:
    """A call placed by a system key goes to that key's webhook, a campaign call to its
    campaign's (None: no webhook)."""
    if api_key_id is not None:
        row = session.execute(select(*_KEY_TARGET).where(ApiKeyRow.key_id == api_key_id)).first()
    elif campaign_id is not None:
        row = session.execute(select(*_CAMPAIGN_TARGET).where(Campaign.id == campaign_id)).first()
    else:
        return None
    return _target(*row) if row is not None else None


def campaign_target(sessions: sessionmaker[Session], name: str) -> Target | None:
    """The named campaign's webhook (None: it has none); `LookupError` when there is no
    campaign of that name."""
    with sessions() as session:
        row = session.execute(select(*_CAMPAIGN_TARGET).where(Campaign.name == name)).first()
    if row is None:
        raise LookupError(f"no campaign named {name!r}")
    return _target(*row)


class SqlDeliveryStore:
    """`dialer.postcall.ports.DeliveryStore`: call_attempts joined with their campaign and
    lead, and api_calls; one ``webhook_deliveries`` row per call (attempt or API call) and
    event, one ``webhook_tries`` row per try."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def webhook_job(self, attempt_id: int) -> WebhookJob | None:
        with self._sessions() as session:
            row = session.execute(
                select(
                    CallAttempt, Campaign.name, Lead.phone_e164, Campaign.record,
                    CdrRow.billsec, CdrRow.cost, CdrRow.id,
                )
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .join(Lead, Lead.id == CallAttempt.lead_id)
                .outerjoin(CdrRow, CdrRow.call_uuid == CallAttempt.call_uuid)
                .where(CallAttempt.id == attempt_id)
            ).one_or_none()  # fmt: skip
            if row is None or row[0].outcome is None:
                return None
            attempt, campaign, number, recorded, billsec, cost, cdr_id = row
            record = replace(
                _record(attempt, campaign, number),
                recorded=bool(recorded),
                billsec_s=int(billsec) if cdr_id is not None else None,
                cost=str(cost) if cost is not None else None,
            )
            target = call_target(session, attempt.api_key_id, attempt.campaign_id)
            delivery = _delivery(session, attempt_id, EVENT)
            tries = delivery.tries if delivery else 0
            delivered = delivery is not None and delivery.delivered_at is not None
            return WebhookJob(record, target, tries, delivered)

    def api_call_job(self, call_uuid: str) -> ApiCallJob | None:
        with self._sessions() as session:
            row = session.execute(
                select(ApiCallRow.id, ApiCallRow.status, ApiCallRow.key_id).where(
                    ApiCallRow.call_uuid == call_uuid
                )
            ).one_or_none()
            if row is None or row.status != "ended":
                return None
            owner = ApiCallRef(row.id)
            target = call_target(session, row.key_id, None)
            delivery = _delivery(session, owner, EVENT)
            tries = delivery.tries if delivery else 0
            delivered = delivery is not None and delivery.delivered_at is not None
            return ApiCallJob(owner, target, tries, delivered)

    def pause_job(self, call_uuid: str) -> PauseJob | None:
        with self._sessions() as session:
            row = session.execute(
                select(CallAttempt.id, Campaign.id, Campaign.name, *_CAMPAIGN_TARGET)
                .join(Campaign, Campaign.id == CallAttempt.campaign_id)
                .where(CallAttempt.call_uuid == call_uuid)
            ).one_or_none()
            if row is None:
                return None
            attempt_id, campaign_id, campaign, url, secret = row
            delivery = _delivery(session, attempt_id, PAUSED_EVENT)
            tries = delivery.tries if delivery else 0
            delivered = delivery is not None and delivery.delivered_at is not None
            target = _target(url, secret)
            return PauseJob(attempt_id, campaign_id, campaign, target, tries, delivered)

    def record_try(
        self,
        owner: Owner,
        sent: TrySent,
        result: TryResult,
        verdict: Verdict,
        at: datetime,
        event: str = EVENT,
    ) -> None:
        next_try_at = (
            at + timedelta(seconds=verdict.delay_s) if isinstance(verdict, RetryIn) else None
        )
        with transaction(self._sessions) as session:
            row = _delivery(session, owner, event, lock=True)
            if row is None:
                row = WebhookDelivery(event=event, tries=0)
                if isinstance(owner, ApiCallRef):
                    row.api_call_id = owner.api_call_id
                else:
                    row.attempt_id = owner
                session.add(row)
            if row.body is None:
                row.body = sent.body.decode("utf-8")
            row.url = sent.url
            row.tries += 1
            row.state = delivery_state(verdict)
            row.status_code = result.status_code
            row.error = result.error
            row.last_try_at = at
            row.next_try_at = next_try_at
            if isinstance(verdict, Delivered):
                row.delivered_at = at
            if row.delivered_at is not None:  # a late duplicate try does not undo it
                row.state, row.next_try_at = "delivered", None
            session.flush()
            session.add(
                WebhookTry(
                    delivery_id=row.id, tried_at=at, url=sent.url,
                    status_code=result.status_code, error=result.error,
                    next_try_at=row.next_try_at,
                )
            )  # fmt: skip

    def claim_due(self, now: datetime, lease_s: int, limit: int) -> list[DueTry]:
        until = now + timedelta(seconds=lease_s)
        due = (WebhookDelivery.state == "retrying", WebhookDelivery.next_try_at <= now)
        with transaction(self._sessions) as session:
            rows = session.execute(
                select(WebhookDelivery.id, WebhookDelivery.tries)
                .where(*due)
                .order_by(WebhookDelivery.next_try_at, WebhookDelivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = []
            for delivery_id, tries in rows:
                # conditional: a sweep that read the row before another's claim committed
                # (SQLite has no row locks) finds it claimed and leaves it
                moved = session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery_id, WebhookDelivery.tries == tries, *due)
                    .values(next_try_at=until)
                    .execution_options(synchronize_session=False)
                )
                if moved.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(DueTry(delivery_id, tries))
            return claimed

    def retry_job(self, delivery_id: int) -> RetryJob | None:
        with self._sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return None
            owner: Owner
            if delivery.api_call_id is not None:  # an API call's goes to its key's webhook
                owner = ApiCallRef(delivery.api_call_id)
                call = session.get(ApiCallRow, delivery.api_call_id)
                assert call is not None  # the foreign key cascades deletes
                call_uuid, target = call.call_uuid, call_target(session, call.key_id, None)
            else:
                attempt = session.get(CallAttempt, delivery.attempt_id)
                assert attempt is not None  # the foreign key cascades deletes
                owner, call_uuid = attempt.id, attempt.call_uuid
                # the campaign's own events go to the campaign's webhook
                key_id = attempt.api_key_id if delivery.event == EVENT else None
                target = call_target(session, key_id, attempt.campaign_id)
            return RetryJob(
                delivery.id, owner, call_uuid, delivery.event,
                (delivery.body or "").encode("utf-8"), target, delivery.tries, delivery.state,
                delivery.url,
            )  # fmt: skip

    def call_deliveries(self, call_uuid: str) -> CallDeliveries | None:
        with self._sessions() as session:
            found = _call_of(session, call_uuid)
            if found is None:
                return None
            owner, api_key_id = found
            deliveries = session.scalars(
                select(WebhookDelivery)
                .where(_owned_by(owner))
                .order_by(WebhookDelivery.event != EVENT, WebhookDelivery.id)
            ).all()
            logs = [_delivery_log(session, call_uuid, d) for d in deliveries]
            return CallDeliveries(call_uuid, api_key_id, logs)


def _call_of(session: Session, call_uuid: str) -> tuple[Owner, str | None] | None:
    """The campaign call or API call with that uuid, and the system key that placed it."""
    attempt = session.execute(
        select(CallAttempt.id, CallAttempt.api_key_id).where(CallAttempt.call_uuid == call_uuid)
    ).one_or_none()
    if attempt is not None:
        return attempt.id, attempt.api_key_id
    api_call = session.execute(
        select(ApiCallRow.id, ApiCallRow.key_id).where(ApiCallRow.call_uuid == call_uuid)
    ).one_or_none()
    return None if api_call is None else (ApiCallRef(api_call.id), api_call.key_id)


def _owned_by(owner: Owner) -> ColumnElement[bool]:
    if isinstance(owner, ApiCallRef):
        return WebhookDelivery.api_call_id == owner.api_call_id
    return WebhookDelivery.attempt_id == owner


def _delivery_log(session: Session, call_uuid: str, row: WebhookDelivery) -> DeliveryLog:
    tries = session.scalars(
        select(WebhookTry)
        .where(WebhookTry.delivery_id == row.id)
        .order_by(WebhookTry.tried_at, WebhookTry.id)
    )
    return DeliveryLog(
        event=row.event,
        delivery=dedupe_key(row.event, call_uuid),
        state=row.state,
        url=row.url,
        tries=[TryLine(t.tried_at, t.url, t.status_code, t.error, t.next_try_at) for t in tries],
        next_try_at=row.next_try_at,
        delivered_at=row.delivered_at,
    )


def _delivery(
    session: Session, owner: Owner, event: str, lock: bool = False
) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(_owned_by(owner), WebhookDelivery.event == event)
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
