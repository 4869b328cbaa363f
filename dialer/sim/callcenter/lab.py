"""The callcenter configuration of the lab the ESL transcripts were captured in
(``shared/esl-transcripts/README.md``): queues sales, sales2s, noagent, noagent0, ringall,
callback agents agent1/agent2 with tiers at level 1 in every queue. Replays of the transcripts
against the simulator start from it.
"""

from __future__ import annotations

from dataclasses import replace

from dialer.sim.callcenter.config import AgentConfig, CallcenterConfig, QueueConfig, TierConfig

__all__ = ["LAB_AGENTS", "LAB_QUEUES", "LAB_TIERS", "lab_config"]

_LAB_QUEUE = QueueConfig(
    name="sales@default",
    moh_sound="local_stream://moh",
    time_base_score="system",
    tier_rule_wait_second=300,
    tier_rule_wait_multiply_level=True,
    tier_rule_no_agent_no_wait=False,
    discard_abandoned_after_s=60,
)

LAB_QUEUES = (
    replace(
        _LAB_QUEUE,
        name="noagent@default",
        max_wait_time_with_no_agent_s=2,
        max_wait_time_with_no_agent_time_reached_s=5,
    ),
    _LAB_QUEUE,
    replace(
        _LAB_QUEUE,
        name="noagent0@default",
        max_wait_time_with_no_agent_s=2,
        max_wait_time_with_no_agent_time_reached_s=0,
    ),
    replace(_LAB_QUEUE, name="sales2s@default", max_wait_time_s=2),
    replace(_LAB_QUEUE, name="ringall@default", strategy="ring-all"),
)
"""In the order ``callcenter_config queue list`` printed them (FreeSWITCH's hash order)."""


def _agent(name: str, port: int) -> AgentConfig:
    return AgentConfig(
        name=name,
        type="callback",
        contact=f"[leg_timeout=15]sofia/external/{name.split('@')[0]}@127.0.0.1:{port}",
        status="Logged Out",
        max_no_answer=3,
        wrap_up_time_s=3,
        reject_delay_time_s=5,
        busy_delay_time_s=5,
        no_answer_delay_time_s=5,
    )


LAB_AGENTS = (_agent("agent1@default", 5094), _agent("agent2@default", 5096))

_TIER_QUEUES = ("sales@default", "sales2s@default", "noagent@default", "noagent0@default")
LAB_TIERS = tuple(
    TierConfig(agent=agent.name, queue=queue, level=1, position=pos)
    for pos, agent in enumerate(LAB_AGENTS, start=1)
    for queue in (*_TIER_QUEUES, "ringall@default")
)


def lab_config() -> CallcenterConfig:
    """The lab's callcenter.conf.xml."""
    return CallcenterConfig(queues=LAB_QUEUES, agents=LAB_AGENTS, tiers=LAB_TIERS)
