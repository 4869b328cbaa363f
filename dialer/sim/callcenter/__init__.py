"""The simulator's mod_callcenter: queues, agents, tiers, members, ``callcenter_config`` and
``callcenter::info`` events, as FreeSWITCH 1.10's mod_callcenter produces them.

The switch core builds it with `create_engine` (matching
``dialer.sim.ports.CallcenterEngineFactory``) or, from plain dataclasses, with `Callcenter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialer.sim.callcenter.config import (
    AgentConfig,
    CallcenterConfig,
    QueueConfig,
    SimAgentBehaviour,
    TierConfig,
    config_from_mapping,
)
from dialer.sim.callcenter.engine import Callcenter
from dialer.sim.ports import SwitchPort

__all__ = [
    "AgentConfig",
    "Callcenter",
    "CallcenterConfig",
    "QueueConfig",
    "SimAgentBehaviour",
    "TierConfig",
    "config_from_mapping",
    "create_engine",
]


def create_engine(port: SwitchPort, config: Mapping[str, Any]) -> Callcenter:
    """Build the engine from the scenario's ``callcenter`` mapping (docs/callcenter-sim.md)."""
    return Callcenter(port, config_from_mapping(config))
