"""The simulated switch core: the clock, the seeded RNGs and the parts it is composed of, and
the `dialer.sim.ports.SwitchPort` it offers the simulated mod_callcenter.

Parts, one concern each: `EventBus` (events and log lines), `Admission` (sps, max sessions),
`ChannelTable` (channels, states, variables, applications), `Media` (codecs, playback),
`Hangups` (hangup sequence and watchers), `Bridges`, `GatewayStats`, `AgentLegs`. Call flows
(`dialer.sim.originator`, `dialer.sim.dialplan`) and API commands (`dialer.sim.api`) drive it.
Everything runs on the asyncio loop thread; no locks.
"""

from __future__ import annotations

import random
import uuid as uuidlib
from collections.abc import Callable

from dialer.sim.admission import Admission
from dialer.sim.agent_legs import AgentLegs
from dialer.sim.bridge import Bridges
from dialer.sim.bus import EventBus
from dialer.sim.channel_table import ChannelTable
from dialer.sim.clock import SimClock
from dialer.sim.events import CoreIdentity
from dialer.sim.gateway_stats import GatewayStats
from dialer.sim.hangup import Hangups
from dialer.sim.media import Media
from dialer.sim.ports import AgentLegRequest, CallcenterEngine, EngineEvent, TimerHandle
from dialer.sim.records import Records
from dialer.sim.scenario import Scenario

__all__ = ["SimSwitch"]


def _uuid4(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


class SimSwitch:
    """One simulated FreeSWITCH core; implements `dialer.sim.ports.SwitchPort`."""

    def __init__(self, scenario: Scenario, clock: SimClock | None = None) -> None:
        self.scenario = scenario
        self.clock = clock or SimClock(scenario.speed, scenario.start_epoch_s)
        self._rng = random.Random(scenario.seed)
        # customers draw from their own stream, in originate order only, so that their uuids
        # and behaviour do not depend on when timers (agents, engine, media) drew numbers
        self.call_rng = random.Random(f"calls-{scenario.seed}")
        identity = CoreIdentity(core_uuid=self._core_uuid(scenario), hostname=scenario.hostname)
        self.records = Records()
        self.engine: CallcenterEngine | None = None
        self.global_vars: dict[str, str] = {
            "hostname": scenario.hostname,
            "domain": "127.0.0.1",
            "switch_serial": "1",
            # set by the core at start-up (switch_core.c), new on every start
            "core_uuid": identity.core_uuid,
        }
        self.bus = EventBus(identity, self.clock, lambda uuid: self.channels.lookup(uuid))
        self.admission = Admission(
            scenario.max_sessions,
            scenario.sessions_per_second,
            self.clock.now_s(),
            self.bus.console_log,
        )
        self.channels = ChannelTable(self.clock, self.bus, self.admission, self.new_uuid)
        self.gateway_stats = GatewayStats()
        self.media = Media(self.clock, self.bus, self.channels)
        self.hangups = Hangups(
            self.clock, self.bus, self.channels, self.media, self.gateway_stats, self.records
        )
        self.bridges = Bridges(
            self.clock, self.bus, self.channels, self.hangups, self.records, self.new_uuid
        )
        self.agent_legs = AgentLegs(
            self.clock,
            self._rng,
            self.bus,
            self.channels,
            self.media,
            self.hangups,
            scenario.agent_endpoint,
            self.new_uuid,
        )

    def _core_uuid(self, scenario: Scenario) -> str:
        """A new Core-UUID per start, as FreeSWITCH draws one at every start (switch_core.c):
        seeded, and mixed with the start time unless the scenario fixes that time, so a
        simulator restarted with the same scenario is a new switch run."""
        drawn = self.new_uuid()
        if scenario.start_epoch_s is not None:
            return drawn
        return str(uuidlib.uuid5(uuidlib.UUID(drawn), repr(self.clock.now_s())))

    def new_call_uuid(self) -> str:
        """A v4 UUID for a customer leg, from the customers' stream."""
        return _uuid4(self.call_rng)

    def live_sessions(self) -> int:
        """Channels that exist (not yet destroyed)."""
        return len(self.channels)

    # --- SwitchPort -------------------------------------------------------------------------
    @property
    def rng(self) -> random.Random:
        """The single seeded RNG of the run (customers aside)."""
        return self._rng

    def now_s(self) -> float:
        """Simulated epoch seconds."""
        return self.clock.now_s()

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> TimerHandle:
        """Run ``fn`` after ``delay_s`` simulated seconds."""
        return self.clock.call_later(delay_s, fn)

    def cancel(self, handle: TimerHandle) -> None:
        """Cancel a timer (a no-op once it ran)."""
        self.clock.cancel(handle)

    def new_uuid(self) -> str:
        """A v4 UUID drawn from the seeded RNG."""
        return _uuid4(self._rng)

    def fire_event(self, event: EngineEvent) -> None:
        """An event with core headers, the channel's data when it names one, then its headers."""
        ch = self.channels.lookup(event.channel_uuid or "")
        self.bus.emit(
            event.name,
            list(event.headers.items()),
            subclass=event.subclass,
            channel=ch,
            with_vars=ch is not None,
            site=(event.file, event.function, event.line),
        )

    def originate_agent_leg(self, leg: AgentLegRequest) -> str:
        """Ring a simulated agent phone (`AgentLegs.originate`)."""
        return self.agent_legs.originate(leg)

    def bridge(self, member_uuid: str, agent_uuid: str) -> None:
        """Bridge two answered legs (`Bridges.bridge`)."""
        self.bridges.bridge(member_uuid, agent_uuid)

    def hangup(self, uuid: str, cause: str) -> None:
        """Hang a channel up locally (`Hangups.hangup`)."""
        self.hangups.hangup(uuid, cause)

    def on_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        """Watch the channel's HANGUP_COMPLETE (`Hangups.on_hangup`)."""
        self.hangups.on_hangup(uuid, fn)

    def on_channel_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        """Watch the channel's CHANNEL_HANGUP (`Hangups.on_channel_hangup`)."""
        self.hangups.on_channel_hangup(uuid, fn)

    def channel_exists(self, uuid: str) -> bool:
        """True while the channel is up."""
        return self.channels.exists(uuid)

    def channel_vars(self, uuid: str) -> dict[str, str]:
        """Copy of the channel's variables (`ChannelTable.variables`)."""
        return self.channels.variables(uuid)

    def set_var(self, uuid: str, name: str, value: str) -> None:
        """Set a channel variable."""
        self.channels.set_variable(uuid, name, value)

    def playback(self, uuid: str, file: str) -> None:
        """PLAYBACK_START (`Media.playback`)."""
        self.media.playback(uuid, file)

    def stop_playback(self, uuid: str) -> None:
        """PLAYBACK_STOP (`Media.stop_playback`)."""
        self.media.stop_playback(uuid)
