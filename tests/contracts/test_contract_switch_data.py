"""The `SwitchData` contract (`dialer.xmlcurl.ports`): `MemorySwitchData` and `SqlSwitchData`
on SQLite and PostgreSQL read back campaigns, trunks, agents and the global DNC prefixes in
force, each sorted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns.dnc import add_entry
from campaigns.service import CampaignSpec, create_campaign
from dialer.agents.adapters import SqlAgentStore
from dialer.agents.ports import AgentRecord
from dialer.db.base import transaction
from dialer.routing.model import NumberFormat, Trunk
from dialer.routing.service import add_trunk
from dialer.xmlcurl.adapters import SqlSwitchData
from dialer.xmlcurl.fakes import MemorySwitchData
from dialer.xmlcurl.ports import SwitchData
from tests.conftest import Backend

PORT = "switch_data"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TRUNKS = [
    Trunk(name="zz", proxy_host="192.0.2.9", callee_prefix="17909"),
    Trunk(name="aa", proxy_host="192.0.2.1", number_format=NumberFormat.E164),
]


def _seed_sql(sessions: sessionmaker[Session]) -> SwitchData:
    with transaction(sessions) as session:
        create_campaign(session, CampaignSpec(name="spring", queue_name="sales@default"))
        create_campaign(session, CampaignSpec(name="autumn", queue_name="q2@default"))
        for t in TRUNKS:
            add_trunk(session, t)
        add_entry(session, "+86139", region="CN", now=T0, is_prefix=True)
        add_entry(session, "+86150", region="CN", now=T0, is_prefix=True,
                  expires_at=T0 + timedelta(hours=1))  # fmt: skip
        add_entry(session, "+8613800138000", region="CN", now=T0)
    agents = SqlAgentStore(sessions)
    agents.put(AgentRecord("b@default", "user/1002"))
    agents.put(AgentRecord("a@default", "[leg_timeout=15]user/1001@default"))
    return SqlSwitchData(sessions)


def _seed_fake() -> SwitchData:
    return MemorySwitchData(
        {"spring": "sales@default", "autumn": "q2@default"},
        list(TRUNKS),
        [("+86139", None), ("+86150", T0 + timedelta(hours=1))],
        {"b@default": "user/1002", "a@default": "[leg_timeout=15]user/1001@default"},
    )


@pytest.fixture
def data(backend: Backend) -> SwitchData:
    return _seed_fake() if backend.is_fake else _seed_sql(backend.sessions())


def test_campaigns_trunks_and_agents_are_read_back_sorted(data: SwitchData) -> None:
    assert data.campaigns() == [("autumn", "q2@default"), ("spring", "sales@default")]
    trunks = data.trunks()
    assert [t.name for t in trunks] == ["aa", "zz"]
    assert (trunks[0].number_format, trunks[1].callee_prefix) == (NumberFormat.E164, "17909")
    assert data.agent_contacts() == [
        ("a@default", "[leg_timeout=15]user/1001@default"),
        ("b@default", "user/1002"),
    ]


def test_only_the_global_prefixes_in_force_are_read(data: SwitchData) -> None:
    assert data.dnc_prefixes(T0) == ["+86139", "+86150"]
    assert data.dnc_prefixes(T0 + timedelta(hours=2)) == ["+86139"]
