"""Trunk verdicts of ended attempts and the retry rule for carrier failures (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.rules import RetryPolicy, RetryRule
from dialer.calls.machine import CallEnd
from dialer.calls.retry import (
    CARRIER_RETRY_MAX_S,
    REFUSED_RETRY_DELAY_S,
    carrier_retry_delay_s,
    lead_update,
)
from dialer.calls.trunk import carrier_failed, trunk_verdict
from tests.dialer.calls.test_calls_machine import run

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
POLICY = RetryPolicy(rules={AttemptOutcome.FAILED: RetryRule(delay_s=1800)})


def end(
    outcome: AttemptOutcome | None, cause: str, sip: str = "", answered: bool = False
) -> CallEnd:
    return CallEnd(
        call_uuid="u",
        campaign_id=1,
        lead_id=2,
        attempt_id=3,
        outcome=outcome,
        disposition=cause,
        hangup_cause=cause,
        abandoned=False,
        trunk="t1",
        answered_at=NOW if answered else None,
        sip_status=sip,
    )


@pytest.mark.parametrize(
    ("call", "verdict"),
    [
        (end(AttemptOutcome.FAILED, "GATEWAY_DOWN"), True),
        (end(AttemptOutcome.FAILED, "NORMAL_TEMPORARY_FAILURE", "503"), True),
        (end(AttemptOutcome.FAILED, "NO_ANSWER"), True),  # the trunk never answered the INVITE
        (end(AttemptOutcome.FAILED, "INTERWORKING", "502"), True),  # by its SIP code
        (end(AttemptOutcome.REJECTED, "CALL_REJECTED", "403"), True),  # the carrier refused
        (end(AttemptOutcome.BUSY, "USER_BUSY", "486"), False),
        (end(AttemptOutcome.NO_ANSWER, "NO_ANSWER"), False),  # rang out
        (end(AttemptOutcome.INVALID_NUMBER, "UNALLOCATED_NUMBER", "404"), False),
        (end(AttemptOutcome.CONNECTED, "NORMAL_CLEARING", answered=True), False),
        (end(AttemptOutcome.ABANDONED, "NORMAL_TEMPORARY_FAILURE", answered=True), False),
        (end(None, "DESTINATION_OUT_OF_ORDER"), None),  # node back-pressure
        (end(AttemptOutcome.FAILED, "LOST"), None),  # the end is unknown
    ],
)
def test_trunk_verdict(call: CallEnd, verdict: bool | None) -> None:
    assert trunk_verdict(call) is verdict


def test_carrier_failed_reads_attempt_rows() -> None:
    assert carrier_failed("failed", "GATEWAY_DOWN")
    assert carrier_failed(AttemptOutcome.FAILED, "NO_ANSWER")
    assert not carrier_failed("no_answer", "NO_ANSWER")
    assert not carrier_failed("not_dialled", "GATEWAY_DOWN")
    assert not carrier_failed("failed", "LOST")
    assert not carrier_failed(None, None)


# Transcripts of a switch or trunk failure: (name, jobs without a channel are calls)
SWITCH_OR_TRUNK = [
    ("d_gateway_unreachable", False),  # NORMAL_TEMPORARY_FAILURE, no answer from the gateway
    ("d2_gateway_down_ping", True),  # -ERR GATEWAY_DOWN, no channel
    ("d3_gateway_blackhole_timeout", False),  # NO_ANSWER, no progress, no SIP status
    ("l_sps_throttle", True),  # -ERR DESTINATION_OUT_OF_ORDER: the node's session rate
    ("l2_max_sessions", True),  # -ERR DESTINATION_OUT_OF_ORDER: the node's max sessions
    ("p_sip_failure_responses", False),  # 503 from the carrier (and callee answers)
]


@pytest.mark.parametrize(("name", "jobs"), SWITCH_OR_TRUNK, ids=[n for n, _ in SWITCH_OR_TRUNK])
@pytest.mark.parametrize("streak", [0, 2, 3, 10, 500])
def test_switch_and_trunk_failures_never_use_up_an_attempt(
    name: str, jobs: bool, streak: int
) -> None:
    """Whatever the lead's streak of carrier failures, and on its last attempt."""
    ends, _ = run(name, jobs_without_channel=jobs)
    failed = [e for e in ends if e.outcome is None or e.outcome is AttemptOutcome.FAILED]
    assert failed
    for call in failed:
        update = lead_update(call, 2, 2, POLICY, 3, NOW, carrier_failures_before=streak)
        assert (update.status, update.attempts) == (LeadStatus.PENDING, 2), call.hangup_cause
        assert NOW < update.next_attempt_at <= NOW + timedelta(seconds=CARRIER_RETRY_MAX_S)


@settings(max_examples=200, deadline=None)
@given(streak=st.integers(min_value=0, max_value=10_000), before=st.integers(0, 50))
def test_a_carrier_failure_streak_only_delays_the_next_try(streak: int, before: int) -> None:
    call = replace(end(AttemptOutcome.FAILED, "NORMAL_TEMPORARY_FAILURE"), sip_status="503")
    update = lead_update(call, 2, before, POLICY, before + 1, NOW, streak)
    assert (update.status, update.attempts) == (LeadStatus.PENDING, before)
    delay_s = (update.next_attempt_at - NOW).total_seconds()
    assert delay_s == carrier_retry_delay_s(streak)
    assert REFUSED_RETRY_DELAY_S <= delay_s <= CARRIER_RETRY_MAX_S
    assert carrier_retry_delay_s(streak + 1) >= delay_s


def test_carrier_retry_delays_double_up_to_an_hour() -> None:
    delays = [carrier_retry_delay_s(n) for n in range(11)]
    assert delays == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]


def test_callee_failures_count_as_before() -> None:
    update = lead_update(end(AttemptOutcome.FAILED, "LOST"), 2, 0, POLICY, 3, NOW)
    assert update.attempts == 1
