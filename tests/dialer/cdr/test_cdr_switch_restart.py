"""Over TCP: the switch is killed while a call rings and comes back (a new simulator on the
same port: a new Core-UUID, no channel, no CDR ever). The listener reconnects by itself and
the call uses up none of its lead's attempts; a call already bridged to an agent at the kill
stays connected (its customer is never dialled again)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from campaigns.domain import NOT_DIALLED, AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.cdr.fakes import MemoryCdrStore
from dialer.config import FsNode
from dialer.db.base import make_engine, make_session_factory, transaction
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.fakes import MemoryLiveState, MemoryTrunks
from dialer.listener.wiring import start_listener
from dialer.sim.population import Dist, PopulationRule
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import migrated_database, seed_running_campaign
from tests.support.attempts import open_attempt
from tests.support.waiting import wait_until

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"


@pytest.mark.integration
def test_a_call_ringing_when_the_switch_died_uses_no_attempt(
    request: pytest.FixtureRequest,
) -> None:
    lab = load_scenario(LAB)
    # 6138...: rings for a minute; 6139...: answers at once and talks for a minute
    rules = (
        PopulationRule(prefix="6138", ring_time_s=Dist("fixed", 60.0)),
        PopulationRule(
            prefix="6139", ring_time_s=Dist("fixed", 0.1), talk_time_s=Dist("fixed", 60.0),
            talk_from="answer",
        ),
    )  # fmt: skip
    scenario = replace(lab, population=rules)
    with migrated_database("sqlite", request) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        campaign_id = seed_running_campaign(sessions, 2, {})
        with transaction(sessions) as session:
            session.execute(update(Lead).values(status=LeadStatus.DIALING))
            ringing_lead, bridged_lead = session.scalars(select(Lead.id).order_by(Lead.id))
        first = SimulatorServer(scenario)
        host, port = first.start()
        node = FsNode(name="fs1", host=host, port=port)
        live, trunks = MemoryLiveState(), MemoryTrunks()
        listener = start_listener(
            node, live, SqlAttemptSink(sessions), trunks,
            reconcile_every_s=0.5, cdrs=MemoryCdrStore(), cdr_wait_s=0,
        )  # fmt: skip
        dialer = EslClient(
            "fs1", host, port, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        try:
            assert listener.client.wait_connected(5) and dialer.wait_connected(5)
            calls = {}
            for lead_id, number in ((ringing_lead, "6138000000"), (bridged_lead, "6139000000")):
                call = str(uuid.uuid4())
                attempt_id = open_attempt(sessions, campaign_id, lead_id, call)
                spec = OriginateSpec(
                    call, f"sofia/gateway/carrier_a/{number}", "20220601", "cc_sales",
                    "campaign", campaign_id=campaign_id, lead_id=lead_id, attempt_id=attempt_id,
                )  # fmt: skip
                trunks.held[call] = "carrier_a"
                dialer.bgapi("originate " + build_originate(spec, datetime.now(UTC)))
                calls[lead_id] = call
            ringing, bridged = calls[ringing_lead], calls[bridged_lead]
            assert wait_until(
                lambda: (
                    live.calls("fs1").get(ringing) is not None
                    and live.calls("fs1")[ringing].progressed
                    and live.calls("fs1").get(bridged) is not None
                    and live.calls("fs1")[bridged].connected_at_us > 0
                ),
                15,
            ), live.calls("fs1")
            first.stop()  # killed: no hangup event, no CDR
            second = SimulatorServer(scenario)
            second.start(host, port)
            try:
                assert wait_until(lambda: live.calls("fs1") == {}, 30), live.calls("fs1")
            finally:
                second.stop()
            with sessions() as session:
                rows = {r.call_uuid: r.outcome for r in session.scalars(select(CallAttempt))}
                ringing_row = session.get(Lead, ringing_lead)
                bridged_row = session.get(Lead, bridged_lead)
                assert ringing_row is not None and bridged_row is not None
                assert rows == {ringing: NOT_DIALLED, bridged: AttemptOutcome.CONNECTED}
                assert (ringing_row.status, ringing_row.attempts) == (LeadStatus.PENDING, 0)
                assert (bridged_row.status, bridged_row.attempts) == (LeadStatus.DONE, 1)
            assert trunks.held == {}
        finally:
            listener.stop()
            dialer.close()
            engine.dispose()
