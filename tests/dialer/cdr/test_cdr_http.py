"""``POST /fsapi/cdr`` of `dialer api` on a real database: each captured shape is taken and
settles its attempt; the switch authenticates; a CDR and the events agree or the later one is
ignored; an unknown attempt holds its lead until its CDR or a manager releases it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import UNSETTLED, AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.service import release_unknown_leads
from dialer.calls.machine import CallEnd
from dialer.cdr.orm import CdrRow
from dialer.cdr.parse import parse_cdr
from dialer.cdr.service import import_cdr_files
from dialer.cdr.wiring import cdr_deps
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.fakes import MemoryTrunks
from tests.conftest import seed_running_campaign
from tests.support.cdr import captured_post
from tests.support.clock import FakeClock
from tests.support.transcripts import http_capture_text
from workers.api import create_app
from workers.context import AppContext

CREDENTIALS = "fs1:s3cret"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _auth(credentials: str = CREDENTIALS) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


class Dialing:
    """A campaign whose leads are being dialled, one attempt row each."""

    def __init__(self, sessions: sessionmaker[Session], leads: int = 3) -> None:
        self.sessions = sessions
        self.campaign_id = seed_running_campaign(sessions, leads, {})
        with transaction(sessions) as session:
            session.execute(update(Lead).values(status=LeadStatus.DIALING))
            self.lead_ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))

    def attempt(self, lead_id: int, call_uuid: str) -> tuple[int, int, int]:
        """The (campaign, lead, attempt) ids of a new attempt row of ``call_uuid``."""
        with transaction(self.sessions) as session:
            row = CallAttempt(
                call_uuid=call_uuid, lead_id=lead_id, campaign_id=self.campaign_id,
                node="fs1", dialed_number="+8613800000000", originated_at=T0,
            )  # fmt: skip
            session.add(row)
            session.flush()
            return self.campaign_id, lead_id, row.id

    def outcome(self, call_uuid: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(CallAttempt.outcome).where(CallAttempt.call_uuid == call_uuid)
            )

    def lead(self, lead_id: int) -> tuple[LeadStatus, int, str | None]:
        with self.sessions() as session:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            return lead.status, lead.attempts, lead.last_outcome


def _uuid(capture: str) -> str:
    return parse_cdr(http_capture_text(f"{capture}.cdr.xml")).call_uuid


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = load_settings(fsapi_credentials=CREDENTIALS)
    context = AppContext(settings, clock=FakeClock(T0), sessions=sessions)
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("capture", "outcome", "lead_status"),
    [
        ("v1_cdr_answered_bridged", AttemptOutcome.CONNECTED, LeadStatus.DONE),
        ("v1_cdr_abandoned", AttemptOutcome.ABANDONED, LeadStatus.PENDING),
        ("v1_cdr_busy", AttemptOutcome.BUSY, LeadStatus.PENDING),
        ("v3_cdr_encode_false", AttemptOutcome.BUSY, LeadStatus.PENDING),
        ("v4_cdr_encode_textxml", AttemptOutcome.BUSY, LeadStatus.PENDING),
    ],
)
def test_each_captured_post_settles_its_attempt_once(
    client: TestClient,
    sessions: sessionmaker[Session],
    capture: str,
    outcome: AttemptOutcome,
    lead_status: LeadStatus,
) -> None:
    dialing = Dialing(sessions)
    call_uuid = _uuid(capture)
    ids = dialing.attempt(dialing.lead_ids[0], call_uuid)
    content_type, body = captured_post(capture, ids)
    for _ in range(2):  # the second: a retry after a lost 200
        reply = client.post(
            f"/fsapi/cdr?uuid=a_{call_uuid}",
            content=body,
            headers={"Content-Type": content_type, **_auth()},
        )
        assert (reply.status_code, reply.text) == (200, "OK\n")
    assert dialing.outcome(call_uuid) == outcome
    assert dialing.lead(dialing.lead_ids[0])[:2] == (lead_status, 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CdrRow)) == 1


def test_a_cdr_of_another_call_is_stored_and_settles_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    content_type, body = captured_post("v1_cdr_busy")
    reply = client.post(
        "/fsapi/cdr", content=body, headers={"Content-Type": content_type, **_auth()}
    )
    assert reply.status_code == 200
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CdrRow)) == 1
        assert session.scalar(select(func.count()).select_from(CallAttempt)) == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (_auth("fs1:wrong"), 401),
        ({"Authorization": "Basic !!notbase64"}, 401),
        ({"Authorization": "Bearer x"}, 401),
    ],
)
def test_the_switch_must_authenticate(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    content_type, body = captured_post("v1_cdr_busy")
    reply = client.post(
        "/fsapi/cdr", content=body, headers={"Content-Type": content_type, **headers}
    )
    assert reply.status_code == status
    assert reply.headers["WWW-Authenticate"].startswith("Basic")


def test_a_body_that_is_not_a_cdr_is_refused_so_the_switch_keeps_it(client: TestClient) -> None:
    reply = client.post(
        "/fsapi/cdr",
        content=b"cdr=%3Cnot",
        headers={"Content-Type": "application/x-www-form-urlencoded", **_auth()},
    )
    assert reply.status_code == 400 and "well-formed" in reply.text


def test_without_credentials_every_post_is_refused(sessions: sessionmaker[Session]) -> None:
    context = AppContext(load_settings(), sessions=sessions)
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as plain:
        content_type, body = captured_post("v1_cdr_busy")
        reply = plain.post(
            "/fsapi/cdr", content=body, headers={"Content-Type": content_type, **_auth()}
        )
    assert reply.status_code == 503 and "DIALER_FSAPI_CREDENTIALS" in reply.text


def _event_end(ids: tuple[int, int, int], call_uuid: str, outcome: AttemptOutcome) -> CallEnd:
    campaign_id, lead_id, attempt_id = ids
    return CallEnd(
        call_uuid, campaign_id, lead_id, attempt_id, outcome, "events", "NORMAL_CLEARING",
        abandoned=outcome is AttemptOutcome.ABANDONED, ended_at=T0,
    )  # fmt: skip


def test_events_then_cdr_and_cdr_then_events_keep_the_first(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    dialing = Dialing(sessions)
    sink = SqlAttemptSink(sessions, FakeClock(T0))
    bridged, abandoned = _uuid("v1_cdr_answered_bridged"), _uuid("v1_cdr_abandoned")
    first = dialing.attempt(dialing.lead_ids[0], bridged)
    second = dialing.attempt(dialing.lead_ids[1], abandoned)
    # the events settled the bridged call first; its CDR agrees and changes nothing
    sink.record("fs1", _event_end(first, bridged, AttemptOutcome.CONNECTED))
    content_type, body = captured_post("v1_cdr_answered_bridged", first)
    client.post("/fsapi/cdr", content=body, headers={"Content-Type": content_type, **_auth()})
    assert dialing.outcome(bridged) == AttemptOutcome.CONNECTED
    assert dialing.lead(dialing.lead_ids[0])[:2] == (LeadStatus.DONE, 1)
    # the CDR came first (as mod_xml_cdr posts before HANGUP_COMPLETE): late events are ignored
    content_type, body = captured_post("v1_cdr_abandoned", second)
    client.post("/fsapi/cdr", content=body, headers={"Content-Type": content_type, **_auth()})
    sink.record("fs1", _event_end(second, abandoned, AttemptOutcome.NO_ANSWER))
    assert dialing.outcome(abandoned) == AttemptOutcome.ABANDONED
    assert dialing.lead(dialing.lead_ids[1])[:2] == (LeadStatus.PENDING, 1)


def test_an_unknown_attempt_holds_its_lead_until_its_cdr(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    dialing = Dialing(sessions)
    sink = SqlAttemptSink(sessions, FakeClock(T0))
    bridged = _uuid("v1_cdr_answered_bridged")
    ids = dialing.attempt(dialing.lead_ids[0], bridged)
    unknown = replace(
        _event_end(ids, bridged, AttemptOutcome.NO_ANSWER), outcome=None, unsettled=True
    )
    sink.record("fs1", unknown)
    # held: not pending (never redialled automatically), no attempt counted
    assert dialing.outcome(bridged) == UNSETTLED
    assert dialing.lead(dialing.lead_ids[0]) == (LeadStatus.FAILED, 0, UNSETTLED)
    content_type, body = captured_post("v1_cdr_answered_bridged", ids)
    client.post("/fsapi/cdr", content=body, headers={"Content-Type": content_type, **_auth()})
    assert dialing.outcome(bridged) == AttemptOutcome.CONNECTED
    assert dialing.lead(dialing.lead_ids[0])[:2] == (LeadStatus.DONE, 1)


def test_a_manager_releases_unknown_leads(sessions: sessionmaker[Session]) -> None:
    dialing = Dialing(sessions)
    sink = SqlAttemptSink(sessions, FakeClock(T0))
    for i, lead_id in enumerate(dialing.lead_ids[:2]):
        call_uuid = f"00000000-0000-4000-8000-00000000000{i}"
        ids = dialing.attempt(lead_id, call_uuid)
        end = _event_end(ids, call_uuid, AttemptOutcome.NO_ANSWER)
        sink.record("fs1", replace(end, outcome=None, unsettled=True))
    with transaction(sessions) as session:
        assert release_unknown_leads(session, "campaign", T0) == 2
    assert [dialing.lead(i)[:2] for i in dialing.lead_ids] == [
        (LeadStatus.PENDING, 0),
        (LeadStatus.PENDING, 0),
        (LeadStatus.DIALING, 0),
    ]
    with transaction(sessions) as session:
        assert release_unknown_leads(session, None, T0) == 0


def test_err_log_dir_files_are_imported_once(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    dialing = Dialing(sessions)
    name = "v1_err-log-dir_after_500__a_a8626551-19b8-459b-a34a-5eecd2004b4d.cdr.xml"
    call_uuid = "a8626551-19b8-459b-a34a-5eecd2004b4d"
    ids = dialing.attempt(dialing.lead_ids[0], call_uuid)
    # the file as FreeSWITCH writes it: the percent-encoded XML without cdr=
    content_type, body = captured_post("v1_cdr_500_try1", ids)
    assert content_type == "application/x-www-form-urlencoded"
    (tmp_path / f"a_{call_uuid}.cdr.xml").write_bytes(body[len(b"cdr=") :])
    (tmp_path / "a_broken.cdr.xml").write_text("%3Ccdr", encoding="utf-8")
    assert http_capture_text(name).startswith("%3C%3Fxml")
    deps = cdr_deps(sessions, FakeClock(T0))
    first = import_cdr_files(deps, tmp_path.glob("*.cdr.xml"))
    assert (first.taken, first.new, len(first.refused)) == (1, 1, 1)
    assert "a_broken.cdr.xml" in first.refused[0]
    again = import_cdr_files(deps, tmp_path.glob("*.cdr.xml"))
    assert (again.taken, again.new) == (1, 0)
    assert dialing.outcome(call_uuid) == AttemptOutcome.BUSY
    assert dialing.lead(dialing.lead_ids[0])[:2] == (LeadStatus.PENDING, 1)
