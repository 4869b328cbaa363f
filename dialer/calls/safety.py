"""The abandon safety stop: when an answered call's end must pause its campaign. Pure.

Three rules, checked after the outcome of a call answered by the switch is stored (so the
counts include it):

* **cause**: the call was answered and the switch then had nowhere to send it. FreeSWITCH
  hangs such a channel up ``NO_ROUTE_DESTINATION`` when the dialplan has no extension (or no
  context) for it ("No Route, Aborting", and "No Dialplan on answered channel",
  ``switch_core_state_machine.c``), and ``DESTINATION_OUT_OF_ORDER`` when an extension names
  an application that is not loaded, e.g. ``callcenter`` without mod_callcenter ("Invalid
  Application", "No Function for", ``switch_core_session.c``). Every later call would end
  the same way: the campaign pauses at once.
* **rate**: the call was abandoned and the campaign's abandons over its legal window now
  exceed its target share of the calls answered by a person
  (``abandoned > target_pct / 100 * answered``). No minimum sample: with one, a new campaign
  could abandon every call until the sample is reached. So, while the window's rate is above
  target, every abandon pauses the campaign: one resumed above its target pauses again at its
  next abandon (and its pacer, its budget spent, dials progressively meanwhile).
* **run**: the last ``run_limit`` calls answered by a person were all abandoned.

Why this bounds the window's rate: before the stop, every abandon was checked and let pass,
so ``abandoned <= target * answered`` held after each one (a call that was not abandoned only
raises ``answered``). After the stop nothing is launched; only the calls in flight when it
fired (the firing call included) can still add abandons. So the window ends with at most
``target * answered + in_flight`` abandons (tests/dialer/calls/test_calls_safety.py). Calls
leaving the window as time passes can raise its rate between two abandons; the next abandon
is checked against the window as it is then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NO_ROUTE_CAUSES = frozenset({"NO_ROUTE_DESTINATION", "DESTINATION_OUT_OF_ORDER"})
DEFAULT_RUN_LIMIT = 5


@dataclass(frozen=True, slots=True)
class SafetyLimits:
    """A campaign's settings the rules read: ``target_pct`` of the calls answered by a person
    may be abandoned over ``window_days``; ``run_limit`` abandons in a row pause it."""

    target_pct: float
    window_days: int
    run_limit: int = DEFAULT_RUN_LIMIT


@dataclass(frozen=True, slots=True)
class SafetyFacts:
    """The campaign's calls as stored, the call being checked included: over the window
    (by origination time), those answered by a person and those abandoned; ``recent`` the
    abandoned flags of its latest calls answered by a person, newest first (at least
    ``run_limit`` of them when there are that many)."""

    answered_in_window: int
    abandoned_in_window: int
    recent: Sequence[bool]


@dataclass(frozen=True, slots=True)
class EndedCall:
    """What the rules need of the call that just ended: was it answered (by anyone), was it
    abandoned, and the switch's hangup cause."""

    answered: bool
    abandoned: bool
    hangup_cause: str


def stop_reason(call: EndedCall, facts: SafetyFacts, limits: SafetyLimits) -> str | None:
    """Why the campaign must pause after ``call``, in words for its user; None: go on."""
    if not call.answered:
        return None
    if call.hangup_cause in NO_ROUTE_CAUSES:
        return (
            f"an answered call ended {call.hangup_cause}: the switch has no dialplan route "
            "or application for the campaign's calls (check its context, extension and "
            "mod_callcenter: dialer fsconf render)"
        )
    if not call.abandoned:
        return None
    allowed = limits.target_pct / 100 * facts.answered_in_window
    if facts.abandoned_in_window > allowed:
        return (
            f"abandon rate over {limits.window_days} days above target: "
            f"{facts.abandoned_in_window} abandoned of {facts.answered_in_window} answered "
            f"(target {limits.target_pct:g}%, at most {allowed:.2f})"
        )
    run = limits.run_limit
    if run > 0 and len(facts.recent) >= run and all(facts.recent[:run]):
        return f"{run} answered calls in a row abandoned (no agent took them)"
    return None
