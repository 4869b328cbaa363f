"""The caller's side of mod_callcenter: one `MemberSession` per run of the ``callcenter``
dialplan application (``callcenter_function`` and its ``cc_member_thread_run``).

Timing rule (j/j2/k/k2 transcripts): the member thread checks every 0.5 s from the join,
comparing whole epoch seconds: max-wait-time N lets the member go between N - 0.5 and N s
after the join; max-wait-time-with-no-agent uses the queue's ``last_agent_exist(_check)``
whole-second stamps written by the dispatcher every 0.1 s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.sim.callcenter.rows import LoadedQueue
from dialer.sim.ports import TimerHandle

__all__ = ["MEMBER_CHECK_PERIOD_S", "MemberSession", "max_wait_reached", "no_agent_timeout_reached"]

MEMBER_CHECK_PERIOD_S = 0.5


@dataclass
class MemberSession:
    """A caller inside the ``callcenter`` application."""

    member_uuid: str
    session_uuid: str
    queue_name: str
    joined_s: int
    cid_name: str
    cid_number: str
    dnis: str
    on_exit: Callable[[str], None]
    row_joined_s: int = 0
    last_originated_s: int = 0
    cancel_reason: str | None = None
    agent_found: bool = False
    done: bool = False
    connecting: int = 0
    timeout_pending: bool = False
    check_timer: TimerHandle | None = None
    offers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the members row's joined_epoch (kept when an abandoned member resumes), which the
        # agent side reports; the app itself reports the time it started
        self.row_joined_s = self.row_joined_s or self.joined_s

    def cc_headers(self) -> dict[str, str]:
        """The trailing member headers most callcenter::info events carry."""
        return {
            "CC-Member-UUID": self.member_uuid,
            "CC-Member-Session-UUID": self.session_uuid,
            "CC-Member-CID-Name": self.cid_name,
            "CC-Member-CID-Number": self.cid_number,
        }


def max_wait_reached(queue: LoadedQueue, session: MemberSession, now_s: int) -> bool:
    """``max-wait-time > 0 && max-wait-time <= now - joined`` (whole seconds)."""
    limit = queue.config.max_wait_time_s
    return limit > 0 and limit <= now_s - session.joined_s


def no_agent_timeout_reached(queue: LoadedQueue, session: MemberSession) -> bool:
    """The max-wait-time-with-no-agent rule of ``cc_member_thread_run``."""
    cfg = queue.config
    check, exist = queue.last_agent_exist_check, queue.last_agent_exist
    if not (cfg.max_wait_time_with_no_agent_s > 0 and check > exist and session.joined_s <= check):
        return False
    if check - exist < cfg.max_wait_time_with_no_agent_s:
        return False
    reached = cfg.max_wait_time_with_no_agent_time_reached_s
    if reached > 0:
        return check - session.joined_s >= reached + cfg.max_wait_time_with_no_agent_s
    return True
