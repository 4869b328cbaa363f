"""The callee population of the simulator: who answers, how fast, for how long.

A scenario's ``population:`` rules (docs/simulator.md) say, per gateway pattern and number
prefix, how the called people behave; `plan_callee` draws one callee's behaviour from them.
Pure: every draw comes from an explicit ``random.Random``, a fixed number of draws per call.
Units: every duration is in (simulated) seconds; probabilities/shares are in [0, 1].
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OUTCOMES",
    "CalleePlan",
    "Dist",
    "PopulationRule",
    "parse_dist",
    "pick_rule",
    "plan_callee",
    "rule_from_dict",
]


OUTCOMES = (
    "answer",
    "busy",
    "rejected",
    "invalid",
    "no_answer",
    "unavailable",
    "failure",
    "cancelled",
)


@dataclass(frozen=True)
class Dist:
    """A duration distribution in seconds: ``fixed``, ``uniform``, ``exponential``,
    ``lognormal`` (median/sigma) or ``normal`` (mean/sd); samples are clipped to >= ``min_s``."""

    kind: str = "fixed"
    a: float = 0.0
    b: float = 0.0
    min_s: float = 0.0

    def sample(self, rng: random.Random) -> float:
        """Draw one duration (seconds, >= min_s)."""
        if self.kind == "fixed":
            value = self.a
        elif self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "exponential":
            value = rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        elif self.kind == "lognormal":
            value = rng.lognormvariate(math.log(max(self.a, 1e-9)), self.b)
        elif self.kind == "normal":
            value = rng.gauss(self.a, self.b)
        else:
            raise ValueError(f"unknown distribution {self.kind!r}")
        return max(self.min_s, value)


def parse_dist(spec: Any, default: Dist) -> Dist:
    """``3`` → fixed; ``{uniform: [1, 4]}``, ``{exponential: 30}``,
    ``{lognormal: {median: 60, sigma: 0.8}}``, ``{normal: {mean: 5, sd: 1}}``; optional ``min``."""
    if spec is None:
        return default
    if isinstance(spec, int | float):
        return Dist("fixed", float(spec))
    if not isinstance(spec, Mapping):
        raise ValueError(f"bad distribution {spec!r}")
    min_s = float(spec.get("min", 0.0))
    if "fixed" in spec:
        return Dist("fixed", float(spec["fixed"]), min_s=min_s)
    if "uniform" in spec:
        lo, hi = spec["uniform"]
        return Dist("uniform", float(lo), float(hi), min_s)
    if "exponential" in spec:
        return Dist("exponential", float(spec["exponential"]), min_s=min_s)
    if "lognormal" in spec:
        p = spec["lognormal"]
        return Dist("lognormal", float(p["median"]), float(p.get("sigma", 0.5)), min_s)
    if "normal" in spec:
        p = spec["normal"]
        return Dist("normal", float(p["mean"]), float(p.get("sd", 0.0)), min_s)
    raise ValueError(f"bad distribution {spec!r}")


@dataclass(frozen=True)
class PopulationRule:
    """How callees behave for one gateway pattern (``*`` = any) and number prefix."""

    gateway: str = "*"
    prefix: str = ""
    shares: tuple[tuple[str, float], ...] = (("answer", 1.0),)
    machine_share: float = 0.0
    early_media_share: float = 0.0
    post_dial_delay_s: Dist = Dist("fixed", 0.02)
    ring_time_s: Dist = Dist("fixed", 1.0)
    talk_time_s: Dist = Dist("fixed", 5.0)
    machine_talk_time_s: Dist = Dist("fixed", 8.0)
    reject_delay_s: Dist = Dist("fixed", 0.3)
    early_media_answer_s: Dist = Dist("fixed", 3.0)
    script: tuple[str, ...] = ()
    talk_from: str = "bridge"

    def matches(self, gateway: str, number: str) -> bool:
        """Whether this rule applies to a call on ``gateway`` to ``number``."""
        return self.gateway in ("*", gateway) and number.startswith(self.prefix)


@dataclass(frozen=True)
class CalleePlan:
    """What one simulated callee will do (all durations in seconds)."""

    outcome: str
    post_dial_delay_s: float
    ring_s: float
    talk_s: float
    machine: bool
    early_media: bool
    talk_from_bridge: bool = True


def pick_rule(rules: tuple[PopulationRule, ...], gateway: str, number: str) -> PopulationRule:
    """Most specific rule: exact gateway before ``*``, then the longest prefix."""
    best: PopulationRule | None = None
    best_key = (-1, -1)
    for rule in rules:
        if rule.matches(gateway, number):
            key = (int(rule.gateway != "*"), len(rule.prefix))
            if key > best_key:
                best, best_key = rule, key
    return best if best is not None else PopulationRule()


def plan_callee(
    rule: PopulationRule, rng: random.Random, scripted: str | None = None
) -> CalleePlan:
    """Draw a callee's behaviour; the number of RNG draws is fixed per call (determinism).
    ``scripted`` (the rule's next ``script`` entry) overrides the drawn outcome."""
    r = rng.random()
    outcome = rule.shares[-1][0]
    acc = 0.0
    for name, share in rule.shares:
        acc += share
        if r < acc:
            outcome = name
            break
    if scripted is not None:
        outcome = scripted
    machine = rng.random() < rule.machine_share
    early = rng.random() < rule.early_media_share
    pdd = rule.post_dial_delay_s.sample(rng)
    ring = rule.reject_delay_s.sample(rng) if outcome in _QUICK else rule.ring_time_s.sample(rng)
    if early:
        ring = rule.early_media_answer_s.sample(rng)
    talk = (rule.machine_talk_time_s if machine else rule.talk_time_s).sample(rng)
    machine = machine and outcome == "answer"
    return CalleePlan(outcome, pdd, ring, talk, machine, early, rule.talk_from == "bridge")


_QUICK = ("busy", "rejected", "invalid", "unavailable", "failure", "cancelled")


def rule_from_dict(raw: Mapping[str, Any]) -> PopulationRule:
    """A ``population:`` entry of a scenario file (docs/simulator.md)."""
    base = PopulationRule()
    shares_raw = raw.get("outcomes", {"answer": 1.0})
    script = tuple(str(x) for x in raw.get("script", []))
    unknown = (set(shares_raw) | set(script)) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcomes {sorted(unknown)}")
    total = sum(float(v) for v in shares_raw.values())
    shares = tuple((k, float(v) / total) for k, v in shares_raw.items()) if total else base.shares
    return PopulationRule(
        gateway=str(raw.get("gateway", "*")),
        prefix=str(raw.get("prefix", "")),
        shares=shares,
        machine_share=float(raw.get("answering_machine", 0.0)),
        early_media_share=float(raw.get("early_media", 0.0)),
        post_dial_delay_s=parse_dist(raw.get("post_dial_delay_s"), base.post_dial_delay_s),
        ring_time_s=parse_dist(raw.get("ring_time_s"), base.ring_time_s),
        talk_time_s=parse_dist(raw.get("talk_time_s"), base.talk_time_s),
        machine_talk_time_s=parse_dist(raw.get("machine_talk_time_s"), base.machine_talk_time_s),
        reject_delay_s=parse_dist(raw.get("reject_delay_s"), base.reject_delay_s),
        early_media_answer_s=parse_dist(raw.get("early_media_answer_s"), base.early_media_answer_s),
        script=script,
        talk_from=str(raw.get("talk_from", "bridge")),
    )
