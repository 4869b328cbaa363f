"""A minimal raw-socket Event Socket client (asyncio) for tests and tools.

It keeps every frame received, in order; `RawClient.command` returns the reply of a command
while events that arrive meanwhile stay available to `RawClient.wait_event`. Frames and
events are decoded by `dialer.esl`, as the dialer's own client decodes them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from dialer.esl.events import (
    CT_API_RESPONSE,
    CT_COMMAND_REPLY,
    EVENT_TYPES,
    Event,
    parse_event,
    parse_events,
)
from dialer.esl.frames import Frame, FrameParser


@dataclass
class RawClient:
    """One inbound connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    frames: list[Frame] = field(default_factory=list)
    _parser: FrameParser = field(default_factory=FrameParser)
    _unread: deque[Frame] = field(default_factory=deque)
    _event_cursor: int = 0

    @classmethod
    async def connect(cls, host: str, port: int, password: str | None = "ClueCon") -> RawClient:
        """Connect, read ``auth/request`` and authenticate (unless ``password`` is None)."""
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        await client.next_frame()
        if password is not None:
            reply = await client.command(f"auth {password}")
            if reply.reply_text != "+OK accepted":
                raise ConnectionError(reply.reply_text)
        return client

    async def next_frame(self, timeout_s: float = 5.0) -> Frame:
        """The next frame not yet returned by this method."""
        while not self._unread:
            chunk = await asyncio.wait_for(self.reader.read(65536), timeout_s)
            if not chunk:
                raise EOFError("connection closed")
            self._unread.extend(self._parser.feed(chunk))
        frame = self._unread.popleft()
        self.frames.append(frame)
        return frame

    async def send(self, text: str) -> None:
        """Send one command without waiting."""
        self.writer.write((text + "\n\n").encode("utf-8"))
        await self.writer.drain()

    async def command(self, text: str, timeout_s: float = 30.0) -> Frame:
        """Send a command and return its ``command/reply`` or ``api/response`` frame."""
        await self.send(text)
        while True:
            frame = await self.next_frame(timeout_s)
            if frame.content_type in (CT_COMMAND_REPLY, CT_API_RESPONSE):
                return frame

    async def api(self, text: str, timeout_s: float = 30.0) -> str:
        """``api <text>`` and its response body."""
        return (await self.command("api " + text, timeout_s)).body.decode("utf-8")

    async def wait_event(self, name: str, timeout_s: float = 5.0) -> Event:
        """The next event named ``name`` after the previously returned one."""
        while True:
            while self._event_cursor < len(self.frames):
                frame = self.frames[self._event_cursor]
                self._event_cursor += 1
                if frame.content_type in EVENT_TYPES:
                    event = parse_event(frame)
                    if event.name == name:
                        return event
            await self.next_frame(timeout_s)

    def events(self) -> list[Event]:
        """Every event received so far."""
        return parse_events(self.frames)

    async def close(self) -> None:
        """Close the socket."""
        self.writer.close()
