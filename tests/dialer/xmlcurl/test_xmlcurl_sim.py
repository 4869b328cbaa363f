"""End to end: the simulator takes its campaign dialplan and queues from the API's
``/fsapi/xml_curl`` (as mod_xml_curl would), out of the database, and a call the dialer
originates into that campaign is bridged to a ready agent; with no agent it hears the safe
harbor and is hung up."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from campaigns.service import CampaignSpec, create_campaign
from dialer import agent_admin
from dialer.config import load_settings
from dialer.db.base import transaction
from dialer.esl.adapters.own import EslClient
from dialer.esl.events import Event
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.fakes import MemoryTrunks
from dialer.sim.scenario import Scenario, scenario_from_dict
from dialer.sim.simulator import SimulatorServer
from dialer.sim.xml_curl_fetch import XmlCurlSource, fetch_config
from fs_conf.dialplan import DEFAULT_SAFE_HARBOR, dialplan_entry
from tests.support.clock import FakeClock
from tests.support.esl import EventLog
from workers.api import create_app
from workers.context import AppContext

pytestmark = pytest.mark.integration

LAB = Path(__file__).parents[3] / "scenarios/sim/lab.yaml"
CREDENTIALS = "fs1:s3cret"
QUEUE = "sales@default"
SUB = Subscription(
    events=("CHANNEL_EXECUTE", "CHANNEL_HANGUP_COMPLETE"), custom=("callcenter::info",)
)


def _bare_lab() -> Scenario:
    """The lab switch without a dialplan or queues of its own."""
    raw: dict[str, Any] = yaml.safe_load(LAB.read_text(encoding="utf-8"))
    raw["speed"] = 10.0
    raw["population"][0]["talk_time_s"] = 20.0
    raw["dialplan"] = []
    raw["callcenter"] = {"queues": [], "agents": [], "tiers": []}
    return scenario_from_dict(raw)


@pytest.fixture
def fetched(sessions: sessionmaker[Session]) -> Scenario:
    with transaction(sessions) as session:
        create_campaign(session, CampaignSpec(name="spring", queue_name=QUEUE))
    context = AppContext(
        load_settings(fsapi_credentials=CREDENTIALS), clock=FakeClock(datetime.now(UTC)),
        sessions=sessions,
    )  # fmt: skip
    with TestClient(create_app(context, notify=None, trunks=MemoryTrunks())) as api:

        def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
            reply = api.post(url, content=body, headers=dict(headers))
            return reply.status_code, reply.text

        source = XmlCurlSource("http://testserver/fsapi/xml_curl?node=fs1", CREDENTIALS)
        return fetch_config(_bare_lab(), source, post)


def test_the_dialplan_and_queues_come_from_the_api(fetched: Scenario) -> None:
    entry = dialplan_entry("spring", QUEUE)
    ext = fetched.extension(entry.extension, entry.context)
    assert ext is not None and ext.queue == QUEUE
    assert ext.after_queue_playback == DEFAULT_SAFE_HARBOR
    assert [q["name"] for q in fetched.callcenter["queues"]] == [QUEUE]
    assert fetched.callcenter["queues"][0]["max_wait_time_s"] == 2


def test_without_the_api_the_scenario_keeps_its_own() -> None:
    def down(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        return 503, "credentials are not configured"

    lab = _bare_lab()
    assert fetch_config(lab, XmlCurlSource("http://x/fsapi/xml_curl"), down) == lab


@pytest.fixture
def switch(fetched: Scenario) -> Iterator[tuple[EslClient, EventLog]]:
    log = EventLog()
    with SimulatorServer(fetched) as server:
        sim = server.sim
        conn = EslClient("fs1", sim.host, sim.port_number, "ClueCon", SUB, log).start()
        assert conn.wait_connected(5)
        try:
            yield conn, log
        finally:
            conn.close()


def _originate(conn: EslClient) -> str:
    entry = dialplan_entry("spring", QUEUE)
    call_uuid = str(uuid.uuid4())
    spec = OriginateSpec(
        call_uuid=call_uuid, dial_string="sofia/gateway/carrier_a/6138000000",
        caller_id="20220601", extension=entry.extension, context=entry.context,
        campaign_id=7, lead_id=1, attempt_id=1,
    )  # fmt: skip
    result = conn.bgapi("originate " + build_originate(spec, datetime.now(UTC))).result(20)
    assert result.ok, result.text
    return call_uuid


def _cc(action: str, call_uuid: str) -> Callable[[Event], bool]:
    return lambda e: e.get("CC-Action") == action and e.get("CC-Member-Session-UUID") == call_uuid


def test_a_call_into_the_fetched_campaign_is_bridged(
    switch: tuple[EslClient, EventLog],
) -> None:
    conn, log = switch
    contact = "[leg_timeout=15]sofia/external/agent1@127.0.0.1:5094"
    agent_admin.add(conn, "agent1@default", contact, agent_admin.Tier(QUEUE))
    agent_admin.set_status(conn, "agent1@default", "ready")
    call_uuid = _originate(conn)
    bridged = log.wait_for(_cc("bridge-agent-start", call_uuid), 20)
    assert bridged.get("CC-Agent") == "agent1@default"


def test_with_no_agent_the_caller_hears_the_safe_harbor(
    switch: tuple[EslClient, EventLog],
) -> None:
    conn, log = switch
    call_uuid = _originate(conn)
    end = log.wait_for(
        lambda e: e.name == "CHANNEL_HANGUP_COMPLETE" and e.get("Unique-ID") == call_uuid, 20
    )
    assert end.get("Hangup-Cause") == "NORMAL_CLEARING"
    plays = [
        e.get("Application-Data") for e in log.events
        if e.name == "CHANNEL_EXECUTE" and e.get("Unique-ID") == call_uuid
        and e.get("Application") == "playback"
    ]  # fmt: skip
    assert plays == [DEFAULT_SAFE_HARBOR]
