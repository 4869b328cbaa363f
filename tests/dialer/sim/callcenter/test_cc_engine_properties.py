"""Invariants of the engine over random traffic: every caller leaves the app exactly once,
every offer ends in exactly one bridge-agent-start or bridge-agent-fail, every bridge ends,
once the traffic is over no agent is left Receiving / In a queue call, and abandoned member
rows are discarded."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sim.callcenter import Callcenter
from dialer.sim.callcenter.fakes import AgentScript, FakeSwitchPort
from dialer.sim.callcenter.lab import lab_config

QUEUES = ("sales@default", "sales2s@default", "ringall@default", "noagent0@default")
OUTCOMES = ("answer", "USER_BUSY", "CALL_REJECTED", "ALLOTTED_TIMEOUT", "NO_ANSWER")
CUST_VARS = {"caller_id_name": "Outbound Call", "caller_id_number": "6138000000"}

call = st.tuples(
    st.floats(min_value=0.0, max_value=20.0),  # arrival, s
    st.sampled_from(QUEUES),
    st.floats(min_value=0.2, max_value=15.0),  # customer hangs up after, s
)
script = st.tuples(st.sampled_from(OUTCOMES), st.floats(min_value=0.1, max_value=6.0))


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(call, min_size=1, max_size=8),
    scripts=st.tuples(script, script),
    statuses=st.tuples(
        st.sampled_from(("Available", "On Break", "Logged Out", "Available (On Demand)")),
        st.sampled_from(("Available", "On Break")),
    ),
)
def test_every_caller_and_offer_ends_exactly_once(
    calls: list[tuple[float, str, float]],
    scripts: tuple[tuple[str, float], tuple[str, float]],
    statuses: tuple[str, str],
) -> None:
    port = FakeSwitchPort(seed=3)
    engine = Callcenter(port, lab_config())
    for i, (agent, status) in enumerate(zip(("agent1@", "agent2@"), statuses, strict=True)):
        port.scripts[agent] = AgentScript(*scripts[i])
        engine.api(f"agent set status {agent}default '{status}'")
    exits: dict[str, list[str]] = {}

    def arrive(n: int, queue: str, hold_s: float) -> None:
        uuid = f"cust-{n}"
        exits[uuid] = []
        port.add_channel(uuid, CUST_VARS)
        engine.enter_queue(uuid, queue, exits[uuid].append)
        port.call_later(hold_s, functools.partial(port.hangup, uuid, "NORMAL_CLEARING"))

    for n, (at_s, queue, hold_s) in enumerate(calls):
        port.call_later(at_s, functools.partial(arrive, n, queue, hold_s))
    port.advance(60.0)

    assert all(len(v) == 1 and v[0] in ("answered", "cancel") for v in exits.values())
    offers = len(port.cc("agent-offering"))
    assert offers == len(port.cc("bridge-agent-start")) + len(port.cc("bridge-agent-fail"))
    assert len(port.cc("bridge-agent-start")) == len(port.cc("bridge-agent-end"))
    answered = sum(1 for v in exits.values() if v == ["answered"])
    assert answered == len(port.cc("bridge-agent-start"))
    assert len(port.cc("member-queue-start")) == len(calls)
    assert engine.offers == {} and engine.sessions == {}
    for agent in ("agent1@default", "agent2@default"):
        assert engine.api(f"agent get state {agent}") in ("Waiting", "Idle")
    for e in port.cc("members-count"):
        assert int(e.headers["CC-Count"]) >= 0
    port.advance(70.0)  # discard-abandoned-after 60 s
    assert engine.store.members == {}
