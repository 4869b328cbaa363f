"""Seams of the post-call service: attempt records and deliveries, the HTTP sender, the
disposition's transaction, the record of the calls made.

Each `Protocol` has an in-memory fake in `dialer.postcall.fakes` and a real adapter in
`dialer.postcall.adapters`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.postcall.call_log import CallLine, CallQuery, CallRecord
from dialer.postcall.dispositions import AttemptFacts, DispositionRequest, LeadChange
from dialer.postcall.webhooks import EVENT, AttemptRecord, TryResult, Verdict


@dataclass(frozen=True, slots=True)
class Target:
    """Where a call's webhooks go: ``url`` and the ``secret`` each try is signed with (the
    campaign's, or the webhook of the system API key that placed the call)."""

    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class ApiCallRef:
    """An API call (its ``api_calls`` row id) as the call a delivery belongs to."""

    api_call_id: int


Owner = int | ApiCallRef
"""The call a delivery belongs to: a campaign call's attempt (its id) or an API call."""


@dataclass(frozen=True, slots=True)
class WebhookJob:
    """An ended attempt and its webhook: ``target`` None when it has none; ``tries`` made
    so far; ``delivered`` once a try succeeded."""

    record: AttemptRecord
    target: Target | None
    tries: int = 0
    delivered: bool = False


@dataclass(frozen=True, slots=True)
class PauseJob:
    """The ``campaign.paused`` delivery of the attempt whose end paused its campaign:
    ``target`` None when the campaign has no webhook; ``tries`` and ``delivered`` as above."""

    attempt_id: int
    campaign_id: int
    campaign: str
    target: Target | None
    tries: int = 0
    delivered: bool = False


@dataclass(frozen=True, slots=True)
class ApiCallJob:
    """An ended API call's ``call.ended`` delivery: ``target`` the webhook of the system key
    that placed the call (None: it has none); ``tries`` and ``delivered`` as `WebhookJob`'s."""

    owner: ApiCallRef
    target: Target | None
    tries: int = 0
    delivered: bool = False


@dataclass(frozen=True, slots=True)
class DueTry:
    """A delivery claimed for its next try, with the ``tries`` it had when claimed: a try
    made for a claim whose count has moved on since is a duplicate and is not made."""

    delivery_id: int
    tries: int


@dataclass(frozen=True, slots=True)
class RetryJob:
    """A delivery's next try: the call it belongs to (``owner``), the ``body`` its first try
    sent (sent again unchanged; empty for a delivery first tried before bodies were kept),
    the call's current ``target`` (None: its webhook was removed), ``tries`` so far,
    ``state`` (``retrying``, ``delivered``, ``failed``) and the URL of the last try."""

    delivery_id: int
    owner: Owner
    call_uuid: str
    event: str
    body: bytes
    target: Target | None
    tries: int
    state: str
    last_url: str


@dataclass(frozen=True, slots=True)
class TryLine:
    """One try of a delivery: when, to which URL, the HTTP status (None: no response), the
    error (response body or network error, "" on success), the next try planned after it
    (None: none)."""

    tried_at: datetime
    url: str
    status_code: int | None
    error: str
    next_try_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    """A delivery of one event of a call: its state and every try, oldest first."""

    event: str
    delivery: str
    state: str
    url: str
    tries: list[TryLine]
    next_try_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class CallDeliveries:
    """The deliveries of a call (``call.ended`` first); ``api_key_id`` the public id of the
    system key that placed it, None for a campaign call."""

    call_uuid: str
    api_key_id: str | None
    deliveries: list[DeliveryLog]


@dataclass(frozen=True, slots=True)
class TrySent:
    """What one try sent: the ``url`` and the exact ``body`` (kept for the retries)."""

    url: str
    body: bytes


class DeliveryStore(Protocol):
    """Deliveries are kept per call and event: a campaign call's attempt (``call.ended``,
    ``campaign.paused``) or an API call (``call.ended``); a retrying delivery is due at its
    ``next_try_at``, which is all a restarted worker needs."""

    def webhook_job(self, attempt_id: int) -> WebhookJob | None:
        """None when there is no such attempt, or it has not ended."""
        ...

    def api_call_job(self, call_uuid: str) -> ApiCallJob | None:
        """The ``call.ended`` delivery of the API call; None when there is no such API
        call, or it has not ended."""
        ...

    def pause_job(self, call_uuid: str) -> PauseJob | None:
        """The ``campaign.paused`` delivery of the call; None when there is no such call."""
        ...

    def record_try(
        self,
        owner: Owner,
        sent: TrySent,
        result: TryResult,
        verdict: Verdict,
        at: datetime,
        event: str = EVENT,
    ) -> None:
        """Count one more try of the ``event`` of ``owner``'s call and log it with its result;
        ``verdict`` gives the state (retrying, due at ``at`` + its delay; delivered;
        failed). The first try's body is kept; a later try's is not stored again."""
        ...

    def claim_due(self, now: datetime, lease_s: int, limit: int) -> list[DueTry]:
        """At most ``limit`` retrying deliveries due at ``now`` (earliest first), each made
        due again ``lease_s`` later in the same step: a claim whose try is never recorded
        (the worker died) comes back, and two sweeps never claim one delivery twice."""
        ...

    def retry_job(self, delivery_id: int) -> RetryJob | None:
        """None when there is no such delivery."""
        ...

    def call_deliveries(self, call_uuid: str) -> CallDeliveries | None:
        """The deliveries of the campaign call or API call with that uuid; None when there
        is neither."""
        ...


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> TryResult:
        """POST ``body`` exactly as given, with ``headers``; never raises for network or
        HTTP failures."""
        ...


Decide = Callable[[AttemptFacts], LeadChange]


class DispositionStore(Protocol):
    def dispose(self, request: DispositionRequest, decide: Decide, at: datetime) -> LeadChange:
        """In one transaction: read the attempt's facts (`DispositionError` for an unknown
        call), ``decide``, store the disposition on the attempt and move the lead."""
        ...


class CallLog(Protocol):
    def recent_calls(self, query: CallQuery) -> list[CallLine]:
        """The calls ``query`` selects, newest first (by origination time, the later
        originate first on a tie), at most ``query.limit``; `CallLogError` when
        ``query.campaign`` names no campaign."""
        ...

    def call_record(self, call_uuid: str) -> CallRecord | None:
        """None when there is no call with that uuid."""
        ...
