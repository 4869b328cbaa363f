"""A guard against a defect of kombu's Redis transport (kombu 5.7) that ends a worker when
its broker goes away.

When the consumer loses the broker, Celery closes the connection with connection errors
ignored (``ignore_errors``) and reconnects. Closing restores unacked messages through a new
client, whose parameters are read from ``channel.connection.client``; on some interleavings
that is already ``None``, and the ``AttributeError`` raised is no connection error: Celery
reports an "Unrecoverable error" and the worker exits, with every pacing slice it ran. Here a
channel whose connection is already gone raises a ``redis.ConnectionError`` instead, which
is ignored like any other, and the consumer reconnects as it does after any broker loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

_GUARDED = "_dialer_guarded"


def guard_broker_reconnect() -> None:
    """Patch `kombu.transport.redis.Channel._connparams` once (idempotent)."""
    channel: Any = kombu_redis.Channel
    if getattr(channel, _GUARDED, False):
        return
    original: Callable[..., Any] = channel._connparams

    def connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("the broker connection is already closed")
        return original(self, asynchronous)

    setattr(channel, "_connparams", connparams)  # noqa: B010  (a method of a typed-Any class)
    setattr(channel, _GUARDED, True)
