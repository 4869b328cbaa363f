"""Post-call work for one ended attempt, dispositions, and looking calls up: the logic
behind the tasks and the ``dialer calls`` commands; I/O only through `dialer.postcall.ports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from campaigns.domain import NOT_DIALLED
from dialer.clock import Clock
from dialer.postcall.call_log import CallLine, CallLogError, CallRecord, call_query
from dialer.postcall.dispositions import (
    AttemptFacts,
    DispositionRequest,
    LeadChange,
    lead_change,
)
from dialer.postcall.ports import (
    ApiCallRef,
    CallDeliveries,
    CallLog,
    DeliveryStore,
    DispositionStore,
    DueTry,
    Owner,
    Target,
    TrySent,
    WebhookSender,
)
from dialer.postcall.signing import SIGNATURE_HEADER, signature_header
from dialer.postcall.webhooks import (
    EVENT,
    PAUSED_EVENT,
    TEST_EVENT,
    GiveUp,
    PauseRecord,
    RetryIn,
    TryResult,
    dedupe_key,
    delivery_state,
    document,
    encode,
    pause_document,
    recording_wait_s,
    verdict,
)
from dialer.recordings.service import RecordingDeps, recording_link

CLAIM_LEASE_S = 300
"""A claimed retry whose try is not recorded within this (the worker died) is due again."""
CLAIM_LIMIT = 500


@dataclass(frozen=True, slots=True)
class PostCallDeps:
    """``clock`` dates and signs each try; a delivery gives up after ``max_tries`` tries."""

    store: DeliveryStore
    sender: WebhookSender
    clock: Clock
    max_tries: int
    # where the recordings are, to put a call's recording URL (``public_url`` + its path) in
    # its webhook; None: webhooks carry no recording
    recordings: RecordingDeps | None = None
    public_url: str = ""
    # an answered call of a recording campaign waits this long after its end for its CDR and
    # recording before its webhook goes without what is missing
    recording_wait_s: float = 300.0


@dataclass(frozen=True, slots=True)
class PostCallResult:
    """``state``: ``no attempt``, ``no webhook``, ``not dialled`` (the node refused the
    originate: no call took place, nothing is sent), ``waiting`` (for the call's CDR and
    recording: look again in ``retry_in_s``), ``delivered before``, ``tried before``
    (its retries are the sweep's), ``stale`` (a retry already made), or the delivery's state
    after this try (``delivered``, ``retrying`` with ``retry_in_s``, ``failed``)."""

    state: str
    tries: int = 0
    retry_in_s: int | None = None
    detail: str = ""


def deliver_webhook(attempt_id: int, deps: PostCallDeps) -> PostCallResult:
    """Make the first try at delivering the attempt's webhook and record it; a failed try
    is left due at its next try time, for `retry_delivery`.

    Idempotent: a repeated call (duplicate message, retried task) sends nothing once a try
    is recorded.
    """
    job = deps.store.webhook_job(attempt_id)
    if job is None:
        return PostCallResult("no attempt")
    if job.target is None:
        return PostCallResult("no webhook")
    if job.record.outcome == NOT_DIALLED:
        return PostCallResult("not dialled")
    if job.delivered:
        return PostCallResult("delivered before", job.tries)
    if job.tries:
        return PostCallResult("tried before", job.tries)
    call_uuid = job.record.call_uuid
    stored = deps.recordings.storage.get(call_uuid) if deps.recordings is not None else None
    wait_s = recording_wait_s(
        job.record, stored is not None, deps.clock.now(), deps.recording_wait_s
    )
    if wait_s is not None:
        return PostCallResult("waiting", 0, wait_s)
    url = recording_url(deps, call_uuid) if stored is not None else None
    body = encode(document(job.record, url))
    return try_once(deps, attempt_id, call_uuid, EVENT, job.target, 0, body)


def recording_url(deps: PostCallDeps, call_uuid: str) -> str | None:
    """A URL of the call's recording that expires (`dialer.recordings.service.download_url`);
    None without recordings, a recording or a signing secret."""
    if deps.recordings is None:
        return None
    return recording_link(deps.recordings, call_uuid, deps.public_url)


def deliver_pause_webhook(
    call_uuid: str, reason: str, paused_at: datetime, deps: PostCallDeps
) -> PostCallResult:
    """Make the first try at the ``campaign.paused`` webhook of the campaign that the end of
    call ``call_uuid`` paused (``reason``, ``paused_at`` as the stop gave them), and record
    it; tries, retries and give-ups as `deliver_webhook`'s. ``state`` as there (``no
    attempt``: no such call)."""
    job = deps.store.pause_job(call_uuid)
    if job is None:
        return PostCallResult("no attempt")
    if job.target is None:
        return PostCallResult("no webhook")
    if job.delivered:
        return PostCallResult("delivered before", job.tries)
    if job.tries:
        return PostCallResult("tried before", job.tries)
    record = PauseRecord(call_uuid, job.campaign_id, job.campaign, reason, paused_at)
    body = encode(pause_document(record))
    return try_once(deps, job.attempt_id, call_uuid, PAUSED_EVENT, job.target, 0, body)


def claim_due_retries(deps: PostCallDeps, limit: int = CLAIM_LIMIT) -> list[DueTry]:
    """The deliveries due now, claimed for `CLAIM_LEASE_S`: the sweep hands each to
    `retry_delivery`; one whose try is lost is claimed again after the lease."""
    return deps.store.claim_due(deps.clock.now(), CLAIM_LEASE_S, limit)


def retry_delivery(delivery_id: int, tries_claimed: int, deps: PostCallDeps) -> PostCallResult:
    """Make the next try of a claimed delivery: its first body, signed afresh, to the
    call's current webhook. Nothing is sent for a delivery no longer retrying or tried
    since it was claimed (a duplicate message); one whose webhook was removed gives up."""
    job = deps.store.retry_job(delivery_id)
    if job is None:
        return PostCallResult("no delivery")
    if job.state != "retrying" or job.tries != tries_claimed:
        return PostCallResult("stale", job.tries)
    body = job.body or _rebuilt_body(deps.store, job.owner, job.event)
    if job.target is None or body is None:
        why = "the webhook was removed" if job.target is None else "its body was not kept"
        gone, at = GiveUp(why), deps.clock.now()
        sent = TrySent(job.last_url, job.body)
        deps.store.record_try(job.owner, sent, TryResult(None, why), gone, at, job.event)
        return PostCallResult("failed", job.tries + 1, None, why)
    return try_once(deps, job.owner, job.call_uuid, job.event, job.target, job.tries, body)


def _rebuilt_body(store: DeliveryStore, owner: Owner, event: str) -> bytes | None:
    """The ``call.ended`` body of an attempt's delivery first tried before bodies were kept
    (made again from the attempt); None for other events, whose facts were not kept, and
    for API calls (their deliveries always kept their body)."""
    if isinstance(owner, ApiCallRef) or event != EVENT:
        return None
    job = store.webhook_job(owner)
    return encode(document(job.record)) if job is not None else None


def try_headers(
    event: str, call_uuid: str, secret: str, at: datetime, body: bytes
) -> dict[str, str]:
    """The headers of one try made at ``at``: the event, the delivery id receivers dedupe
    on, and the signature over ``body`` with the try's timestamp."""
    return {
        "Content-Type": "application/json",
        "X-Dialer-Event": event,
        "X-Dialer-Delivery": dedupe_key(event, call_uuid),
        SIGNATURE_HEADER: signature_header(secret, int(at.timestamp()), body),
    }


def try_once(
    deps: PostCallDeps,
    owner: Owner,
    call_uuid: str,
    event: str,
    target: Target,
    tries_before: int,
    body: bytes,
) -> PostCallResult:
    """POST ``body`` once, signed, and record the try of the ``event`` of ``owner``'s call
    (a failed try is left due at its next try time, for the sweep's `retry_delivery`)."""
    at = deps.clock.now()
    if not target.secret:  # never sent unsigned: the stores keep a secret with every URL
        unsigned = GiveUp("the webhook has no signing secret")
        result = TryResult(None, unsigned.reason)
        deps.store.record_try(owner, TrySent(target.url, body), result, unsigned, at, event)
        return PostCallResult("failed", tries_before + 1, None, unsigned.reason)
    sent_headers = try_headers(event, call_uuid, target.secret, at, body)
    result = deps.sender.post(target.url, body, sent_headers)
    tries = tries_before + 1
    outcome = verdict(result, tries, at, deps.max_tries)
    sent = TrySent(target.url, body)
    deps.store.record_try(owner, sent, result, outcome, at, event=event)
    delay_s = outcome.delay_s if isinstance(outcome, RetryIn) else None
    detail = f"HTTP {result.status_code}" if result.status_code is not None else result.error
    return PostCallResult(delivery_state(outcome), tries, delay_s, detail)


def send_test_event(deps: PostCallDeps, target: Target, about: dict[str, str]) -> TryResult:
    """POST one ``webhook.test`` event to ``target``, signed as every delivery is, and
    return the receiver's answer; nothing is recorded or retried. ``about`` names whose
    webhook it is (``campaign`` or ``api_key_id``)."""
    at = deps.clock.now()
    body = encode({"event": TEST_EVENT, "sent_at": at.astimezone(UTC).isoformat(), **about})
    test_id = f"test-{int(at.timestamp())}"
    return deps.sender.post(
        target.url, body, try_headers(TEST_EVENT, test_id, target.secret, at, body)
    )


def call_deliveries(store: DeliveryStore, call_uuid: str) -> CallDeliveries:
    """The call's deliveries with every try; `CallLogError` when there is no such call."""
    found = store.call_deliveries(call_uuid)
    if found is None:
        raise CallLogError(f"no call with uuid {call_uuid}")
    return found


def set_disposition(
    store: DispositionStore, request: DispositionRequest, now: datetime
) -> LeadChange:
    """Store ``request`` on its attempt and move the lead, in one transaction; raises
    `dialer.postcall.dispositions.DispositionError` naming what is wrong."""

    def decide(facts: AttemptFacts) -> LeadChange:
        return lead_change(facts, request, now)

    return store.dispose(request, decide, now)


def list_calls(
    log: CallLog,
    campaign: str | None,
    outcome: str | None,
    since: datetime | None,
    limit: int,
) -> list[CallLine]:
    """The ``limit`` newest calls that match every filter given, newest first; raises
    `dialer.postcall.call_log.CallLogError` naming a filter that cannot match."""
    return log.recent_calls(call_query(campaign, outcome, since, limit))


def show_call(log: CallLog, call_uuid: str) -> CallRecord:
    """The call's whole record; `CallLogError` when there is no such call."""
    record = log.call_record(call_uuid)
    if record is None:
        raise CallLogError(f"no call with uuid {call_uuid}")
    return record
