"""End to end over TCP: a recording campaign's call, originated as the pacer originates it,
against the switch simulator, which runs seed 001's upload hook after hangup and posts the
CDR as mod_xml_cdr does, both to the real API. The answered call's recording is uploaded,
listed, downloadable by its URL, and carried with the CDR's billsec in the one webhook."""

from __future__ import annotations

import io
import json
import uuid
import wave
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import CallAttempt, Campaign, Lead
from dialer.apikeys.ports import Role
from dialer.cdr.adapters import SqlCdrStore
from dialer.clock import SYSTEM_CLOCK
from dialer.config import FsNode, Settings, load_settings
from dialer.db.base import make_engine, make_session_factory, transaction
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.fakes import MemoryLiveState, MemoryTrunks
from dialer.listener.wiring import start_listener
from dialer.postcall.service import deliver_webhook
from dialer.postcall.wiring import post_call_deps
from dialer.recordings.wiring import switch_recording
from dialer.sim.cdr_post import CdrPosting
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import migrated_database, seed_running_campaign
from tests.support.api import bearer, issue_test_keys, served
from tests.support.attempts import open_attempt
from tests.support.waiting import wait_until
from tests.support.webhooks import receiving
from workers.api import create_app
from workers.context import AppContext

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
CREDENTIALS = "fs1:s3cret"
HOOK_SECRET = "whsec_recording-test-0"


@pytest.mark.integration
def test_a_recording_campaigns_answered_call_is_uploaded_listed_downloaded_and_in_its_webhook(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with migrated_database("sqlite", request) as url, receiving() as receiver:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        campaign_id = seed_running_campaign(
            sessions,
            1,
            {},
            record=True,
            webhook_url=hook_url,
            webhook_secret="whsec_recording-test-0",
        )
        settings = load_settings(
            fsapi_credentials=CREDENTIALS, recordings_dir=str(tmp_path / "rec"),
            recordings_secret="rec-secret", recordings_switch_dir="/var/lib/freeswitch/rec",
        )  # fmt: skip
        context = AppContext(settings, sessions=sessions)
        trunks = MemoryTrunks()
        try:
            with served(create_app(context, notify=None, trunks=trunks)) as base:
                port = int(base.rsplit(":", 1)[1])
                settings = settings.model_copy(update={"api_port": port, "public_url": base})
                call = _run(sessions, campaign_id, settings, base, trunks)
                (delivery,) = receiver.requests
                hook = json.loads(delivery.body)
                assert hook["call_uuid"] == call and hook["billsec"] == 5  # the lab's 5 s talk
                assert hook["recording"].startswith(f"{base}/files/recordings/{call}?expires=")
                audio = httpx.get(hook["recording"])
                assert audio.status_code == 200 and audio.content.startswith(b"RIFF")
        finally:
            engine.dispose()


def _run(
    sessions: sessionmaker[Session],
    campaign_id: int,
    settings: Settings,
    base: str,
    trunks: MemoryTrunks,
) -> str:
    posting = CdrPosting(f"{base}/fsapi/cdr", CREDENTIALS, retries=2, delay_s=1.0)
    with SimulatorServer(replace(load_scenario(LAB), speed=2.0), cdr=posting) as server:
        sim = server.sim
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        listener = start_listener(
            node, MemoryLiveState(), SqlAttemptSink(sessions), trunks,
            reconcile_every_s=0.5, cdrs=SqlCdrStore(sessions), cdr_wait_s=30,
        )  # fmt: skip
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        try:
            assert listener.client.wait_connected(5) and dialer.wait_connected(5)
            call = str(uuid.uuid4())
            with transaction(sessions) as session:
                lead_id = session.scalars(select(Lead.id)).one()
                session.execute(update(Lead).values(status="dialing"))
            attempt_id = open_attempt(sessions, campaign_id, lead_id, call)
            trunks.held[call] = "carrier_a"
            spec = OriginateSpec(
                call, "sofia/gateway/carrier_a/6138000000", "20220601", "cc_sales",
                "campaign", campaign_id=campaign_id, lead_id=lead_id, attempt_id=attempt_id,
                recording=switch_recording(settings),
            )  # fmt: skip
            sent = dialer.bgapi("originate " + build_originate(spec, datetime.now(UTC)))
            assert sent.result(10).ok
            _check(sessions, settings, base, call, attempt_id)
            return call
        finally:
            dialer.close()
            listener.stop()


def _check(
    sessions: sessionmaker[Session], settings: Settings, base: str, call: str, attempt_id: int
) -> None:
    def ended() -> bool:
        with sessions() as session:
            return (
                session.scalar(select(CallAttempt.outcome).where(CallAttempt.id == attempt_id))
                is not None
            )

    assert wait_until(ended, 30)
    manager = bearer(issue_test_keys(sessions)[Role.MANAGER])
    listed = lambda: httpx.get(f"{base}/v1/recordings/{call}", headers=manager)  # noqa: E731
    assert wait_until(lambda: listed().status_code == 200, 15)
    found = listed().json()
    assert found["format"] == "wav" and found["size"] > 44
    audio = httpx.get(base + found["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
    with sessions() as session:
        assert session.scalar(select(Campaign.record)) is True
    post_call = post_call_deps(sessions, SYSTEM_CLOCK, settings=settings)
    results: list[str] = []

    def delivered() -> bool:
        results.append(deliver_webhook(attempt_id, post_call).state)
        return results[-1] != "waiting"

    assert wait_until(delivered, 30), results
    assert results[-1] == "delivered", results
    post_call.sender.close()  # type: ignore[attr-defined]
