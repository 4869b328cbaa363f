"""`EslClient`: one persistent inbound Event Socket connection to one FreeSWITCH node.

Our own socket client over `dialer.esl.frames` rather than greenswitch (docs/esl.md says
why): plain sockets and threads, so it runs the same in a gevent-patched process, where the
threads become greenlets.

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
import random
import socket
import threading
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.esl.events import (
    CT_API_RESPONSE,
    CT_AUTH_REQUEST,
    CT_COMMAND_REPLY,
    CT_DISCONNECT,
    EVENT_TYPES,
    CommandResult,
    EventParseError,
    parse_event,
)
from dialer.esl.frames import Frame, FrameParser
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
_RECV_BYTES = 256 * 1024


class EslClient:
    """`dialer.esl.seam.EslConnection` over TCP. ``start()`` then use; ``close()`` at the end."""

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
        self._addr = (host, port)
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
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._replies: deque[Future[Frame]] = deque()
        self._jobs = BackgroundJobs(node)
        self._connected = threading.Event()
        self._closing = threading.Event()
        self._last_rx = clock.monotonic_s()
        self._threads: list[threading.Thread] = []
        self.connects = 0

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def node(self) -> str:
        return self._node

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> EslClient:
        for target, name in ((self._run, "io"), (self._watch, "watchdog")):
            thread = threading.Thread(target=target, name=f"esl-{self._node}-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

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
    def api(self, command: str, timeout_s: float = 5.0) -> str:
        frame = self._await(self._send(f"api {check_command(command)}\n\n"), timeout_s, command)
        return frame.body_text()

    def command(self, line: str, timeout_s: float = 5.0) -> str:
        """A bare ESL command (``event``, ``filter``...): its ``Reply-Text``."""
        frame = self._await(self._send(f"{check_command(line)}\n\n"), timeout_s, line)
        return frame.reply_text

    def bgapi(self, command: str, timeout_s: float = 60.0) -> Future[CommandResult]:
        check_command(command)
        job_uuid = self._ids.new_id()
        result = self._jobs.add(job_uuid, self._clock.monotonic_s() + timeout_s)
        try:
            ack = self._send(f"bgapi {command}\nJob-UUID: {job_uuid}\n\n")
        except EslError as exc:
            self._jobs.fail(job_uuid, exc)
            return result
        ack.add_done_callback(lambda f: self._on_ack(job_uuid, f))
        return result

    def _on_ack(self, job_uuid: str, ack: Future[Frame]) -> None:
        exc = ack.exception()
        if exc is not None:
            self._jobs.fail(job_uuid, exc if isinstance(exc, EslError) else EslError(str(exc)))
        else:
            self._jobs.acknowledged(job_uuid, ack.result().reply_text)

    def _send(self, data: str) -> Future[Frame]:
        future: Future[Frame] = Future()
        with self._lock:
            sock = self._sock
            if sock is None or not self._connected.is_set():
                raise EslDisconnected(f"{self._node}: not connected")
            try:
                sock.sendall(data.encode("utf-8"))
                self._replies.append(future)
                return future
            except OSError as exc:
                failure = EslDisconnected(f"{self._node}: send failed: {exc}")
        self._drop(str(failure), sock)
        raise failure

    def _await(self, future: Future[Frame], timeout_s: float, what: str) -> Frame:
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            raise EslTimeout(f"{self._node}: no reply to {what[:60]!r} in {timeout_s} s") from None

    # --- io thread -------------------------------------------------------------------------
    def _run(self) -> None:
        backoff_s = self._backoff_initial_s
        while not self._closing.is_set():
            try:
                sock, parser = self._connect()
            except (OSError, EslError) as exc:
                log.warning("esl %s: connect failed: %s", self._node, exc)
                self._closing.wait(backoff_s * random.uniform(0.5, 1.0))
                backoff_s = min(backoff_s * 2, self._backoff_max_s)
                continue
            backoff_s = self._backoff_initial_s
            self._read_loop(sock, parser)

    def _connect(self) -> tuple[socket.socket, FrameParser]:
        sock = socket.create_connection(self._addr, timeout=self._connect_timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        parser = FrameParser()
        pending: deque[Frame] = deque()
        early_events: list[Frame] = []
        try:
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
            self._last_rx = self._clock.monotonic_s()
            self._connected.set()
        self.connects += 1
        for frame in [*early_events, *pending]:
            self._dispatch(frame)
        if self._on_connect is not None:
            threading.Thread(
                target=self._on_connect, name=f"esl-{self._node}-onconnect", daemon=True
            ).start()
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
        self._drop(reason, sock)

    def _dispatch(self, frame: Frame) -> None:
        ctype = frame.content_type
        if ctype in EVENT_TYPES:
            self._last_rx = self._clock.monotonic_s()
            try:
                event = parse_event(frame)
            except EventParseError as exc:
                # one bad event body is not a broken stream: framing is intact
                log.error("esl %s: dropped an event: %s", self._node, exc)
                return
            self._jobs.resolve(event)
            try:
                self._on_event(event)
            except Exception:
                log.exception("esl %s: event handler failed", self._node)
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
        while not self._closing.wait(0.1):
            now_s = self._clock.monotonic_s()
            self._jobs.expire(now_s)
            with self._lock:
                silent_s = now_s - self._last_rx
            if self._watch_silence and self.connected and silent_s > self._heartbeat_timeout_s:
                self._drop(f"no event for {silent_s:.1f} s")
