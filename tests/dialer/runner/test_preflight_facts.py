"""`campaign_facts` on SQLite and PostgreSQL: which trunks a campaign may use, its dialplan
entry, its calling window for the waiting leads' zones, its waiting and due leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.lead_lists import archive_list
from campaigns.models import Lead, LeadList
from campaigns.service import CampaignError, create_campaign, parse_spec
from dialer.routing.model import Trunk
from dialer.routing.service import add_trunk
from dialer.runner.adapters import campaign_facts
from dialer.runner.preflight import TrunkFacts

NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # Thursday 21:00 in Shanghai
WINDOW = {"windows": [{"days": "mon,tue,wed,thu,fri,sat", "start": "09:00", "end": "20:00"}]}


def lead(campaign_id: int, i: int, due: datetime, status: LeadStatus) -> Lead:
    return Lead(
        campaign_id=campaign_id, phone_e164=f"+8613900000{i:03d}", phone_raw=f"13900000{i:03d}",
        country="CN", time_zones="Asia/Shanghai", number_type="mobile", status=status,
        next_attempt_at=due,
    )  # fmt: skip


def test_facts_of_a_campaign(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        spec = parse_spec(name="spring", queue_name="sales@default", calling_window=WINDOW,
                          trunk_group="cn")  # fmt: skip
        campaign = create_campaign(session, spec)
        session.flush()
        for name, extra in (
            ("a_cn", {"groups": ("cn",), "fs_nodes": ("fs2",)}),
            ("b_other", {"groups": ("us",)}),
            ("c_off", {"groups": ("cn",), "enabled": False}),
            ("d_never", {"groups": ("cn",), "weight": 0}),
        ):
            add_trunk(session, Trunk(name=name, proxy_host="10.0.0.1", **extra))  # type: ignore[arg-type]
        session.add_all([
            lead(campaign.id, 1, NOW - timedelta(hours=1), LeadStatus.PENDING),
            lead(campaign.id, 2, NOW + timedelta(hours=2), LeadStatus.PENDING),
            lead(campaign.id, 3, NOW - timedelta(hours=1), LeadStatus.DONE),
        ])  # fmt: skip
    with sessions() as session:
        facts = campaign_facts(session, "spring", NOW)
        with pytest.raises(CampaignError, match="no campaign named 'autumn'"):
            campaign_facts(session, "autumn", NOW)
    assert (facts.queue, facts.extension, facts.context) == (
        "sales@default",
        "cc_spring",
        "campaign",
    )
    assert facts.trunks == (TrunkFacts("a_cn", ("fs2",)),)
    assert (facts.leads_waiting, facts.leads_due) == (2, 1)
    assert facts.next_due_at == NOW - timedelta(hours=1)
    # closed at 21:00 on Thursday; opens Friday 09:00 in Shanghai
    assert facts.window_opens_at == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    assert facts.window_text.startswith("Mon–Sat 09:00–20:00")


def test_leads_of_an_archived_list_are_not_due(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        campaign = create_campaign(session, parse_spec(name="spring", queue_name="q@default"))
        kept, archived = (
            LeadList(campaign_id=campaign.id, name=n, file_sha256=n * 16, status="complete")
            for n in ("kept", "gone")
        )
        session.add_all([kept, archived])
        session.flush()
        due = NOW - timedelta(hours=1)
        for i, lst in enumerate((kept, archived, archived)):
            row = lead(campaign.id, i, due, LeadStatus.PENDING)
            row.lead_list_id = lst.id
            session.add(row)
        archive_list(session, archived)
    with sessions() as session:
        facts = campaign_facts(session, "spring", NOW)
    assert (facts.leads_waiting, facts.leads_due) == (1, 1)
