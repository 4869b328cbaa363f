"""Background jobs in flight on one connection: ``bgapi`` futures keyed by the Job-UUID the
client sent, resolved by the BACKGROUND_JOB event that carries it.

Held by `dialer.esl.adapters.managed.ManagedClient`, so by both adapters over TCP.
Thread-safe. Invariants: a job's future completes exactly once (result, refusal, timeout or
disconnect); a job is registered before its command is sent, so its BACKGROUND_JOB can never
arrive unmatched.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from typing import Any

from dialer.esl.events import CommandResult, Event, parse_result
from dialer.esl.ports import EslError, EslRefused, EslTimeout


def fail_future(future: Future[Any], exc: BaseException) -> None:
    """Fail ``future`` with ``exc`` unless it already completed."""
    with contextlib.suppress(Exception):
        if not future.done():
            future.set_exception(exc)


class _Job:
    __slots__ = ("deadline_s", "future")

    def __init__(self, future: Future[CommandResult], deadline_s: float) -> None:
        self.future = future
        self.deadline_s = deadline_s


class BackgroundJobs:
    """The jobs of one connection; ``deadline_s`` values are on the client's monotonic clock."""

    def __init__(self, node: str) -> None:
        self._node = node
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}

    def add(self, job_uuid: str, deadline_s: float) -> Future[CommandResult]:
        """Register a job before sending its ``bgapi``; the returned future is its result."""
        future: Future[CommandResult] = Future()
        with self._lock:
            self._jobs[job_uuid] = _Job(future, deadline_s)
        return future

    def fail(self, job_uuid: str, exc: EslError) -> None:
        """The job ends with ``exc`` (its command could not be sent or was refused)."""
        with self._lock:
            job = self._jobs.pop(job_uuid, None)
        if job is not None:
            fail_future(job.future, exc)

    def acknowledged(self, job_uuid: str, reply_text: str) -> None:
        """The ``command/reply`` to the ``bgapi``: anything but ``+OK ...`` refuses the job."""
        if not reply_text.startswith("+OK"):
            self.fail(job_uuid, EslRefused(reply_text))

    def resolve(self, event: Event) -> None:
        """Complete the job a BACKGROUND_JOB event belongs to (other events are ignored)."""
        if event.name != "BACKGROUND_JOB":
            return
        with self._lock:
            job = self._jobs.pop(event.get("Job-UUID"), None)
        if job is not None and not job.future.done():
            job.future.set_result(parse_result(event.body or ""))

    def expire(self, now_s: float) -> None:
        """Fail with `EslTimeout` every job whose deadline is at or before ``now_s``."""
        with self._lock:
            expired = [k for k, job in self._jobs.items() if job.deadline_s <= now_s]
            jobs = [self._jobs.pop(k) for k in expired]
        for job in jobs:
            fail_future(job.future, EslTimeout(f"{self._node}: background job timed out"))

    def fail_all(self, exc: EslError) -> None:
        """Fail every job in flight (the connection dropped)."""
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            fail_future(job.future, exc)
