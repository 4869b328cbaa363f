"""Figures of issue 15 for the predictive pacer, printed by ``bench_pacing.py --issue15``.

* matrix: agents x answer rate (the standard scenarios' laws; 3 agents from the 5-agent
  files) x day length, seeds: abandon rate per run (the day), worst 30-minute window after
  the first (`dialer.sim.pacing.windows`), talk minutes per agent-hour over the day and in
  hour 1;
* drift: `scenarios/pacing/issue15/drift_*.yaml` and `breaks_*.yaml`, the same figures and
  the best fixed ratio (most talk within 3 % over the run, found per seed by a sweep);
* history: `scenarios/pacing/issue15/history_*.yaml`, a day with earlier days in a 30-day
  window: that day's own abandon rate.

Targets checked: <= 3 % per run; <= 5 % in every 30-minute window after the first; talk
(mean over seeds, whole day) at least 40 / 44 / 47.5 / 49 / 52 at 5/15, 10/15, 20/15, 20/30,
50/30; drift: predictive talk above the best fixed ratio's on every seed.
"""

from __future__ import annotations

import argparse
import time
from multiprocessing import Pool
from pathlib import Path
from typing import NamedTuple

from dialer.pacing import PredictivePacer
from dialer.sim.pacing.engine import Simulation
from dialer.sim.pacing.runner import best_fixed_ratio
from dialer.sim.pacing.scenario import AgentGroup, PacingScenario, load_pacing_scenario
from dialer.sim.pacing.windows import talk_min_per_agent_hour_between, worst_window_abandon_rate

ROOT = Path(__file__).resolve().parent.parent
MATRIX = ROOT / "scenarios" / "pacing"
ISSUE = MATRIX / "issue15"
TALK_GOALS = {(5, 15): 40.0, (10, 15): 44.0, (20, 15): 47.5, (20, 30): 49.0, (50, 30): 52.0}


class Run(NamedTuple):
    group: str  # matrix / drift / history
    name: str
    hours: float
    seed: int
    talk: float
    hour1: float
    abandon: float
    worst30: float
    fixed_talk: float | None
    fixed_ratio: float | None
    wall_s: float


def _matrix_scenario(agents: int, answer: int, hours: float) -> PacingScenario:
    base = load_pacing_scenario(MATRIX / f"a{max(agents, 5)}_p{answer}.yaml")
    return base.model_copy(
        update={
            "name": f"a{agents}_p{answer}",
            "duration_s": hours * 3_600.0,
            "agents": (AgentGroup(count=agents),),
        }
    )


def _job(job: tuple[str, PacingScenario, int, bool]) -> Run:
    group, scenario, seed, with_fixed = job
    started = time.perf_counter()
    log = Simulation(scenario, seed, PredictivePacer(), "predictive").run()
    fixed_talk = fixed_ratio = None
    if with_fixed:
        fixed = best_fixed_ratio(scenario, seed, 1.0 + 0.3 / scenario.answer.probability)
        fixed_talk = fixed.figures.talk_min_per_agent_hour
        fixed_ratio = fixed.extra["ratio"]
    return Run(
        group,
        scenario.name,
        scenario.duration_s / 3_600.0,
        seed,
        log.figures.talk_min_per_agent_hour,
        talk_min_per_agent_hour_between(log, 0.0, 3_600.0),
        log.figures.abandon_rate,
        worst_window_abandon_rate(log),
        fixed_talk,
        fixed_ratio,
        time.perf_counter() - started,
    )


def _jobs(args: argparse.Namespace) -> list[tuple[str, PacingScenario, int, bool]]:
    parts = set(args.issue15.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs: list[tuple[str, PacingScenario, int, bool]] = []
    if "matrix" in parts:
        for hours in (float(h) for h in args.hours.split(",")):
            for agents in (int(a) for a in args.agents.split(",")):
                for answer in (int(p) for p in args.answers.split(",")):
                    scenario = _matrix_scenario(agents, answer, hours)
                    jobs += [("matrix", scenario, seed, False) for seed in seeds]
    if "drift" in parts:
        for path in sorted(ISSUE.glob("drift_*.yaml")) + sorted(ISSUE.glob("breaks_*.yaml")):
            scenario = load_pacing_scenario(path)
            jobs += [("drift", scenario, seed, not args.no_fixed) for seed in seeds]
    if "history" in parts:
        for path in sorted(ISSUE.glob("history_*.yaml")):
            jobs += [("history", load_pacing_scenario(path), seed, False) for seed in seeds]
    # Largest first so that the pool's tail is short.
    jobs.sort(key=lambda j: -j[1].agent_count * j[1].duration_s * (8 if j[3] else 1))
    return jobs


def run_issue15(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    runs: list[Run] = []
    with Pool(args.workers) as pool:
        for run in pool.imap_unordered(_job, _jobs(args)):
            runs.append(run)
            print(f"# {_row(run)} ({run.wall_s:.0f} s)", flush=True)
    _report(runs)
    print(f"wall time: {time.perf_counter() - started:.0f} s")


def _row(run: Run) -> str:
    fixed = ""
    if run.fixed_talk is not None:
        fixed = f" fixed {run.fixed_ratio:.2f}: {run.fixed_talk:.2f}"
    return (
        f"{run.name:<18} {run.hours:>3.0f}h seed {run.seed}: talk {run.talk:6.2f} "
        f"hour1 {run.hour1:6.2f} abandon {100 * run.abandon:5.2f}% "
        f"worst30 {100 * run.worst30:5.2f}%{fixed}"
    )


def _key(run: Run) -> tuple[str, float, int, int, str]:
    if run.group == "matrix":
        agents, answer = run.name[1:].split("_p")
        return run.group, run.hours, int(agents), int(answer), ""
    return run.group, run.hours, 0, 0, run.name


def _report(runs: list[Run]) -> None:
    groups: dict[tuple[str, float, int, int, str], list[Run]] = {}
    for run in sorted(runs, key=lambda r: (_key(r), r.seed)):
        groups.setdefault(_key(run), []).append(run)
    header = (
        f"{'scenario':<18} {'h':>2} {'talk min/agent-h':>16} {'hour 1':>7} "
        f"{'abandon % per seed':>20} {'worst 30-min %':>15} {'best fixed talk':>15}"
    )
    print(header)
    print("-" * len(header))
    failures: list[str] = []
    for key, group in groups.items():
        talk = sum(r.talk for r in group) / len(group)
        hour1 = sum(r.hour1 for r in group) / len(group)
        abandons = "/".join(f"{100 * r.abandon:.2f}" for r in group)
        worst = max(r.worst30 for r in group)
        fixed = [r.fixed_talk for r in group if r.fixed_talk is not None]
        fixed_text = f"{sum(fixed) / len(fixed):.2f}" if fixed else "-"
        name = group[0].name
        print(
            f"{name:<18} {group[0].hours:>2.0f} {talk:>16.2f} {hour1:>7.2f} "
            f"{abandons:>20} {100 * worst:>15.2f} {fixed_text:>15}"
        )
        label = f"{name} {group[0].hours:.0f}h"
        for r in group:
            if r.abandon > 0.03:
                failures.append(f"{label} seed {r.seed}: abandon {100 * r.abandon:.2f}% > 3%")
            if r.worst30 > 0.05:
                failures.append(f"{label} seed {r.seed}: 30-min {100 * r.worst30:.2f}% > 5%")
            if r.fixed_talk is not None and r.talk <= r.fixed_talk:
                failures.append(f"{label} seed {r.seed}: talk {r.talk:.2f} <= fixed")
        goal = TALK_GOALS.get((key[2], key[3])) if key[0] == "matrix" else None
        if goal is not None and talk < goal:
            failures.append(f"{label}: talk {talk:.2f} < {goal}")
    print()
    print(f"runs: {len(runs)}, failed targets: {len(failures)}")
    for failure in failures:
        print(f"FAIL {failure}")
    print("PASS all targets" if not failures else "FAIL some targets")
