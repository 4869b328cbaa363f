"""The ``call.ended`` webhook of an API call: its document (with the caller's ``ext``,
unchanged) and its first try. It goes to the webhook of the system key that placed the call
(`dialer keys webhook`) and is kept in the one delivery store of every webhook
(`dialer.postcall.ports.DeliveryStore`, owner `ApiCallRef`): signed, retried by beat's sweep
on the same schedule and ``Retry-After`` rules, listed by ``GET /v1/calls/{uuid}/deliveries``
as a campaign call's.

Delivery is at least once; receivers dedupe on ``X-Dialer-Delivery`` (the call uuid).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dialer.apicalls.ports import ApiCall, ApiCallStore
from dialer.postcall.service import PostCallDeps, PostCallResult, recording_url, try_once
from dialer.postcall.webhooks import EVENT, encode

__all__ = ["call_document", "deliver_call_webhook"]


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def call_document(call: ApiCall, recording_url: str | None = None) -> dict[str, Any]:
    """The JSON body POSTed when ``call`` ended; times ISO-8601 in UTC; ``recording_url``
    the call's recording (a URL that expires), None when it has none."""
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
        "recording": recording_url,
        "ext": call.ext,
    }


def deliver_call_webhook(call_uuid: str, calls: ApiCallStore, deps: PostCallDeps) -> PostCallResult:
    """Make the first try at the ended API call's ``call.ended`` and record it; a failed try
    is left due at its next try time for the sweep (`dialer.postcall.service.retry_delivery`).
    ``state`` as `dialer.postcall.service.deliver_webhook`'s (``no attempt``: no such ended
    API call). Idempotent: nothing is sent once a try is recorded."""
    job = deps.store.api_call_job(call_uuid)
    call = calls.get(call_uuid) if job is not None else None
    if job is None or call is None:
        return PostCallResult("no attempt")
    if job.target is None:
        return PostCallResult("no webhook")
    if job.delivered:
        return PostCallResult("delivered before", job.tries)
    if job.tries:
        return PostCallResult("tried before", job.tries)
    body = encode(call_document(call, recording_url(deps, call_uuid)))
    return try_once(deps, job.owner, call_uuid, EVENT, job.target, 0, body)
