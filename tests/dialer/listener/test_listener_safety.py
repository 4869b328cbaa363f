"""The abandon safety stop where outcomes are recorded: the listener stores an answered
call's end, then `AbandonSafety` pauses its campaign when a rule says so (memory fakes).

Defect: answered calls ending NO_ROUTE_DESTINATION (the campaign's dialplan context missing
on the switch) were counted abandoned while dialling went on at the same pace: nothing
paused the campaign."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from dialer.calls.safety import SafetyLimits
from dialer.esl.events import Event
from dialer.listener.fakes import (
    MemoryAttempts,
    MemoryLiveState,
    MemorySafety,
    MemorySafetyCampaign,
    MemoryTrunks,
)
from dialer.listener.safety import AbandonSafety, PauseNotice
from dialer.listener.service import NodeListener
from tests.support.clock import FakeClock

T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
CAMPAIGN = 1


def answered_call(n: int, cause: str, *, connected: bool = False) -> list[Event]:
    """The events of call ``n``: created, answered, (bridged to an agent,) hung up."""
    uuid = f"00000000-0000-4000-8000-{n:012d}"
    ids = {
        "Unique-ID": uuid,
        "variable_dialer_campaign_id": str(CAMPAIGN),
        "variable_dialer_lead_id": str(100 + n),
        "variable_dialer_attempt_id": str(1000 + n),
    }
    at_us = str(int(T0.timestamp() * 1e6) + n * 60_000_000)
    events = [
        Event({"Event-Name": "CHANNEL_CREATE", **ids}),
        Event({"Event-Name": "CHANNEL_ANSWER", "Event-Date-Timestamp": at_us, **ids}),
    ]
    if connected:
        events.append(
            Event(
                {
                    "Event-Name": "CUSTOM",
                    "Event-Subclass": "callcenter::info",
                    "CC-Action": "bridge-agent-start",
                    "CC-Member-Session-UUID": uuid,
                    "CC-Agent": "1001@default",
                    "Event-Date-Timestamp": at_us,
                }
            )
        )
    events.append(Event({"Event-Name": "CHANNEL_HANGUP_COMPLETE", "Hangup-Cause": cause, **ids}))
    return events


class Rig:
    def __init__(self, limits: SafetyLimits, store: type[MemorySafety] = MemorySafety) -> None:
        self.attempts = MemoryAttempts()
        self.safety = store({CAMPAIGN: MemorySafetyCampaign("spring", limits)})
        self.safety.attempts = self.attempts
        self.notices: list[PauseNotice] = []
        check = AbandonSafety(self.safety, FakeClock(T0), self.notices.append)
        self.listener = NodeListener(
            "fs1", MemoryLiveState(), self.attempts, MemoryTrunks(), safety=check
        )

    def call(self, n: int, cause: str = "NORMAL_CLEARING", *, connected: bool = False) -> None:
        for event in answered_call(n, cause, connected=connected):
            self.listener.handle(event)

    @property
    def campaign(self) -> MemorySafetyCampaign:
        return self.safety.campaigns[CAMPAIGN]


ROOMY = SafetyLimits(target_pct=50.0, window_days=30, run_limit=5)


def test_an_answered_call_without_a_route_pauses_its_campaign_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig(ROOMY)
    for n in range(20):
        rig.call(n, connected=True)
    with caplog.at_level(logging.WARNING, logger="dialer.listener.safety"):
        rig.call(20, "NO_ROUTE_DESTINATION")
    assert rig.attempts.ended[-1][1].abandoned  # still an abandon: a person was answered
    assert not rig.campaign.running
    assert rig.campaign.pause_reason and "NO_ROUTE_DESTINATION" in rig.campaign.pause_reason
    assert rig.campaign.paused_at == T0
    [notice] = rig.notices
    assert (notice.campaign, notice.reason) == ("spring", rig.campaign.pause_reason)
    assert notice.call_uuid == "00000000-0000-4000-8000-000000000020"
    [line] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "spring paused" in line.getMessage() and "NO_ROUTE_DESTINATION" in line.getMessage()


def test_a_missing_application_pauses_too() -> None:
    rig = Rig(ROOMY)
    rig.call(1, "DESTINATION_OUT_OF_ORDER")
    assert not rig.campaign.running


def test_five_abandons_in_a_row_pause_the_campaign_on_the_fifth() -> None:
    rig = Rig(ROOMY)
    for n in range(20):
        rig.call(n, connected=True)
    for n in range(20, 24):
        rig.call(n)  # answered, no agent: abandoned
        assert rig.campaign.running
    rig.call(24)
    assert not rig.campaign.running
    assert rig.campaign.pause_reason == "5 answered calls in a row abandoned (no agent took them)"
    assert len(rig.notices) == 1


def test_an_abandon_above_the_target_pauses_the_campaign() -> None:
    rig = Rig(SafetyLimits(target_pct=3.0, window_days=30, run_limit=5))
    for n in range(40):
        rig.call(n, connected=True)
    rig.call(40)  # 1 of 41 answered: within 3%
    assert rig.campaign.running
    rig.call(41, connected=True)
    rig.call(42)  # 2 of 43: above 1.29
    assert not rig.campaign.running
    assert rig.campaign.pause_reason is not None
    assert rig.campaign.pause_reason.startswith("abandon rate over 30 days above target: 2 ")


def test_a_paused_campaign_is_not_paused_again_and_nothing_more_is_said() -> None:
    rig = Rig(ROOMY)
    rig.call(1, "NO_ROUTE_DESTINATION")
    rig.call(2, "NO_ROUTE_DESTINATION")  # a call in flight at the stop ends the same way
    assert len(rig.notices) == 1


def test_a_failing_store_is_logged_and_the_listener_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(MemorySafety):
        def pause(self, campaign_id: int, reason: str, at: datetime) -> bool:
            raise RuntimeError("database gone")

    rig = Rig(ROOMY, Broken)
    rig.call(1, "NO_ROUTE_DESTINATION")
    assert len(rig.attempts.ended) == 1  # the call's record stays
    assert "abandon safety check" in caplog.text
