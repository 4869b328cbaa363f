"""The webhooks of a campaign: ``call.ended`` for each ended attempt, ``campaign.paused``
when the abandon safety stop paused the campaign; their JSON documents and what to do after
each try. Pure.

Delivery is at least once: a try whose result was not recorded (the worker died) is made
again, so receivers dedupe on the ``X-Dialer-Delivery`` header (a ``call.ended``: its
``call_uuid``; a ``campaign.paused``: ``<call_uuid>:campaign.paused``, the call whose end
fired the stop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EVENT = "call.ended"
PAUSED_EVENT = "campaign.paused"
MAX_TRIES = 6
"""The first try and 5 retries, after 2, 4, 8, 16 and 32 s."""
FIRST_RETRY_DELAY_S = 2
# A timeout or a throttled receiver may succeed later; other client errors will not.
RETRIED_CLIENT_ERRORS = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """An ended attempt as the webhook reports it (times aware UTC, or None);
    ``hangup_cause_q850`` and ``sip_status`` as the switch gave them, None when it gave none."""

    attempt_id: int
    call_uuid: str
    campaign_id: int
    campaign: str
    lead_id: int
    number_e164: str
    attempt_no: int
    outcome: str | None
    abandoned: bool
    originated_at: datetime
    answered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None
    agent: str | None
    trunk: str | None
    hangup_cause: str | None
    hangup_cause_q850: int | None = None
    sip_status: str | None = None
    ext: Any = None  # the API caller's opaque JSON, returned unchanged (None: a campaign call)


@dataclass(frozen=True, slots=True)
class PauseRecord:
    """A campaign the safety stop paused: the call whose end fired it, why, when (aware)."""

    call_uuid: str
    campaign_id: int
    campaign: str
    reason: str
    paused_at: datetime


@dataclass(frozen=True, slots=True)
class TryResult:
    """One POST: ``status_code`` None when no HTTP response came (``error`` says why)."""

    status_code: int | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class RetryIn:
    delay_s: int


@dataclass(frozen=True, slots=True)
class GiveUp:
    reason: str


Verdict = Delivered | RetryIn | GiveUp


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def document(record: AttemptRecord) -> dict[str, Any]:
    """The JSON body POSTed for ``record``; times ISO-8601 in UTC (``+00:00``)."""
    return {
        "event": EVENT,
        "call_uuid": record.call_uuid,
        "campaign": record.campaign,
        "campaign_id": record.campaign_id,
        "lead_id": record.lead_id,
        "number": record.number_e164,
        "attempt_no": record.attempt_no,
        "outcome": record.outcome,
        "abandoned": record.abandoned,
        "originated_at": _iso(record.originated_at),
        "answered_at": _iso(record.answered_at),
        "connected_at": _iso(record.connected_at),
        "ended_at": _iso(record.ended_at),
        "agent": record.agent,
        "trunk": record.trunk,
        "hangup_cause": record.hangup_cause,
        "hangup_cause_q850": record.hangup_cause_q850,
        "sip_status": record.sip_status,
        "ext": record.ext,
    }


def headers(record: AttemptRecord) -> dict[str, str]:
    return {"X-Dialer-Event": EVENT, "X-Dialer-Delivery": record.call_uuid}


def pause_document(record: PauseRecord) -> dict[str, Any]:
    """The JSON body POSTed when ``record``'s campaign was paused; time in UTC."""
    return {
        "event": PAUSED_EVENT,
        "campaign": record.campaign,
        "campaign_id": record.campaign_id,
        "status": "paused",
        "reason": record.reason,
        "paused_at": _iso(record.paused_at),
        "call_uuid": record.call_uuid,
    }


def pause_headers(record: PauseRecord) -> dict[str, str]:
    return {
        "X-Dialer-Event": PAUSED_EVENT,
        "X-Dialer-Delivery": f"{record.call_uuid}:{PAUSED_EVENT}",
    }


def verdict(result: TryResult, tries: int, max_tries: int = MAX_TRIES) -> Verdict:
    """After the ``tries``-th try (counting from 1): delivered, retry after a delay that
    doubles each time (2, 4, 8, ... s), or give up."""
    code = result.status_code
    if code is not None and 200 <= code < 300:
        return Delivered()
    if code is not None and 300 <= code < 500 and code not in RETRIED_CLIENT_ERRORS:
        return GiveUp(f"HTTP {code} is not retried")
    if tries >= max_tries:
        return GiveUp(f"gave up after {tries} tries")
    return RetryIn(FIRST_RETRY_DELAY_S * 2 ** (tries - 1))


def delivery_state(verdict: Verdict) -> str:
    """The delivery row's ``state`` after a try with this verdict."""
    if isinstance(verdict, RetryIn):
        return "retrying"
    return "delivered" if isinstance(verdict, Delivered) else "failed"
