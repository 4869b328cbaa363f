"""The `Directory` contract (`dialer.apicalls.ports`): `MemoryDirectory` and `SqlDirectory`
on SQLite and PostgreSQL. Agents with their contact and queues, campaigns, DNC entries
(exact, prefix, of a campaign, lapsed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Campaign, DncEntry
from campaigns.rules import CallingWindow
from dialer.agents.orm import AgentRow, AgentTierRow
from dialer.apicalls.adapters import SqlDirectory
from dialer.apicalls.fakes import MemoryDirectory
from dialer.apicalls.ports import AgentFacts, CampaignFacts, Directory
from dialer.db.base import transaction
from dialer.routing.model import CampaignRouting
from dialer.routing.table import RoutingTable
from tests.conftest import Backend

PORT = "api_call_directory"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
AGENT = AgentFacts("1001@default", "user/1001", ("sales@default",))


@pytest.fixture
def directory(backend: Backend) -> Directory:
    if backend.is_fake:
        spring = CampaignFacts(
            1, "spring", "CN", "sales@default", CallingWindow(), CampaignRouting("spring")
        )
        fake = MemoryDirectory(RoutingTable([]), [AGENT], [spring])
        fake.dnc = {"+8613900000000", "+86137"}
        return fake
    sessions = backend.sessions()
    with transaction(sessions) as session:
        session.add(Campaign(id=1, name="spring", queue_name="sales@default"))
        agent = AgentRow(name=AGENT.name, contact=AGENT.contact)
        agent.tiers.append(AgentTierRow(queue="sales@default"))
        session.add(agent)
        session.add(DncEntry(number="+8613900000000"))
        session.add(DncEntry(number="+86137", is_prefix=True))
        session.add(DncEntry(number="+8613600000000", expires_at=NOW - timedelta(days=1)))
    return SqlDirectory(sessions)


def test_agents_read_back_with_their_contact_and_queues(directory: Directory) -> None:
    assert directory.agent(AGENT.name) == AGENT
    assert directory.agent("nobody") is None
    assert [a.name for a in directory.agents_of_queue("sales@default")] == [AGENT.name]
    assert directory.agents_of_queue("other@default") == []


def test_campaigns_are_found_by_name_and_id(directory: Directory) -> None:
    found = directory.campaign("spring")
    assert found is not None and (found.id, found.queue, found.default_region) == (
        1,
        "sales@default",
        "CN",
    )
    assert directory.campaign_by_id(1) == found
    assert directory.campaign("autumn") is None and directory.campaign_by_id(9) is None


def test_dnc_covers_exact_numbers_and_prefixes_while_active(directory: Directory) -> None:
    assert directory.dnc_listed("+8613900000000", None, NOW)
    assert directory.dnc_listed("+8613712345678", 1, NOW)
    assert not directory.dnc_listed("+8613800000000", 1, NOW)
    assert not directory.dnc_listed("+8613600000000", None, NOW)  # lapsed
