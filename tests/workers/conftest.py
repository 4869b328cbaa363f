"""A real Redis broker for the Celery tests of the imports and post-call queues."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis


@pytest.fixture
def celery_broker_url(redis_urls: Any) -> str:
    """The Redis database the Celery tests use as broker and result backend."""
    url: str = redis_urls.celery
    return url


@pytest.fixture(autouse=True)
def broker_env(monkeypatch: pytest.MonkeyPatch, celery_broker_url: str) -> None:
    """Whichever test first reads the app's settings, they name the test broker."""
    monkeypatch.setenv("DIALER_REDIS_URL", celery_broker_url)


@pytest.fixture
def real_broker(monkeypatch: pytest.MonkeyPatch, celery_broker_url: str) -> Iterator[Any]:
    """The Celery app sending to and reading from the test broker (emptied before and after).

    The app keeps its connection pools and a test worker's queue selection: they are dropped
    (and the settings put back afterwards) so that each test's messages go to the broker it
    configured and reach the worker it started.
    """
    monkeypatch.setenv("DIALER_REDIS_URL", celery_broker_url)
    from workers.celery_app import app

    client = redis.Redis.from_url(celery_broker_url)
    client.flushdb()
    before = {k: app.conf.get(k) for k in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(
        task_always_eager=False, broker_url=celery_broker_url, result_backend=celery_broker_url
    )
    _drop_pools(app)
    try:
        yield app
    finally:
        app.conf.update(before)
        _drop_pools(app)
        client.flushdb()
        client.close()


def _drop_pools(app: Any) -> None:
    # Forgotten, not closed: kombu's shared pools may still hand out their connections.
    app._pool = None
    app.amqp._producer_pool = None
    # A test worker started with ``queues=`` narrows what the app's workers consume.
    app.amqp.queues._consume_from = None
