"""Call outcomes from the recorded event sequences of every transcript scenario."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.rules import RetryPolicy, RetryRule
from dialer.calls.causes import unanswered_outcome
from dialer.calls.machine import CallBook, CallEnd
from dialer.calls.retry import lead_update
from dialer.esl.events import Event
from tests.support.transcripts import transcript_events

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
A1, A2 = "agent1@default", "agent2@default"
C, N, B, F = (
    AttemptOutcome.CONNECTED,
    AttemptOutcome.NO_ANSWER,
    AttemptOutcome.BUSY,
    AttemptOutcome.FAILED,
)
AB = AttemptOutcome.ABANDONED


def customer_legs(evs: list[Event]) -> list[str]:
    """Customer legs of the lab: dialled 6138... (or named by a ``+OK <uuid>`` job result),
    not a callcenter agent leg."""
    legs = [
        e.body.split()[1]
        for e in evs
        if e.name == "BACKGROUND_JOB" and e.body and e.body.startswith("+OK ")
    ] + [
        e.uuid
        for e in evs
        if e.name.startswith("CHANNEL_")
        and e.get("Caller-Destination-Number").startswith("6138")
        and not e.var("cc_member_session_uuid")
        and e.var("cc_side") != "agent"
    ]
    return list(dict.fromkeys(legs))


def run(name: str, jobs_without_channel: bool = False) -> tuple[list[CallEnd], CallBook]:
    evs = transcript_events(name)
    book = CallBook()
    for leg in customer_legs(evs):
        book.expect(leg)
    if jobs_without_channel:
        for e in evs:
            if e.name == "BACKGROUND_JOB" and (e.body or "").startswith("-ERR"):
                book.expect("job-" + e.get("Job-UUID"), e.get("Job-UUID"))
    ends = [end for e in evs if (end := book.apply(e)) is not None]
    return ends, book


Row = tuple[AttemptOutcome | None, str, bool, str]
TABLE: list[tuple[str, list[Row]]] = [
    ("a_answered_bridged_to_agent", [(C, "NORMAL_CLEARING", False, A1)]),
    ("a_answered_bridged_to_agent.json", [(C, "NORMAL_CLEARING", False, A1)]),
    ("f_watcher_events", [(C, "NORMAL_CLEARING", False, A2)]),
    ("b_busy_486", [(B, "USER_BUSY", False, "")]),
    ("c_no_answer_timeout", [(N, "NO_ANSWER", False, "")]),
    ("d_gateway_unreachable", [(F, "NORMAL_TEMPORARY_FAILURE", False, "")]),
    ("d3_gateway_blackhole_timeout", [(F, "NO_ANSWER", False, "")]),
    ("e_no_agent_abandon", [(AB, "NORMAL_CLEARING", True, "")]),
    ("h_agent_rejects_486", [(AB, "NORMAL_CLEARING", True, "")]),
    ("j_queue_max_wait_time_2s", [(AB, "NORMAL_CLEARING", True, "")]),
    ("j2_queue_max_wait_time_2s_timing", [(AB, "NORMAL_CLEARING", True, "")] * 10),
    ("k_max_wait_no_agent", [(AB, "NORMAL_CLEARING", True, "")]),
    ("k2_max_wait_no_agent_time_reached_0", [(AB, "NORMAL_CLEARING", True, "")]),
    ("o_cancel_while_ringing", [(N, "NORMAL_CLEARING", False, "")]),
    (
        "p_sip_failure_responses",
        [
            (F, "NORMAL_TEMPORARY_FAILURE", False, ""),
            (AttemptOutcome.INVALID_NUMBER, "UNALLOCATED_NUMBER", False, ""),
            (N, "NO_USER_RESPONSE", False, ""),
            (AttemptOutcome.REJECTED, "CALL_REJECTED", False, ""),
            (N, "ORIGINATOR_CANCEL", False, ""),
        ],
    ),
    ("q_early_media_ignore_true", [(C, "NORMAL_CLEARING", False, A1)]),
    ("q2_early_media_ignore_false", [(C, "NORMAL_CLEARING", False, A2)]),
    ("r_ring_all_two_agents", [(C, "NORMAL_CLEARING", False, A1)]),
    ("s_agent_no_answer_max_no_answer", [(AB, "NORMAL_CLEARING", True, "")]),
    ("t_origination_uuid_export_vars", [(C, "NORMAL_CLEARING", False, A2)]),
]


@pytest.mark.parametrize(("name", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_transcript_outcomes(name: str, expected: list[Row]) -> None:
    ends, book = run(name)
    assert [(e.outcome, e.hangup_cause, e.abandoned, e.agent) for e in ends] == expected
    assert book.calls == {}


def test_abandon_reasons_are_kept() -> None:
    reasons = {
        name: run(name)[0][0].disposition
        for name in ("e_no_agent_abandon", "j_queue_max_wait_time_2s", "k_max_wait_no_agent")
    }
    assert reasons == {
        "e_no_agent_abandon": "answered, no agent (BREAK_OUT)",
        "j_queue_max_wait_time_2s": "answered, no agent (TIMEOUT)",
        "k_max_wait_no_agent": "answered, no agent (NO_AGENT_TIMEOUT)",
    }


def test_gateway_down_has_only_a_job_result() -> None:
    ends, _ = run("d2_gateway_down_ping", jobs_without_channel=True)
    assert [(e.outcome, e.hangup_cause) for e in ends] == [(F, "GATEWAY_DOWN")]


@pytest.mark.parametrize("name", ["l_sps_throttle", "l2_max_sessions"])
def test_node_limits_are_backpressure_not_outcomes(name: str) -> None:
    ends, _ = run(name, jobs_without_channel=True)
    refused = [e for e in ends if e.hangup_cause == "DESTINATION_OUT_OF_ORDER"]
    assert refused and all(e.outcome is None for e in refused)


def test_ids_come_from_the_channel_variables() -> None:
    evs = transcript_events("t_origination_uuid_export_vars")
    book = CallBook()  # nothing registered: the dialer_* variables identify our call
    [end] = [x for e in evs if (x := book.apply(e)) is not None]
    assert (end.campaign_id, end.lead_id, end.attempt_id) == (7, 12345, 99)
    assert end.call_uuid == "c6019a7b-6024-4b1f-864d-c6cb2c92389b"
    assert (end.trunk, end.dialed_number) == ("carrier_a", "6138000000")
    assert end.answered_at and end.connected_at and end.ended_at
    assert end.answered_at < end.connected_at < end.ended_at


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_background_job_position_does_not_change_the_outcome(data: st.DataObject) -> None:
    name = data.draw(
        st.sampled_from(["a_answered_bridged_to_agent", "b_busy_486", "c_no_answer_timeout"])
    )
    evs = transcript_events(name)
    job = next(e for e in evs if e.name == "BACKGROUND_JOB")
    rest = [e for e in evs if e is not job]
    first_create = next(i for i, e in enumerate(rest) if e.name == "CHANNEL_CREATE")
    pos = data.draw(st.integers(min_value=first_create + 1, max_value=len(rest)))
    shuffled = [*rest[:pos], job, *rest[pos:]]
    book = CallBook()
    for leg in customer_legs(evs):
        book.expect(leg)
    ends = [x for e in shuffled if (x := book.apply(e)) is not None]
    expected, _ = run(name)
    assert [(e.outcome, e.hangup_cause) for e in ends] == [
        (e.outcome, e.hangup_cause) for e in expected
    ]


def test_late_events_of_an_ended_call_are_ignored() -> None:
    evs = transcript_events("t_origination_uuid_export_vars")
    book = CallBook()
    ends = [x for e in evs + evs if (x := book.apply(e)) is not None]
    assert len(ends) == 1


@pytest.mark.parametrize("name", ["t_origination_uuid_export_vars", "e_no_agent_abandon"])
def test_a_call_first_seen_at_its_hangup_gets_the_outcome_of_the_whole_call(name: str) -> None:
    """A listener down (or restarted) while the call was bridged sees only its end: the
    leg's cc variables still tell a connected call from an abandoned one."""
    evs = transcript_events(name)
    hangup = [
        e for e in evs
        if e.name == "CHANNEL_HANGUP_COMPLETE" and e.var("cc_side") == "member"
    ]  # fmt: skip
    full, late = CallBook(), CallBook()
    if not hangup[0].var("dialer_attempt_id"):  # the lab's call e carries no dialer ids
        full.expect(hangup[0].uuid)
        late.expect(hangup[0].uuid)
    [reference] = [x for e in evs if (x := full.apply(e)) is not None]
    [end] = [x for e in hangup if (x := late.apply(e)) is not None]
    assert reference.outcome in (C, AB)
    assert (end.outcome, end.abandoned, end.agent) == (
        reference.outcome,
        reference.abandoned,
        reference.agent,
    )
    assert (end.connected_at is None) == (reference.connected_at is None)


def test_unanswered_causes() -> None:
    assert unanswered_outcome("NO_ANSWER", progressed=True, sip_status="") is N
    assert unanswered_outcome("NO_ANSWER", progressed=False, sip_status="") is F
    assert unanswered_outcome("ALLOTTED_TIMEOUT", progressed=True, sip_status="") is N
    assert unanswered_outcome("SOMETHING_NEW", progressed=True, sip_status="500") is F


def _end(outcome: AttemptOutcome | None) -> CallEnd:
    return CallEnd("u", 1, 2, 3, outcome, "x", "CAUSE", outcome is AttemptOutcome.ABANDONED)


def test_lead_updates() -> None:
    policy = RetryPolicy()
    done = lead_update(_end(C), 2, 0, policy, 3, NOW)
    assert (done.status, done.attempts, done.last_outcome) == (LeadStatus.DONE, 1, "connected")
    busy = lead_update(_end(B), 2, 0, policy, 3, NOW)
    assert (busy.status, busy.attempts) == (LeadStatus.PENDING, 1)
    assert busy.next_attempt_at == NOW + timedelta(minutes=15)
    last = lead_update(_end(B), 2, 2, policy, 3, NOW)
    assert (last.status, last.attempts) == (LeadStatus.FAILED, 3)
    invalid = lead_update(_end(AttemptOutcome.INVALID_NUMBER), 2, 0, policy, 3, NOW)
    assert invalid.status is LeadStatus.FAILED
    refused = lead_update(_end(None), 2, 1, policy, 3, NOW)
    assert (refused.status, refused.attempts, refused.last_outcome) == (
        LeadStatus.PENDING,
        1,
        None,
    )


def test_abandoned_number_quiet_for_72_hours() -> None:
    policy = RetryPolicy(
        rules={AttemptOutcome.ABANDONED: RetryRule(delay_s=600)}, abandoned_quiet_s=72 * 3600
    )
    update = lead_update(_end(AB), 2, 0, policy, 3, NOW)
    assert update.status is LeadStatus.PENDING
    assert update.next_attempt_at == NOW + timedelta(hours=72)
    plain = lead_update(_end(AB), 2, 0, RetryPolicy(rules=policy.rules), 3, NOW)
    assert plain.next_attempt_at == NOW + timedelta(seconds=600)


def test_answering_machine_from_mod_amd_variable() -> None:
    call = "00000000-0000-4000-8000-0000000000aa"
    ids = {
        "Unique-ID": call,
        "variable_dialer_campaign_id": "1",
        "variable_dialer_lead_id": "2",
        "variable_dialer_attempt_id": "3",
    }
    book = CallBook()
    seq = [
        Event({"Event-Name": "CHANNEL_CREATE", **ids}),
        Event({"Event-Name": "CHANNEL_ANSWER", "Event-Date-Timestamp": "1000000", **ids}),
        Event(
            {
                "Event-Name": "CHANNEL_HANGUP_COMPLETE",
                "Hangup-Cause": "NORMAL_CLEARING",
                "variable_amd_result": "MACHINE",
                **ids,
            }
        ),
    ]
    ends = [x for e in seq if (x := book.apply(e)) is not None]
    assert [(e.outcome, e.abandoned, e.lead_id) for e in ends] == [
        (AttemptOutcome.ANSWERING_MACHINE, False, 2)
    ]


def test_failed_calls_carry_their_q850_code_and_sip_status() -> None:
    ends, _ = run("p_sip_failure_responses")
    assert [(e.hangup_cause, e.hangup_cause_q850, e.sip_status) for e in ends] == [
        ("NORMAL_TEMPORARY_FAILURE", 41, "503"),
        ("UNALLOCATED_NUMBER", 1, "404"),
        ("NO_USER_RESPONSE", 18, "480"),
        ("CALL_REJECTED", 21, "603"),
        ("ORIGINATOR_CANCEL", 16, "487"),
    ]


def test_a_call_the_switch_never_created_has_no_q850_code() -> None:
    ends, _ = run("d2_gateway_down_ping", jobs_without_channel=True)
    assert [(e.hangup_cause, e.hangup_cause_q850, e.sip_status) for e in ends] == [
        ("GATEWAY_DOWN", None, "")
    ]


def _as_ours(evs: list[Event], leg: str) -> list[Event]:
    """``evs`` as the dialer's own originate makes them: the job names the leg's
    ``origination_uuid`` and attempt, the leg's channel events carry the attempt id."""
    out = []
    for e in evs:
        if e.name == "BACKGROUND_JOB":
            arg = e.get("Job-Command-Arg").replace(
                "{", f"{{origination_uuid={leg},dialer_attempt_id=7,", 1
            )
            out.append(Event({**e.headers, "Job-Command-Arg": arg}, e.body))
        elif e.uuid == leg:
            out.append(Event({**e.headers, "variable_dialer_attempt_id": "7"}, e.body))
        else:
            out.append(e)
    return out


def test_a_book_that_began_watching_mid_call_holds_a_failed_job_for_the_hangup() -> None:
    # The listener (re)connected while the customer leg rang: CHANNEL_CREATE and
    # CHANNEL_PROGRESS went by unseen; the job's -ERR NO_ANSWER comes before the hangup.
    evs = transcript_events("c_no_answer_timeout")
    [leg] = customer_legs(evs)
    evs = _as_ours(evs, leg)
    start = next(i for i, e in enumerate(evs) if e.name == "CHANNEL_HANGUP")
    book = CallBook()
    book.watching_since(evs[start].timestamp_us)
    ends = [x for e in evs[start:] if (x := book.apply(e)) is not None]
    assert [(e.outcome, e.hangup_cause) for e in ends] == [(N, "NO_ANSWER")]


def test_a_job_failure_long_after_the_watch_began_ends_its_call_at_once() -> None:
    # The same call begun after the watch: had a channel existed its CHANNEL_CREATE would
    # have been seen, so the -ERR job alone ends it (a trunk that never answered, d3).
    evs = transcript_events("c_no_answer_timeout")
    [leg] = customer_legs(evs)
    job = next(e for e in _as_ours(evs, leg) if e.name == "BACKGROUND_JOB")
    book = CallBook()
    book.watching_since(job.timestamp_us - 31_000_000)  # originate_timeout=20 s, +10 s setup
    [end] = [x for x in [book.apply(job)] if x is not None]
    assert (end.outcome, end.hangup_cause) == (F, "NO_ANSWER")
    held = CallBook()
    held.watching_since(job.timestamp_us - 29_000_000)
    assert held.apply(job) is None and held.calls[leg].start_unseen


@pytest.mark.parametrize(
    ("bridged_time", "cc_agent_bridged", "outcome"),
    [
        ("0", "", AB),  # the caller hung up between the agent's answer and the bridge
        ("1000500", "true", C),  # bridged: the leg's own record agrees
        ("1000500", "", C),
    ],
)
def test_bridge_agent_start_counts_only_if_the_callers_leg_was_bridged(
    bridged_time: str, cc_agent_bridged: str, outcome: AttemptOutcome
) -> None:
    call = "00000000-0000-4000-8000-00000000000b"
    ids = {"Unique-ID": call, "variable_dialer_campaign_id": "1",
           "variable_dialer_lead_id": "2", "variable_dialer_attempt_id": "3"}  # fmt: skip
    book = CallBook()
    seq = [
        Event({"Event-Name": "CHANNEL_ANSWER", "Event-Date-Timestamp": "1000000", **ids}),
        Event(
            {
                "Event-Name": "CUSTOM",
                "Event-Subclass": "callcenter::info",
                "CC-Action": "bridge-agent-start",
                "CC-Agent": "agent1@default",
                "CC-Member-Session-UUID": call,
                "Event-Date-Timestamp": "1000400",
            }
        ),
        Event(
            {
                "Event-Name": "CHANNEL_HANGUP_COMPLETE",
                "Hangup-Cause": "NORMAL_CLEARING",
                "Caller-Channel-Bridged-Time": bridged_time,
                "variable_cc_agent_bridged": cc_agent_bridged,
                **ids,
            }
        ),
    ]
    [end] = [x for e in seq if (x := book.apply(e)) is not None]
    assert end.outcome is outcome and end.abandoned is (outcome is AB)
