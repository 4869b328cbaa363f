"""`EslClient`: one persistent inbound Event Socket connection to one FreeSWITCH node.

Our own socket client over `dialer.esl.frames` rather than greenswitch (docs/esl.md says
why): plain sockets and threads, so it runs the same in a gevent-patched process, where the
threads become greenlets. What it shares with the greenswitch adapter (options, commands,
jobs, reconnecting, the watchdog's rule) is `dialer.esl.adapters.managed.ManagedClient`.

Threads per client: the *io* thread connects (with backoff), authenticates, subscribes, then
reads frames; the *watchdog* thread expires jobs past their deadline and drops a connection
that has been silent longer than ``heartbeat_timeout_s`` (FreeSWITCH sends HEARTBEAT every
20 s by default). Replies (``command/reply``, ``api/response``) come back in command order,
so pending commands sit in a FIFO; BACKGROUND_JOB results are matched by the Job-UUID we
send with each ``bgapi``.

Invariants: a command never waits longer than its timeout; when the socket drops, every
pending command and job fails with `EslDisconnected` at once; commands issued while down
fail at once (no queueing behind an outage).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from concurrent.futures import Future

from dialer.esl.adapters.jobs import fail_future
from dialer.esl.adapters.managed import ManagedClient
from dialer.esl.events import (
    CT_API_RESPONSE,
    CT_AUTH_REQUEST,
    CT_COMMAND_REPLY,
    CT_DISCONNECT,
    EVENT_TYPES,
    EventParseError,
    parse_event,
)
from dialer.esl.frames import Frame, FrameParser
from dialer.esl.ports import EslDisconnected, EslRefused, EslTimeout

log = logging.getLogger(__name__)
_RECV_BYTES = 256 * 1024
_WATCH_PERIOD_S = 0.1


class EslClient(ManagedClient[Frame]):
    """`dialer.esl.ports.ManagedEslConnection` over a socket and threads."""

    def _init_transport(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._replies: deque[Future[Frame]] = deque()
        self._threads: list[threading.Thread] = []

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> EslClient:
        for target, name in ((self._run, "io"), (self._watch, "watchdog")):
            thread = threading.Thread(target=target, name=f"esl-{self._node}-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            sock = self._sock
            if sock is not None and self._connected.is_set():
                with contextlib.suppress(OSError):
                    sock.sendall(b"exit\n\n")
        self._drop("client closed")
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def drop_connection(self) -> None:
        """Force a reconnect (used by the watchdog; tests use it to cut the line)."""
        self._drop("dropped")

    # --- commands --------------------------------------------------------------------------
    def _reply_text(self, reply: Frame) -> str:
        return reply.reply_text

    def _reply_body(self, reply: Frame) -> str:
        return reply.body_text()

    def _submit(self, line: str) -> Future[Frame]:
        future: Future[Frame] = Future()
        with self._lock:
            sock = self._sock
            if sock is None or not self._connected.is_set():
                raise EslDisconnected(f"{self._node}: not connected")
            try:
                sock.sendall(f"{line}\n\n".encode())
                self._replies.append(future)
                return future
            except OSError as exc:
                failure = EslDisconnected(f"{self._node}: send failed: {exc}")
        self._drop(str(failure), sock)
        raise failure

    # --- io thread -------------------------------------------------------------------------
    def _run(self) -> None:
        self._keep_connected(
            self._connect, lambda opened: self._read_loop(*opened), self._closing.wait
        )

    def _connect(self) -> tuple[socket.socket, FrameParser]:
        sock = socket.create_connection((self._host, self._port), timeout=self._connect_timeout_s)
        parser = FrameParser()
        pending: deque[Frame] = deque()
        early_events: list[Frame] = []
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._expect(sock, parser, pending, CT_AUTH_REQUEST, early_events)
            for line in [f"auth {self._password}", *self._subscription.commands()]:
                sock.sendall(f"{line}\n\n".encode())
                reply = self._expect(
                    sock, parser, pending, CT_COMMAND_REPLY, early_events
                ).reply_text
                if not reply.startswith("+OK"):
                    raise EslRefused(f"{line.split(' ')[0]}: {reply}")
        except BaseException:
            sock.close()
            raise
        sock.settimeout(1.0)
        with self._lock:
            self._sock = sock
            self._count_connection()
        for frame in [*early_events, *pending]:
            self._dispatch(frame)
        self._run_on_connect()
        return sock, parser

    def _expect(
        self,
        sock: socket.socket,
        parser: FrameParser,
        pending: deque[Frame],
        ctype: str,
        early_events: list[Frame],
    ) -> Frame:
        deadline = self._clock.monotonic_s() + self._connect_timeout_s
        while True:
            while pending:
                frame = pending.popleft()
                if frame.content_type == ctype:
                    return frame
                if frame.content_type not in EVENT_TYPES:
                    raise EslRefused(f"expected {ctype}, got {frame.content_type}")
                early_events.append(frame)
            if self._clock.monotonic_s() > deadline:
                raise EslTimeout(f"{self._node}: no {ctype} during handshake")
            chunk = sock.recv(_RECV_BYTES)
            if not chunk:
                raise EslDisconnected(f"{self._node}: closed during handshake")
            pending.extend(parser.feed(chunk))

    def _read_loop(self, sock: socket.socket, parser: FrameParser) -> None:
        """Read and dispatch until the line ends; whatever ends it, the line is dropped."""
        reason = "closed by peer"
        try:
            while not self._closing.is_set():
                try:
                    chunk = sock.recv(_RECV_BYTES)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                for frame in parser.feed(chunk):
                    self._dispatch(frame)
        except (OSError, ValueError) as exc:
            reason = f"read failed: {exc}"
        except Exception as exc:
            log.exception("esl %s: reading failed", self._node)
            reason = f"read failed: {type(exc).__name__}: {exc}"
        finally:
            self._drop(reason, sock)

    def _dispatch(self, frame: Frame) -> None:
        ctype = frame.content_type
        if ctype in EVENT_TYPES:
            self._heard()
            try:
                event = parse_event(frame)
            except EventParseError as exc:
                # one bad event body is not a broken stream: framing is intact
                log.error("esl %s: dropped an event: %s", self._node, exc)
                return
            self._deliver(event)
        elif ctype in (CT_COMMAND_REPLY, CT_API_RESPONSE):
            with self._lock:
                future = self._replies.popleft() if self._replies else None
            if future is not None and not future.done():
                future.set_result(frame)
        elif ctype == CT_DISCONNECT:
            log.info("esl %s: disconnect notice", self._node)

    def _drop(self, reason: str, sock: socket.socket | None = None) -> None:
        with self._lock:
            if sock is not None and sock is not self._sock:
                return
            current, self._sock = self._sock, None
            was_connected = self._connected.is_set()
            self._connected.clear()
            replies = list(self._replies)
            self._replies.clear()
        if current is not None:
            with contextlib.suppress(OSError):
                current.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                current.close()
        if was_connected:
            level = logging.INFO if self._closing.is_set() else logging.WARNING
            log.log(level, "esl %s: connection closed (%s)", self._node, reason)
        exc = EslDisconnected(f"{self._node}: {reason}")
        for future in replies:
            fail_future(future, exc)
        self._jobs.fail_all(exc)

    # --- watchdog thread -------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._closing.wait(_WATCH_PERIOD_S):
            try:
                reason = self._watch_once()
                if reason is not None:
                    self._drop(reason)
            except Exception:
                # a failed round must not end the watching: the next one tries again
                log.exception("esl %s: watchdog round failed", self._node)
