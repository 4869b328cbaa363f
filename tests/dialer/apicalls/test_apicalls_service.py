"""API calls on the in-memory twins: the trunk limits of campaign calls apply (the one line
of a trunk, blind areas, requested trunks), a refusal writes nothing and holds no line, an
originate that does not leave frees its line, callbacks wait for a free agent and for the
callee's hours."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns.rules import CallingWindow
from dialer.agent_state import AgentState
from dialer.apicalls.callbacks import dispatch_callbacks, schedule_callback
from dialer.apicalls.fakes import MemoryAgentHolds, MemoryApiCallStore, MemoryDirectory
from dialer.apicalls.holds import release_agent_of
from dialer.apicalls.ports import STALE_AFTER, AgentFacts, CallStatus, CampaignFacts
from dialer.apicalls.service import (
    CallbackRequest,
    CallDeps,
    CallRefused,
    CallRequest,
    place_call,
)
from dialer.routing.fakes import InMemoryReservations
from dialer.routing.model import BlindAreas, CallerIdPolicy, CampaignRouting, Trunk
from dialer.routing.ratedeck import RateDeck, RateEntry
from dialer.routing.table import RoutingTable
from dialer.runner.fakes import MemoryLiveView, MemorySwitch
from tests.support.clock import T0, FakeClock

AGENT = AgentFacts("1001@default", "user/1001", ("sales@default",))
SPRING = CampaignFacts(
    7, "spring", "CN", "sales@default", CallingWindow(), CampaignRouting("spring")
)
NUMBER = "13800138000"  # a Shanghai mobile: +8613800138000


class Ids:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._n):012d}"


def trunk(name: str, rate: str, **fields: object) -> Trunk:
    deck = RateDeck.of([RateEntry("86", Decimal(rate))])
    return Trunk(  # type: ignore[arg-type]
        name=name,
        proxy_host="192.0.2.1",
        rates=deck,
        caller_id=CallerIdPolicy(numbers=("20220601",)),
        **fields,
    )


def make_deps(*trunks: Trunk, agents: list[AgentState] | None = None) -> CallDeps:
    clock = FakeClock(T0)
    table = RoutingTable(trunks or [trunk("cheap", "0.01", max_concurrency=1, callee_prefix="6")])
    live = MemoryLiveView()
    live.agent_states = agents or []
    return CallDeps(
        store=MemoryApiCallStore({7: "spring"}),
        directory=MemoryDirectory(table, [AGENT], [SPRING], dnc={"+86139"}),
        switch=MemorySwitch(),
        reservations=InMemoryReservations(clock),
        clock=clock,
        ids=Ids(),
        live=live,
    )


def sent(deps: CallDeps) -> list[tuple[str, str]]:
    assert isinstance(deps.switch, MemorySwitch)
    return deps.switch.sent


def test_a_call_takes_a_line_of_the_cheapest_trunk_with_its_prefix_and_caller_id() -> None:
    deps = make_deps()
    call, created = place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name, ext={"a": 1}))
    assert created and call.trunk == "cheap" and call.status is CallStatus.DIALING
    ((node, args),) = sent(deps)
    assert node == "fs1"
    assert args.endswith(
        "user/1001 &bridge({origination_caller_id_number=20220601,ignore_early_media=true}"
        "sofia/gateway/cheap/613800138000)"
    )
    assert f"dialer_call_id={call.id}" in args and call.ext == {"a": 1}
    # the trunk's one line is taken: the next call is refused, nothing written or sent
    with pytest.raises(CallRefused) as refused:
        place_call(deps, "sys", None, CallRequest("13800138001", AGENT.name))
    assert refused.value.status == 503 and "concurrency" in refused.value.detail
    assert len(sent(deps)) == 1 and len(deps.store.calls) == 1  # type: ignore[attr-defined]


def test_named_trunks_restrict_the_route() -> None:
    deps = make_deps(trunk("cheap", "0.01"), trunk("dear", "0.09"))
    call, _ = place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name, trunks=("dear",)))
    assert call.trunk == "dear"


def test_a_number_in_every_trunks_blind_area_or_on_dnc_is_refused_with_the_reason() -> None:
    blind = trunk("cheap", "0.01", blind_areas=BlindAreas(prefixes=("86138",)))
    deps = make_deps(blind)
    with pytest.raises(CallRefused) as refused:
        place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    assert refused.value.status == 422 and refused.value.field == "body.number"
    assert "blind" in refused.value.detail
    with pytest.raises(CallRefused) as dnc:
        place_call(deps, "sys", None, CallRequest("13900139000", AGENT.name))
    assert "do-not-call" in dnc.value.detail
    assert sent(deps) == []


def test_a_number_without_country_and_campaign_is_read_in_the_default_region() -> None:
    us = Trunk(name="us", proxy_host="192.0.2.1", rates=RateDeck.of([RateEntry("1", Decimal(1))]))
    deps = make_deps(us)
    deps.default_region = "US"
    call, _ = place_call(deps, "sys", None, CallRequest("650 253 0000", AGENT.name))
    assert call.number == "+16502530000" and call.trunk == "us"


def test_an_originate_that_does_not_leave_fails_the_call_and_frees_its_line() -> None:
    deps = make_deps()
    assert isinstance(deps.switch, MemorySwitch)
    deps.switch.refusing.add("fs1")
    with pytest.raises(CallRefused) as refused:
        place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    assert refused.value.status == 503
    (failed,) = deps.store.calls.values()  # type: ignore[attr-defined]
    assert failed.status is CallStatus.FAILED
    deps.switch.refusing.clear()
    call, _ = place_call(deps, "sys", None, CallRequest("13800138001", AGENT.name))
    assert call.trunk == "cheap"  # the line was freed


def test_a_retry_returns_the_first_call_and_another_request_with_its_key_is_refused() -> None:
    deps = make_deps()
    first, created = place_call(deps, "sys", "k", CallRequest(NUMBER, AGENT.name))
    again, created_again = place_call(deps, "sys", "k", CallRequest(NUMBER, AGENT.name))
    assert created and not created_again and again.call_uuid == first.call_uuid
    assert len(sent(deps)) == 1
    with pytest.raises(CallRefused) as refused:
        place_call(deps, "sys", "k", CallRequest("13800138001", AGENT.name))
    assert refused.value.field == "header.Idempotency-Key"


def test_a_retry_gets_its_first_call_though_it_would_be_refused_now_and_keeps_no_line() -> None:
    deps = make_deps(trunk("wide", "0.01", max_concurrency=5))
    first, _ = place_call(deps, "sys", "k", CallRequest(NUMBER, AGENT.name))
    again, created = place_call(deps, "sys", "k", CallRequest(NUMBER, AGENT.name))
    assert not created and again.call_uuid == first.call_uuid
    assert deps.reservations.usage(["wide"])["wide"].in_flight == 1  # the retry's line freed
    assert isinstance(deps.directory, MemoryDirectory)
    deps.directory.dnc.add("+86138")
    again, created = place_call(deps, "sys", "k", CallRequest(NUMBER, AGENT.name))
    assert not created and again.call_uuid == first.call_uuid
    assert len(sent(deps)) == 1
    with pytest.raises(CallRefused) as refused:  # no earlier call: the refusal stands
        place_call(deps, "sys", "k2", CallRequest(NUMBER, AGENT.name))
    assert "do-not-call" in refused.value.detail


def test_callbacks_refuse_the_past_and_hours_outside_the_callees_window() -> None:
    deps = make_deps()
    past = CallbackRequest(NUMBER, T0 - timedelta(minutes=1), agent=AGENT.name)
    with pytest.raises(CallRefused) as refused:
        schedule_callback(deps, "sys", None, past)
    assert refused.value.field == "body.at"
    night = T0.replace(hour=16)  # 00:00 in Shanghai
    with pytest.raises(CallRefused) as closed:
        schedule_callback(deps, "sys", None, CallbackRequest(NUMBER, night, agent=AGENT.name))
    assert "calling hours" in closed.value.detail
    with pytest.raises(CallRefused):
        schedule_callback(deps, "sys", None, CallbackRequest(NUMBER))  # no agent, no campaign
    assert deps.store.calls == {}  # type: ignore[attr-defined]


def test_a_queue_callback_goes_to_a_free_agent_of_the_queue_once() -> None:
    on_break = AgentState(AGENT.name, "On Break", "Waiting")
    deps = make_deps(agents=[on_break])
    call, _ = schedule_callback(deps, "sys", None, CallbackRequest(NUMBER, campaign="spring"))
    assert call.status is CallStatus.SCHEDULED and call.agent is None
    assert dispatch_callbacks(deps, "w").waiting == 1 and sent(deps) == []
    assert isinstance(deps.live, MemoryLiveView)
    deps.live.agent_states = [AgentState(AGENT.name, "Available", "Waiting")]
    assert dispatch_callbacks(deps, "w").dialled == 1
    dialled = deps.store.get(call.call_uuid)
    assert dialled is not None and dialled.agent == AGENT.name
    assert dialled.status is CallStatus.DIALING and len(sent(deps)) == 1
    assert dispatch_callbacks(deps, "w").dialled == 0


def test_an_agent_on_an_api_call_gets_no_callback_though_the_queue_sees_it_waiting() -> None:
    deps = make_deps(
        trunk("cheap", "0.01"), agents=[AgentState(AGENT.name, "Available", "Waiting")]
    )
    place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    schedule_callback(deps, "sys", None, CallbackRequest("13800138001", agent=AGENT.name))
    assert dispatch_callbacks(deps, "w").dialled == 0
    assert len(sent(deps)) == 1


def test_the_trunks_per_number_cap_and_cps_apply_as_to_campaign_calls() -> None:
    deps = make_deps(trunk("cheap", "0.01", per_number_cap=1, max_cps=2))
    place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    with pytest.raises(CallRefused) as capped:
        place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))  # same number, same day
    assert capped.value.status == 503 and "per_number_cap" in capped.value.detail
    place_call(deps, "sys", None, CallRequest("13800138001", AGENT.name))
    with pytest.raises(CallRefused) as throttled:  # a third call within the same second
        place_call(deps, "sys", None, CallRequest("13800138002", AGENT.name))
    assert "cps" in throttled.value.detail
    assert len(sent(deps)) == 2


def test_the_agent_is_held_from_queue_calls_before_its_phone_rings() -> None:
    deps = make_deps()
    holds = deps.holds = MemoryAgentHolds()
    assert isinstance(deps.switch, MemorySwitch)
    deps.switch.refusing.add("fs1")
    with pytest.raises(CallRefused):
        place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    # the originate never left: held, then let go at once
    assert holds.log == [("hold", AGENT.name), ("release", AGENT.name)] and not holds.held
    deps.switch.refusing.clear()
    call, _ = place_call(deps, "sys", None, CallRequest("13800138001", AGENT.name))
    assert holds.held == {AGENT.name} and len(sent(deps)) == 1
    assert not release_agent_of(deps.store, holds, call.call_uuid)  # still being dialled
    assert holds.held == {AGENT.name}
    deps.store.fail(call.call_uuid, "ended", T0)
    assert release_agent_of(deps.store, holds, call.call_uuid)
    assert not holds.held


def test_an_agent_whose_call_end_was_lost_is_released_when_the_call_is_settled() -> None:
    deps = make_deps()
    holds = deps.holds = MemoryAgentHolds()
    call, _ = place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name))
    assert holds.held == {AGENT.name}
    assert isinstance(deps.clock, FakeClock)
    deps.clock.advance(STALE_AFTER.total_seconds() - 1)
    dispatch_callbacks(deps, "beat")
    assert holds.held == {AGENT.name}  # not stale yet
    deps.clock.advance(2)
    dispatch_callbacks(deps, "beat")
    assert not holds.held
    stale = deps.store.get(call.call_uuid)
    assert stale is not None and stale.outcome == "unknown"


@pytest.mark.parametrize("record", [True, False])
def test_a_call_for_a_recording_campaign_is_recorded_and_uploaded_others_are_not(
    record: bool,
) -> None:
    from dataclasses import replace

    from dialer.esl.originate import Recording
    from dialer.sim.originate_parse import OriginateRequest, parse_originate

    deps = make_deps()
    deps.directory = MemoryDirectory(
        RoutingTable([trunk("cheap", "0.01", callee_prefix="6")]),
        [AGENT],
        [replace(SPRING, record=record)],
    )
    deps.recording = Recording("/rec", file_format="wav", upload_url="http://u:p@h:1/up")
    call, _ = place_call(deps, "sys", None, CallRequest(NUMBER, AGENT.name, campaign="spring"))
    alone, _ = place_call(deps, "sys", None, CallRequest("13800138001", AGENT.name))
    (_, args), (_, args_alone) = sent(deps)
    req, req_alone = parse_originate(args), parse_originate(args_alone)
    assert isinstance(req, OriginateRequest) and isinstance(req_alone, OriginateRequest)
    path = f"/rec/{T0.date().isoformat()}/{call.call_uuid}.wav"
    hook = f'system curl -XPOST -F "files=@{path}" http://u:p@h:1/up?uuid={call.call_uuid} &'
    assert req.global_vars.get("api_hangup_hook") == (hook if record else None)
    assert "api_hangup_hook" not in req_alone.global_vars and alone.campaign is None
