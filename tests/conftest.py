"""Shared fixtures: real PostgreSQL and Redis (the machine's services), SQLite files.

Integration fixtures fail with a clear message when a service is down: CI starts them, and a
test that silently skipped would prove nothing.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import CampaignStatus
from campaigns.models import Lead
from campaigns.rules import CallingWindow
from campaigns.service import create_campaign, parse_spec
from dialer.db.base import load_all_models, make_engine, make_session_factory, transaction
from dialer.db.migrate import upgrade
from dialer.routing.model import Trunk
from dialer.routing.ratedeck import RateEntry
from dialer.routing.service import add_trunk, import_rates
from tests.support.redis import flushed_redis

# Every service the suite reaches is named here and nowhere else. Two suites can run side by
# side on one machine by giving each its own DIALER_TEST_REDIS_DB_BASE (databases BASE to
# BASE+3); PostgreSQL databases are created per session with unique names anyway.
PG_ADMIN_URL = os.environ.get("DIALER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER_URL = os.environ.get("DIALER_TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
REDIS_DB_BASE = int(os.environ.get("DIALER_TEST_REDIS_DB_BASE", "12"))
# The heartbeat files of the loops the tests run go to a scratch directory, not the checkout.
os.environ.setdefault("DIALER_HEALTH_DIR", tempfile.mkdtemp(prefix="dialer-test-health-"))


@dataclass(frozen=True)
class RedisUrls:
    """One Redis database per area of the suite, so one area's flushdb never meets
    another's keys."""

    default: str
    routing: str
    runner: str
    celery: str


REDIS_URLS = RedisUrls(
    runner=f"{REDIS_SERVER_URL}/{REDIS_DB_BASE}",
    routing=f"{REDIS_SERVER_URL}/{REDIS_DB_BASE + 1}",
    celery=f"{REDIS_SERVER_URL}/{REDIS_DB_BASE + 2}",
    default=f"{REDIS_SERVER_URL}/{REDIS_DB_BASE + 3}",
)
REDIS_URL = REDIS_URLS.default


@pytest.fixture(scope="session")
def redis_urls() -> RedisUrls:
    """The test Redis databases by area."""
    return REDIS_URLS


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    name = f"dialer_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc}); start it (see .ci/run)"
        )
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def migrated_database(kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a migrated, empty database: ``sqlite`` (a file), ``postgresql`` (this
    session's database, emptied afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{request.getfixturevalue('tmp_path_factory').mktemp('db') / 'dialer.db'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("pg_url")
    upgrade(url)
    yield url
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in load_all_models().sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, then a PostgreSQL database."""
    with migrated_database(request.param, request) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis[str]]:
    """The machine's Redis, the default test database, emptied before and after the test."""
    with flushed_redis(REDIS_URL) as client:
        yield client


SeedCampaign = Callable[..., int]


def seed_running_campaign(
    sessions: sessionmaker[Session],
    leads: int,
    trunks: Mapping[str, int],
    prefix: str = "138",
    rates: Mapping[str, str] | None = None,
    **fields: Any,
) -> int:
    """A running campaign named ``campaign`` (queue ``campaign@default``, always inside its
    window, further `CampaignSpec` fields as keywords) with ``leads`` CN mobile leads
    ``+86<prefix><8 digits>`` (due from now on) and trunks ``{name: max_concurrency}`` rated
    for +86 (``rates``: per trunk, per minute; 0.03 by default); returns its id."""
    fields.setdefault("calling_window", CallingWindow.always_open())
    spec = parse_spec(name="campaign", queue_name="campaign@default", **fields)
    with transaction(sessions) as session:
        campaign = create_campaign(session, spec)
        campaign.status = CampaignStatus.RUNNING
        session.add_all(
            Lead(
                campaign_id=campaign.id,
                phone_e164=f"+86{prefix}{i:08d}",
                phone_raw=f"{prefix}{i:08d}",
                country="CN",
                time_zones="Asia/Shanghai",
                number_type="mobile",
            )
            for i in range(leads)
        )
        for name, limit in trunks.items():
            add_trunk(session, Trunk(name=name, proxy_host="10.0.0.10", max_concurrency=limit))
            rate = Decimal((rates or {}).get(name, "0.03"))
            import_rates(session, name, [RateEntry("86", rate)])
        return campaign.id


@pytest.fixture
def seed_campaign(sessions: sessionmaker[Session]) -> SeedCampaign:
    """`seed_running_campaign` on the test's database."""
    return partial(seed_running_campaign, sessions)


# Contract backends. A port's contract (``tests/contracts/test_contract_<port>.py``, naming
# its port in ``PORT``) runs the same assertions over the context's in-memory fake and over
# each real backend listed here, built on the services above. A backend that needs a service
# (PostgreSQL, Redis, a server over TCP) is an integration test; SQLite, a local file, is not.
FAKE = "fake"
CONTRACT_BACKENDS: dict[str, tuple[str, ...]] = {
    "agent_store": ("sqlite", "postgresql"),
    "api_call_store": ("sqlite", "postgresql"),
    "api_call_directory": ("sqlite", "postgresql"),
    "api_key_store": ("sqlite", "postgresql"),
    "attempt_sink": ("sqlite", "postgresql"),
    "call_log": ("sqlite", "postgresql"),
    "campaign_store": ("sqlite", "postgresql"),
    "cdr_store": ("sqlite", "postgresql"),
    "delivery_store": ("sqlite", "postgresql"),
    "disposition_store": ("sqlite", "postgresql"),
    "desk_bus": ("redis",),
    "lead_cards": ("sqlite", "postgresql"),
    "esl_connection": ("own", "greenswitch"),
    "lead_store": ("sqlite", "postgresql"),
    "lease_store": ("redis",),
    "live_state": ("redis",),
    "live_view": ("redis",),
    "node_store": ("redis",),
    "pacer_state_store": ("redis",),
    "reservations": ("redis",),
    "safety_store": ("sqlite", "postgresql"),
    "switch": ("switch_sim",),
    "switch_probe": ("switch_sim",),
    "switch_data": ("sqlite", "postgresql"),
    "node_api": ("switch_sim",),
    "recording_storage": ("files",),
    "trunk_health": ("redis",),
    "heartbeat_store": ("files",),
    "webhook_sender": ("http",),
}
_WITHOUT_SERVICE = frozenset({FAKE, "sqlite", "files"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``backend`` in a module naming its ``PORT`` runs once per backend."""
    port = getattr(metafunc.module, "PORT", None)
    if port is None or "backend" not in metafunc.fixturenames:
        return
    params = [
        pytest.param(
            name, id=name, marks=() if name in _WITHOUT_SERVICE else pytest.mark.integration
        )
        for name in (FAKE, *CONTRACT_BACKENDS[port])
    ]
    metafunc.parametrize("backend", params, indirect=True)


@dataclass
class Backend:
    """One backend of a contract run: ``name`` is ``fake`` or the real one's service; its
    services are made on first use and cleaned up after the test."""

    name: str
    _request: pytest.FixtureRequest
    _cleanup: ExitStack

    @property
    def is_fake(self) -> bool:
        return self.name == FAKE

    def sessions(self) -> sessionmaker[Session]:
        """A migrated, empty database of this backend (``sqlite`` or ``postgresql``)."""
        url = self._cleanup.enter_context(migrated_database(self.name, self._request))
        engine = make_engine(url)
        self._cleanup.callback(engine.dispose)
        return make_session_factory(engine)

    def redis(self) -> redis.Redis[str]:
        """The default test Redis database, emptied before and after the test."""
        client: redis.Redis[str] = self._request.getfixturevalue("redis_client")
        return client


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The backend `pytest_generate_tests` chose for this run of a contract test."""
    with ExitStack() as cleanup:
        yield Backend(request.param, request, cleanup)
