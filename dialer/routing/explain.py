"""A route decision and the trunks' health put into words for an operator (``dialer route``).

Pure: reads only the values the router and the health reducers produce.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dialer.routing.health import Availability, TrunkHealth
from dialer.routing.router import RouteDecision
from dialer.routing.table import Exclusion

UntilText = Callable[[float], str]
"""How an epoch second is written for the reader (the CLI: in ``DIALER_TIMEZONE``)."""


@dataclass(frozen=True, slots=True)
class HealthView:
    """One trunk's health as shown: ``state`` (``up``, ``gateway down``, ``suspended``,
    ``trial call due``), ``until_s`` the epoch second a suspension ends (None: not
    suspended), ``why`` in words."""

    state: str
    until_s: float | None
    why: str


def describe_health(health: TrunkHealth, now_s: float) -> HealthView:
    """What ``health`` means at epoch second ``now_s``."""
    failures = health.consecutive_failures
    in_a_row = f"{failures} trunk failure{'s' if failures != 1 else ''} in a row"
    if not health.gateway_up:
        return HealthView("gateway down", None, "the switch reports the gateway DOWN")
    if health.suspended_until_s and health.availability(now_s) is Availability.DOWN:
        return HealthView("suspended", health.suspended_until_s, in_a_row)
    if health.suspended_until_s:
        why = f"suspension over after {in_a_row}: the next call is a trial"
        return HealthView("trial call due", health.suspended_until_s, why)
    return HealthView("up", None, in_a_row if failures else "")


def health_words(view: HealthView, until_text: UntilText) -> str:
    """``suspended until 2026-11-21 10:00:30+08:00: 5 trunk failures in a row``."""
    until = f" until {until_text(view.until_s)}" if view.until_s is not None else ""
    return f"{view.state}{until}: {view.why}"


def down_details(
    decision: RouteDecision,
    health: Mapping[str, TrunkHealth],
    now_s: float,
    until_text: UntilText,
) -> dict[str, str]:
    """The detail of each trunk the decision excluded as down, in words from its health
    (replacing the router's own detail, as ``dialer route`` shows it)."""
    return {
        x.trunk: health_words(describe_health(health[x.trunk], now_s), until_text)
        for x in decision.exclusions
        if x.reason is Exclusion.DOWN and x.trunk in health
    }


def unroutable_reason(
    decision: RouteDecision, campaign: str | None, details: Mapping[str, str] | None = None
) -> str:
    """Why ``decision`` (for the campaign named ``campaign``, None: any) has no candidate, for
    the line ``cannot be routed: ...``; ``details`` replace the exclusions' own by trunk."""
    if not decision.exclusions:
        where = f"in the trunk group of campaign {campaign}" if campaign else "at all"
        return f"there is no trunk {where} (dialer trunks add)"
    details = details or {}
    reasons = "; ".join(
        f"{x.trunk}: {x.reason} ({details.get(x.trunk, x.detail)})" for x in decision.exclusions
    )
    return f"every trunk is excluded: {reasons}"
