"""The demo's chart says what it shows: a title naming the run, a label on every axis, time
on the switch's simulated clock, the abandon rate against the campaign's target and a line of
calls per trunk."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.report import CampaignReport
from workers.demo import DemoRun, Sample
from workers.demo_chart import chart_figure


def sample(t_s: float, abandoned: int, per_trunk: dict[str, int]) -> Sample:
    report = CampaignReport({}, {}, answered=40, abandoned=abandoned, connected=40 - abandoned,
                            talk_s=600.0)  # fmt: skip
    return Sample(t_s, report, ringing=3, agents_busy=5, agents_ready=2, agents_wrapping=1,
                  per_trunk=per_trunk, agent_s=8 * t_s)  # fmt: skip


def test_the_chart_is_titled_labelled_on_simulated_time_with_target_and_trunks() -> None:
    run = DemoRun(datetime(2026, 12, 3, 9, tzinfo=UTC), abandon_target_pct=3.0, speed=10.0)
    run.samples = [
        sample(0.0, 0, {"cheap": 2}),
        sample(600.0, 1, {"cheap": 4, "dear": 1}),
        sample(1200.0, 2, {"dear": 3}),
    ]
    fig = chart_figure(run)
    try:
        assert fig.get_suptitle().startswith("dialer demo: campaign 'demo'")
        assert "10× real time, 1200 s simulated" in fig.get_suptitle()
        _agents, lines, abandon, level = fig.axes
        assert all(ax.get_ylabel() for ax in fig.axes)
        assert level.get_xlabel() == "simulated time since the start (s)"
        assert list(level.get_lines()[0].get_xdata()) == [0.0, 600.0, 1200.0]
        trunk_lines = {ln.get_label(): list(ln.get_ydata()) for ln in lines.get_lines()}
        assert trunk_lines["lines up: cheap"] == [2, 4, 0]
        assert trunk_lines["lines up: dear"] == [0, 1, 3]
        by_label = {ln.get_label(): ln for ln in abandon.get_lines()}
        assert list(by_label["abandon rate"].get_ydata()) == [0.0, 2.5, 5.0]
        assert set(by_label["target 3%"].get_ydata()) == {3.0}
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
