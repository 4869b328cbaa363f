"""In-memory twins of the post-call seams (`dialer.postcall.ports`), for unit tests; the
contract tests in ``tests/contracts/`` hold each to its real adapter."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from dialer.postcall.call_log import CallLine, CallLogError, CallQuery, CallRecord, matches
from dialer.postcall.dispositions import (
    AttemptFacts,
    DispositionError,
    DispositionRequest,
    LeadChange,
)
from dialer.postcall.ports import Decide, PauseJob, WebhookJob
from dialer.postcall.webhooks import EVENT, Delivered, TryResult, Verdict, delivery_state


@dataclass
class MemoryDeliveries:
    """In-memory `DeliveryStore`: ``jobs`` by attempt id and ``pause_jobs`` by call uuid
    (their ``url`` is the campaign's webhook, whichever URL a try went to; once delivered,
    always delivered); ``tries`` logs every try of a ``call.ended``, ``pause_tries`` of a
    ``campaign.paused``."""

    jobs: dict[int, WebhookJob] = field(default_factory=dict)
    tries: list[tuple[int, TryResult, Verdict, datetime]] = field(default_factory=list)
    pause_jobs: dict[str, PauseJob] = field(default_factory=dict)
    pause_tries: list[tuple[int, TryResult, Verdict, datetime]] = field(default_factory=list)

    def webhook_job(self, attempt_id: int) -> WebhookJob | None:
        return self.jobs.get(attempt_id)

    def pause_job(self, call_uuid: str) -> PauseJob | None:
        return self.pause_jobs.get(call_uuid)

    def record_try(
        self,
        attempt_id: int,
        url: str,
        result: TryResult,
        verdict: Verdict,
        at: datetime,
        event: str = EVENT,
    ) -> None:
        if event != EVENT:
            uuid = next(u for u, j in self.pause_jobs.items() if j.attempt_id == attempt_id)
            paused = self.pause_jobs[uuid]
            done = paused.delivered or isinstance(verdict, Delivered)
            self.pause_jobs[uuid] = replace(paused, tries=paused.tries + 1, delivered=done)
            self.pause_tries.append((attempt_id, result, verdict, at))
            return
        job = self.jobs[attempt_id]
        delivered = job.delivered or isinstance(verdict, Delivered)
        self.jobs[attempt_id] = replace(job, tries=job.tries + 1, delivered=delivered)
        self.tries.append((attempt_id, result, verdict, at))

    def state(self, attempt_id: int) -> str:
        verdicts = [v for a, _, v, _ in self.tries if a == attempt_id]
        return delivery_state(verdicts[-1]) if verdicts else "none"


@dataclass
class ScriptedSender:
    """`WebhookSender` answering from ``results`` in order (the last one repeats); ``sent``
    holds each body as its receiver would decode it. A body that is not JSON raises
    ``TypeError`` and is not sent, as with httpx."""

    results: list[TryResult]
    sent: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> TryResult:
        self.sent.append((url, json.loads(json.dumps(body)), dict(headers)))
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
