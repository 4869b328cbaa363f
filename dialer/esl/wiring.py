"""Build the Event Socket client a process is configured for (setting ``DIALER_ESL_CLIENT``).

``own`` is `dialer.esl.adapters.own.EslClient` (threads; the default); ``greenswitch`` is
`dialer.esl.adapters.greenswitch.GreenswitchClient` (for workers run under gevent). Both take
the same constructor arguments (`dialer.esl.adapters.managed.ManagedClient`). The greenswitch
module, and with it gevent, is imported only when it is chosen.

The clients reconnect forever by design; a one-shot command (``dialer agents ...``) uses
`connect_once` instead, which tries once and fails with one line.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.esl.ports import (
    ConnectHandler,
    EslClientKind,
    EslDisconnected,
    EslEndpoint,
    EventHandler,
    ManagedEslConnection,
    Subscription,
)

__all__ = ["build_esl_client", "connect_once", "esl_client_type"]


def esl_client_type(kind: EslClientKind) -> Callable[..., ManagedEslConnection]:
    """The client class for ``kind``; `ValueError` names the choices for any other value."""
    if kind == "own":
        from dialer.esl.adapters.own import EslClient

        return EslClient
    if kind == "greenswitch":
        from dialer.esl.adapters.greenswitch import GreenswitchClient

        return GreenswitchClient
    raise ValueError(f"unknown Event Socket client {kind!r}; use 'own' or 'greenswitch'")


def build_esl_client(
    kind: EslClientKind,
    node: EslEndpoint,
    subscription: Subscription,
    on_event: EventHandler,
    on_connect: ConnectHandler | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    ids: IdSource = UUID_IDS,
    **timing_s: float,
) -> ManagedEslConnection:
    """A connection to ``node``, not started yet (call ``start()``); ``timing_s`` are the
    clients' ``connect_timeout_s``, ``heartbeat_timeout_s``, ``backoff_initial_s`` and
    ``backoff_max_s``."""
    client_type = esl_client_type(kind)
    return client_type(
        node.name, node.host, node.port, node.password, subscription, on_event, on_connect,
        clock=clock, ids=ids, **timing_s,
    )  # fmt: skip


def _why(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"unknown host: {exc.strerror}"
    return exc.strerror or str(exc)


def connect_once(
    kind: EslClientKind, node: EslEndpoint, timeout_s: float = 1.0
) -> ManagedEslConnection:
    """A started client of ``node``, connected and authenticated, for one command (no events
    subscribed); `EslDisconnected` with one line when ``node`` did not accept the connection
    within ``timeout_s`` (once for the TCP connection, once more for the handshake).

    One TCP attempt comes first, so that a switch that is not there is reported at once with
    the reason; the client's own retry is pushed past the handshake's timeout, so it makes
    one attempt."""
    where = f"{node.host}:{node.port}"
    try:
        socket.create_connection((node.host, node.port), timeout=timeout_s).close()
    except OSError as exc:
        raise EslDisconnected(f"{node.name}: no Event Socket at {where} ({_why(exc)})") from None
    client = build_esl_client(
        kind, node, Subscription(events=()), lambda _event: None,
        connect_timeout_s=timeout_s, backoff_initial_s=3600.0, backoff_max_s=3600.0,
    ).start()  # fmt: skip
    if not client.wait_connected(timeout_s):
        client.close()
        raise EslDisconnected(
            f"{node.name}: the Event Socket at {where} did not accept the connection "
            f"within {timeout_s:g} s (password: DIALER_FREESWITCH_NODES)"
        )
    return client
