"""Checking and starting a campaign: the one flow ``dialer campaigns check|start`` and
``POST /v1/campaigns/{name}/start`` share.

A start first asks whether the campaign may start at all (its mode, its status): what no
check can fix is refused before any switch is asked, and nothing is written. Then the
preflight (`dialer.runner.preflight`) asks every node; with a failing check the campaign is
not started unless ``force``. The status changes in a transaction of its own, after the
checks, so a refused start leaves the campaign as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from campaigns.service import get_campaign, transition
from dialer.clock import Clock
from dialer.runner.adapters import campaign_facts
from dialer.runner.ports import SwitchProbe
from dialer.runner.preflight import Preflight
from dialer.runner.service import preflight

__all__ = ["StartResult", "check_campaign", "start_campaign"]


@dataclass(frozen=True, slots=True)
class StartResult:
    """``started``: the campaign now runs (its status as ``status``); ``preflight``: every
    finding of its checks (failures included when forced)."""

    started: bool
    status: str
    preflight: Preflight


def check_campaign(
    sessions: sessionmaker[Session], name: str, probe: SwitchProbe, clock: Clock, zone: str
) -> Preflight:
    """Every check of campaign ``name``: its rows now, then every node ``probe`` reaches;
    times in the findings are in ``zone``. Raises `campaigns.service.CampaignError`."""
    with sessions() as session:
        facts = campaign_facts(session, name, clock.now())
    return preflight(facts, probe, zone)


def start_campaign(
    sessions: sessionmaker[Session],
    name: str,
    probe: SwitchProbe,
    clock: Clock,
    zone: str,
    force: bool = False,
) -> StartResult:
    """Start (or resume) campaign ``name`` when its checks pass (or ``force``); raises
    `campaigns.service.CampaignError` when its mode or status forbids a start."""
    with sessions() as session:
        transition(session, name, "start")
        session.rollback()
    checked = check_campaign(sessions, name, probe, clock, zone)
    if not checked.ok and not force:
        with sessions() as session:
            return StartResult(False, get_campaign(session, name).status.value, checked)
    with sessions.begin() as session:
        campaign = transition(session, name, "start")
        return StartResult(True, campaign.status.value, checked)
