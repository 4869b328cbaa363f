"""Pacing benchmark: the standard scenario matrix, every seed, pacer under test vs baselines.

Run: .venv/bin/python benchmarks/bench_pacing.py [--workers 2] [--only a20_p30,...]
Prints one row per scenario and pacer (mean over seeds, worst seed's abandon rate) and a
pass/fail line per target.
"""

from __future__ import annotations

import argparse
import math
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from dialer.sim.pacing.records import Figures
from dialer.sim.pacing.runner import PACERS, compare_pacers
from dialer.sim.pacing.scenario import PacingScenario, load_pacing_scenario

ROOT = Path(__file__).resolve().parent.parent
MATRIX = ROOT / "scenarios" / "pacing"
TARGET_ABANDON = 0.03
TALK_TARGETS = {"a20_p30": 48.0, "a50_p30": 51.0}

Result = tuple[str, int, dict[str, Figures], float]


def _job(args: tuple[Path, int, float, float]) -> Result:
    path, seed, guess, first_step = args
    scenario = load_pacing_scenario(path)
    logs = compare_pacers(scenario, seed, guess, first_step)
    return (
        scenario.name,
        seed,
        {k: v.figures for k, v in logs.items()},
        logs["fixed_best"].extra["ratio"],
    )


def _guess(scenario: PacingScenario) -> float:
    """A starting ratio for the sweep: larger teams and lower answer rates take more."""
    team = max(0.2, 0.49 * math.log(scenario.agent_count) - 0.38)
    return 1.0 + (1.0 / scenario.answer.probability - 1.0) * team


def _run(pool: Any, jobs: list[tuple[Path, int, float, float]], results: list[Result]) -> None:
    # Largest first so that the pool's tail is short.
    jobs.sort(key=lambda job: -_agents(job[0].stem) * job[2])
    for result in pool.imap_unordered(_job, jobs):
        results.append(result)
        figs = result[2]
        done = ", ".join(f"{k} {v.talk_min_per_agent_hour:.2f}" for k, v in figs.items())
        abandon = 100 * figs["predictive"].abandon_rate
        print(f"# {result[0]} seed {result[1]}: {done}; abandon {abandon:.2f}%", flush=True)


def _order(name: str) -> tuple[int, int]:
    agents, answer = name[1:].split("_p")
    return int(agents), int(answer)


def _agents(name: str) -> int:
    return _order(name)[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    paths = sorted(MATRIX.glob("*.yaml"))
    if args.only:
        paths = [p for p in paths if p.stem in args.only.split(",")]
    scenarios = {path: load_pacing_scenario(path) for path in paths}
    started = time.perf_counter()
    results: list[Result] = []
    with Pool(args.workers) as pool:
        # First seeds first: their best fixed ratio is the sweep's starting guess for the others.
        first = [(p, s.seeds[0], _guess(s), 0.2) for p, s in scenarios.items()]
        _run(pool, first, results)
        found = {r[0]: r[3] for r in results}
        rest = [(p, seed, found[s.name], 0.1) for p, s in scenarios.items() for seed in s.seeds[1:]]
        _run(pool, rest, results)
    elapsed = time.perf_counter() - started
    _report(results, elapsed)


def _report(results: list[Result], elapsed_s: float) -> None:
    by_scenario: dict[str, list[Result]] = {}
    for result in results:
        by_scenario.setdefault(result[0], []).append(result)
    header = (
        f"{'scenario':<10} {'pacer':<22} {'talk min/agent-h':>16} {'occupancy':>9} "
        f"{'abandon % (worst seed)':>22} {'calls/h':>8} {'idle wait s':>11}"
    )
    print(header)
    print("-" * len(header))
    failures: list[str] = []
    checks = 0
    for name in sorted(by_scenario, key=_order):
        runs = sorted(by_scenario[name], key=lambda r: r[1])
        for pacer in PACERS:
            figs = [r[2][pacer] for r in runs]
            label = pacer
            if pacer == "fixed_best":
                label = "fixed " + "/".join(f"{r[3]:.2f}" for r in runs)
            print(
                f"{name:<10} {label:<22} "
                f"{sum(f.talk_min_per_agent_hour for f in figs) / len(figs):>16.2f} "
                f"{sum(f.occupancy for f in figs) / len(figs):>9.3f} "
                f"{100 * max(f.abandon_rate for f in figs):>22.2f} "
                f"{sum(f.calls_per_hour for f in figs) / len(figs):>8.0f} "
                f"{sum(f.idle_wait_s for f in figs) / len(figs):>11.1f}"
            )
        for _, seed, figs_by, _ in runs:
            pred = figs_by["predictive"]
            talk = pred.talk_min_per_agent_hour
            tests = [
                (
                    f"abandon <= 3.0% ({100 * pred.abandon_rate:.2f}%)",
                    pred.abandon_rate <= TARGET_ABANDON,
                )
            ]
            if _agents(name) >= 10:
                for base in ("fixed_best", "vicidial"):
                    other = figs_by[base].talk_min_per_agent_hour
                    tests.append((f"talk {talk:.2f} > {base} {other:.2f}", talk > other))
            else:
                other = figs_by["progressive"].talk_min_per_agent_hour
                tests.append((f"talk {talk:.2f} >= progressive {other:.2f}", talk >= other))
            if name in TALK_TARGETS:
                goal = TALK_TARGETS[name]
                tests.append((f"talk {talk:.2f} >= {goal:.0f}", talk >= goal))
            for label, passed in tests:
                checks += 1
                if not passed:
                    failures.append(f"{name} seed {seed}: {label}")
    print()
    print(f"targets checked per scenario and seed: {checks}, failed: {len(failures)}")
    for failure in failures:
        print(f"FAIL {failure}")
    print("PASS all targets" if not failures else "FAIL some targets")
    print(f"matrix wall time: {elapsed_s:.0f} s")


if __name__ == "__main__":
    main()
