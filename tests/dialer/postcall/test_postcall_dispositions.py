"""Dispositions, pure: what each code does to the lead, and every refusal's reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.domain import LeadStatus
from dialer.postcall.dispositions import (
    AttemptFacts,
    Disposition,
    DispositionError,
    DispositionRequest,
    lead_change,
    parse_code,
)
from dialer.postcall.fakes import MemoryDispositions
from dialer.postcall.service import set_disposition

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def facts(status: LeadStatus = LeadStatus.PENDING, **kw: object) -> AttemptFacts:
    base: dict[str, object] = {
        "call_uuid": "u-1",
        "outcome": "connected",
        "disposition": None,
        "lead_status": status,
        "latest_call_uuid": "u-1",
    }
    base.update(kw)
    return AttemptFacts(**base)  # type: ignore[arg-type]


def request(code: Disposition, at: datetime | None = None) -> DispositionRequest:
    return DispositionRequest("u-1", code, at)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (Disposition.SALE, LeadStatus.DONE),
        (Disposition.COMPLETED, LeadStatus.DONE),
        (Disposition.WRONG_NUMBER, LeadStatus.FAILED),
        (Disposition.DNC, LeadStatus.DNC),
    ],
)
def test_final_codes_end_the_lead(code: Disposition, status: LeadStatus) -> None:
    change = lead_change(facts(), request(code), NOW)
    assert (change.status, change.next_attempt_at) == (status, None)
    assert change.add_dnc is (code is Disposition.DNC)


def test_callback_wins_over_the_retry_schedule() -> None:
    at = NOW + timedelta(days=1)
    for status in (LeadStatus.PENDING, LeadStatus.DONE, LeadStatus.FAILED):
        change = lead_change(facts(status), request(Disposition.CALLBACK, at), NOW)
        assert (change.status, change.next_attempt_at) == (LeadStatus.PENDING, at)


@pytest.mark.parametrize(
    ("given_facts", "req", "message"),
    [
        (facts(outcome=None), request(Disposition.SALE), "still in progress"),
        (facts(disposition="sale"), request(Disposition.SALE), "already has the disposition"),
        (facts(latest_call_uuid="u-2"), request(Disposition.SALE), "not its lead's latest"),
        (facts(LeadStatus.DIALING), request(Disposition.SALE), "being dialled again"),
        (facts(LeadStatus.DNC), request(Disposition.SALE), "do-not-call"),
        (facts(), request(Disposition.CALLBACK), "needs --callback-at"),
        (facts(), request(Disposition.CALLBACK, NOW), "not in the future"),
        (facts(), request(Disposition.SALE, NOW + timedelta(hours=1)), "'callback' only"),
        (
            facts(),
            request(Disposition.CALLBACK, datetime(2027, 1, 1, 9, 0)),
            "no time zone",
        ),
    ],
)
def test_refusals_name_the_problem(
    given_facts: AttemptFacts, req: DispositionRequest, message: str
) -> None:
    with pytest.raises(DispositionError, match=message):
        lead_change(given_facts, req, NOW)


def test_unknown_code_lists_the_known_ones() -> None:
    assert parse_code(" Sale ") is Disposition.SALE
    with pytest.raises(DispositionError, match="one of: sale, completed"):
        parse_code("maybe")


def test_service_refuses_a_second_disposition() -> None:
    store = MemoryDispositions({"u-1": facts()})
    set_disposition(store, request(Disposition.SALE), NOW)
    with pytest.raises(DispositionError, match="already has"):
        set_disposition(store, request(Disposition.DNC), NOW)
    with pytest.raises(DispositionError, match="no call with uuid u-9"):
        set_disposition(store, DispositionRequest("u-9", Disposition.SALE), NOW)
    assert len(store.applied) == 1


@given(
    code=st.sampled_from(list(Disposition)),
    status=st.sampled_from(list(LeadStatus)),
    offset_s=st.integers(-86_400, 30 * 86_400),
)
def test_a_disposition_never_leaves_a_lead_dialing_and_callbacks_lie_ahead(
    code: Disposition, status: LeadStatus, offset_s: int
) -> None:
    at = NOW + timedelta(seconds=offset_s) if code is Disposition.CALLBACK else None
    try:
        change = lead_change(facts(status), request(code, at), NOW)
    except DispositionError:
        too_early = code is Disposition.CALLBACK and offset_s <= 0
        assert status in (LeadStatus.DIALING, LeadStatus.DNC) or too_early
        return
    assert change.status is not LeadStatus.DIALING
    assert (change.status is LeadStatus.PENDING) is (code is Disposition.CALLBACK)
    if change.next_attempt_at is not None:
        assert change.next_attempt_at > NOW
    assert change.add_dnc is (change.status is LeadStatus.DNC)
