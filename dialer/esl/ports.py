"""The seam between the dialer and a FreeSWITCH node: what services use, and the data and
errors that cross it.

`EslConnection` is what services use. Over TCP it has two adapters, both
`ManagedEslConnection`s built by `dialer.esl.wiring.build_esl_client`: the project's own
`dialer.esl.adapters.own.EslClient` (threads) and
`dialer.esl.adapters.greenswitch.GreenswitchClient` (greenswitch, for processes run under
gevent); `dialer.esl.fakes.FakeEslConnection` is the in-memory one. Events are pushed to the
``on_event`` callback given at construction, on the connection's reading thread or greenlet:
it must return quickly (hand the event to a queue).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal, Protocol, Self

from dialer.esl.events import CommandResult, Event

EventHandler = Callable[[Event], None]
ConnectHandler = Callable[[], None]
EslClientKind = Literal["own", "greenswitch"]
"""Which TCP adapter a process uses (setting ``DIALER_ESL_CLIENT``)."""
ALWAYS_SUBSCRIBED = ("BACKGROUND_JOB", "HEARTBEAT")
"""Events every `Subscription` asks for, whatever else it lists."""


class EslError(Exception):
    """Base of every failure the Event Socket seam reports."""


class EslTimeout(EslError):
    """No answer within the command's timeout."""


class EslDisconnected(EslError):
    """The connection is down (or dropped while the command was pending)."""


class EslRefused(EslError):
    """The switch refused the command itself (``-ERR`` in a ``command/reply``)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """Events wanted on a connection, always in JSON (exact values, see docs/esl.md).

    BACKGROUND_JOB and HEARTBEAT are always subscribed: the first is how ``bgapi`` results
    arrive, the second keeps an idle connection audible (FreeSWITCH sends it every 20 s by
    default), so the clients' watchdog can tell a silent switch from a quiet one.

    ``filters`` are ``filter <header> <value>`` lines; FreeSWITCH drops every event that
    matches none of them, so a subscription with filters always gets
    ``filter Event-Name BACKGROUND_JOB`` and ``filter Event-Name HEARTBEAT`` too.
    """

    events: tuple[str, ...]
    custom: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()

    def commands(self) -> list[str]:
        words = list(self.events)
        if "ALL" not in words:
            # bgapi results arrive only as BACKGROUND_JOB; HEARTBEAT feeds the watchdog
            words += [name for name in ALWAYS_SUBSCRIBED if name not in words]
        if self.custom:
            # every word after CUSTOM is a subclass, so CUSTOM goes last
            words += ["CUSTOM", *self.custom]
        cmds = ["event json " + " ".join(words)]
        filters = list(self.filters)
        if filters:
            filters += [
                ("Event-Name", name)
                for name in ALWAYS_SUBSCRIBED
                if ("Event-Name", name) not in filters
            ]
        cmds += [f"filter {header} {value}" for header, value in filters]
        return cmds

    def wants(self, event: Event) -> bool:
        """What the switch would deliver (used by the fake)."""
        if event.name == "CUSTOM":
            listed = event.subclass in self.custom or "ALL" in self.events
        else:
            listed = event.name in {*self.events, "ALL", *ALWAYS_SUBSCRIBED}
        if not listed:
            return False
        always = [("Event-Name", name) for name in ALWAYS_SUBSCRIBED]
        return not self.filters or any(event.get(h) == v for h, v in [*self.filters, *always])


class EslConnection(Protocol):
    """One persistent connection to one node. Every call is bounded by its timeout."""

    @property
    def node(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    def api(self, command: str, timeout_s: float = 5.0) -> str:
        """The ``api/response`` body; raises `EslTimeout` / `EslDisconnected`."""
        ...

    def bgapi(self, command: str, timeout_s: float = 60.0) -> Future[CommandResult]:
        """A future resolved by the BACKGROUND_JOB with this job's uuid (its parsed body),
        or failed with `EslTimeout` / `EslDisconnected` / `EslRefused`."""
        ...

    def close(self) -> None: ...


class EslEndpoint(Protocol):
    """Where a node's Event Socket listens (`dialer.config.FsNode` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def password(self) -> str: ...


class ManagedEslConnection(EslConnection, Protocol):
    """An `EslConnection` over TCP that keeps itself connected: after ``start()`` it connects,
    authenticates and subscribes, and does so again (with backoff) whenever the line drops;
    ``on_connect`` runs after every (re)connection, on a thread of its own."""

    @property
    def connects(self) -> int:
        """Completed connections so far (1 after the first, 2 after a reconnect...)."""
        ...

    @property
    def failure(self) -> str | None:
        """None while the client keeps (re)connecting; why it stopped for good otherwise (its
        owner should then exit non-zero so that a supervisor restarts the process)."""
        ...

    def start(self) -> Self: ...

    def wait_connected(self, timeout_s: float) -> bool:
        """True once connected; False if ``timeout_s`` passed first."""
        ...

    def command(self, line: str, timeout_s: float = 5.0) -> str:
        """A bare ESL command (``event``, ``filter``...): its ``Reply-Text``."""
        ...

    def drop_connection(self) -> None:
        """Cut the line now (it reconnects); pending commands and jobs fail."""
        ...


def check_command(command: str) -> str:
    """A command line must be one line: a newline would start headers or a second command."""
    if "\n" in command or "\r" in command:
        raise ValueError(f"command holds a line break: {command[:80]!r}")
    return command
