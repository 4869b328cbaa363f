"""Campaign rules as validated data: calling windows and retry rules.

Pure: no I/O.  Stored on :class:`campaigns.models.Campaign` as JSON (``model_dump``) and read
back with ``model_validate``, so a malformed rule is rejected with the field that is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from campaigns.domain import AttemptOutcome

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# A wall-clock time of the callee's own zone, without offset (``09:00`` or ``09:00:00``):
# JSON Schema's ``format: time`` would demand an offset, which a local window has not.
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "description": "local wall time HH:MM[:SS], in the callee's zone",
        }
    ),
]


class Window(BaseModel):
    """Local hours ``start``-``end`` (end exclusive) on the given weekdays (0 = Monday)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: frozenset[int] = frozenset(range(6))
    start: LocalTime = time(9, 0)
    end: LocalTime = time(20, 0)

    @field_validator("days", mode="before")
    @classmethod
    def _day_names(cls, days: object) -> object:
        if isinstance(days, str):
            days = [d.strip() for d in days.split(",") if d.strip()]
        if isinstance(days, list | tuple | set | frozenset):
            return frozenset(_day_index(d) for d in days)
        return days

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if not self.days or not all(0 <= d <= 6 for d in self.days):
            raise ValueError("days must name weekdays 0-6 (Monday = 0) or mon..sun")
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _day_index(day: object) -> int:
    if isinstance(day, int):
        return day
    name = str(day).strip().lower()[:3]
    if name.isdigit():
        return int(name)
    if name not in _DAY_NAMES:
        raise ValueError(f"unknown weekday {day!r}")
    return _DAY_NAMES.index(name)


class CallingWindow(BaseModel):
    """When leads may be called, in each lead's own local time.

    A number that maps to several time zones is callable only when every one of them is inside
    a window; a number with no known zone is judged in ``fallback_timezone``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: tuple[Window, ...] = (Window(),)
    fallback_timezone: str = "Asia/Shanghai"

    @field_validator("fallback_timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        _zone_info(name)
        return name

    @classmethod
    def always_open(cls) -> CallingWindow:
        """Every day, 00:00 to 23:59:59 local time: for demos, tests and benchmarks."""
        return cls(windows=(Window(days=frozenset(range(7)), start=time(0), end=time(23, 59, 59)),))

    def is_open(self, time_zones: str, now: datetime) -> bool:
        """``time_zones`` is a lead's comma-joined zone list; ``now`` is aware."""
        zones = [z for z in time_zones.split(",") if z] or [self.fallback_timezone]
        return all(self._open_in(z, now) for z in zones)

    def _open_in(self, zone: str, now: datetime) -> bool:
        try:
            local = now.astimezone(_zone_info(zone))
        except ValueError:
            local = now.astimezone(_zone_info(self.fallback_timezone))
        return any(w.contains(local) for w in self.windows)


@lru_cache(maxsize=1024)
def _zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


class RetryRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delay_s: int = Field(ge=0)
    max_attempts: int | None = Field(default=None, ge=1)


def _default_rules() -> dict[AttemptOutcome, RetryRule]:
    return {
        AttemptOutcome.BUSY: RetryRule(delay_s=15 * 60),
        AttemptOutcome.NO_ANSWER: RetryRule(delay_s=2 * 3600),
        AttemptOutcome.FAILED: RetryRule(delay_s=30 * 60),
        AttemptOutcome.ABANDONED: RetryRule(delay_s=3600),
        AttemptOutcome.ANSWERING_MACHINE: RetryRule(delay_s=4 * 3600),
    }


class RetryPolicy(BaseModel):
    """Per-outcome retry delays; an outcome without a rule is final.

    ``abandoned_quiet_s`` keeps an abandoned number from being redialled for that long
    (72 h where the regulator asks for it), whatever its rule says.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: dict[AttemptOutcome, RetryRule] = Field(default_factory=_default_rules)
    abandoned_quiet_s: int = Field(default=0, ge=0)


class Retry(BaseModel):
    at: datetime


class Final(BaseModel):
    reason: str


def attempt_limit(rule: RetryRule, max_attempts: int) -> int:
    """How many attempts a lead gets when its last one falls under ``rule``: the campaign's
    ``max_attempts``, or the rule's own limit when that is lower."""
    return min(max_attempts, rule.max_attempts or max_attempts)


def next_step(
    policy: RetryPolicy, outcome: AttemptOutcome, attempts: int, max_attempts: int, now: datetime
) -> Retry | Final:
    """What happens to a lead after its ``attempts``-th attempt ended with ``outcome``."""
    rule = policy.rules.get(outcome)
    if rule is None:
        return Final(reason=outcome.value)
    limit = attempt_limit(rule, max_attempts)
    if attempts >= limit:
        return Final(reason=f"max attempts ({limit}) reached after {outcome.value}")
    delay_s = rule.delay_s
    if outcome is AttemptOutcome.ABANDONED:
        delay_s = max(delay_s, policy.abandoned_quiet_s)
    return Retry(at=now.astimezone(UTC) + timedelta(seconds=delay_s))
