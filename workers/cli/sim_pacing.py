"""``dialer sim pacing``: compare pacers on a scenario in the discrete-event simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from workers.cli.common import console, user_errors


def pacing(
    scenario: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Scenario YAML file.")
    ],
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Output directory.")],
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="Seed to run; repeat (default: file's).")
    ] = None,
    hours: Annotated[float | None, typer.Option(help="Cut the day to this many hours.")] = None,
) -> None:
    """Run the predictive pacer, progressive 1:1, the best fixed ratio and a VICIdial-style
    dial level side by side; write table.txt, figures.json, charts (PNG) and per-call CSVs."""
    from dialer.sim.pacing.report import write_outputs
    from dialer.sim.pacing.runner import compare_pacers
    from dialer.sim.pacing.scenario import load_pacing_scenario, scaled

    with user_errors(ValidationError, OSError, ValueError):
        loaded = scaled(
            load_pacing_scenario(scenario), duration_s=hours * 3600.0 if hours else None
        )
        seeds = seed or list(loaded.seeds)
        guess = 1.0 / max(loaded.answer.probability, 0.05)
        runs = [compare_pacers(loaded, s, guess) for s in seeds]
        write_outputs(runs, out)
    console.print(f"pacing simulation: {loaded.name}", style="bold")
    console.print((out / "table.txt").read_text("utf-8"), highlight=False, soft_wrap=True)
    console.print(f"wrote {out}/table.txt, figures.json, *.png and per-call *.csv")
