"""PNG charts over time of simulation runs (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from dialer.sim.pacing.records import RunLog

__all__ = ["write_chart"]

_PANELS = (
    ("dial_level", "dial level (lines / staffed agent)"),
    ("agents_busy", "agents busy (talk + wrap-up)"),
    ("lines_in_flight", "lines in flight (ringing + queued)"),
    ("abandon_rate", "abandon rate (cumulative, %)"),
)


def write_chart(logs: Mapping[str, RunLog], path: Path, title: str) -> None:
    """One figure, four panels over time, one line per pacer."""
    fig, axes = plt.subplots(len(_PANELS), 1, figsize=(11, 10), sharex=True)
    for axis, (attr, label) in zip(axes, _PANELS, strict=True):
        for name, log in logs.items():
            hours = [p.time_s / 3600.0 for p in log.series]
            values = [float(getattr(p, attr)) for p in log.series]
            if attr == "abandon_rate":
                values = [100.0 * v for v in values]
            axis.plot(hours, values, label=name, linewidth=0.8)
        axis.set_ylabel(label, fontsize=8)
        axis.grid(alpha=0.3)
    axes[-1].set_xlabel("hours")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
