"""Updating a campaign: validated as at creation, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from campaigns import service
from campaigns.domain import RetryOrder
from campaigns.service import CampaignError


def test_an_update_is_validated_and_changes_only_what_it_names(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        service.create_campaign(session, service.parse_spec(name="c", queue_name="q"))
    with sessions.begin() as session:
        service.update_campaign(session, "c", {"retry_order": "fresh_first", "max_attempts": 5})
    for bad, reason in (
        ({"retry_order": "oldest"}, "retry_order"),
        ({"max_attempts": 5, "abandon_target_pct": 0}, "abandon_target_pct"),
        ({"name": "d"}, "name cannot change"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(CampaignError, match=reason), sessions.begin() as session:
            service.update_campaign(session, "c", bad)
    with sessions() as session:
        campaign = service.get_campaign(session, "c")
        assert (campaign.retry_order, campaign.max_attempts) == (RetryOrder.FRESH_FIRST, 5)
        assert campaign.abandon_target_pct == 3.0 and campaign.queue_name == "q"
