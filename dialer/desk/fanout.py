"""Hand each event to the event-loop queues of its agent's subscribers in this process;
shared by the real bus (which receives from Redis in one thread per process) and the fake."""

from __future__ import annotations

import asyncio
import threading

from dialer.desk.ports import DeskEvent

__all__ = ["Subscribers"]


class _Feed:
    def __init__(self, owner: Subscribers, agent: str) -> None:
        self._owner = owner
        self.agent = agent
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[DeskEvent] = asyncio.Queue()

    async def next_event(self, timeout_s: float) -> DeskEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._owner.remove(self)


class Subscribers:
    """The feeds open in this process, by agent; `deliver` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feeds: dict[str, set[_Feed]] = {}

    def add(self, agent: str) -> _Feed:
        """A feed on the running event loop."""
        feed = _Feed(self, agent)
        with self._lock:
            self._feeds.setdefault(agent, set()).add(feed)
        return feed

    def remove(self, feed: _Feed) -> None:
        with self._lock:
            feeds = self._feeds.get(feed.agent)
            if feeds is not None:
                feeds.discard(feed)
                if not feeds:
                    del self._feeds[feed.agent]

    def count(self) -> int:
        with self._lock:
            return sum(len(f) for f in self._feeds.values())

    def deliver(self, event: DeskEvent) -> None:
        with self._lock:
            feeds = list(self._feeds.get(event.agent, ()))
        for feed in feeds:
            try:
                feed.loop.call_soon_threadsafe(feed.queue.put_nowait, event)
            except RuntimeError:  # its loop closed: the subscriber is gone
                self.remove(feed)
