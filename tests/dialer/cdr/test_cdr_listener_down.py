"""Over TCP against the switch simulator, which posts each customer leg's CDR to the real API
as mod_xml_cdr does: the listener is down 5 s while calls are bridged to agents, abandoned
and ended. Every attempt is settled as the switch saw it, none from a missing event: calls
bridged to an agent are connected (their leads done, never dialled again), reported abandons
are the true ones."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns.domain import AttemptOutcome, LeadStatus
from campaigns.models import CallAttempt, Lead
from dialer.cdr.adapters import SqlCdrStore
from dialer.config import FsNode, load_settings
from dialer.db.base import make_engine, make_session_factory, transaction
from dialer.esl.adapters.own import EslClient
from dialer.esl.originate import OriginateSpec, build_originate
from dialer.esl.ports import Subscription
from dialer.listener.adapters import SqlAttemptSink
from dialer.listener.fakes import MemoryLiveState, MemoryTrunks
from dialer.listener.wiring import start_listener
from dialer.sim.cdr_post import CdrPosting
from dialer.sim.records import CallRecord
from dialer.sim.scenario import load_scenario
from dialer.sim.simulator import SimulatorServer
from tests.conftest import migrated_database, seed_running_campaign
from tests.support.api import served
from tests.support.attempts import open_attempt
from tests.support.waiting import wait_until
from workers.api import create_app
from workers.context import AppContext

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"
CREDENTIALS = "fs1:s3cret"
CALLS = 14
DOWN_S = 5.0


def _seed(sessions: sessionmaker[Session]) -> tuple[int, list[int]]:
    campaign_id = seed_running_campaign(sessions, CALLS, {})
    with transaction(sessions) as session:
        session.execute(update(Lead).values(status=LeadStatus.DIALING))
        return campaign_id, list(session.scalars(select(Lead.id).order_by(Lead.id)))


def _settled(sessions: sessionmaker[Session]) -> dict[str, tuple[str | None, bool, int]]:
    """call uuid -> (outcome, abandoned flag, lead id)."""
    with sessions() as session:
        rows = session.execute(
            select(
                CallAttempt.call_uuid,
                CallAttempt.outcome,
                CallAttempt.abandoned,
                CallAttempt.lead_id,
            )
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _true_outcome(record: CallRecord) -> AttemptOutcome:
    if record.bridged_s is not None:
        return AttemptOutcome.CONNECTED
    assert record.abandoned, record  # every customer of the lab answers
    return AttemptOutcome.ABANDONED


@pytest.mark.integration
@pytest.mark.slow
def test_listener_down_5s_every_attempt_settled_as_the_switch_saw_it(
    request: pytest.FixtureRequest,
) -> None:
    with migrated_database("sqlite", request) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        campaign_id, lead_ids = _seed(sessions)
        context = AppContext(load_settings(fsapi_credentials=CREDENTIALS), sessions=sessions)
        trunks = MemoryTrunks()  # one reservation store, as the API and the listener share Redis
        with served(create_app(context, notify=None, trunks=trunks)) as base_url:
            _run(sessions, campaign_id, lead_ids, f"{base_url}/fsapi/cdr", trunks)
        engine.dispose()


def _run(
    sessions: sessionmaker[Session],
    campaign_id: int,
    lead_ids: list[int],
    url: str,
    trunks: MemoryTrunks,
) -> None:
    posting = CdrPosting(url, CREDENTIALS, retries=2, delay_s=1.0)
    with SimulatorServer(replace(load_scenario(LAB), speed=1.0), cdr=posting) as server:
        sim = server.sim
        node = FsNode(name="fs1", host=sim.host, port=sim.port_number)
        live = MemoryLiveState()
        attempts = SqlAttemptSink(sessions)
        cdrs = SqlCdrStore(sessions)

        def listener() -> object:
            running = start_listener(
                node, live, attempts, trunks, reconcile_every_s=0.5, cdrs=cdrs, cdr_wait_s=30
            )
            assert running.client.wait_connected(5)
            return running

        first = listener()
        dialer = EslClient(
            "fs1", sim.host, sim.port_number, "ClueCon", Subscription(events=()), lambda e: None
        ).start()
        assert dialer.wait_connected(5)
        calls: list[str] = []
        stopped_at = 0.0
        for i, lead_id in enumerate(lead_ids):
            call = str(uuid.uuid4())
            attempt_id = open_attempt(sessions, campaign_id, lead_id, call)
            spec = OriginateSpec(
                call, "sofia/gateway/carrier_a/6138000000", "20220601", "cc_sales2s",
                "campaign", campaign_id=campaign_id, lead_id=lead_id, attempt_id=attempt_id,
            )  # fmt: skip
            trunks.held[call] = "carrier_a"
            assert (
                dialer.bgapi("originate " + build_originate(spec, datetime.now(UTC))).result(10).ok
            )
            calls.append(call)
            if i == 3:
                first.stop()  # type: ignore[attr-defined]
                stopped_at = time.monotonic()
            time.sleep(0.5)
        # calls answer, bridge, abandon and end while nobody listens
        time.sleep(max(0.0, DOWN_S - (time.monotonic() - stopped_at)))
        second = listener()
        try:
            assert wait_until(lambda: server.call(sim.switch.live_sessions) == 0, 60)
            assert wait_until(lambda: all(o for o, _, _ in _settled(sessions).values()), 30)
            assert wait_until(lambda: live.calls("fs1") == {}, 10)
            records = {r.uuid: r for r in server.call(sim.records.all)}
            settled = _settled(sessions)
            assert set(settled) == set(calls) == set(records)
            truth = {call: _true_outcome(records[call]) for call in calls}
            wrong = {
                c: (settled[c], records[c].to_dict()) for c in calls if settled[c][0] != truth[c]
            }
            assert wrong == {}, [(c, cdrs.get(c)) for c in wrong]
            connected = [c for c in calls if truth[c] is AttemptOutcome.CONNECTED]
            abandoned = [c for c in calls if truth[c] is AttemptOutcome.ABANDONED]
            assert connected and abandoned  # the run had both
            # reported abandons are the true ones
            flagged = [(c, settled[c][0]) for c, (_, flag, _) in settled.items() if flag]
            assert len(flagged) == len(abandoned), (
                flagged,
                [records[c].to_dict() for c, _ in flagged],
            )
            # nobody who talked to an agent is dialled again
            with sessions() as session:
                for call in connected:
                    lead = session.get(Lead, settled[call][2])
                    assert lead is not None and lead.status is LeadStatus.DONE
            assert trunks.held == {}
            poster = sim.cdr_poster
            assert poster is not None
            # a CDR is posted after its call's hangup, so the last may still be on its way
            assert wait_until(lambda: poster.delivered == CALLS, 10), poster.delivered
        finally:
            second.stop()  # type: ignore[attr-defined]
            dialer.close()
