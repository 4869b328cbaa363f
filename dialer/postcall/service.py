"""Post-call work for one ended attempt, dispositions, and looking calls up: the logic
behind the tasks and the ``dialer calls`` commands; I/O only through `dialer.postcall.ports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from dialer.postcall.webhooks import RetryIn, delivery_state, document, headers, verdict


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
    result = deps.sender.post(job.url, document(job.record), headers(job.record))
    tries = job.tries + 1
    outcome = verdict(result, tries, deps.max_tries)
    deps.store.record_try(attempt_id, job.url, result, outcome, deps.clock.now())
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
