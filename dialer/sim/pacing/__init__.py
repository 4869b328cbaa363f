"""Fast discrete-event pacing simulator in virtual time (see docs/pacing.md): pacers compared
on the same callees (`compare_pacers`); reports and charts in `dialer.sim.pacing.report`."""

from dialer.sim.pacing.baselines import VicidialPacer
from dialer.sim.pacing.engine import Simulation
from dialer.sim.pacing.records import Figures, RunLog
from dialer.sim.pacing.runner import PACERS, best_fixed_ratio, compare_pacers
from dialer.sim.pacing.scenario import PacingScenario, load_pacing_scenario, scaled

__all__ = [
    "PACERS",
    "Figures",
    "PacingScenario",
    "RunLog",
    "Simulation",
    "VicidialPacer",
    "best_fixed_ratio",
    "compare_pacers",
    "load_pacing_scenario",
    "scaled",
]
