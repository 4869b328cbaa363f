"""Routing fixtures: trunk builders, and a key prefix of its own in the routing Redis database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis

from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry


def _make_trunk(name: str, rates: dict[str, str] | None = None, **fields: Any) -> Trunk:
    deck = RateDeck.of(RateEntry(p, Decimal(r)) for p, r in (rates or {"86": "0.05"}).items())
    fields.setdefault("proxy_host", "192.0.2.1")
    return Trunk(name=name, rates=deck, **fields)


@pytest.fixture
def make_trunk() -> Callable[..., Trunk]:
    """``make_trunk(name, {prefix: rate}, **trunk_fields)``; default rate 0.05 for ``86``."""
    return _make_trunk


def _real_redis_client(url: str) -> redis.Redis[Any]:
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc})")
    return client


def _delete_prefix(client: redis.Redis[Any], prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_prefix(redis_urls: Any) -> Iterator[tuple[redis.Redis[Any], str]]:
    # A database of its own so that other areas' flushdb never meets these keys (the load
    # test's processes hold them for many seconds); keys carry a per-test prefix as well and
    # are deleted afterwards.
    client = _real_redis_client(redis_urls.routing)
    prefix = f"test:routing:{uuid.uuid4().hex[:10]}"
    yield client, prefix
    _delete_prefix(client, prefix)
    client.close()
