"""The campaign report: outcomes, people answering, abandons and talk time, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, event, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.report import IN_FLIGHT, campaign_report
from campaigns.rules import CallingWindow
from campaigns.service import create_campaign, parse_spec
from dialer.db.base import transaction

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_report_counts_people_abandons_and_talk(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        spec = parse_spec(
            name="r", queue_name="r@default", calling_window=CallingWindow.always_open()
        )
        campaign = create_campaign(session, spec)
        other = create_campaign(session, parse_spec(name="o", queue_name="o@default"))
        leads = [
            Lead(
                campaign_id=campaign.id,
                phone_e164=f"+8613800000{i:03d}",
                phone_raw="x",
                country="CN",
                number_type="mobile",
            )
            for i in range(6)
        ]
        leads[0].status = LeadStatus.DONE
        session.add_all(leads)
        session.flush()
        rows = [
            # (outcome, answered, connected, ended, abandoned, originated)
            ("connected", at(5), at(6), at(66), False, at(0)),
            ("connected", at(4), at(5), at(35), False, at(0)),
            ("abandoned", at(5), None, at(9), True, at(0)),
            ("answering_machine", at(3), None, at(20), False, at(0)),
            ("no_answer", None, None, at(30), False, at(0)),
            (None, None, None, None, False, at(1)),
            ("abandoned", at(5), None, at(9), True, at(-7200)),  # before ``since``
        ]
        for i, (outcome, answered, connected, ended, abandoned, originated) in enumerate(rows):
            session.add(
                CallAttempt(
                    call_uuid=f"00000000-0000-4000-8000-{i:012d}",
                    lead_id=leads[i % len(leads)].id,
                    campaign_id=campaign.id,
                    dialed_number="+8613800000000",
                    originated_at=originated,
                    answered_at=answered,
                    connected_at=connected,
                    ended_at=ended,
                    outcome=outcome,
                    abandoned=abandoned,
                )
            )
        session.add(
            Lead(
                campaign_id=other.id,
                phone_e164="+8613900000000",
                phone_raw="y",
                country="CN",
                number_type="mobile",
            )
        )
        campaign_id = campaign.id
    with sessions() as session:
        recent = campaign_report(session, campaign_id, since=at(-60))
        everything = campaign_report(session, campaign_id)
    assert recent.leads_by_status == {"pending": 5, "done": 1}
    assert recent.attempts_by_outcome == {
        "connected": 2,
        "abandoned": 1,
        "answering_machine": 1,
        "no_answer": 1,
        IN_FLIGHT: 1,
    }
    # a machine is not a person: 3 people answered, 1 of them was abandoned
    assert (recent.answered, recent.abandoned, recent.connected) == (3, 1, 2)
    assert recent.abandon_rate == 1 / 3
    assert recent.talk_s == 90.0
    assert (everything.answered, everything.abandoned) == (4, 2)


def test_a_report_is_one_read_even_when_a_call_ends_while_it_is_made(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """Each lead being dialled has one call in flight; a call that ends between two reads of
    the report would show up in one figure and not in the other."""
    with transaction(sessions) as session:
        campaign = create_campaign(session, parse_spec(name="r", queue_name="r@default"))
        for i in range(4):
            lead = Lead(
                campaign_id=campaign.id, phone_e164=f"+8613800000{i:03d}", phone_raw="x",
                country="CN", number_type="mobile", status=LeadStatus.DIALING,
            )  # fmt: skip
            session.add(lead)
            session.flush()
            session.add(
                CallAttempt(
                    call_uuid=f"call-{i}", lead_id=lead.id, campaign_id=campaign.id,
                    dialed_number=lead.phone_e164, originated_at=at(i),
                )
            )  # fmt: skip
        campaign_id = campaign.id
    ended: list[str] = []

    def a_call_ends(conn: Connection, *_: object) -> None:
        if ended or conn.info.get("writer"):
            return
        ended.append("call-0")
        with engine.begin() as writer:
            writer.info["writer"] = True
            writer.execute(
                update(CallAttempt).where(CallAttempt.call_uuid == "call-0")
                .values(outcome="failed", ended_at=at(60))
            )  # fmt: skip
            writer.execute(update(Lead).where(Lead.id == 1).values(status=LeadStatus.FAILED))
            writer.info.pop("writer")

    event.listen(engine, "after_cursor_execute", a_call_ends)
    try:
        with sessions() as session:
            report = campaign_report(session, campaign_id)
    finally:
        event.remove(engine, "after_cursor_execute", a_call_ends)
    assert ended, "the report made no read"
    dialing = report.leads_by_status.get("dialing", 0)
    assert dialing == report.attempts_by_outcome.get(IN_FLIGHT, 0), report
    assert dialing + report.leads_by_status.get("failed", 0) == 4
