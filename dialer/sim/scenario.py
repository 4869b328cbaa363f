"""Scenario files: switch limits, gateways, callee population (`dialer.sim.population`),
agent endpoints, dialplan, callcenter config.

The format is documented in ``docs/simulator.md``. Everything here is plain data.
Units: every duration is in (simulated) seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dialer.sim.population import Dist, PopulationRule, parse_dist, rule_from_dict

__all__ = [
    "AgentEndpoint",
    "Extension",
    "GatewayConfig",
    "Scenario",
    "load_scenario",
    "scenario_from_dict",
]

_ONE_SECOND = Dist("fixed", 1.0)


@dataclass(frozen=True)
class GatewayConfig:
    """A sofia gateway: ``status`` UP / DOWN (OPTIONS ping failed) / UNREACHABLE (ICMP) /
    BLACKHOLE (never answers INVITEs); ``max_calls`` and ``max_cps`` are the carrier's limits
    (0 = unlimited), answered with 503 when exceeded."""

    name: str
    proxy: str = "127.0.0.1:5090"
    profile: str = "external"
    status: str = "UP"
    max_calls: int = 0
    max_cps: float = 0.0
    ping: bool = False


@dataclass(frozen=True)
class AgentEndpoint:
    """How a simulated agent phone reached at a contact containing ``match`` behaves:
    ``answer`` after ``answer_delay_s``, ``reject`` (486 after the delay) or ``no_answer``."""

    match: str
    behaviour: str = "answer"
    answer_delay_s: Dist = _ONE_SECOND
    hangup_after_s: float | None = None


@dataclass(frozen=True)
class Extension:
    """A dialplan extension in a context: ``callcenter`` queue name (optional), what runs
    after the queue gives up (``playback`` seconds of safe-harbor message, then hangup), and
    whether it sets ``hangup_after_bridge=true`` (otherwise the customer stays when the agent
    hangs up and the extension continues with the safe-harbor steps)."""

    name: str
    context: str
    queue: str | None = None
    answer: bool = True
    after_queue_playback: str | None = "tone_stream://%(2000,0,440)"
    after_queue_playback_s: float = 2.0
    hangup_after_bridge: bool = True
    # the switch-side DNC guard (fs_conf.dnc): a dialled number in mod_blacklist's list
    # ``dnc_list`` of the scenario's ``blacklists``, or matching ``dnc_prefix_regex``, is hung
    # up CALL_REJECTED before the extension answers and queues
    dnc_list: str | None = None
    dnc_prefix_regex: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A whole simulated switch."""

    seed: int = 1
    speed: float = 1.0
    hostname: str = "vm"
    max_sessions: int = 1000
    sessions_per_second: int = 30
    gateways: dict[str, GatewayConfig] = field(default_factory=dict)
    population: tuple[PopulationRule, ...] = ()
    agent_endpoints: tuple[AgentEndpoint, ...] = ()
    extensions: tuple[Extension, ...] = ()
    callcenter: dict[str, Any] = field(default_factory=dict)
    # mod_blacklist's lists: name -> entries (the lines of its list file)
    blacklists: dict[str, frozenset[str]] = field(default_factory=dict)
    heartbeat_s: float = 20.0
    start_epoch_s: float | None = None

    def extension(self, name: str, context: str) -> Extension | None:
        """The extension ``name`` in ``context``, if defined."""
        for ext in self.extensions:
            if ext.name == name and ext.context == context:
                return ext
        return None

    def agent_endpoint(self, contact: str) -> AgentEndpoint:
        """Behaviour of the phone at ``contact`` (first matching entry; default answers)."""
        for ep in self.agent_endpoints:
            if ep.match in contact:
                return ep
        return AgentEndpoint(match="")


def scenario_from_dict(raw: Mapping[str, Any]) -> Scenario:
    """Build a `Scenario` from parsed YAML/JSON (see docs/simulator.md)."""
    switch = raw.get("switch", {})
    gateways = {
        name: GatewayConfig(
            name=name,
            proxy=str(g.get("proxy", "127.0.0.1:5090")),
            profile=str(g.get("profile", "external")),
            status=str(g.get("status", "UP")).upper(),
            max_calls=int(g.get("max_calls", 0)),
            max_cps=float(g.get("max_cps", 0)),
            ping=bool(g.get("ping", False)),
        )
        for name, g in (raw.get("gateways") or {}).items()
    }
    endpoints = tuple(
        AgentEndpoint(
            match=str(e["match"]),
            behaviour=str(e.get("behaviour", "answer")),
            answer_delay_s=parse_dist(e.get("answer_delay_s"), _ONE_SECOND),
            hangup_after_s=e.get("hangup_after_s"),
        )
        for e in raw.get("agent_endpoints", [])
    )
    extensions = tuple(
        Extension(
            name=str(e["name"]),
            context=str(e.get("context", "default")),
            queue=e.get("queue"),
            answer=bool(e.get("answer", True)),
            after_queue_playback=e.get("after_queue_playback", "tone_stream://%(2000,0,440)"),
            after_queue_playback_s=float(e.get("after_queue_playback_s", 2.0)),
            hangup_after_bridge=bool(e.get("hangup_after_bridge", True)),
            dnc_list=e.get("dnc_list"),
            dnc_prefix_regex=e.get("dnc_prefix_regex"),
        )
        for e in raw.get("dialplan", [])
    )
    return Scenario(
        seed=int(raw.get("seed", 1)),
        speed=float(raw.get("speed", 1.0)),
        hostname=str(switch.get("hostname", "vm")),
        max_sessions=int(switch.get("max_sessions", 1000)),
        sessions_per_second=int(switch.get("sessions_per_second", 30)),
        heartbeat_s=float(switch.get("heartbeat_s", 20.0)),
        start_epoch_s=float(raw["start_epoch_s"]) if "start_epoch_s" in raw else None,
        gateways=gateways,
        population=tuple(rule_from_dict(r) for r in raw.get("population", [])),
        agent_endpoints=endpoints,
        extensions=extensions,
        callcenter=dict(raw.get("callcenter") or {}),
        blacklists={
            str(name): frozenset(str(v) for v in entries)
            for name, entries in (raw.get("blacklists") or {}).items()
        },
    )


def load_scenario(path: Path | str) -> Scenario:
    """Read a ``.yaml``/``.yml`` or ``.json`` scenario file."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    raw = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise ValueError(f"{p}: a scenario is a mapping")
    return scenario_from_dict(raw)
