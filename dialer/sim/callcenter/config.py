"""Plain configuration for the simulated mod_callcenter: what FreeSWITCH reads from
``callcenter.conf.xml`` (queues, agents, tiers) plus the simulated agents' behaviour.

All durations are whole seconds where mod_callcenter keeps whole seconds (wrap-up and delay
times, max-wait-time ...), and float seconds for the simulated behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from dialer.sim.callcenter.tables import AGENT_STATUS_ON_BREAK

__all__ = [
    "AgentConfig",
    "CallcenterConfig",
    "QueueConfig",
    "SimAgentBehaviour",
    "TierConfig",
    "config_from_mapping",
]


@dataclass(frozen=True)
class QueueConfig:
    """A ``<queue>`` of callcenter.conf.xml; defaults are mod_callcenter's own."""

    name: str
    strategy: str = "longest-idle-agent"
    moh_sound: str | None = None
    announce_sound: str | None = None
    announce_frequency_s: int = 0
    record_template: str | None = None
    time_base_score: str = "queue"
    ring_progressively_delay_s: int = 0
    tier_rules_apply: bool = False
    tier_rule_wait_second: int = 0
    tier_rule_wait_multiply_level: bool = False
    tier_rule_no_agent_no_wait: bool = True
    discard_abandoned_after_s: int = 60
    abandoned_resume_allowed: bool = False
    max_wait_time_s: int = 0
    max_wait_time_with_no_agent_s: int = 0
    max_wait_time_with_no_agent_time_reached_s: int = 5
    agent_no_answer_status: str = AGENT_STATUS_ON_BREAK
    skip_agents_with_external_calls: bool = True


@dataclass(frozen=True)
class AgentConfig:
    """An ``<agent>`` of callcenter.conf.xml. ``None`` = attribute absent (not applied)."""

    name: str
    type: str | None = "callback"
    contact: str | None = None
    status: str | None = None
    max_no_answer: int | None = None
    wrap_up_time_s: int | None = None
    reject_delay_time_s: int | None = None
    busy_delay_time_s: int | None = None
    no_answer_delay_time_s: int | None = None


@dataclass(frozen=True)
class TierConfig:
    """A ``<tier>`` of callcenter.conf.xml."""

    agent: str
    queue: str
    level: int | None = None
    position: int | None = None


@dataclass(frozen=True)
class SimAgentBehaviour:
    """How a simulated agent behaves once mod_callcenter has reached it (not part of
    mod_callcenter; whether and when the agent's phone answers an offer is the switch core's
    ``AgentEndpoint`` of the scenario).

    - Bridged calls: the agent hangs up after ``talk_time_s`` (+ uniform jitter up to
      ``talk_jitter_s``) unless the customer hung up first; ``None`` = the agent never hangs
      up first (the customer's talk time decides).
    - Breaks: every ``break_every_s`` (None = never) the agent goes ``On Break`` for
      ``break_duration_s`` (as soon as it is not on an offer or call), then back to
      ``Available``, through the same update as ``callcenter_config agent set status``.
    """

    talk_time_s: float | None = None
    talk_jitter_s: float = 0.0
    break_every_s: float | None = None
    break_duration_s: float = 0.0


@dataclass(frozen=True)
class CallcenterConfig:
    """Everything the engine needs: the XML config and the simulated agents' behaviour
    (by agent name; agents without an entry get ``default_behaviour``)."""

    queues: Sequence[QueueConfig] = ()
    agents: Sequence[AgentConfig] = ()
    tiers: Sequence[TierConfig] = ()
    behaviours: Mapping[str, SimAgentBehaviour] = field(default_factory=dict)
    default_behaviour: SimAgentBehaviour = SimAgentBehaviour()


def _build(cls: Any, raw: Mapping[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    return cls(**dict(raw))


def config_from_mapping(raw: Mapping[str, Any]) -> CallcenterConfig:
    """Build a `CallcenterConfig` from the scenario's ``callcenter`` mapping (keys are the
    dataclass field names; ``behaviours`` maps agent name -> behaviour mapping)."""
    behaviours = {
        name: _build(SimAgentBehaviour, b) for name, b in dict(raw.get("behaviours", {})).items()
    }
    default = _build(SimAgentBehaviour, raw.get("default_behaviour", {}))
    return CallcenterConfig(
        queues=[_build(QueueConfig, q) for q in raw.get("queues", [])],
        agents=[_build(AgentConfig, a) for a in raw.get("agents", [])],
        tiers=[_build(TierConfig, t) for t in raw.get("tiers", [])],
        behaviours=behaviours,
        default_behaviour=default,
    )
