"""The simulated switch's event bus: builds events and log lines and offers them to every
subscribed Event Socket connection.

Invariants: ``Event-Sequence`` grows by one for every event the switch fires, built or not
(FreeSWITCH numbers events whether or not a listener takes them); an event nobody subscribed
to is never built; every channel event carries its channel's data as it is at emission time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from dialer.sim.channel import Channel, channel_data
from dialer.sim.clock import SimClock
from dialer.sim.events import CALLING_SITES, CoreIdentity, SimEvent, core_headers

__all__ = ["EventBus", "EventSink"]

_LOG_LEVEL_NAMES = {0: "CONSOLE", 1: "ALERT", 2: "CRIT", 3: "ERR", 4: "WARNING", 5: "NOTICE"}


class EventSink(Protocol):
    """An Event Socket connection that may want events."""

    def wants(self, name: str, subclass: str | None) -> bool:
        """Whether the subscription includes this event (filters aside)."""

    def log_line(self, level: int, data: bytes) -> None:
        """Send a ``log/data`` frame if the connection's ``log`` level includes ``level``."""

    def offer(self, event: SimEvent) -> None:
        """Queue ``event`` if subscribed and not filtered out."""


class EventBus:
    """Numbers, builds and fans out events; ``lookup`` finds a channel's other leg."""

    def __init__(
        self,
        identity: CoreIdentity,
        clock: SimClock,
        lookup: Callable[[str], Channel | None],
    ) -> None:
        self.identity = identity
        self.sequence = 0
        self.sinks: list[EventSink] = []
        self._clock = clock
        self._lookup = lookup

    def next_sequence(self) -> int:
        """Take the next ``Event-Sequence`` number."""
        self.sequence += 1
        return self.sequence

    def emit(
        self,
        name: str,
        headers: Sequence[tuple[str, str]] | Mapping[str, str] = (),
        *,
        subclass: str | None = None,
        channel: Channel | None = None,
        with_vars: bool = False,
        site_key: str | None = None,
        site: tuple[str, str, int] | None = None,
        body: str | None = None,
        prefix_headers: list[tuple[str, str]] | None = None,
    ) -> SimEvent | None:
        """Build an event (core headers, ``prefix_headers``, channel data, ``headers``) and
        offer it to every sink; returns None when no sink is subscribed to it."""
        sequence = self.next_sequence()
        if not any(sink.wants(name, subclass) for sink in self.sinks):
            return None
        where = site or CALLING_SITES.get(site_key or name, ("switch_core.c", "", 0))
        hdrs = core_headers(self.identity, name, subclass, self._clock.now_us(), sequence, where)
        if prefix_headers:
            hdrs.extend(prefix_headers)
        if channel is not None:
            other = self._lookup(channel.other_uuid or "")
            hdrs.extend(channel_data(channel, other, with_variables=with_vars))
        hdrs.extend(headers.items() if isinstance(headers, Mapping) else headers)
        event = SimEvent(name, subclass, hdrs, body)
        for sink in list(self.sinks):
            sink.offer(event)
        return event

    def channel_event(
        self,
        ch: Channel,
        name: str,
        *,
        with_vars: bool = True,
        extra: list[tuple[str, str]] | None = None,
        site_key: str | None = None,
        prefix: list[tuple[str, str]] | None = None,
    ) -> None:
        """Emit an event about ``ch`` (its channel data, with variables unless told not)."""
        self.emit(
            name,
            extra or [],
            channel=ch,
            with_vars=with_vars,
            site_key=site_key,
            prefix_headers=prefix,
        )

    def console_log(self, level: int, site: tuple[str, str, int], text: str) -> None:
        """A console log line (mod_event_socket ``log/data``), e.g. the CRIT lines of a
        refused session; level 2 = CRIT, 3 = ERR, 4 = WARNING ..."""
        now_us = self._clock.now_us()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now_us // 1_000_000))
        body = (
            f"{stamp}.{now_us % 1_000_000:06d} 99.00% [{_LOG_LEVEL_NAMES.get(level, 'DEBUG')}] "
            f"{site[0]}:{site[2]} {text}\n"
        ).encode()
        head = (
            f"Content-Type: log/data\nContent-Length: {len(body)}\nLog-Level: {level}\n"
            f"Text-Channel: 0\nLog-File: {site[0]}\nLog-Func: {site[1]}\n"
            f"Log-Line: {site[2]}\nUser-Data: \n\n"
        ).encode()
        for sink in list(self.sinks):
            sink.log_line(level, head + body)
