"""`ManagedClient`: what both TCP adapters of the seam share, so the two differ only in their
transport.

Shared here: the constructor and its options, the commands (``api``, ``command``,
``bgapi``) over one primitive, the reconnect loop with its backoff, the table of
background jobs, the connection bookkeeping (connected, closing, connections made, last event
heard), event delivery and the watchdog's rule. A transport supplies ``start``, ``close``,
``drop_connection``, `_init_transport` (its own state), `_submit` (send one command line;
a future of the switch's reply) and how to read a reply (`_reply_text`, `_reply_body`).

Invariants kept here for both: a command never waits longer than its timeout; a job is
registered before its ``bgapi`` is sent, and fails at once when it cannot be sent; the
backoff between failed connection attempts doubles from ``backoff_initial_s`` up to
``backoff_max_s`` (each pause drawn from its upper half) and starts over once connected.
"""

from __future__ import annotations

import logging
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Generic, Self, TypeVar

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.esl.adapters.jobs import BackgroundJobs
from dialer.esl.events import CommandResult, Event
from dialer.esl.ports import (
    ConnectHandler,
    EslDisconnected,
    EslError,
    EslTimeout,
    EventHandler,
    Subscription,
    check_command,
)

log = logging.getLogger(__name__)

ReplyT = TypeVar("ReplyT")
_ConnT = TypeVar("_ConnT")


class ManagedClient(ABC, Generic[ReplyT]):
    """A `dialer.esl.ports.ManagedEslConnection` but for its transport; ``ReplyT`` is the
    transport's reply to one command. ``start()`` then use; ``close()`` at the end."""

    def __init__(
        self,
        node: str,
        host: str,
        port: int,
        password: str,
        subscription: Subscription,
        on_event: EventHandler,
        on_connect: ConnectHandler | None = None,
        *,
        connect_timeout_s: float = 5.0,
        heartbeat_timeout_s: float = 60.0,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 10.0,
        clock: Clock = SYSTEM_CLOCK,
        ids: IdSource = UUID_IDS,
    ) -> None:
        self._node = node
        self._host = host
        self._port = port
        self._password = password
        self._subscription = subscription
        self._on_event = on_event
        self._on_connect = on_connect
        self._connect_timeout_s = connect_timeout_s
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._clock = clock
        self._ids = ids
        self._jobs = BackgroundJobs(node)
        self._connected = threading.Event()
        self._closing = threading.Event()
        self._last_rx = clock.monotonic_s()
        self._failure: str | None = None
        self.connects = 0
        self._init_transport()

    # --- what a transport supplies ---------------------------------------------------------
    @abstractmethod
    def _init_transport(self) -> None:
        """Set up the transport's own state (nothing runs yet)."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def drop_connection(self) -> None:
        """Force a reconnect (used by the watchdog; tests use it to cut the line)."""

    @abstractmethod
    def _submit(self, line: str) -> Future[ReplyT]:
        """Send ``line`` (without its blank-line end); the future gets the switch's reply in
        command order, or fails with `EslDisconnected` if the line drops first. Raises
        `EslDisconnected` when not connected."""

    @abstractmethod
    def _reply_text(self, reply: ReplyT) -> str:
        """The ``Reply-Text`` of a ``command/reply``."""

    @abstractmethod
    def _reply_body(self, reply: ReplyT) -> str:
        """The body of an ``api/response``."""

    # --- state -----------------------------------------------------------------------------
    @property
    def node(self) -> str:
        return self._node

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    @property
    def failure(self) -> str | None:
        """Why the client stopped trying to connect, None while it tries (or was closed): a
        process whose client failed cannot reach its switch again and should exit non-zero
        so that its supervisor restarts it."""
        return self._failure

    # --- commands (any thread) -------------------------------------------------------------
    def api(self, command: str, timeout_s: float = 5.0) -> str:
        return self._reply_body(self._call(f"api {check_command(command)}", timeout_s, command))

    def command(self, line: str, timeout_s: float = 5.0) -> str:
        """A bare ESL command (``event``, ``filter``...): its ``Reply-Text``."""
        return self._reply_text(self._call(check_command(line), timeout_s, line))

    def bgapi(self, command: str, timeout_s: float = 60.0) -> Future[CommandResult]:
        check_command(command)
        job_uuid = self._ids.new_id()
        result = self._jobs.add(job_uuid, self._clock.monotonic_s() + timeout_s)
        try:
            ack = self._submit(f"bgapi {command}\nJob-UUID: {job_uuid}")
        except EslError as exc:
            self._jobs.fail(job_uuid, exc)
            return result
        ack.add_done_callback(lambda f: self._on_ack(job_uuid, f))
        return result

    def _on_ack(self, job_uuid: str, ack: Future[ReplyT]) -> None:
        exc = ack.exception()
        if exc is not None:
            self._jobs.fail(job_uuid, exc if isinstance(exc, EslError) else EslError(str(exc)))
        else:
            self._jobs.acknowledged(job_uuid, self._reply_text(ack.result()))

    def _call(self, line: str, timeout_s: float, what: str) -> ReplyT:
        future = self._submit(line)
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            raise EslTimeout(f"{self._node}: no reply to {what[:60]!r} in {timeout_s} s") from None

    # --- the connection's life -------------------------------------------------------------
    def _keep_connected(
        self,
        open_connection: Callable[[], _ConnT],
        serve: Callable[[_ConnT], None],
        pause_s: Callable[[float], object],
    ) -> None:
        """Until closing: ``open_connection()`` (connected, authenticated, subscribed), then
        ``serve`` it until it ends; after a failed attempt, wait with ``pause_s`` (which
        returns early when the client closes) for the backoff.

        Any exception of an attempt or of ``serve`` is logged and followed by a reconnect: a
        switch that sends garbage or a bad frame costs a connection, never the thread. What
        escapes anyway (the loop's own failure) marks the client dead (`failure`)."""
        try:
            self._reconnect_forever(open_connection, serve, pause_s)
        except BaseException as exc:
            self._failure = f"{type(exc).__name__}: {exc}"
            self._connected.clear()
            log.critical("esl %s: connection thread stopped: %s", self._node, self._failure)
            self._jobs.fail_all(EslDisconnected(f"{self._node}: {self._failure}"))

    def _reconnect_forever(
        self,
        open_connection: Callable[[], _ConnT],
        serve: Callable[[_ConnT], None],
        pause_s: Callable[[float], object],
    ) -> None:
        backoff_s = self._backoff_initial_s
        while not self._closing.is_set():
            try:
                conn = open_connection()
            except Exception as exc:
                log.warning("esl %s: connect failed: %s", self._node, _describe(exc))
                pause_s(backoff_s * random.uniform(0.5, 1.0))
                backoff_s = min(backoff_s * 2, self._backoff_max_s)
                continue
            backoff_s = self._backoff_initial_s
            try:
                serve(conn)
            except Exception:
                log.exception("esl %s: connection failed", self._node)
                pause_s(backoff_s * random.uniform(0.5, 1.0))

    def _count_connection(self) -> None:
        """The line is up: commands may go; it counts as heard from now."""
        self._last_rx = self._clock.monotonic_s()
        self._connected.set()
        self.connects += 1

    def _run_on_connect(self) -> None:
        """``on_connect`` on a thread of its own: it may send commands and wait for them."""
        if self._on_connect is not None:
            threading.Thread(
                target=self._on_connect, name=f"esl-{self._node}-onconnect", daemon=True
            ).start()

    def _heard(self) -> None:
        """An event arrived (the watchdog's measure of silence starts over)."""
        self._last_rx = self._clock.monotonic_s()

    def _deliver(self, event: Event) -> None:
        """Complete the job a BACKGROUND_JOB belongs to, then hand the event on; a failing
        handler costs that event only."""
        self._jobs.resolve(event)
        try:
            self._on_event(event)
        except Exception:
            log.exception("esl %s: event handler failed", self._node)

    def _watch_once(self) -> str | None:
        """One watchdog round: fail the jobs past their deadline; the reason to cut the line
        when it has been silent longer than ``heartbeat_timeout_s`` (every subscription has
        HEARTBEAT, so an idle switch still speaks every 20 s)."""
        now_s = self._clock.monotonic_s()
        self._jobs.expire(now_s)
        silent_s = now_s - self._last_rx
        if self._connected.is_set() and silent_s > self._heartbeat_timeout_s:
            return f"no event for {silent_s:.1f} s"
        return None


def _describe(exc: BaseException) -> str:
    """One line for a failed connection attempt: the exception's type and its message."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
