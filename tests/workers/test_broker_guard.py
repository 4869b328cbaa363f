"""A Redis broker channel whose connection is already closed answers with a connection error
(which Celery ignores while it reconnects), not the AttributeError that made kombu's
consumer report an unrecoverable error and end the worker when its broker went away."""

from __future__ import annotations

import pytest
import redis
from kombu import Connection

import workers.celery_app  # noqa: F401  (the app applies the guard)


def test_a_channel_of_a_closed_connection_raises_a_connection_error() -> None:
    transport = Connection("redis://127.0.0.1:1/0").transport
    channel = transport.Channel.__new__(transport.Channel)  # no connecting: only its params
    channel.connection = transport
    transport.client = None  # what kombu's close leaves behind
    with pytest.raises(redis.ConnectionError):
        channel._connparams()
