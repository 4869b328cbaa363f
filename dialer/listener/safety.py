"""The abandon safety stop where outcomes are recorded: after the listener stored an answered
call's end, `AbandonSafety.check` asks the pure rules (`dialer.calls.safety.stop_reason`)
and pauses the campaign when they say so.

A pause is said four ways: the campaign's status (``paused``, with its reason and time,
kept by the `SafetyStore`), one WARNING line in the listener's log, the ``notify`` callback
(the deployment's: the ``campaign.paused`` webhook) and ``dialer campaigns show``. Only the
listener that paused the campaign logs and notifies. The runner's tick reads the status every
tick, so nothing more is launched once it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dialer.calls.machine import CallEnd
from dialer.calls.safety import EndedCall, stop_reason
from dialer.clock import SYSTEM_CLOCK, Clock
from dialer.listener.ports import SafetyStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PauseNotice:
    """A campaign the safety stop paused: the call whose end fired it, why, and when."""

    call_uuid: str
    campaign_id: int
    campaign: str
    reason: str
    paused_at: datetime


class AbandonSafety:
    """Checks each recorded end of an answered call; ``notify`` hears of each pause."""

    def __init__(
        self,
        store: SafetyStore,
        clock: Clock = SYSTEM_CLOCK,
        notify: Callable[[PauseNotice], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._notify = notify

    def check(self, end: CallEnd) -> PauseNotice | None:
        """The pause ``end`` caused, if any. Never raises: a failure is logged, and the
        next answered call is checked again."""
        if end.campaign_id is None or end.answered_at is None or end.outcome is None:
            return None
        try:
            notice = self._check(end, end.campaign_id)
        except Exception:
            log.exception("abandon safety check of call %s failed", end.call_uuid)
            return None
        if notice is not None and self._notify is not None:
            try:
                self._notify(notice)
            except Exception:
                log.exception("notice of campaign %s's pause failed", notice.campaign)
        return notice

    def _check(self, end: CallEnd, campaign_id: int) -> PauseNotice | None:
        now = self._clock.now()
        view = self._store.safety_view(campaign_id, now)
        if view is None:
            return None
        call = EndedCall(answered=True, abandoned=end.abandoned, hangup_cause=end.hangup_cause)
        reason = stop_reason(call, view.facts, view.limits)
        if reason is None or not self._store.pause(campaign_id, reason, now):
            return None
        log.warning(
            "campaign %s paused by the abandon safety stop: %s (call %s)",
            view.name, reason, end.call_uuid,
        )  # fmt: skip
        return PauseNotice(end.call_uuid, campaign_id, view.name, reason, now)
