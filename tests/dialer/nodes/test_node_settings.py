"""A node's own bounds and trunk binding in ``DIALER_FREESWITCH_NODES``."""

from __future__ import annotations

import pytest

from dialer.config import SettingsError, load_settings
from dialer.nodes.service import NodeConfig
from dialer.nodes.wiring import node_configs


def test_bounds_and_trunks_of_a_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DIALER_FREESWITCH_NODES",
        '[{"name":"fs1"},{"name":"fs2","max_sessions":400,"sps":60,"trunks":["c1","c2"]}]',
    )
    nodes = load_settings(_env_file=None).freeswitch_nodes
    assert node_configs(nodes) == [
        NodeConfig("fs1"),
        NodeConfig("fs2", max_sessions=400, sps=60, trunks=frozenset({"c1", "c2"})),
    ]


def test_a_negative_bound_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_FREESWITCH_NODES", '[{"name":"fs1","sps":-1}]')
    with pytest.raises(SettingsError, match="DIALER_FREESWITCH_NODES"):
        load_settings(_env_file=None)
