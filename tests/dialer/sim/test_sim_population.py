"""Pure parts: population sampling, rule choice, scenario parsing, the clock."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sim.clock import SimClock
from dialer.sim.population import Dist, PopulationRule, parse_dist, pick_rule, plan_callee
from dialer.sim.scenario import load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios" / "sim"


def test_pick_rule_prefers_gateway_then_longest_prefix() -> None:
    rules = (
        PopulationRule(gateway="*", prefix=""),
        PopulationRule(gateway="*", prefix="61"),
        PopulationRule(gateway="a", prefix="6"),
    )
    assert pick_rule(rules, "a", "6138") is rules[2]
    assert pick_rule(rules, "b", "6138") is rules[1]
    assert pick_rule(rules, "b", "7000") is rules[0]


def test_shares_are_respected() -> None:
    rule = scenario_from_dict(
        {"population": [{"outcomes": {"answer": 0.5, "busy": 0.3, "no_answer": 0.2}}]}
    ).population[0]
    rng = random.Random(1)
    outcomes = [plan_callee(rule, rng).outcome for _ in range(20000)]
    assert abs(outcomes.count("answer") / 20000 - 0.5) < 0.02
    assert abs(outcomes.count("busy") / 20000 - 0.3) < 0.02
    assert abs(outcomes.count("no_answer") / 20000 - 0.2) < 0.02


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_plan_is_deterministic_under_a_seed(seed: int) -> None:
    rule = PopulationRule(
        shares=(("answer", 0.6), ("busy", 0.4)),
        machine_share=0.2,
        ring_time_s=Dist("lognormal", 8.0, 0.5),
        talk_time_s=Dist("exponential", 60.0),
    )
    a = [plan_callee(rule, random.Random(seed)) for _ in range(3)]
    b = [plan_callee(rule, random.Random(seed)) for _ in range(3)]
    assert a == b
    assert all(p.ring_s >= 0 and p.talk_s >= 0 for p in a)
    assert all(not p.machine or p.outcome == "answer" for p in a)


def test_script_overrides_the_draw() -> None:
    rule = PopulationRule(shares=(("answer", 1.0),), script=("busy",))
    assert plan_callee(rule, random.Random(1), "busy").outcome == "busy"


def test_parse_dist_forms() -> None:
    assert parse_dist(3, Dist()) == Dist("fixed", 3.0)
    assert parse_dist({"uniform": [1, 4]}, Dist()) == Dist("uniform", 1.0, 4.0)
    assert parse_dist({"lognormal": {"median": 60, "sigma": 0.8}, "min": 1}, Dist()) == Dist(
        "lognormal", 60.0, 0.8, 1.0
    )
    with pytest.raises(ValueError):
        parse_dist({"weird": 1}, Dist())
    with pytest.raises(ValueError):
        scenario_from_dict({"population": [{"outcomes": {"bogus": 1}}]})


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_example_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.gateways


def test_clock_orders_timers_and_scales_time() -> None:
    async def go() -> tuple[list[str], float]:
        clock = SimClock(speed=50.0, start_s=1000.0)
        clock.attach(asyncio.get_running_loop())
        fired: list[str] = []
        clock.call_later(1.0, lambda: fired.append("b"))
        clock.call_later(0.5, lambda: fired.append("a"))
        clock.call_later(1.0, lambda: fired.append("c"))
        t = clock.call_later(0.7, lambda: fired.append("x"))
        clock.cancel(t)
        await asyncio.sleep(0.05)
        return fired, clock.now_s()

    fired, now = asyncio.run(go())
    assert fired == ["a", "b", "c"]
    assert 1002.0 <= now < 1004.0
