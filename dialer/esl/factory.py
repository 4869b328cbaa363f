"""Build the Event Socket client a process is configured for (setting ``DIALER_ESL_CLIENT``).

``own`` is `dialer.esl.client.EslClient` (threads; the default); ``greenswitch`` is
`dialer.esl.greenswitch_client.GreenswitchClient` (for workers run under gevent). The
greenswitch module, and with it gevent, is imported only when it is chosen.
"""

from __future__ import annotations

from dialer.clock import SYSTEM_CLOCK, UUID_IDS, Clock, IdSource
from dialer.esl.seam import (
    ConnectHandler,
    EslClientKind,
    EventHandler,
    ManagedEslConnection,
    Subscription,
)


def build_esl_client(
    kind: EslClientKind,
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
) -> ManagedEslConnection:
    """A connection to one node, not started yet (call ``start()``)."""
    if kind == "own":
        from dialer.esl.client import EslClient

        return EslClient(
            node,
            host,
            port,
            password,
            subscription,
            on_event,
            on_connect,
            connect_timeout_s=connect_timeout_s,
            heartbeat_timeout_s=heartbeat_timeout_s,
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            clock=clock,
            ids=ids,
        )
    if kind == "greenswitch":
        from dialer.esl.greenswitch_client import GreenswitchClient

        return GreenswitchClient(
            node,
            host,
            port,
            password,
            subscription,
            on_event,
            on_connect,
            connect_timeout_s=connect_timeout_s,
            heartbeat_timeout_s=heartbeat_timeout_s,
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            clock=clock,
            ids=ids,
        )
    raise ValueError(f"unknown Event Socket client {kind!r}; use 'own' or 'greenswitch'")
