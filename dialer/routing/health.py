"""Trunk health and quality: pure reducers over call results and gateway status.

A trunk is down while FreeSWITCH reports its gateway ``Status DOWN`` (``sofia status gateway
NAME``), or for ``cooldown_s`` after ``failure_threshold`` consecutive trunk failures. When
the cooldown ends it gets exactly one trial call (`claim_trial`, whatever older calls are
still up on it), and only that trial's outcome ends the suspension: a success brings it back
up, a trunk failure suspends it for another cooldown, an outcome that says nothing about the
trunk (lost, refused by the node) lets another trial go. Outcomes of calls placed before the
suspension began change nothing while it lasts. A trial never settled within
``trial_lease_s`` (its pacer died before the call was recorded) gives way to another.

Quality is a rolling (exponentially weighted) answer-seizure ratio and post-dial delay.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

# Hangup causes meaning the trunk (not the callee) refused the call: the same attempt moves on
# to the next candidate. A 503 from the carrier arrives as NORMAL_TEMPORARY_FAILURE; an
# unreachable gateway likewise; a pinged-down gateway as GATEWAY_DOWN with no channel at all.
# DESTINATION_OUT_OF_ORDER is left out: FreeSWITCH uses it for its own session limits, which
# are back-pressure on the node, not a verdict on the trunk.
_TRUNK_FAILURE_CAUSES = frozenset(
    {
        "GATEWAY_DOWN",
        "INVALID_GATEWAY",
        "NORMAL_TEMPORARY_FAILURE",
        "SWITCH_CONGESTION",
        "NETWORK_OUT_OF_ORDER",
        "SERVICE_UNAVAILABLE",
        "RECOVERY_ON_TIMER_EXPIRE",
        "NO_ROUTE_TRANSIT_NET",
        "FACILITY_NOT_SUBSCRIBED",
        "OUTGOING_CALL_BARRED",
        "BEARERCAPABILITY_NOTAVAIL",
    }
)
_TRUNK_FAILURE_SIP_CODES = frozenset({403, 408, 500, 502, 503, 504})

_STATUS_RE = re.compile(r"^Status\s+(\S+)\s*$", re.MULTILINE)


def is_trunk_failure(hangup_cause: str, sip_code: int | None = None) -> bool:
    """Whether a failed originate is the trunk's fault (fail over) rather than the callee's."""
    return hangup_cause in _TRUNK_FAILURE_CAUSES or (
        sip_code is not None and sip_code in _TRUNK_FAILURE_SIP_CODES
    )


def gateway_status_up(sofia_status_text: str) -> bool | None:
    """Parse ``sofia status gateway NAME`` output: True for ``Status UP``, False for ``DOWN``.

    None when the text carries no Status line (unknown gateway).
    """
    match = _STATUS_RE.search(sofia_status_text)
    if match is None:
        return None
    return match.group(1).upper() == "UP"


class Availability(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    PROBE = "probe"


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failure_threshold: int = 5
    cooldown_s: float = 30.0
    # longer than any trial needs to be settled (its ring time, or the listener's
    # reconciliation of a call it never heard of), shorter than an outage worth noticing
    trial_lease_s: float = 300.0


@dataclass(frozen=True, slots=True)
class TrunkHealth:
    """``suspended_until_s`` is an epoch time in seconds; 0 means not suspended.
    ``trial_call`` is the call uuid of the trial placed since the cooldown ended ("" none),
    ``trial_until_s`` when another may go if that one is never settled (epoch seconds)."""

    gateway_up: bool = True
    consecutive_failures: int = 0
    suspended_until_s: float = 0.0
    trial_call: str = ""
    trial_until_s: float = 0.0

    def availability(self, now_s: float) -> Availability:
        """PROBE: suspended, the cooldown over and no trial on its way (one may be claimed)."""
        if not self.gateway_up:
            return Availability.DOWN
        if self.suspended_until_s == 0.0:
            return Availability.UP
        if now_s < self.suspended_until_s or (self.trial_call and now_s < self.trial_until_s):
            return Availability.DOWN
        return Availability.PROBE


def on_gateway_status(health: TrunkHealth, up: bool) -> TrunkHealth:
    return replace(health, gateway_up=up)


def claim_trial(
    health: TrunkHealth, call_uuid: str, now_s: float, policy: HealthPolicy
) -> TrunkHealth | None:
    """The health with ``call_uuid`` as the trunk's trial call, or None when no trial may go
    now (not `Availability.PROBE`: not suspended, cooling down, or a trial on its way)."""
    if not call_uuid or health.availability(now_s) is not Availability.PROBE:
        return None
    return replace(health, trial_call=call_uuid, trial_until_s=now_s + policy.trial_lease_s)


def on_call_result(
    health: TrunkHealth,
    trunk_failure: bool | None,
    now_s: float,
    policy: HealthPolicy,
    call_uuid: str = "",
) -> TrunkHealth:
    """Fold the outcome of call ``call_uuid`` in; ``trunk_failure`` None: the outcome says
    nothing about the trunk.

    Not suspended: a trunk failure counts (``failure_threshold`` in a row suspend), a success
    clears the count. Suspended: only the trial decides (success: up; trunk failure: another
    cooldown; None: the trial is void, another may go); any other call changes nothing."""
    if health.suspended_until_s != 0.0:
        if not call_uuid or call_uuid != health.trial_call:
            return health
        if trunk_failure is None:
            return replace(health, trial_call="", trial_until_s=0.0)
        if not trunk_failure:
            return replace(
                health,
                consecutive_failures=0,
                suspended_until_s=0.0,
                trial_call="",
                trial_until_s=0.0,
            )
        return replace(
            health,
            consecutive_failures=health.consecutive_failures + 1,
            suspended_until_s=now_s + policy.cooldown_s,
            trial_call="",
            trial_until_s=0.0,
        )
    if trunk_failure is None:
        return health
    if not trunk_failure:
        return replace(health, consecutive_failures=0)
    failures = health.consecutive_failures + 1
    if failures >= policy.failure_threshold:
        return replace(
            health, consecutive_failures=failures, suspended_until_s=now_s + policy.cooldown_s
        )
    return replace(health, consecutive_failures=failures)


@dataclass(frozen=True, slots=True)
class TrunkQuality:
    """Rolling answer-seizure ratio (0..1) and post-dial delay in milliseconds."""

    asr: float = 0.5
    pdd_ms: float = 3000.0
    samples: int = 0


def on_attempt(
    quality: TrunkQuality, answered: bool, pdd_ms: float | None, alpha: float = 0.05
) -> TrunkQuality:
    """Fold one completed attempt in; ``pdd_ms`` None when no ringing or answer was seen."""
    asr = (1 - alpha) * quality.asr + alpha * (1.0 if answered else 0.0)
    pdd = quality.pdd_ms if pdd_ms is None else (1 - alpha) * quality.pdd_ms + alpha * pdd_ms
    return TrunkQuality(asr=asr, pdd_ms=pdd, samples=quality.samples + 1)
