"""A test Redis database, reached or failed with a message that says what to start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis


@contextmanager
def flushed_redis(url: str) -> Iterator[redis.Redis[str]]:
    """A client of the Redis database ``url``, emptied before and after use; the test fails
    (it does not skip) when the server is down: CI starts it, and a skipped test proves
    nothing."""
    client: redis.Redis[str] = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}); start it (see .ci/run)")
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
