"""Seams of the post-call service: attempt records and deliveries, the HTTP sender, the
disposition's transaction, the record of the calls made.

Each `Protocol` has an in-memory fake in `dialer.postcall.fakes` and a real adapter in
`dialer.postcall.adapters`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dialer.postcall.call_log import CallLine, CallQuery, CallRecord
from dialer.postcall.dispositions import AttemptFacts, DispositionRequest, LeadChange
from dialer.postcall.webhooks import EVENT, AttemptRecord, TryResult, Verdict


@dataclass(frozen=True, slots=True)
class WebhookJob:
    """An ended attempt and its campaign's webhook: ``url`` None when the campaign has
    none; ``tries`` made so far; ``delivered`` once a try succeeded."""

    record: AttemptRecord
    url: str | None
    tries: int = 0
    delivered: bool = False


@dataclass(frozen=True, slots=True)
class PauseJob:
    """The ``campaign.paused`` delivery of the attempt whose end paused its campaign:
    ``url`` None when the campaign has no webhook; ``tries`` and ``delivered`` as above."""

    attempt_id: int
    campaign_id: int
    campaign: str
    url: str | None
    tries: int = 0
    delivered: bool = False


class DeliveryStore(Protocol):
    """Deliveries are kept per attempt and event (``call.ended``, ``campaign.paused``)."""

    def webhook_job(self, attempt_id: int) -> WebhookJob | None:
        """None when there is no such attempt, or it has not ended."""
        ...

    def pause_job(self, call_uuid: str) -> PauseJob | None:
        """The ``campaign.paused`` delivery of the call; None when there is no such call."""
        ...

    def record_try(
        self,
        attempt_id: int,
        url: str,
        result: TryResult,
        verdict: Verdict,
        at: datetime,
        event: str = EVENT,
    ) -> None:
        """Count one more try of the attempt's ``event`` with its result; ``verdict`` gives
        the state (retrying with its next try time, delivered, failed)."""
        ...


class WebhookSender(Protocol):
    def post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> TryResult:
        """POST ``body`` as JSON; never raises for network or HTTP failures."""
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
