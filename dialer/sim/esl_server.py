"""Inbound Event Socket server (mod_event_socket) for the simulated switch, on asyncio.

asyncio rather than threads: the whole switch is single-threaded on one loop, so a
connection's commands, the call flows and the event fan-out never race, and thousands of
timers cost no threads. Replies and frames are copied from the transcripts (n, a, l):

* connect → ``auth/request``; ``auth <pw>`` → ``+OK accepted`` (wrong → ``-ERR invalid``, close);
* ``event plain|json <names> [CUSTOM <subclasses>]`` adds to the subscription;
* ``filter <header> <value>`` (OR-ed; events lacking every filtered header are dropped, also
  BACKGROUND_JOB), ``filter delete ...``, ``nixevent``, ``noevents``, ``log``/``nolog``;
* ``api`` blocks the connection (events queue behind the reply), ``bgapi`` replies
  ``+OK Job-UUID: <uuid>`` at once and later sends BACKGROUND_JOB with the result as body;
* ``exit`` → ``+OK bye`` then ``text/disconnect-notice``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from dialer.sim.api import Api
from dialer.sim.esl_subscription import EventSubscription
from dialer.sim.eventfmt import (
    api_response,
    command_reply,
    disconnect_notice,
    event_frame,
    frame,
)
from dialer.sim.events import SimEvent
from dialer.sim.switch import SimSwitch

__all__ = ["Connection", "EslServer"]

_MAX_BUFFERED_BYTES = 64 * 1024 * 1024
_log = logging.getLogger(__name__)


class Connection:
    """One inbound ESL client: authentication, its `EventSubscription`, the outgoing queue."""

    def __init__(
        self,
        server: EslServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.sw = server.switch
        self.reader = reader
        self.writer = writer
        self.authed = False
        self.subscription = EventSubscription()
        self.pending: deque[bytes] = deque()
        self.busy = False
        self.closed = False
        self.dropped_events = 0
        self.log_level = -1

    # --- event side ----------------------------------------------------------------------
    def wants(self, name: str, subclass: str | None) -> bool:
        """Subscription check (before filters)."""
        if not self.authed or self.closed:
            return False
        return self.subscription.wants(name, subclass)

    def offer(self, event: SimEvent) -> None:
        """`EventSink.offer`: queue the event if subscribed and it passes the filters."""
        if not self.wants(event.name, event.subclass):
            return
        if not self.subscription.passes_filters(event):
            return
        if self.writer.transport.get_write_buffer_size() > _MAX_BUFFERED_BYTES:
            self.dropped_events += 1
            return
        fmt = self.subscription.fmt
        self.pending.append(event_frame(event.serialized(fmt), fmt))
        if not self.busy:
            self.flush()

    def log_line(self, level: int, data: bytes) -> None:
        """`EventSink.log_line`: queue a log/data frame when ``log`` includes ``level``."""
        if self.authed and not self.closed and 0 <= level <= self.log_level:
            self.pending.append(data)
            if not self.busy:
                self.flush()

    def flush(self) -> None:
        """Write queued events (unless a blocking ``api`` is in progress)."""
        if self.closed:
            self.pending.clear()
            return
        while self.pending:
            self.writer.write(self.pending.popleft())

    def send(self, data: bytes) -> None:
        """Write a reply frame ahead of queued events."""
        if not self.closed:
            self.writer.write(data)

    # --- command side ---------------------------------------------------------------------
    async def run(self) -> None:
        """Serve the connection until ``exit`` or EOF."""
        self.send(frame([("Content-Type", "auth/request")]))
        try:
            while not self.closed:
                raw = await self.reader.readuntil(b"\n\n")
                text = raw.decode("utf-8", "replace").replace("\r", "")
                lines = [ln for ln in text.split("\n") if ln]
                if not lines:
                    continue
                self.busy = True
                try:
                    await self.handle(lines[0].strip(), lines[1:])
                except Exception:
                    _log.exception("command failed: %s", lines[0])
                    self.reply("-ERR command failed")
                finally:
                    self.busy = False
                    self.flush()
                await self.writer.drain()
                # let timers and other connections run between commands, as FreeSWITCH's
                # threads do
                await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            await self.close()

    async def close(self) -> None:
        """Detach from the switch and close the socket."""
        self.closed = True
        self.server.detach(self)
        with contextlib.suppress(Exception):
            self.writer.close()
            await self.writer.wait_closed()

    def reply(self, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        """A ``command/reply``."""
        self.send(command_reply(text, extra or []))

    async def handle(self, line: str, headers: list[str]) -> None:
        """Dispatch one command."""
        word, _, rest = line.partition(" ")
        if not self.authed:
            if word == "auth" and rest == self.server.password:
                self.authed = True
                self.reply("+OK accepted")
            elif word == "auth":
                self.reply("-ERR invalid")
                self.send(disconnect_notice())
                self.closed = True
            else:
                self.reply("-ERR invalid")
            return
        handler = {
            "event": self.cmd_event,
            "nixevent": self.cmd_nixevent,
            "noevents": self.cmd_noevents,
            "filter": self.cmd_filter,
            "log": self.cmd_log,
            "nolog": self.cmd_nolog,
        }.get(word)
        if handler is not None:
            handler(rest)
        elif word == "api":
            await self.cmd_api(rest)
        elif word == "bgapi":
            self.cmd_bgapi(rest, headers)
        elif word == "exit":
            self.reply("+OK bye")
            self.send(disconnect_notice())
            self.closed = True
        else:
            self.reply("-ERR command not found")

    def cmd_event(self, rest: str) -> None:
        """``event plain|json|xml <names...>``."""
        self.reply(self.subscription.listen(rest))

    def cmd_nixevent(self, rest: str) -> None:
        """``nixevent <names...>``."""
        self.reply(self.subscription.nix(rest))

    def cmd_noevents(self, rest: str) -> None:
        """``noevents``: also drops the events queued so far."""
        if not self.subscription.is_listening():
            self.reply("-ERR not listening for events")
            return
        self.subscription.stop()
        self.pending.clear()
        self.reply("+OK no longer listening for events")

    def cmd_filter(self, rest: str) -> None:
        """``filter <header> <value>`` / ``filter delete <header> [value]|all``."""
        self.reply(self.subscription.filter(rest))

    def cmd_log(self, rest: str) -> None:
        """``log <level>``: the simulator logs what the transcripts show (refused sessions)."""
        level = rest.strip() or "7"
        self.log_level = int(level) if level.isdigit() else 7
        self.reply(f"+OK log level {level} [{self.log_level}]")

    def cmd_nolog(self, rest: str) -> None:
        """``nolog``."""
        self.log_level = -1
        self.reply("+OK no longer logging")

    async def cmd_api(self, rest: str) -> None:
        """Blocking ``api``: the reply, then the API event."""
        cmd, _, args = rest.partition(" ")
        started_us = self.sw.clock.now_us()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()

        def done(text: str) -> None:
            if not fut.done():
                fut.set_result(text)

        self.server.api.run(cmd, args, done)
        text = await fut
        self.send(api_response(text))
        self.server.api_event(cmd, args, started_us)

    def cmd_bgapi(self, rest: str, headers: list[str]) -> None:
        """``bgapi``: Job-UUID now, BACKGROUND_JOB when the command completes."""
        job_uuid = ""
        for h in headers:
            name, _, value = h.partition(": ")
            if name == "Job-UUID":
                job_uuid = value.strip()
        job_uuid = job_uuid or self.sw.new_uuid()
        self.reply(f"+OK Job-UUID: {job_uuid}", [("Job-UUID", job_uuid)])
        cmd, _, args = rest.partition(" ")
        started_us = self.sw.clock.now_us()

        def done(text: str) -> None:
            self.server.api_event(cmd, args, started_us)
            headers = [("Job-UUID", job_uuid), ("Job-Command", cmd)]
            if args:
                headers.append(("Job-Command-Arg", args))
            self.sw.bus.emit("BACKGROUND_JOB", headers, body=text or "-ERR no reply\n")

        self.server.api.run(cmd, args, done)


class EslServer:
    """Accepts Event Socket connections for one `SimSwitch`."""

    def __init__(self, switch: SimSwitch, api: Api, password: str = "ClueCon") -> None:
        self.switch = switch
        self.api = api
        self.password = password
        self.connections: list[Connection] = []
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the bound (host, port) (port 0 picks a free port)."""
        self._server = await asyncio.start_server(self._accept, host, port, limit=1 << 20)
        sock = self._server.sockets[0].getsockname()
        return str(sock[0]), int(sock[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.append(conn)
        self.switch.bus.sinks.append(conn)
        await conn.run()

    def detach(self, conn: Connection) -> None:
        """Forget a closed connection."""
        if conn in self.connections:
            self.connections.remove(conn)
        if conn in self.switch.bus.sinks:
            self.switch.bus.sinks.remove(conn)

    def api_event(self, cmd: str, args: str, started_us: int) -> None:
        """The API event FreeSWITCH fires for every executed API command."""
        headers = [("API-Command", cmd)]
        if args:
            headers.append(("API-Command-Argument", args))
        self.switch.bus.emit("API", headers)

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            await conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
