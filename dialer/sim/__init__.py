"""The switch simulator: a FreeSWITCH 1.10 stand-in speaking the inbound Event Socket protocol
(docs/simulator.md), with a simulated mod_callcenter (`dialer.sim.callcenter`,
docs/callcenter-sim.md); and the discrete-event pacing simulator (`dialer.sim.pacing`,
docs/pacing.md).

Run one with `run_simulator` (in the running asyncio loop) or `SimulatorServer` (on its own
thread); `Simulator.records` holds the ground truth of every call, `SimulatorServer.time`
the switch's scaled clock as a `dialer.clock.Clock`.
"""

from dialer.sim.clock import SimTime
from dialer.sim.records import CallRecord, Records
from dialer.sim.scenario import Scenario, load_scenario, scenario_from_dict
from dialer.sim.simulator import Simulator, SimulatorServer, run_simulator, serve_forever

__all__ = [
    "CallRecord",
    "Records",
    "Scenario",
    "SimTime",
    "Simulator",
    "SimulatorServer",
    "load_scenario",
    "run_simulator",
    "scenario_from_dict",
    "serve_forever",
]
