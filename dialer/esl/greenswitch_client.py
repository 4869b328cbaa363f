"""`GreenswitchClient`: a `dialer.esl.seam.ManagedEslConnection` over greenswitch, for
deployments whose workers run under gevent (docs/esl.md says when to choose it).

greenswitch gives the transport: the inbound connection and its authentication
(``InboundESL.connect``), commands with their replies matched in order (``send``) and the
greenlet that reads the socket. What the seam needs beyond it is done here, over greenswitch's
public methods:

* event bodies: greenswitch 0.0.19 URL-decodes a whole event body and reads it as
  ``Name: value`` lines, which turns an exact ``a%2Cb`` into ``a,b`` and cannot read
  ``text/event-json`` at all; `GreenswitchConnection.handle_event` reads the bodies of event frames
  and decodes them with `dialer.esl.events`, the project's one decoder;
* Job-UUID matching of ``bgapi`` results, timeouts, reconnecting with backoff and the
  HEARTBEAT watchdog, with the same rules as `dialer.esl.client.EslClient`.

gevent without monkey-patching: greenlets run only on the thread that owns their hub, and
gevent objects must not be used from another thread. So every client owns one thread whose
hub runs all the greenlets of its connection; the public methods, callable from any thread,
hand their work to that hub (``loop.run_callback_threadsafe``) and wait on a
`concurrent.futures.Future`. Under ``gevent.monkey.patch_all()`` that thread is a greenlet
of the process's one hub and waiting on the future yields to it: the same code serves both.

Invariants (as `EslClient`): a command never waits longer than its timeout; when the line
drops every pending command and job fails with `EslDisconnected` at once; commands issued
while down fail at once.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import gevent
import gevent.event
import gevent.monkey
import gevent.pool
import greenswitch
from greenswitch.esl import NotConnectedError

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.esl.events import EVENT_TYPES, CommandResult, Event, EventParseError, parse_event
from dialer.esl.frames import Frame
from dialer.esl.jobs import BackgroundJobs, fail_future
from dialer.esl.seam import (
    ConnectHandler,
    EslDisconnected,
    EslError,
    EslRefused,
    EslTimeout,
    EventHandler,
    Subscription,
    check_command,
)

log = logging.getLogger(__name__)
_WATCH_PERIOD_S = 0.1
_CLOSE_WAIT_S = 2.0


class GreenswitchConnection(greenswitch.InboundESL):  # type: ignore[misc]
    """One greenswitch inbound connection whose event frames `dialer.esl.events` decodes.

    ``closed`` is set when the reading greenlet ends (EOF, error or ``stop``).
    """

    def __init__(
        self, host: str, port: int, password: str, timeout_s: float, on_event: EventHandler
    ) -> None:
        super().__init__(host, port, password, timeout=timeout_s)
        self._deliver = on_event
        self.closed = gevent.event.Event()

    def handle_event(self, event: Any) -> None:
        ctype = event.headers.get("Content-Type")
        if ctype is None:
            return  # a blank line between two frames carries nothing
        if ctype not in EVENT_TYPES:
            super().handle_event(event)
            return
        length = int(event.headers["Content-Length"])
        body = self.sock_file.read(length)
        if len(body) < length:
            return  # the line closed mid-frame: the next read sees the end of the stream
        try:
            decoded = parse_event(Frame((("Content-Type", ctype),), body))
        except EventParseError as exc:
            # one bad event body is not a broken stream: framing is intact
            log.error("esl %s:%s: dropped an event: %s", self.host, self.port, exc)
            return
        self._deliver(decoded)

    def receive_events(self) -> None:
        try:
            super().receive_events()
        finally:
            self.closed.set()


class GreenswitchClient:
    """`ManagedEslConnection` over greenswitch. ``start()`` then use; ``close()`` at the end."""

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
        # a connection only hears from an idle switch when it asked for HEARTBEAT
        self._watch_silence = bool({"HEARTBEAT", "ALL"} & set(subscription.events))
        self._jobs = BackgroundJobs(node)
        self._connected = threading.Event()
        self._closing = threading.Event()
        self._hub_ready = threading.Event()
        self._hub_lock = threading.Lock()  # the hub is freed when its thread ends
        self._thread: threading.Thread | None = None
        self._last_rx = clock.monotonic_s()
        self.connects = 0
        # owned by the hub thread, set when it starts
        self._hub: Any = None
        self._wake: Any = None
        self._calls: Any = None
        self._conn: GreenswitchConnection | None = None
        self._cut_reason = ""

    # --- lifecycle (any thread) ------------------------------------------------------------
    @property
    def node(self) -> str:
        return self._node

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> GreenswitchClient:
        self._thread = threading.Thread(
            target=self._run, name=f"esl-{self._node}-greenswitch", daemon=True
        )
        self._thread.start()
        self._hub_ready.wait()
        return self

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def close(self) -> None:
        self._closing.set()
        thread = self._thread
        if thread is None or not self._to_hub(self._wake.set):
            return
        if thread is not threading.current_thread():
            thread.join(timeout=_CLOSE_WAIT_S + 3)

    def drop_connection(self) -> None:
        """Force a reconnect (used by the watchdog; tests use it to cut the line)."""
        if self._connected.is_set():
            self._to_hub(self._cut, "dropped")

    def _to_hub(self, fn: Callable[..., None], *args: Any) -> bool:
        """Run ``fn(*args)`` on the hub thread; False when that thread has ended."""
        with self._hub_lock:
            if self._hub is None:
                return False
            self._hub.loop.run_callback_threadsafe(fn, *args)
            return True

    # --- commands (any thread) -------------------------------------------------------------
    def api(self, command: str, timeout_s: float = 5.0) -> str:
        reply = self._call(f"api {check_command(command)}", timeout_s, command)
        return str(reply.data)

    def command(self, line: str, timeout_s: float = 5.0) -> str:
        """A bare ESL command (``event``, ``filter``...): its ``Reply-Text``."""
        reply = self._call(check_command(line), timeout_s, line)
        return str(reply.headers.get("Reply-Text", ""))

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

    def _on_ack(self, job_uuid: str, ack: Future[Any]) -> None:
        exc = ack.exception()
        if exc is not None:
            self._jobs.fail(job_uuid, exc if isinstance(exc, EslError) else EslError(str(exc)))
        else:
            self._jobs.acknowledged(job_uuid, str(ack.result().headers.get("Reply-Text", "")))

    def _submit(self, line: str) -> Future[Any]:
        """Hand ``line`` to the hub; the future gets greenswitch's reply object."""
        if not self._connected.is_set():
            raise EslDisconnected(f"{self._node}: not connected")
        future: Future[Any] = Future()
        if not self._to_hub(self._spawn_send, line, future):
            raise EslDisconnected(f"{self._node}: client closed")
        return future

    def _call(self, line: str, timeout_s: float, what: str) -> Any:
        future = self._submit(line)
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            raise EslTimeout(f"{self._node}: no reply to {what[:60]!r} in {timeout_s} s") from None

    # --- the hub thread --------------------------------------------------------------------
    def _spawn_send(self, line: str, future: Future[Any]) -> None:
        conn = self._conn
        if conn is None or not self._connected.is_set():
            fail_future(future, EslDisconnected(f"{self._node}: not connected"))
            return
        self._calls.spawn(self._send, conn, line, future)

    def _send(self, conn: GreenswitchConnection, line: str, future: Future[Any]) -> None:
        try:
            reply = conn.send(line)
        except (NotConnectedError, OSError) as exc:
            fail_future(future, EslDisconnected(f"{self._node}: send failed: {exc}"))
        else:
            if not future.done():
                future.set_result(reply)

    def _run(self) -> None:
        self._hub = gevent.get_hub()
        self._wake = gevent.event.Event()
        self._calls = gevent.pool.Group()
        # a thread of its own has a hub of its own, to be freed when it ends; a patched
        # "thread" is a greenlet on the process's hub, which is not ours to free
        own_hub = not gevent.monkey.is_module_patched("threading")
        self._hub_ready.set()
        watchdog = gevent.spawn(self._watch)
        try:
            self._connect_loop()
        finally:
            watchdog.kill()
            with self._hub_lock:
                hub, self._hub = self._hub, None
            if own_hub:
                hub.destroy(destroy_loop=True)

    def _connect_loop(self) -> None:
        backoff_s = self._backoff_initial_s
        while not self._closing.is_set():
            try:
                conn = self._open()
            except (OSError, EslError, NotConnectedError, ValueError) as exc:
                log.warning("esl %s: connect failed: %s", self._node, exc)
                self._wake.wait(backoff_s * random.uniform(0.5, 1.0))
                self._wake.clear()
                backoff_s = min(backoff_s * 2, self._backoff_max_s)
                continue
            backoff_s = self._backoff_initial_s
            self._serve(conn)

    def _open(self) -> GreenswitchConnection:
        conn = GreenswitchConnection(
            self._host, self._port, self._password, self._connect_timeout_s, self._dispatch
        )
        timeout = gevent.Timeout(
            self._connect_timeout_s, EslTimeout(f"{self._node}: handshake timed out")
        )
        try:
            with timeout:
                conn.connect()
                for line in self._subscription.commands():
                    reply = str(conn.send(line).headers.get("Reply-Text", ""))
                    if not reply.startswith("+OK"):
                        raise EslRefused(f"{line.split(' ')[0]}: {reply}")
        except BaseException:
            gevent.spawn(self._dispose, conn)
            raise
        return conn

    def _serve(self, conn: GreenswitchConnection) -> None:
        self._conn = conn
        self._cut_reason = ""
        self._last_rx = self._clock.monotonic_s()
        self._connected.set()
        self.connects += 1
        if self._on_connect is not None:
            threading.Thread(
                target=self._on_connect, name=f"esl-{self._node}-onconnect", daemon=True
            ).start()
        while not conn.closed.is_set() and not self._closing.is_set():
            gevent.wait([conn.closed, self._wake], count=1)
            self._wake.clear()
        closing = self._closing.is_set()
        self._drop(conn, "client closed" if closing else self._cut_reason or "closed by peer")
        if closing:
            self._dispose(conn)
        else:
            gevent.spawn(self._dispose, conn)

    def _drop(self, conn: GreenswitchConnection, reason: str) -> None:
        self._conn = None
        self._connected.clear()
        level = logging.INFO if self._closing.is_set() else logging.WARNING
        log.log(level, "esl %s: connection closed (%s)", self._node, reason)
        exc = EslDisconnected(f"{self._node}: {reason}")
        for call in list(self._calls):
            fail_future(call.args[2], exc)
        self._calls.kill(block=False)
        self._jobs.fail_all(exc)

    def _dispose(self, conn: GreenswitchConnection) -> None:
        # stop() says exit when still connected and waits for greenswitch's greenlets
        with contextlib.suppress(Exception), gevent.Timeout(_CLOSE_WAIT_S, False):
            conn.stop()

    def _cut(self, reason: str) -> None:
        conn = self._conn
        if conn is None:
            return
        self._cut_reason = reason
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)

    def _dispatch(self, event: Event) -> None:
        self._last_rx = self._clock.monotonic_s()
        self._jobs.resolve(event)
        try:
            self._on_event(event)
        except Exception:
            log.exception("esl %s: event handler failed", self._node)

    def _watch(self) -> None:
        while not self._closing.is_set():
            gevent.sleep(_WATCH_PERIOD_S)
            now_s = self._clock.monotonic_s()
            self._jobs.expire(now_s)
            silent_s = now_s - self._last_rx
            watched = self._watch_silence and self._connected.is_set()
            if watched and silent_s > self._heartbeat_timeout_s:
                self._cut(f"no event for {silent_s:.1f} s")
