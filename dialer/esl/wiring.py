"""Build the Event Socket client a process is configured for (setting ``DIALER_ESL_CLIENT``).

``own`` is `dialer.esl.adapters.own.EslClient` (threads; the default); ``greenswitch`` is
`dialer.esl.adapters.greenswitch.GreenswitchClient` (for workers run under gevent). Both take
the same constructor arguments (`dialer.esl.adapters.managed.ManagedClient`). The greenswitch
module, and with it gevent, is imported only when it is chosen.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.esl.ports import (
    ConnectHandler,
    EslClientKind,
    EslEndpoint,
    EventHandler,
    ManagedEslConnection,
    Subscription,
)

__all__ = ["build_esl_client", "esl_client_type"]


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
