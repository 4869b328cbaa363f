"""The in-memory twin of the Event Socket seam (`dialer.esl.ports.EslConnection`), for unit
tests; the contract tests (``tests/contracts/test_contract_esl_connection.py``) hold it to
both TCP adapters against the switch simulator."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from dialer.clock import UUID_IDS, IdSource
from dialer.esl.events import CommandResult, Event, parse_result
from dialer.esl.ports import (
    ConnectHandler,
    EslDisconnected,
    EventHandler,
    Subscription,
    check_command,
)

Responder = Callable[[str], str]
"""The switch's API in a fake: ``responder("cmd args")`` returns the reply text."""


class FakeEslConnection:
    """In-memory `EslConnection`: ``responder("cmd args")`` returns the API reply text.

    ``emit`` pushes an event as the switch would (subscription and filters applied);
    ``drop`` simulates the socket going away, ``restore`` its return (``on_connect`` runs).
    ``sent`` lists every command that reached the switch (``api ...``, ``bgapi ...``).
    """

    def __init__(
        self,
        node: str,
        subscription: Subscription,
        on_event: EventHandler,
        responder: Responder,
        on_connect: ConnectHandler | None = None,
        *,
        ids: IdSource = UUID_IDS,
    ) -> None:
        self._node = node
        self._ids = ids
        self._subscription = subscription
        self._on_event = on_event
        self._responder = responder
        self._on_connect = on_connect
        self._connected = True
        self._lock = threading.Lock()
        self.sent: list[str] = []

    @property
    def node(self) -> str:
        return self._node

    @property
    def connected(self) -> bool:
        return self._connected

    def api(self, command: str, timeout_s: float = 5.0) -> str:
        check_command(command)
        if not self._connected:
            raise EslDisconnected(f"{self._node}: not connected")
        with self._lock:
            self.sent.append("api " + command)
        return self._responder(command)

    def bgapi(self, command: str, timeout_s: float = 60.0) -> Future[CommandResult]:
        check_command(command)
        future: Future[CommandResult] = Future()
        if not self._connected:
            future.set_exception(EslDisconnected(f"{self._node}: not connected"))
            return future
        with self._lock:
            self.sent.append("bgapi " + command)
        job_uuid = self._ids.new_id()
        text = self._responder(command) or "-ERR no reply\n"
        cmd, _, args = command.partition(" ")
        headers = {"Event-Name": "BACKGROUND_JOB", "Job-UUID": job_uuid, "Job-Command": cmd}
        if args:
            headers["Job-Command-Arg"] = args
        future.set_result(parse_result(text))
        self.emit(Event(headers, text))
        return future

    def emit(self, event: Event) -> None:
        if self._connected and self._subscription.wants(event):
            self._on_event(event)

    def drop(self) -> None:
        self._connected = False

    def restore(self) -> None:
        self._connected = True
        if self._on_connect is not None:
            self._on_connect()

    def close(self) -> None:
        self._connected = False
