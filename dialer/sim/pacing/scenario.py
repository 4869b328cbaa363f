"""Scenario files for the pacing simulator (YAML; format documented in docs/pacing.md)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AbandonRule",
    "AgentGroup",
    "Answer",
    "AnswerChange",
    "Break",
    "CampaignLimits",
    "Duration",
    "PacingScenario",
    "Uniform",
    "load_pacing_scenario",
    "scaled",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Break(_Frozen):
    """An agent leaves at ``at_s`` (after finishing any call) for ``duration_s``."""

    at_s: float = Field(ge=0)
    duration_s: float = Field(gt=0)


class AgentGroup(_Frozen):
    count: int = Field(ge=1)
    start_s: float = Field(default=0.0, ge=0)
    end_s: float | None = None  # None: the end of the scenario
    breaks: tuple[Break, ...] = ()


class AnswerChange(_Frozen):
    at_s: float = Field(ge=0)
    probability: float = Field(ge=0, le=1)


class Answer(_Frozen):
    """Chance that a person answers; ``changes`` switch it at given times of the day."""

    probability: float = Field(ge=0, le=1)
    changes: tuple[AnswerChange, ...] = ()

    def at(self, time_s: float) -> float:
        value = self.probability
        for change in self.changes:
            if change.at_s <= time_s:
                value = change.probability
        return value


class Uniform(_Frozen):
    min: float = Field(ge=0)
    max: float = Field(ge=0)


class Duration(_Frozen):
    """Lognormal with this mean and sd; constant when ``sd`` is 0."""

    mean: float = Field(gt=0)
    sd: float = Field(default=0.0, ge=0)


class AbandonRule(_Frozen):
    target: float = Field(default=0.03, gt=0, lt=1)
    window_s: float = Field(default=86_400.0, gt=0)
    grace_s: float = Field(default=2.0, ge=0)


class CampaignLimits(_Frozen):
    max_lines_per_agent: float = Field(default=4.0, gt=0)
    trunk_lines: int = Field(default=10_000, ge=1)


class PacingScenario(_Frozen):
    name: str
    duration_s: float = Field(gt=0)
    seeds: tuple[int, ...] = (1,)
    tick_s: float = Field(default=1.0, gt=0)
    agents: tuple[AgentGroup, ...]
    answer: Answer
    machine_share: float = Field(default=0.0, ge=0, le=1)
    ring_s: Uniform = Uniform(min=4.0, max=20.0)
    no_answer_timeout_s: float = Field(default=25.0, gt=0)
    talk_s: Duration
    wrap_s: Duration
    abandon: AbandonRule = AbandonRule()
    limits: CampaignLimits = CampaignLimits()

    @model_validator(mode="after")
    def _ring_fits(self) -> PacingScenario:
        if self.ring_s.min > self.ring_s.max or self.ring_s.max > self.no_answer_timeout_s:
            raise ValueError("ring_s must satisfy min <= max <= no_answer_timeout_s")
        return self

    @property
    def agent_count(self) -> int:
        return sum(group.count for group in self.agents)


def load_pacing_scenario(path: Path) -> PacingScenario:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return PacingScenario.model_validate(data)


def scaled(scenario: PacingScenario, *, duration_s: float | None = None) -> PacingScenario:
    """The same scenario cut to a shorter day (agent shifts clipped), for quick runs."""
    if duration_s is None:
        return scenario
    return scenario.model_copy(update={"duration_s": duration_s})
