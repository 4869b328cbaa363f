"""Post-call work for one ended attempt, dispositions, and looking calls up: the logic
behind the tasks and the ``dialer calls`` commands; I/O only through `dialer.postcall.ports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaigns.domain import NOT_DIALLED
from dialer.clock import Clock
from dialer.postcall.call_log import CallLine, CallLogError, CallRecord, call_query
from dialer.postcall.dispositions import (
    AttemptFacts,
    DispositionRequest,
    LeadChange,
    lead_change,
)
from dialer.postcall.ports import CallLog, DeliveryStore, DispositionStore, WebhookSender
from dialer.postcall.webhooks import (
    EVENT,
    PAUSED_EVENT,
    PauseRecord,
    RetryIn,
    delivery_state,
    document,
    headers,
    pause_document,
    pause_headers,
    verdict,
)


@dataclass(frozen=True, slots=True)
class PostCallDeps:
    """``clock`` dates each try; a delivery gives up after ``max_tries`` tries."""

    store: DeliveryStore
    sender: WebhookSender
    clock: Clock
    max_tries: int


@dataclass(frozen=True, slots=True)
class PostCallResult:
    """``state``: ``no attempt``, ``no webhook``, ``not dialled`` (the node refused the
    originate: no call took place, nothing is sent), ``delivered before``, or the delivery's
    state after this try (``delivered``, ``retrying`` with ``retry_in_s``, ``failed``)."""

    state: str
    tries: int = 0
    retry_in_s: int | None = None
    detail: str = ""


def deliver_webhook(attempt_id: int, deps: PostCallDeps) -> PostCallResult:
    """Make one try at delivering the attempt's webhook and record it.

    Idempotent once delivered: a repeated call (duplicate message, retried task) sends
    nothing more.
    """
    job = deps.store.webhook_job(attempt_id)
    if job is None:
        return PostCallResult("no attempt")
    if job.url is None:
        return PostCallResult("no webhook")
    if job.record.outcome == NOT_DIALLED:
        return PostCallResult("not dialled")
    if job.delivered:
        return PostCallResult("delivered before", job.tries)
    body, sent_headers = document(job.record), headers(job.record)
    return _try(deps, attempt_id, EVENT, job.url, job.tries, body, sent_headers)


def deliver_pause_webhook(
    call_uuid: str, reason: str, paused_at: datetime, deps: PostCallDeps
) -> PostCallResult:
    """Make one try at the ``campaign.paused`` webhook of the campaign that the end of call
    ``call_uuid`` paused (``reason``, ``paused_at`` as the stop gave them), and record it;
    tries, retries and give-ups as `deliver_webhook`'s. ``state`` as there (``no attempt``:
    no such call)."""
    job = deps.store.pause_job(call_uuid)
    if job is None:
        return PostCallResult("no attempt")
    if job.url is None:
        return PostCallResult("no webhook")
    if job.delivered:
        return PostCallResult("delivered before", job.tries)
    record = PauseRecord(call_uuid, job.campaign_id, job.campaign, reason, paused_at)
    body, sent_headers = pause_document(record), pause_headers(record)
    return _try(deps, job.attempt_id, PAUSED_EVENT, job.url, job.tries, body, sent_headers)


def _try(
    deps: PostCallDeps,
    attempt_id: int,
    event: str,
    url: str,
    tries_before: int,
    body: dict[str, Any],
    sent_headers: dict[str, str],
) -> PostCallResult:
    """POST ``body`` once and record the try of the attempt's ``event``."""
    result = deps.sender.post(url, body, sent_headers)
    tries = tries_before + 1
    outcome = verdict(result, tries, deps.max_tries)
    deps.store.record_try(attempt_id, url, result, outcome, deps.clock.now(), event=event)
    delay_s = outcome.delay_s if isinstance(outcome, RetryIn) else None
    detail = f"HTTP {result.status_code}" if result.status_code is not None else result.error
    return PostCallResult(delivery_state(outcome), tries, delay_s, detail)


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
