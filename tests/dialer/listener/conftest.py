"""A campaign with one lead being dialled, for the tests of what an ended call does to it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import Campaign, Lead
from campaigns.rules import RetryPolicy

SeedDialingLead = Callable[[RetryPolicy, int], tuple[int, int]]


@pytest.fixture
def seed_dialing_lead(sessions: sessionmaker[Session]) -> SeedDialingLead:
    """``seed(policy, max_attempts)``: campaign ``c1`` with that retry policy and one lead
    in ``dialing``; returns (campaign id, lead id)."""

    def seed(policy: RetryPolicy, max_attempts: int = 3) -> tuple[int, int]:
        with sessions() as s, s.begin():
            campaign = Campaign(
                name="c1",
                queue_name="sales@default",
                retry_rules=policy.model_dump(mode="json"),
                max_attempts=max_attempts,
            )
            s.add(campaign)
            s.flush()
            lead = Lead(
                campaign_id=campaign.id,
                phone_e164="+8613800138000",
                phone_raw="13800138000",
                country="CN",
                number_type="mobile",
                status=LeadStatus.DIALING,
            )
            s.add(lead)
            s.flush()
            return campaign.id, lead.id

    return seed
