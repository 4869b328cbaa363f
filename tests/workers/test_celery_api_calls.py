"""The API call tasks through Celery (eager): ``dialer.api_call_ended`` on ``post-call``
lets the ended call's agent take queue calls again and makes the first try of its webhook
with its ``ext``; a failed try is left in the
delivery store, retried by the sweep's ``dialer.webhook_retry`` on the schedule of every
webhook, never by a Celery countdown; ``dialer.dispatch_callbacks`` on ``pacing`` is in
beat's schedule and dials a due callback for a free agent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.rules import CallingWindow
from dialer.agent_state import AgentState
from dialer.apicalls.fakes import MemoryAgentHolds, MemoryApiCallStore, MemoryDirectory
from dialer.apicalls.ports import AgentFacts, CallKind, CallStatus, CampaignFacts, NewApiCall
from dialer.apicalls.service import CallDeps
from dialer.calls.agent_first import AgentFirstEnd
from dialer.config import load_settings
from dialer.postcall.fakes import MemoryDeliveries, ScriptedSender
from dialer.postcall.ports import ApiCallJob, ApiCallRef, Target
from dialer.postcall.service import PostCallDeps
from dialer.postcall.webhooks import MAX_TRIES, RETRY_DELAYS_S, RetryIn, TryResult
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.model import CampaignRouting
from dialer.routing.table import RoutingTable
from dialer.runner.fakes import MemoryLiveView, MemorySwitch
from tests.dialer.apicalls.test_apicalls_service import Ids, trunk
from tests.support.clock import FakeClock
from workers import tasks_api_calls
from workers.celery_app import PACING_QUEUE, POST_CALL_QUEUE, celery_config
from workers.context import AppContext
from workers.worker import WorkerRoot, install_root

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Friday
EXT = {"ticket": 4711, "tags": ["vip"]}
AGENT = AgentFacts("1001@default", "user/1001", ("sales@default",))
SPRING = CampaignFacts(7, "spring", "CN", "sales@default", CallingWindow(), CampaignRouting())


@pytest.fixture
def eager() -> Iterator[None]:
    from workers.celery_app import app

    app.conf.update(task_always_eager=True)
    yield
    app.conf.update(task_always_eager=False)


Install = Callable[[list[TryResult]], tuple[CallDeps, ScriptedSender, PostCallDeps]]
HOOK = Target("https://crm.example/hook", "s3cret")


@pytest.fixture
def install() -> Iterator[Install]:
    from workers.celery_app import app

    def go(results: list[TryResult]) -> tuple[CallDeps, ScriptedSender, PostCallDeps]:
        clock = FakeClock(NOW)
        store = MemoryApiCallStore({7: "spring"})
        live = MemoryLiveView(agent_states=[AgentState(AGENT.name, "Available", "Waiting")])
        deps = CallDeps(
            store=store,
            directory=MemoryDirectory(RoutingTable([trunk("cheap", "0.01")]), [AGENT], [SPRING]),
            switch=MemorySwitch(),
            reservations=InMemoryReservations(clock),
            clock=clock,
            ids=Ids(),
            live=live,
        )
        sender = ScriptedSender(results)
        post_call = PostCallDeps(MemoryDeliveries({}), sender, clock, MAX_TRIES)
        root = WorkerRoot(AppContext(load_settings()), post_call=post_call, api_calls=deps)
        install_root(app, root)
        return deps, sender, post_call

    yield go
    install_root(app, None)


def _ended_call(store: MemoryApiCallStore, deliveries: MemoryDeliveries) -> str:
    """An ended API call of key ``sys``, whose webhook is `HOOK`."""
    store.insert(
        NewApiCall(
            call_uuid="u-1",
            kind=CallKind.CLICK_TO_CALL,
            key_id="sys",
            number="+8613800138000",
            status=CallStatus.DIALING,
            created_at=NOW,
            agent=AGENT.name,
            campaign_id=7,
            ext=EXT,
        )
    )
    store.record_end(
        "fs1",
        AgentFirstEnd(
            "u-1",
            1,
            None,
            "agent did not answer (ALLOTTED_TIMEOUT)",
            "ALLOTTED_TIMEOUT",
            "cheap",
            "",
            None,
            None,
            None,
            NOW + timedelta(seconds=16),
            "",
            602,
        ),
    )
    deliveries.api_calls["u-1"] = 1
    deliveries.api_jobs["u-1"] = ApiCallJob(ApiCallRef(1), HOOK)
    return "u-1"


def test_the_tasks_are_routed_and_dispatch_is_in_beats_schedule() -> None:
    from workers.celery_app import app

    route = app.amqp.router.route
    assert route({}, tasks_api_calls.API_CALL_ENDED_TASK)["queue"].name == POST_CALL_QUEUE
    assert route({}, tasks_api_calls.DISPATCH_CALLBACKS_TASK)["queue"].name == PACING_QUEUE
    schedule = celery_config(load_settings())["beat_schedule"]
    assert schedule["dispatch-callbacks"]["task"] == tasks_api_calls.DISPATCH_CALLBACKS_TASK


def test_the_webhook_carries_ext_and_a_failed_try_is_left_for_the_sweep(
    eager: None, install: Install
) -> None:
    from workers.celery_app import app

    deps, sender, post_call = install([TryResult(503), TryResult(200)])
    deliveries = post_call.store
    assert isinstance(deps.store, MemoryApiCallStore) and isinstance(deliveries, MemoryDeliveries)
    holds = deps.holds = MemoryAgentHolds()
    holds.hold(AGENT.name)  # as its placing did
    call_uuid = _ended_call(deps.store, deliveries)
    ended = app.tasks[tasks_api_calls.API_CALL_ENDED_TASK]
    assert ended.apply(args=(call_uuid,)).get() == "retrying"
    assert not holds.held  # the agent takes queue calls again
    assert len(sender.sent) == 1  # no Celery retry: the try waits in the delivery store
    url, body, headers = sender.sent[0]
    assert url == HOOK.url and headers["X-Dialer-Delivery"] == call_uuid
    assert body["ext"] == EXT and body["outcome"] == "agent_no_answer"
    assert [v for _, _, v, _ in deliveries.tries] == [RetryIn(RETRY_DELAYS_S[0])]
    assert isinstance(post_call.clock, FakeClock)
    post_call.clock.advance(RETRY_DELAYS_S[0])
    [claim] = deliveries.claim_due(post_call.clock.now(), 300, 10)
    retry = app.tasks["dialer.webhook_retry"]
    assert retry.apply(args=(claim.delivery_id, claim.tries)).get() == "delivered"
    assert len(sender.sent) == 2 and sender.raw[1] == sender.raw[0]  # the first body again
    assert ended.apply(args=(call_uuid,)).get() == "delivered before" and len(sender.sent) == 2


def test_beats_dispatch_dials_a_due_callback_for_a_free_agent(
    eager: None, install: Install
) -> None:
    from workers.celery_app import app

    deps, _, _ = install([TryResult(200)])
    assert isinstance(deps.store, MemoryApiCallStore) and isinstance(deps.switch, MemorySwitch)
    deps.store.insert(
        NewApiCall(
            call_uuid="00000000-0000-4000-8000-00000000cb01",
            kind=CallKind.CALLBACK,
            key_id="sys",
            number="+8613800138000",
            status=CallStatus.SCHEDULED,
            created_at=NOW,
            agent=AGENT.name,
            due_at=NOW,
        )
    )
    assert app.tasks[tasks_api_calls.DISPATCH_CALLBACKS_TASK].apply().get() == 1
    assert len(deps.switch.sent) == 1
    assert app.tasks[tasks_api_calls.DISPATCH_CALLBACKS_TASK].apply().get() == 0


def test_an_api_calls_webhook_carries_its_recording_url(eager: None, install: Install) -> None:
    from dataclasses import replace

    from dialer.recordings.fakes import MemoryRecordingStorage
    from dialer.recordings.service import RecordingDeps
    from workers.celery_app import app

    deps, sender, post_call = install([TryResult(200)])
    storage = MemoryRecordingStorage()
    recordings = RecordingDeps(storage, post_call.clock, secret="s3cret")
    with_recordings = replace(post_call, recordings=recordings, public_url="https://d.example")
    install_root(app, WorkerRoot(AppContext(load_settings()), post_call=with_recordings,
                                 api_calls=deps))  # fmt: skip
    deliveries = post_call.store
    assert isinstance(deps.store, MemoryApiCallStore) and isinstance(deliveries, MemoryDeliveries)
    call_uuid = _ended_call(deps.store, deliveries)
    storage.put(call_uuid, "wav", b"RIFF", NOW)
    assert app.tasks[tasks_api_calls.API_CALL_ENDED_TASK].apply(args=(call_uuid,)).get()
    ((_, body, _),) = sender.sent
    assert body["recording"].startswith(f"https://d.example/files/recordings/{call_uuid}?")
