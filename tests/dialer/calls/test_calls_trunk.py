"""Trunk verdicts of ended attempts and the retry rule for carrier failures (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.rules import RetryPolicy, RetryRule
from dialer.calls.machine import CallEnd
from dialer.calls.retry import CARRIER_FAILURES_FREE, REFUSED_RETRY_DELAY_S, lead_update
from dialer.calls.trunk import carrier_failed, trunk_verdict

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


def test_carrier_failures_do_not_count_until_the_streak_is_long() -> None:
    down = end(AttemptOutcome.FAILED, "GATEWAY_DOWN")
    for before in range(CARRIER_FAILURES_FREE):
        update = lead_update(down, 2, 1, POLICY, 3, NOW, carrier_failures_before=before)
        assert (update.status, update.attempts) == (LeadStatus.PENDING, 1)
        assert update.next_attempt_at == NOW + timedelta(seconds=REFUSED_RETRY_DELAY_S)
    counted = lead_update(down, 2, 1, POLICY, 3, NOW, CARRIER_FAILURES_FREE)
    assert (counted.attempts, counted.next_attempt_at) == (2, NOW + timedelta(seconds=1800))
    last = lead_update(down, 2, 2, POLICY, 3, NOW, CARRIER_FAILURES_FREE)
    assert (last.status, last.attempts) == (LeadStatus.FAILED, 3)


def test_a_lead_whose_every_trunk_fails_runs_out_of_attempts() -> None:
    attempts = streak = tries = 0
    status = LeadStatus.PENDING
    call = replace(end(AttemptOutcome.FAILED, "NORMAL_TEMPORARY_FAILURE"), sip_status="503")
    while status is LeadStatus.PENDING:
        tries += 1
        update = lead_update(call, 2, attempts, POLICY, 3, NOW, streak)
        attempts, status = update.attempts, update.status
        streak += 1
    assert status is LeadStatus.FAILED and attempts == 3
    assert tries == CARRIER_FAILURES_FREE + 3


def test_callee_failures_count_as_before() -> None:
    update = lead_update(end(AttemptOutcome.FAILED, "LOST"), 2, 0, POLICY, 3, NOW)
    assert update.attempts == 1
