"""The rows of mod_callcenter's SQLite tables (agents, tiers, members), its loaded queues and
the status codes of its table updates (``cc_status_t``).

Columns are in table order, as ``callcenter_config ... list`` prints them; times are whole
epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum

from dialer.sim.callcenter import tables as t
from dialer.sim.callcenter.config import QueueConfig

__all__ = [
    "AgentRow",
    "LoadedQueue",
    "MemberRow",
    "Status",
    "TierRow",
    "columns",
    "row_values",
]


class Status(Enum):
    """``cc_status_t``."""

    SUCCESS = "SUCCESS"
    AGENT_NOT_FOUND = "AGENT_NOT_FOUND"
    QUEUE_NOT_FOUND = "QUEUE_NOT_FOUND"
    AGENT_ALREADY_EXIST = "AGENT_ALREADY_EXIST"
    AGENT_INVALID_TYPE = "AGENT_INVALID_TYPE"
    AGENT_INVALID_STATUS = "AGENT_INVALID_STATUS"
    AGENT_INVALID_STATE = "AGENT_INVALID_STATE"
    TIER_ALREADY_EXIST = "TIER_ALREADY_EXIST"
    TIER_NOT_FOUND = "TIER_NOT_FOUND"
    TIER_INVALID_STATE = "TIER_INVALID_STATE"
    INVALID_KEY = "INVALID_KEY"


@dataclass
class AgentRow:
    """A row of the ``agents`` table, columns in table order."""

    name: str
    instance_id: str = t.INSTANCE_ID
    uuid: str = ""
    type: str = "callback"
    contact: str = ""
    status: str = t.AGENT_STATUS_LOGGED_OUT
    state: str = t.AGENT_STATE_WAITING
    max_no_answer: int = 0
    wrap_up_time: int = 0
    reject_delay_time: int = 0
    busy_delay_time: int = 0
    no_answer_delay_time: int = 0
    last_bridge_start: int = 0
    last_bridge_end: int = 0
    last_offered_call: int = 0
    last_status_change: int = 0
    no_answer_count: int = 0
    calls_answered: int = 0
    talk_time: int = 0
    ready_time: int = 0
    external_calls_count: int = 0


@dataclass
class TierRow:
    """A row of the ``tiers`` table."""

    queue: str
    agent: str
    state: str
    level: int
    position: int


@dataclass
class MemberRow:
    """A row of the ``members`` table (``score`` is computed by the queries)."""

    queue: str
    instance_id: str
    uuid: str
    session_uuid: str
    cid_number: str
    cid_name: str
    system_epoch: int
    joined_epoch: int
    rejoined_epoch: int = 0
    bridge_epoch: int = 0
    abandoned_epoch: int = 0
    base_score: int = 0
    skill_score: int = 0
    serving_agent: str = ""
    serving_system: str = ""
    state: str = t.MEMBER_WAITING

    def score(self, now_s: int) -> int:
        return now_s - self.joined_epoch + self.base_score + self.skill_score


@dataclass
class LoadedQueue:
    """A loaded queue (``cc_queue_t``): its config plus runtime counters."""

    config: QueueConfig
    calls_answered: int = 0
    calls_abandoned: int = 0
    last_agent_exist: int = 0
    last_agent_exist_check: int = 0


def columns(cls: type) -> list[str]:
    """Column names of a row class, in table order."""
    return [f.name for f in fields(cls)]


def row_values(row: AgentRow | TierRow | MemberRow) -> list[str]:
    return [str(getattr(row, name)) for name in columns(type(row))]
