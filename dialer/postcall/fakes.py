"""In-memory twins of the post-call seams (`dialer.postcall.ports`), for unit tests; the
contract tests in ``tests/contracts/`` hold each to its real adapter."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from dialer.postcall.call_log import CallLine, CallLogError, CallQuery, CallRecord, matches
from dialer.postcall.dispositions import (
    AttemptFacts,
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
    Delivered,
    RetryIn,
    TryResult,
    Verdict,
    dedupe_key,
    delivery_state,
)


@dataclass
class _Delivery:
    """A delivery as `MemoryDeliveries` keeps it."""

    id: int
    owner: Owner
    event: str
    url: str
    body: bytes
    tries: int = 0
    state: str = "retrying"
    next_try_at: datetime | None = None
    delivered_at: datetime | None = None
    log: list[TryLine] = field(default_factory=list)


@dataclass
class MemoryDeliveries:
    """In-memory `DeliveryStore`: ``jobs`` by attempt id, ``pause_jobs`` and ``api_jobs``
    (ended API calls) by call uuid as given (their ``target`` is the call's webhook,
    whichever URL a try went to; their tries and delivery are read from the deliveries
    kept); ``api_calls`` every API call's row id by call uuid, ended or not; ``owners`` the
    system key of a call placed through the API, by call uuid. ``tries`` logs every try of
    a ``call.ended``, ``pause_tries`` of a ``campaign.paused``."""

    jobs: dict[int, WebhookJob] = field(default_factory=dict)
    tries: list[tuple[Owner, TryResult, Verdict, datetime]] = field(default_factory=list)
    pause_jobs: dict[str, PauseJob] = field(default_factory=dict)
    pause_tries: list[tuple[Owner, TryResult, Verdict, datetime]] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)
    api_jobs: dict[str, ApiCallJob] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    deliveries: dict[int, _Delivery] = field(default_factory=dict)

    def _find(self, owner: Owner, event: str) -> _Delivery | None:
        return next(
            (d for d in self.deliveries.values() if (d.owner, d.event) == (owner, event)),
            None,
        )

    def _counted(self, owner: Owner, event: str) -> tuple[int, bool]:
        found = self._find(owner, event)
        return (0, False) if found is None else (found.tries, found.delivered_at is not None)

    def api_call_job(self, call_uuid: str) -> ApiCallJob | None:
        job = self.api_jobs.get(call_uuid)
        if job is None:
            return None
        tries, delivered = self._counted(job.owner, EVENT)
        return replace(job, tries=tries, delivered=delivered)

    def webhook_job(self, attempt_id: int) -> WebhookJob | None:
        job = self.jobs.get(attempt_id)
        if job is None:
            return None
        tries, delivered = self._counted(attempt_id, EVENT)
        return replace(job, tries=tries, delivered=delivered)

    def pause_job(self, call_uuid: str) -> PauseJob | None:
        job = self.pause_jobs.get(call_uuid)
        if job is None:
            return None
        tries, delivered = self._counted(job.attempt_id, PAUSED_EVENT)
        return replace(job, tries=tries, delivered=delivered)

    def record_try(
        self,
        owner: Owner,
        sent: TrySent,
        result: TryResult,
        verdict: Verdict,
        at: datetime,
        event: str = EVENT,
    ) -> None:
        row = self._find(owner, event)
        if row is None:
            row = _Delivery(len(self.deliveries) + 1, owner, event, sent.url, sent.body)
            self.deliveries[row.id] = row
        row.url = sent.url
        row.tries += 1
        row.state = delivery_state(verdict)
        row.next_try_at = (
            at + timedelta(seconds=verdict.delay_s) if isinstance(verdict, RetryIn) else None
        )
        if isinstance(verdict, Delivered):
            row.delivered_at = at
        if row.delivered_at is not None:
            row.state, row.next_try_at = "delivered", None
        row.log.append(TryLine(at, sent.url, result.status_code, result.error, row.next_try_at))
        log = self.tries if event == EVENT else self.pause_tries
        log.append((owner, result, verdict, at))

    def claim_due(self, now: datetime, lease_s: int, limit: int) -> list[DueTry]:
        due = sorted(
            (d for d in self.deliveries.values()
             if d.state == "retrying" and d.next_try_at is not None and d.next_try_at <= now),
            key=lambda d: (d.next_try_at or now, d.id),
        )[:limit]  # fmt: skip
        for row in due:
            row.next_try_at = now + timedelta(seconds=lease_s)
        return [DueTry(row.id, row.tries) for row in due]

    def retry_job(self, delivery_id: int) -> RetryJob | None:
        row = self.deliveries.get(delivery_id)
        if row is None:
            return None
        call_uuid, target = self._call_of(row)
        return RetryJob(
            row.id, row.owner, call_uuid, row.event, row.body, target, row.tries,
            row.state, row.url,
        )  # fmt: skip

    def _call_of(self, row: _Delivery) -> tuple[str, Target | None]:
        if isinstance(row.owner, ApiCallRef):
            uuid, api_job = next((u, j) for u, j in self.api_jobs.items() if j.owner == row.owner)
            return uuid, api_job.target
        job = self.jobs.get(row.owner)
        if row.event == EVENT and job is not None:
            return job.record.call_uuid, job.target
        uuid, paused = next((u, p) for u, p in self.pause_jobs.items() if p.attempt_id == row.owner)
        return uuid, paused.target

    def _owner_of(self, call_uuid: str) -> Owner | None:
        if call_uuid in self.api_calls:
            return ApiCallRef(self.api_calls[call_uuid])
        return next(
            (a for a, j in self.jobs.items() if j.record.call_uuid == call_uuid),
            self.pause_jobs[call_uuid].attempt_id if call_uuid in self.pause_jobs else None,
        )

    def call_deliveries(self, call_uuid: str) -> CallDeliveries | None:
        owner = self._owner_of(call_uuid)
        if owner is None:
            return None
        rows = sorted(
            (d for d in self.deliveries.values() if d.owner == owner),
            key=lambda d: (d.event != EVENT, d.id),
        )
        logs = [
            DeliveryLog(
                d.event, dedupe_key(d.event, call_uuid), d.state, d.url, list(d.log),
                d.next_try_at, d.delivered_at,
            )
            for d in rows
        ]  # fmt: skip
        return CallDeliveries(call_uuid, self.owners.get(call_uuid), logs)

    def state(self, owner: Owner) -> str:
        found = self._find(owner, EVENT)
        return "none" if found is None else found.state


@dataclass
class ScriptedSender:
    """`WebhookSender` answering from ``results`` in order (the last one repeats); ``sent``
    holds each body as its receiver would decode it, ``raw`` the bytes as posted."""

    results: list[TryResult]
    sent: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> TryResult:
        self.raw.append(bytes(body))
        self.sent.append((url, json.loads(body), dict(headers)))
        return self.results[min(len(self.sent), len(self.results)) - 1]


@dataclass
class MemoryDispositions:
    """In-memory `DispositionStore`: ``facts`` by call uuid (the attempts of one lead share
    its ``latest_call_uuid``); ``applied`` what was stored."""

    facts: dict[str, AttemptFacts] = field(default_factory=dict)
    applied: list[tuple[DispositionRequest, LeadChange, datetime]] = field(default_factory=list)

    def dispose(self, request: DispositionRequest, decide: Decide, at: datetime) -> LeadChange:
        facts = self.facts.get(request.call_uuid)
        if facts is None:
            raise DispositionError(f"no call with uuid {request.call_uuid}")
        change = decide(facts)
        self.facts = {
            uuid: replace(other, lead_status=change.status)
            if other.latest_call_uuid == facts.latest_call_uuid
            else other
            for uuid, other in self.facts.items()
        }
        self.facts[request.call_uuid] = replace(
            self.facts[request.call_uuid], disposition=request.code.value
        )
        self.applied.append((request, change, at))
        return change


@dataclass
class MemoryCallLog:
    """In-memory `CallLog`: ``records`` by call uuid, in the order the calls were
    originated; ``campaigns`` the names of the campaigns that exist."""

    records: dict[str, CallRecord] = field(default_factory=dict)
    campaigns: set[str] = field(default_factory=set)

    def recent_calls(self, query: CallQuery) -> list[CallLine]:
        if query.campaign is not None and query.campaign not in self.campaigns:
            raise CallLogError(f"no campaign named {query.campaign!r}")
        lines = [r.line for r in reversed(self.records.values()) if matches(r.line, query)]
        # stable: of two calls originated at the same time, the later added comes first
        lines.sort(key=lambda line: line.started_at, reverse=True)
        return lines[: query.limit]

    def call_record(self, call_uuid: str) -> CallRecord | None:
        return self.records.get(call_uuid)
