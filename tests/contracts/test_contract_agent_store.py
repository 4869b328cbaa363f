"""The `AgentStore` contract (`dialer.agents.ports`): `MemoryAgentStore` and `SqlAgentStore`
on SQLite and PostgreSQL. Agents written whole with their tiers, listed by name, removed."""

from __future__ import annotations

import pytest

from dialer.agents.adapters import SqlAgentStore
from dialer.agents.fakes import MemoryAgentStore
from dialer.agents.ports import AgentRecord, AgentStore, Tier
from tests.conftest import Backend

PORT = "agent_store"


@pytest.fixture
def store(backend: Backend) -> AgentStore:
    if backend.is_fake:
        return MemoryAgentStore()
    return SqlAgentStore(backend.sessions())


def test_an_agent_is_read_back_with_its_tiers_by_queue(store: AgentStore) -> None:
    tiers = (Tier("sales@default", 2, 3), Tier("ringall@default"))
    store.put(AgentRecord("1001@default", "user/1001", tiers))
    got = store.get("1001@default")
    assert got == AgentRecord(
        "1001@default", "user/1001", (Tier("ringall@default"), Tier("sales@default", 2, 3))
    )
    assert got is not None and got.tier("sales@default") == Tier("sales@default", 2, 3)
    assert store.get("1002@default") is None


def test_put_replaces_the_agent_whole(store: AgentStore) -> None:
    store.put(AgentRecord("1001", "user/1001", (Tier("sales@default"), Tier("ringall@default"))))
    store.put(AgentRecord("1001", "user/2002", (Tier("sales@default", 1, 5),)))
    assert store.get("1001") == AgentRecord("1001", "user/2002", (Tier("sales@default", 1, 5),))
    store.put(AgentRecord("1001", "user/2002"))
    assert store.get("1001") == AgentRecord("1001", "user/2002")


def test_all_lists_by_name_and_remove_forgets(store: AgentStore) -> None:
    for name in ("1003", "1001", "1002"):
        store.put(AgentRecord(name, f"user/{name}", (Tier("sales@default"),)))
    assert [r.name for r in store.all()] == ["1001", "1002", "1003"]
    assert store.remove("1002") is True
    assert store.remove("1002") is False
    assert [r.name for r in store.all()] == ["1001", "1003"]
    assert store.get("1002") is None
    store.put(AgentRecord("1002", "user/1002"))  # a removed name can be added again
    assert store.get("1002") == AgentRecord("1002", "user/1002")
