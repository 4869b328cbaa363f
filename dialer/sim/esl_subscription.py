"""What one Event Socket connection of the simulated switch listens to, as mod_event_socket
keeps it: event names (``ALL``, ``CUSTOM <subclass...>``), the format, and the header filters.

Replies are copied from the transcripts (n, a, l). Filters are OR-ed: once any is set, an event
lacking every filtered header/value pair is dropped (BACKGROUND_JOB too).
"""

from __future__ import annotations

from dialer.sim.events import SimEvent

__all__ = ["EventSubscription"]


class EventSubscription:
    """The subscription of one connection; each command returns its reply text."""

    def __init__(self) -> None:
        self.fmt = "plain"
        self._all_events = False
        self._events: set[str] = set()
        self._subclasses: set[str] = set()
        self._filters: list[tuple[str, str]] = []

    def wants(self, name: str, subclass: str | None) -> bool:
        """Whether the event is subscribed to (filters aside)."""
        if name == "CUSTOM":
            return self._all_events or (subclass or "") in self._subclasses
        return self._all_events or name in self._events

    def passes_filters(self, event: SimEvent) -> bool:
        """Whether the event matches a filter (always, without filters)."""
        return not self._filters or any(event.header(h) == v for h, v in self._filters)

    def listen(self, rest: str) -> str:
        """``event plain|json|xml <names...>``: adds to the subscription."""
        words = rest.split()
        if words and words[0] in ("plain", "json", "xml"):
            self.fmt = "json" if words[0] == "json" else "plain"
            words = words[1:]
        custom = False
        for w in words:
            if custom:
                self._subclasses.add(w)
            elif w == "CUSTOM":
                custom = True
            elif w.upper() == "ALL":
                self._all_events = True
            else:
                self._events.add(w)
        return f"+OK event listener enabled {self.fmt}"

    def nix(self, rest: str) -> str:
        """``nixevent <names...>``."""
        words = rest.split()
        if not words:
            return "-ERR no keywords supplied"
        custom = False
        for w in words:
            if custom:
                self._subclasses.discard(w)
            elif w == "CUSTOM":
                custom = True
            elif w.upper() == "ALL":
                self._all_events = False
                self._events.clear()
                self._subclasses.clear()
            else:
                self._events.discard(w)
        return "+OK events nixed"

    def is_listening(self) -> bool:
        """Whether any event is subscribed to."""
        return self._all_events or bool(self._events) or bool(self._subclasses)

    def stop(self) -> None:
        """``noevents``: nothing is subscribed any more (filters stay)."""
        self._all_events = False
        self._events.clear()
        self._subclasses.clear()

    def filter(self, rest: str) -> str:
        """``filter <header> <value>`` / ``filter delete <header> [value]|all``."""
        words = rest.split(" ", 1)
        if words[0] == "delete":
            spec = words[1] if len(words) > 1 else ""
            header, _, value = spec.partition(" ")
            if header == "all":
                self._filters.clear()
            else:
                self._filters = [
                    f
                    for f in self._filters
                    if not (f[0] == header and (not value or f[1] == value))
                ]
            return f"+OK filter deleted. [{header}][{value}]"
        if len(words) < 2 or not words[1]:
            return "-ERR invalid syntax"
        self._filters.append((words[0], words[1]))
        return f"+OK filter added. [{words[0]}]=[{words[1]}]"
