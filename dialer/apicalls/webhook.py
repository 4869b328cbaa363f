"""The ``call.ended`` webhook of an API call: its document (with the caller's ``ext``,
unchanged) and one delivery try, retried with the same rules as a campaign call's
(`dialer.postcall.webhooks.verdict`), each signed as theirs are
(`dialer.postcall.service.try_headers`). It goes to the webhook of the system key that placed
the call (`dialer keys webhook`).

Delivery is at least once; receivers dedupe on ``X-Dialer-Delivery`` (the call uuid).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dialer.apicalls.ports import ApiCall, ApiCallStore
from dialer.clock import Clock
from dialer.postcall.ports import WebhookSender
from dialer.postcall.service import PostCallResult, try_headers
from dialer.postcall.webhooks import EVENT, MAX_TRIES, RetryIn, delivery_state, encode, verdict

__all__ = ["call_document", "deliver_call_webhook"]


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def call_document(call: ApiCall) -> dict[str, Any]:
    """The JSON body POSTed when ``call`` ended; times ISO-8601 in UTC."""
    return {
        "event": EVENT,
        "call_uuid": call.call_uuid,
        "kind": call.kind.value,
        "campaign": call.campaign,
        "number": call.number,
        "agent": call.agent,
        "status": call.status.value,
        "outcome": call.outcome,
        "originated_at": _iso(call.originated_at),
        "agent_answered_at": _iso(call.agent_answered_at),
        "answered_at": _iso(call.answered_at),
        "connected_at": _iso(call.connected_at),
        "ended_at": _iso(call.ended_at),
        "trunk": call.trunk,
        "hangup_cause": call.hangup_cause,
        "hangup_cause_q850": call.hangup_cause_q850,
        "sip_status": call.sip_status,
        "recording": call.recording_path,
        "ext": call.ext,
    }


def deliver_call_webhook(
    call_uuid: str,
    store: ApiCallStore,
    sender: WebhookSender,
    clock: Clock,
    max_tries: int = MAX_TRIES,
) -> PostCallResult:
    """One try at the call's ``call.ended`` webhook, recorded; ``state`` as
    `dialer.postcall.service.deliver_webhook`'s (``no attempt``: no such ended call)."""
    job = store.webhook_job(call_uuid)
    if job is None:
        return PostCallResult("no attempt")
    if job.target is None:
        return PostCallResult("no webhook")
    if job.state == "delivered":
        return PostCallResult("delivered before", job.tries)
    at = clock.now()
    body = encode(call_document(job.call))
    headers = try_headers(EVENT, call_uuid, job.target.secret, at, body)
    result = sender.post(job.target.url, body, headers)
    tries = job.tries + 1
    outcome = verdict(result, tries, at, max_tries)
    store.record_webhook_try(call_uuid, tries, delivery_state(outcome))
    delay_s = outcome.delay_s if isinstance(outcome, RetryIn) else None
    detail = f"HTTP {result.status_code}" if result.status_code is not None else result.error
    return PostCallResult(delivery_state(outcome), tries, delay_s, detail)
