"""The web console and the agent's desk in a real browser (Debian's Chromium driven by
Playwright), over `dialer api` served for real, against the switch simulator with the
listener and the predictive pacer running in this process on the simulator's clock.

A manager logs in, creates a campaign, uploads a lead file and sees its progress reach 100%,
starts the campaign and sees the live figures move; an agent logs in, goes ready, gets a
call and sees that lead's name and custom field pop up, sets a disposition, and the lead's
state in the database changed accordingly. Each page's screenshot is written under
``test-artifacts/web/`` (not committed). Bounded: one browser, two pages, one campaign.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import LeadStatus
from campaigns.models import CallAttempt, Lead
from campaigns.service import get_campaign
from dialer.apikeys.ports import Role
from dialer.config import FsNode, load_settings
from dialer.db.base import make_engine, make_session_factory
from dialer.pacing import Mode, make_pacer
from dialer.runner.tick import CampaignTicker
from dialer.runner.ticker import run_slice
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import migrated_database
from tests.support.api import bearer, issue_test_keys, served
from workers.api import create_app
from workers.context import AppContext
from workers.listener import start_listeners
from workers.worker import WorkerPacing, WorkerRoot, install_root

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
SPEED = 10.0
PACE_WALL_S = 40.0
WAIT_MS = 30_000
AGENT = "1001"
WINDOW = {"windows": [{"days": "mon,tue,wed,thu,fri,sat,sun", "start": "00:00", "end": "23:59"}]}
LEADS = "phone,name,plan\n" + "".join(
    f"1380013{i:04d},Customer {i},plan-{i % 3}\n" for i in range(40)
)


@pytest.fixture
def sessions(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    with migrated_database("sqlite", request) as url:
        engine = make_engine(url)
        yield make_session_factory(engine)
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _login(browser: Any, base: str, token: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(base + "/console")
    assert "/login" in page.url  # no session: the login page
    page.fill("input[name=key]", token)
    page.click("button[type=submit]")
    return page


def _pace(up: AppContext, campaign: str, stop: threading.Event) -> None:
    """What `dialer up` runs for the campaign's calls: the listener and the pacer."""
    with up.sessions() as session:
        campaign_id = get_campaign(session, campaign).id
    [listener] = start_listeners(up, None, 5.0 * SPEED, None, None, None)
    pacing = WorkerPacing(up)
    try:
        assert listener.client.wait_connected(10)
        deps = pacing.tick_deps()
        lease = deps.leases.acquire(campaign_id, "browser-test", 10_000)
        assert lease is not None
        ticker = CampaignTicker(lease, make_pacer(Mode.PREDICTIVE), deps)
        deadline = up.clock.monotonic_s() + PACE_WALL_S * SPEED
        while not stop.is_set() and up.clock.monotonic_s() < deadline:
            run_slice(ticker.tick, up.clock, 1.0, 2.0 * SPEED)
        deps.leases.release(lease)
    finally:
        pacing.close()
        listener.stop()


def test_a_manager_runs_a_campaign_and_an_agent_gets_its_screen_pop(
    sessions: sessionmaker[Session],
    redis_client: redis.Redis[str],
    real_broker: Any,
    browser: Any,
    tmp_path: Path,
) -> None:
    scenario = replace(load_scenario(ROOT / "scenarios/sim/campaign.yaml"), speed=SPEED)
    server = SimulatorServer(scenario)
    server.start()
    stop = threading.Event()
    pacer: threading.Thread | None = None
    try:
        node = FsNode(name="fs1", host=server.sim.host, port=server.sim.port_number)
        settings = load_settings(
            freeswitch_nodes=[node], upload_dir=str(tmp_path / "uploads"), timezone="UTC"
        )
        # the API, the listener and the pacer keep the simulator's time
        context = AppContext(settings, clock=server.time(), sessions=sessions,
                             redis_client=redis_client)  # fmt: skip
        install_root(real_broker, WorkerRoot(context))
        tokens = issue_test_keys(sessions, agent=AGENT)
        from celery.contrib.testing.worker import start_worker

        with (
            served(create_app(context, notify=None)) as base,
            start_worker(real_broker, pool="threads", concurrency=1, perform_ping_check=False,
                         queues=["imports"]),
        ):  # fmt: skip
            manager_api = httpx.Client(base_url=base, headers=bearer(tokens[Role.MANAGER]))
            trunk = {"name": "carrier1", "proxy": "8.8.8.8:5060", "callee_prefix": "6",
                     "max_concurrency": 50}  # fmt: skip
            assert manager_api.post("/v1/trunks", json=trunk).status_code == 201
            deck = {"file": ("deck.csv", b"prefix,rate_per_min\n86,0.020\n", "text/csv")}
            assert manager_api.put("/v1/trunks/carrier1/rates", files=deck).status_code == 200
            agent = {"name": AGENT, "contact": "user/1001", "tiers": [{"queue": "sales@default"}]}
            assert manager_api.post("/v1/agents", json=agent).status_code == 201

            manager = _login(browser, base, tokens[Role.MANAGER])
            manager.wait_for_url(base + "/console")
            manager.click("#create-box summary")
            manager.fill("#create input[name=name]", "spring")
            manager.fill("#create input[name=queue_name]", "sales@default")
            manager.fill("#create textarea[name=calling_window]", json.dumps(WINDOW))
            manager.click("#create button[type=submit]")
            manager.wait_for_url(base + "/console/campaigns/spring")
            leads = tmp_path / "leads.csv"
            leads.write_text(LEADS, encoding="utf-8")
            manager.set_input_files("#upload input[type=file]", str(leads))
            manager.click("#upload button[type=submit]")
            manager.wait_for_function(
                "document.querySelector('#upload-pct').textContent === '100%'"
            )
            assert "40 accepted" in manager.inner_text("#upload-state")
            _shot(manager, "campaign-imported")

            desk = _login(browser, base, tokens[Role.AGENT])
            desk.wait_for_url(f"{base}/desk/{AGENT}")
            desk.wait_for_function("document.querySelector('#socket').textContent === 'live'")
            desk.click("button[data-status=login]")
            desk.click("button[data-status=ready]")
            desk.wait_for_function(
                "document.querySelector('#agent-status').textContent === 'Available'"
            )
            _shot(desk, "desk-ready")

            manager.check("#force")
            manager.click("button[data-action=start]")
            manager.wait_for_function("document.querySelector('#status').textContent === 'running'")
            pacer = threading.Thread(target=_pace, args=(context, "spring", stop), daemon=True)
            pacer.start()

            desk.wait_for_function(
                "document.querySelector('#lead-name').textContent.startsWith('Customer ')",
                timeout=60_000,
            )
            name = desk.inner_text("#lead-name")
            call_uuid = desk.inner_text("#lead-call")
            number = int(name.split()[1])
            assert f"plan-{number % 3}" in desk.inner_text("#lead-fields")
            assert desk.inner_text("#lead-campaign") == "spring"
            _shot(desk, "desk-screen-pop")

            manager.wait_for_function(
                "[...document.querySelectorAll('.figure')].some(f => "
                "f.firstChild.textContent === 'Connected' && f.lastChild.textContent !== '0')",
                timeout=60_000,
            )
            _shot(manager, "campaign-live")

            desk.wait_for_function(
                "document.querySelector('#call-state').textContent === 'call ended'",
                timeout=60_000,
            )
            desk.check("#disposition input[value=sale]")
            desk.fill("#disposition input[name=note]", "bought the gold plan")
            for _ in range(20):  # the call's end is recorded a moment after the bridge's
                desk.click("#disposition button[type=submit]")
                desk.wait_for_timeout(500)
                if desk.inner_text("#disposition-result").startswith("saved"):
                    break
            assert desk.inner_text("#disposition-result") == "saved: lead done"
            _shot(desk, "desk-disposition")
            # every other page shows its data (a row naming what this run made)
            for page, table, shown in (
                ("/console", "#campaigns", "spring"),
                ("/console/agents", "#agents", AGENT),
                ("/console/trunks", "#trunks", "carrier1"),
            ):
                manager.goto(base + page)
                manager.wait_for_selector(f"{table} tbody tr >> text={shown}")
                _shot(manager, page.rsplit("/", 1)[-1])
            manager.goto(base + "/console/dnc")
            manager.fill("#dnc-add input[name=number]", "13900000000")
            manager.fill("#dnc-add input[name=reason]", "asked on the phone")
            manager.click("#dnc-add button[type=submit]")
            manager.wait_for_selector("#dnc tbody tr >> text=+8613900000000")
            _shot(manager, "dnc")
            stop.set()
            pacer.join(timeout=60)
            # the same process's metrics: what the pacer, listener and importer counted
            metrics = manager_api.get("/metrics").text
            assert re.search(r'dialer_originates_total\{campaign="\d+",trunk="carrier1"\} [1-9]',
                             metrics)  # fmt: skip
            assert re.search(r'dialer_import_rows_total\{campaign="\d+",outcome="accepted"\} [1-9]',
                             metrics)  # fmt: skip
            assert re.search(r'dialer_tick_seconds_count\{campaign="\d+"\} [1-9]', metrics)
        with sessions() as session:
            attempt = session.scalars(
                select(CallAttempt).where(CallAttempt.call_uuid == call_uuid)
            ).one()
            assert attempt.disposition == "sale" and attempt.agent == AGENT
            lead = session.get(Lead, attempt.lead_id)
            assert lead is not None and lead.status is LeadStatus.DONE
            assert lead.custom_fields["name"] == name
    finally:
        stop.set()
        if pacer is not None:
            pacer.join(timeout=60)
        install_root(real_broker, None)
        server.stop()
