"""The webhooks of a call: ``call.ended`` for each ended attempt, ``campaign.paused``
when the abandon safety stop paused the campaign; their JSON documents, the headers of a
try, and what to do after each try (the retry schedule, ``Retry-After``). Pure.

Delivery is at least once: a try whose result was not recorded (the worker died) is made
again, so receivers dedupe on the ``X-Dialer-Delivery`` header (a ``call.ended``: its
``call_uuid``; a ``campaign.paused``: ``<call_uuid>:campaign.paused``, the call whose end
fired the stop).

Retries span hours: a failed try is followed by the next one after `RETRY_DELAYS_S` (30 s
up to 12 h; `MAX_TRIES` tries over about 27.7 hours), or later when the receiver's
``Retry-After`` asks for more (capped at `MAX_RETRY_AFTER_S`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

EVENT = "call.ended"
PAUSED_EVENT = "campaign.paused"
TEST_EVENT = "webhook.test"
RETRY_DELAYS_S = (30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200)
"""The wait after the n-th failed try (n from 1): 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h,
8 h, 12 h; 99,750 s (27.7 h) from the first try to the last."""
MAX_TRIES = len(RETRY_DELAYS_S) + 1
MAX_RETRY_AFTER_S = 43_200
"""A receiver's ``Retry-After`` is honoured up to 12 hours (a longer one is cut to this)."""
MAX_URL_CHARS = 2048
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
    ext: Any = None
    """The ``ext`` JSON a business system gave with an API call, returned unchanged; None for
    campaign calls."""
    billsec_s: int | None = None
    """Seconds billed from answer, from the call's CDR; None until the CDR is stored."""
    cost: str | None = None
    """What the call cost by its trunk's rate deck (decimal text), from the CDR; None until
    the CDR is stored or when the deck has no rate for the number."""
    recorded: bool = False
    """The campaign records its calls: an answered call's webhook waits for its recording."""


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
    """One POST: ``status_code`` None when no HTTP response came (``error`` says why);
    ``retry_after`` the response's ``Retry-After`` header as sent ("" when absent)."""

    status_code: int | None
    error: str = ""
    retry_after: str = ""


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


def document(record: AttemptRecord, recording_url: str | None = None) -> dict[str, Any]:
    """The JSON body POSTed for ``record``; times ISO-8601 in UTC (``+00:00``);
    ``recording_url`` the call's recording (a URL that expires), None when it has none."""
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
        "billsec": record.billsec_s,
        "cost": record.cost,
        "recording": recording_url,
        "ext": record.ext,
    }


RECORDING_POLL_S = 10
"""How often a webhook waiting for its call's CDR and recording looks again."""


def recording_wait_s(
    record: AttemptRecord, has_recording: bool, now: datetime, wait_s: float
) -> int | None:
    """Seconds to wait before the first try of ``record``'s webhook, None to send now.

    An answered call of a recording campaign is sent once both its CDR and its recording are
    stored (one webhook carries both), or once ``wait_s`` passed since it ended (an upload
    that never came: sent without it); every other call is sent at once."""
    if not record.recorded or record.answered_at is None:
        return None
    if has_recording and record.billsec_s is not None:
        return None
    ended = record.ended_at or now
    left_s = (ended - now).total_seconds() + wait_s
    if left_s <= 0:
        return None
    return max(1, min(RECORDING_POLL_S, math.ceil(left_s)))


def dedupe_key(event: str, call_uuid: str) -> str:
    """The ``X-Dialer-Delivery`` of the call's ``event``: the same on every try of it."""
    return call_uuid if event == EVENT else f"{call_uuid}:{event}"


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


def encode(body: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed): compact UTF-8 JSON. ``TypeError`` for a value
    JSON cannot hold, ``ValueError`` for NaN or infinity, so nothing unsendable is signed."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def retry_after_s(value: str, at: datetime) -> int | None:
    """Seconds to wait that a ``Retry-After`` header asks for, as whole seconds (RFC 9110
    10.2.3: delay-seconds, or an HTTP-date taken against ``at``, the time of the try; a
    date already past asks for 0); None when absent or not understood."""
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - at).total_seconds() + 0.999))


def verdict(result: TryResult, tries: int, at: datetime, max_tries: int = MAX_TRIES) -> Verdict:
    """After the ``tries``-th try (counting from 1) made at ``at``: delivered, retry after
    the scheduled delay (`RETRY_DELAYS_S`) or the ``Retry-After`` asked for when longer
    (capped at `MAX_RETRY_AFTER_S`), or give up."""
    code = result.status_code
    if code is not None and 200 <= code < 300:
        return Delivered()
    if code is not None and 300 <= code < 500 and code not in RETRIED_CLIENT_ERRORS:
        return GiveUp(f"HTTP {code} is not retried")
    if tries >= max_tries:
        return GiveUp(f"gave up after {tries} tries")
    scheduled_s = RETRY_DELAYS_S[min(tries, len(RETRY_DELAYS_S)) - 1]
    asked_s = retry_after_s(result.retry_after, at) if code is not None else None
    if asked_s is None:
        return RetryIn(scheduled_s)
    return RetryIn(max(scheduled_s, min(asked_s, MAX_RETRY_AFTER_S)))


def check_url(url: str) -> str:
    """``url`` when it is an ``http://`` or ``https://`` URL with a host (at most
    `MAX_URL_CHARS`); ``ValueError`` saying why otherwise."""
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"a webhook URL is at most {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    return url


def delivery_state(verdict: Verdict) -> str:
    """The delivery row's ``state`` after a try with this verdict."""
    if isinstance(verdict, RetryIn):
        return "retrying"
    return "delivered" if isinstance(verdict, Delivered) else "failed"
