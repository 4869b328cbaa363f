"""`GreenswitchClient`: a `dialer.esl.ports.ManagedEslConnection` over greenswitch, for
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
  HEARTBEAT watchdog: `dialer.esl.adapters.managed.ManagedClient`, the same code as the own
  client `dialer.esl.adapters.own.EslClient`.

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
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import gevent
import gevent.event
import gevent.monkey
import gevent.pool
import greenswitch
from greenswitch.esl import NotConnectedError

from dialer.esl.adapters.jobs import fail_future
from dialer.esl.adapters.managed import ManagedClient
from dialer.esl.events import EVENT_TYPES, Event, EventParseError, parse_event
from dialer.esl.frames import Frame, FramingError, content_length
from dialer.esl.ports import EslDisconnected, EslRefused, EslTimeout, EventHandler

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
            if event.headers:
                raise FramingError(f"a frame without Content-Type: {list(event.headers)[:3]}")
            return  # a blank line between two frames carries nothing
        if "Content-Length" in event.headers:
            content_length(event.headers["Content-Length"])  # greenswitch's int() takes '١٢'
        if ctype not in EVENT_TYPES:
            super().handle_event(event)
            return
        length = content_length(event.headers.get("Content-Length", ""))
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
        """greenswitch's reader; any failure ends the connection (logged) rather than the
        greenlet alone, and a ``connect`` waiting for ``auth/request`` gives up at once."""
        try:
            super().receive_events()
        except Exception as exc:
            log.warning("esl %s:%s: read failed: %s: %s", self.host, self.port,
                        type(exc).__name__, exc)  # fmt: skip
        finally:
            self.connected = False
            self._auth_request_event.set()
            for waiting in self._commands_sent:
                waiting.set_exception(NotConnectedError("connection closed"))
            self._commands_sent.clear()
            self.closed.set()


class GreenswitchClient(ManagedClient[Any]):
    """`ManagedEslConnection` over greenswitch; a reply is greenswitch's ``ESLEvent``."""

    def _init_transport(self) -> None:
        self._hub_ready = threading.Event()
        self._hub_lock = threading.Lock()  # the hub is freed when its thread ends
        self._thread: threading.Thread | None = None
        # owned by the hub thread, set when it starts
        self._hub: Any = None
        self._wake: Any = None
        self._calls: Any = None
        self._conn: GreenswitchConnection | None = None
        self._cut_reason = ""

    # --- lifecycle (any thread) ------------------------------------------------------------
    def start(self) -> GreenswitchClient:
        self._thread = threading.Thread(
            target=self._run, name=f"esl-{self._node}-greenswitch", daemon=True
        )
        self._thread.start()
        self._hub_ready.wait()
        return self

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
    def _reply_text(self, reply: Any) -> str:
        return str(reply.headers.get("Reply-Text", ""))

    def _reply_body(self, reply: Any) -> str:
        return str(reply.data)

    def _submit(self, line: str) -> Future[Any]:
        """Hand ``line`` to the hub; the future gets greenswitch's reply object."""
        if not self._connected.is_set():
            raise EslDisconnected(f"{self._node}: not connected")
        future: Future[Any] = Future()
        if not self._to_hub(self._spawn_send, line, future):
            raise EslDisconnected(f"{self._node}: client closed")
        return future

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
            self._keep_connected(self._open, self._serve, self._pause_s)
        finally:
            watchdog.kill()
            with self._hub_lock:
                hub, self._hub = self._hub, None
            if own_hub:
                hub.destroy(destroy_loop=True)

    def _pause_s(self, delay_s: float) -> None:
        """Wait ``delay_s`` on the hub; ``close`` wakes it early."""
        self._wake.wait(delay_s)
        self._wake.clear()

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
                    reply = self._reply_text(conn.send(line))
                    if not reply.startswith("+OK"):
                        raise EslRefused(f"{line.split(' ')[0]}: {reply}")
        except BaseException:
            gevent.spawn(self._dispose, conn)
            raise
        return conn

    def _serve(self, conn: GreenswitchConnection) -> None:
        self._conn = conn
        self._cut_reason = ""
        self._count_connection()
        try:
            self._run_on_connect()
            while not conn.closed.is_set() and not self._closing.is_set():
                gevent.wait([conn.closed, self._wake], count=1)
                self._wake.clear()
        finally:
            self._close_served(conn)

    def _close_served(self, conn: GreenswitchConnection) -> None:
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
        self._heard()
        self._deliver(event)

    def _watch(self) -> None:
        while not self._closing.is_set():
            gevent.sleep(_WATCH_PERIOD_S)
            try:
                reason = self._watch_once()
                if reason is not None:
                    self._cut(reason)
            except Exception:
                # a failed round must not end the watching: the next one tries again
                log.exception("esl %s: watchdog round failed", self._node)
