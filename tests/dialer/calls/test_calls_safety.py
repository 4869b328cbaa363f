"""The abandon safety stop's rules (`dialer.calls.safety.stop_reason`) and the bound they
give: whatever the launches and outcomes, once the stop is applied (no launch after it
fires) the window's abandons exceed the target by at most the calls in flight at the stop."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.calls.safety import EndedCall, SafetyFacts, SafetyLimits, stop_reason

LIMITS = SafetyLimits(target_pct=3.0, window_days=30, run_limit=5)
ABANDONED = EndedCall(answered=True, abandoned=True, hangup_cause="NORMAL_CLEARING")
CONNECTED = EndedCall(answered=True, abandoned=False, hangup_cause="NORMAL_CLEARING")


def facts(answered: int, abandoned: int, recent: tuple[bool, ...] = ()) -> SafetyFacts:
    return SafetyFacts(answered, abandoned, recent)


def test_an_answered_call_the_switch_could_not_route_pauses_at_once() -> None:
    # the first call of a campaign whose dialplan context does not exist (defect 2)
    call = EndedCall(answered=True, abandoned=True, hangup_cause="NO_ROUTE_DESTINATION")
    reason = stop_reason(call, facts(100, 0, (True,)), LIMITS)
    assert reason is not None and "NO_ROUTE_DESTINATION" in reason


def test_an_answered_call_hung_up_for_a_missing_application_pauses_at_once() -> None:
    call = EndedCall(answered=True, abandoned=True, hangup_cause="DESTINATION_OUT_OF_ORDER")
    reason = stop_reason(call, facts(100, 0, (True,)), LIMITS)
    assert reason is not None and "DESTINATION_OUT_OF_ORDER" in reason


def test_unanswered_calls_never_stop_a_campaign_whatever_their_cause() -> None:
    # a node refusing an originate (-ERR DESTINATION_OUT_OF_ORDER) is back-pressure
    for cause in ("NO_ROUTE_DESTINATION", "DESTINATION_OUT_OF_ORDER", "USER_BUSY"):
        call = EndedCall(answered=False, abandoned=False, hangup_cause=cause)
        assert stop_reason(call, facts(1, 5, (True,) * 5), LIMITS) is None


def test_an_abandon_above_the_target_pauses_with_no_minimum_sample() -> None:
    assert stop_reason(ABANDONED, facts(1, 1, (True,)), LIMITS) is not None
    reason = stop_reason(ABANDONED, facts(66, 2, (True, False)), LIMITS)  # 2 > 1.98
    assert reason is not None and "2 abandoned of 66 answered" in reason
    assert stop_reason(ABANDONED, facts(67, 2, (True, False)), LIMITS) is None  # 2 <= 2.01


def test_the_rate_rule_fires_on_an_abandon_only() -> None:
    # a campaign resumed above its target is paused again by its next abandon, not before
    assert stop_reason(CONNECTED, facts(10, 5, (False,)), LIMITS) is None
    assert stop_reason(ABANDONED, facts(11, 6, (True, False)), LIMITS) is not None


def test_a_run_of_abandons_pauses_even_within_the_target() -> None:
    roomy = SafetyLimits(target_pct=50.0, window_days=30, run_limit=5)
    run = (True,) * 5
    reason = stop_reason(ABANDONED, facts(1000, 5, (*run, False)), roomy)
    assert reason is not None and "5 answered calls in a row" in reason
    assert stop_reason(ABANDONED, facts(1000, 5, (True,) * 4 + (False, True)), roomy) is None
    assert stop_reason(ABANDONED, facts(1000, 4, (True,) * 4), roomy) is None
    three = SafetyLimits(target_pct=50.0, window_days=30, run_limit=3)
    assert stop_reason(ABANDONED, facts(1000, 3, (True,) * 3), three) is not None


@dataclass
class Campaign:
    """The system as it applies the stop: outcomes stored, then checked; no launch once
    stopped. ``in_flight`` are the outcomes the calls up will end with."""

    limits: SafetyLimits
    in_flight: list[EndedCall] = field(default_factory=list)
    answered: int = 0
    abandoned: int = 0
    recent: list[bool] = field(default_factory=list)
    in_flight_at_stop: int | None = None

    def launch(self, call: EndedCall) -> None:
        if self.in_flight_at_stop is None:
            self.in_flight.append(call)

    def end(self, pick: int) -> None:
        if not self.in_flight:
            return
        in_flight = len(self.in_flight)
        call = self.in_flight.pop(pick % in_flight)
        if call.answered:  # the switch answered; these are calls answered by a person
            self.answered += 1
            self.abandoned += call.abandoned
            self.recent.insert(0, call.abandoned)
        seen = facts(self.answered, self.abandoned, tuple(self.recent))
        if self.in_flight_at_stop is None and stop_reason(call, seen, self.limits):
            self.in_flight_at_stop = in_flight  # the firing call counts as in flight


calls = st.one_of(
    st.just(ABANDONED),
    st.just(CONNECTED),
    st.just(EndedCall(answered=False, abandoned=False, hangup_cause="NO_ANSWER")),
    st.just(EndedCall(answered=True, abandoned=True, hangup_cause="NO_ROUTE_DESTINATION")),
)
steps = st.lists(
    st.one_of(st.tuples(st.just("launch"), calls), st.tuples(st.just("end"), st.integers(0, 1000))),
    max_size=300,
)


@settings(max_examples=400, deadline=None)
@given(
    steps=steps,
    target_pct=st.floats(0.5, 60.0),
    run_limit=st.integers(1, 10),
)
def test_the_window_ends_above_target_by_at_most_the_calls_in_flight_at_the_stop(
    steps: list[tuple[str, object]], target_pct: float, run_limit: int
) -> None:
    campaign = Campaign(SafetyLimits(target_pct, 30, run_limit))
    for kind, arg in steps:
        if kind == "launch":
            assert isinstance(arg, EndedCall)
            campaign.launch(arg)
        else:
            assert isinstance(arg, int)
            campaign.end(arg)
    while campaign.in_flight:  # the calls up when the steps ran out end too
        campaign.end(0)
    allowed = target_pct / 100 * campaign.answered
    slack = campaign.in_flight_at_stop or 0
    assert campaign.abandoned <= allowed + slack + 1e-9
    if campaign.in_flight_at_stop is None:
        assert campaign.abandoned <= allowed + 1e-9
