"""Admission limits of the simulated switch: ``fsctl sps``, ``max_sessions`` and the
carriers' own limits (a gateway's ``max_calls`` concurrency and ``max_cps`` rate).

FreeSWITCH lets N-1 sessions per second through ``fsctl sps N`` and counts refused attempts in
the per-second peak; a refused session never becomes a channel and the originate answers
``-ERR DESTINATION_OUT_OF_ORDER`` (`REFUSAL_CAUSE`). A carrier over its limits answers 503.
Windows are whole simulated seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from dialer.sim.scenario import GatewayConfig

__all__ = ["REFUSAL_CAUSE", "Admission"]

REFUSAL_CAUSE = "DESTINATION_OUT_OF_ORDER"
"""Hangup cause (and originate reply) of a session refused by `Admission.admit_session`."""

_SESSION_SITE = ("switch_core_session.c", "switch_core_session_request_uuid", 2422)
_LIMIT_SITE = ("switch_core_session.c", "switch_core_session_request_uuid", 2429)
_SOFIA_SITE = ("mod_sofia.c", "sofia_outgoing_channel", 4751)

ConsoleLog = Callable[[int, tuple[str, str, int], str], None]


class Admission:
    """Session counters printed by ``status`` and the limits applied to new sessions.

    ``log(level, site, text)`` writes a console line (level 2 = CRIT)."""

    def __init__(self, max_sessions: int, sps_limit: int, started_s: float, log: ConsoleLog):
        self.max_sessions = max_sessions
        self.sps_limit = sps_limit
        self.started_s = started_s
        self.since_startup = 0
        self.peak = 0
        self.sps_window_s = 0
        self.sps_in_window = 0
        self.sps_peak = 0
        self._log = log
        self._carrier_windows: dict[str, tuple[int, int]] = {}

    def admit_session(self, now_s: float, live_sessions: int) -> bool:
        """Apply ``fsctl sps`` and ``max_sessions``; a refusal logs FreeSWITCH's CRIT lines."""
        now_whole = int(now_s)
        if self.sps_window_s != now_whole:
            self.sps_window_s, self.sps_in_window = now_whole, 0
        self.sps_in_window += 1
        self.sps_peak = max(self.sps_peak, self.sps_in_window)
        if self.sps_in_window >= self.sps_limit:
            self._log(2, _SESSION_SITE, f"Throttle Error! {self.sps_limit - 1}")
        elif live_sessions >= self.max_sessions:
            self._log(2, _LIMIT_SITE, f"Over Session Limit! {self.max_sessions}")
        else:
            return True
        self._log(2, _SOFIA_SITE, "Error Creating Session")
        return False

    def session_created(self, live_sessions: int) -> None:
        """Count a new session (``live_sessions`` includes it) for ``status``."""
        self.since_startup += 1
        self.peak = max(self.peak, live_sessions)

    def sessions_this_second(self, now_s: float) -> int:
        """Sessions requested during the current whole second (``status``'s per-Sec count)."""
        return self.sps_in_window if self.sps_window_s == int(now_s) else 0

    def carrier_over_limit(self, gateway: GatewayConfig, active_calls: int, now_s: float) -> bool:
        """Whether the carrier refuses this call: ``active_calls`` (this one included) above
        ``max_calls``, or more than ``max_cps`` calls in this second (this one counted)."""
        if gateway.max_calls and active_calls > gateway.max_calls:
            return True
        if gateway.max_cps:
            second = int(now_s)
            window, count = self._carrier_windows.get(gateway.name, (second, 0))
            if window != second:
                window, count = second, 0
            self._carrier_windows[gateway.name] = (window, count + 1)
            return count + 1 > gateway.max_cps
        return False
