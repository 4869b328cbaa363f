"""The chart of a demo run (``demo-out/demo.png``): agents, lines per trunk, the abandon rate
against its target and the dial level, over the switch's simulated time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workers.demo import DEMO_CAMPAIGN, DemoRun

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def write_chart(run: DemoRun, out_dir: Path) -> Path:
    """Draw ``run`` into ``out_dir/demo.png`` (the directory is made) and return its path."""
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig = chart_figure(run)
    path = out_dir / "demo.png"
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def chart_figure(run: DemoRun) -> Figure:
    """The chart of ``run`` (at least one sample), on matplotlib's Agg backend; the caller
    closes it (``plt.close``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = run.samples
    t = [s.t_s for s in samples]
    fig, (agents, lines, abandon, level) = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    fig.suptitle(
        f"dialer demo: campaign '{DEMO_CAMPAIGN}' on the switch simulator "
        f"({run.speed:g}× real time, {t[-1]:.0f} s simulated)"
    )
    agents.plot(t, [s.agents_busy for s in samples], label="on a call")
    agents.plot(t, [s.agents_wrapping for s in samples], label="in wrap-up")
    agents.plot(t, [s.agents_ready for s in samples], label="waiting")
    agents.set_ylabel("agents")
    trunks = sorted({name for s in samples for name in s.per_trunk})
    for name in trunks:
        lines.plot(t, [s.per_trunk.get(name, 0) for s in samples], label=f"lines up: {name}")
    lines.plot(t, [s.ringing for s in samples], label="ringing (all trunks)", linestyle=":")
    lines.set_ylabel("calls on the switch")
    rates_pct = [100 * s.report.abandon_rate for s in samples]
    abandon.plot(t, rates_pct, label="abandon rate")
    abandon.axhline(
        run.abandon_target_pct,
        color="tab:red",
        linestyle="--",
        label=f"target {run.abandon_target_pct:g}%",
    )
    abandon.set_ylabel("abandoned, % of answered")
    abandon.set_ylim(0, max(1.0, 1.5 * run.abandon_target_pct, 1.1 * max(rates_pct)))
    level.plot(t, [s.dial_level for s in samples], label="dial level")
    level.set_ylabel("lines per agent")
    level.set_xlabel("simulated time since the start (s)")
    for ax in (agents, lines, abandon, level):
        ax.legend(loc="upper left", fontsize="small")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
