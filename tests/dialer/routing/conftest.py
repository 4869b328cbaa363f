"""Routing fixtures: trunk builders and the reservation backends (fake and real Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import redis

from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.redis_reservation import RedisReservations
from dialer.routing.reservation import CapacityReservations, InMemoryReservations
from tests.support.clock import FakeClock


def _make_trunk(name: str, rates: dict[str, str] | None = None, **fields: Any) -> Trunk:
    deck = RateDeck.of(RateEntry(p, Decimal(r)) for p, r in (rates or {"86": "0.05"}).items())
    fields.setdefault("proxy_host", "192.0.2.1")
    return Trunk(name=name, rates=deck, **fields)


@pytest.fixture
def make_trunk() -> Callable[..., Trunk]:
    """``make_trunk(name, {prefix: rate}, **trunk_fields)``; default rate 0.05 for ``86``."""
    return _make_trunk


@dataclass
class Backend:
    name: str
    reservations: CapacityReservations
    advance: Callable[[float], None]


def real_redis_client(url: str) -> redis.Redis[Any]:
    client: redis.Redis[Any] = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc})")
    return client


def delete_prefix(client: redis.Redis[Any], prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_prefix(redis_urls: Any) -> Iterator[tuple[redis.Redis[Any], str]]:
    # A database of its own so that other areas' flushdb never meets these keys; keys carry
    # a per-test prefix as well and are deleted afterwards.
    client = real_redis_client(redis_urls.routing)
    prefix = f"test:routing:{uuid.uuid4().hex[:10]}"
    yield client, prefix
    delete_prefix(client, prefix)
    client.close()


@pytest.fixture(params=["fake", pytest.param("redis", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The same reservation contract, on the in-memory fake and on the real Redis script."""
    if request.param == "fake":
        clock = FakeClock()
        yield Backend("fake", InMemoryReservations(clock), clock.advance)
        return
    client, prefix = request.getfixturevalue("redis_prefix")

    def advance_real(seconds: float) -> None:
        import time

        time.sleep(seconds)

    yield Backend("redis", RedisReservations(client, prefix), advance_real)
