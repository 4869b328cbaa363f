"""The seam between the switch core and the mod_callcenter engine of the simulator.

The switch core (`dialer.sim.switch.SimSwitch`) implements `SwitchPort`, and so does the
in-memory `dialer.sim.callcenter.fakes.FakeSwitchPort` of the engine's tests; the callcenter
engine (``dialer.sim.callcenter``) implements `CallcenterEngine` and is built by
a factory matching `CallcenterEngineFactory`, exported as ``create_engine`` from
``dialer.sim.callcenter``.

Invariants:
- Everything runs on one thread (the simulator's event loop): no method of either side is
  called concurrently, so neither side needs locks. Callbacks passed through the port are
  always invoked later from the loop, never re-entrantly from inside the call that
  registered them, unless stated otherwise.
- Times are simulated seconds (`SwitchPort.now_s`, epoch-based float). When the clock is
  scaled by k, a delay of ``d`` simulated seconds passes in ``d / k`` wall seconds; the engine
  only ever uses simulated seconds.
- Randomness: the engine draws only from `SwitchPort.rng` so that a run is deterministic
  under the scenario's seed.
- Header values of an `EngineEvent` are raw (unencoded) strings; the server URL-encodes them
  for plain events and writes them as-is for JSON events.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "CALLCENTER_SUBCLASS",
    "AgentLegRequest",
    "CallcenterEngine",
    "CallcenterEngineFactory",
    "EngineEvent",
    "SwitchPort",
    "TimerHandle",
]

CALLCENTER_SUBCLASS = "callcenter::info"
"""``Event-Subclass`` of every mod_callcenter event."""


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """An event the engine fires (`SwitchPort.fire_event`).

    The core writes, in this order (as FreeSWITCH does): ``Event-Subclass`` (when ``subclass``
    is given, e.g. `CALLCENTER_SUBCLASS` with ``name="CUSTOM"``), ``Event-Name``, the core
    headers (Core-UUID, FreeSWITCH-Hostname/-Switchname/-IPv4/-IPv6,
    Event-Date-Local/-GMT/-Timestamp), ``Event-Calling-File/-Function/-Line-Number`` (``file``,
    ``function``, ``line``), ``Event-Sequence``; then, when ``channel_uuid`` names a live (or
    just hung up) channel, that channel's data (Channel-State ... Caller-* ... ``variable_*``)
    exactly as FreeSWITCH's ``switch_channel_event_set_data`` adds it; then ``headers`` in
    their insertion order (e.g. ``CC-Queue``, ``CC-Action``, ...).
    """

    name: str
    headers: Mapping[str, str]
    function: str
    line: int
    subclass: str | None = None
    channel_uuid: str | None = None
    file: str = "mod_callcenter.c"


@dataclass(frozen=True, slots=True)
class AgentLegRequest:
    """An outbound leg to an agent's phone (`SwitchPort.originate_agent_leg`).

    ``contact`` is the agent's contact as configured (may start with ``{...}`` / ``[...]``
    variables, e.g. ``[leg_timeout=15]sofia/external/agent1@127.0.0.1:5094``); the core
    parses it like ``originate`` does. ``variables`` are set on the leg from its creation
    (the engine passes ``cc_export_vars`` values, ``cc_member_session_uuid``, ``cc_queue``,
    ``cc_agent`` ... here), so CHANNEL_CREATE already carries them.

    ``on_answer(uuid)`` runs once the simulated agent answered; ``on_fail(uuid, cause)`` when
    the leg failed, after its hangup events, with FreeSWITCH's cause name (``USER_BUSY``,
    ``ALLOTTED_TIMEOUT`` for ``leg_timeout`` expiry, ``NO_ANSWER``, ``LOSE_RACE`` /
    ``ORIGINATOR_CANCEL`` / ``NORMAL_CLEARING`` when the engine itself hung it up with
    `SwitchPort.hangup`, ...). Exactly one of the two runs, once. ``caller_id_name`` is the
    leg's caller ID name when ``origination_caller_id_name`` is not set (None: none, as an
    ``originate`` that sets none, transcript u1).
    """

    contact: str
    variables: Mapping[str, str]
    on_answer: Callable[[str], None]
    on_fail: Callable[[str, str], None]
    caller_id_name: str | None = "Outbound Call"


class TimerHandle(Protocol):
    """Opaque handle returned by `SwitchPort.call_later`; pass it to `SwitchPort.cancel`."""


class SwitchPort(Protocol):
    """What the switch core offers to the callcenter engine."""

    @property
    def rng(self) -> random.Random:
        """The simulator's single seeded RNG."""
        ...

    def now_s(self) -> float:
        """Current simulated time, seconds since the Unix epoch."""
        ...

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> TimerHandle:
        """Run ``fn()`` after ``delay_s`` simulated seconds (>= 0). Timers due at the same time
        run in the order they were scheduled."""
        ...

    def cancel(self, handle: TimerHandle) -> None:
        """Cancel a timer; a no-op if it already ran or was cancelled."""
        ...

    def new_uuid(self) -> str:
        """A fresh UUID (version 4 format) drawn from the seeded RNG."""
        ...

    def fire_event(self, event: EngineEvent) -> None:
        """Queue ``event`` to every subscribed Event Socket client."""
        ...

    def originate_agent_leg(self, leg: AgentLegRequest) -> str:
        """Start an outbound leg to an agent's phone and return its uuid at once.

        The core emits the leg's channel events (CHANNEL_OUTGOING ... CHANNEL_PROGRESS ...
        CHANNEL_ANSWER), decides from the scenario's agent endpoints whether and when the
        simulated agent answers, and then calls ``leg.on_answer``; a failed leg gets its
        hangup events and then ``leg.on_fail``.
        """
        ...

    def bridge(self, member_uuid: str, agent_uuid: str) -> None:
        """Bridge two answered legs (the events of ``uuid_bridge``: CHANNEL_EXECUTE
        uuid_bridge ×2, CHANNEL_BRIDGE ...). When either side hangs up, the core emits
        CHANNEL_UNBRIDGE and, for a leg with ``hangup_after_bridge=true`` (and always for the
        agent leg), hangs the other side up with the same cause. Hangup watchers registered
        with `on_hangup` learn about both hangups."""
        ...

    def hangup(self, uuid: str, cause: str) -> None:
        """Hang a channel up with a FreeSWITCH cause name (e.g. ``LOSE_RACE``,
        ``NORMAL_CLEARING``). A no-op for unknown or already hung-up channels."""
        ...

    def on_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        """Call ``fn(hangup_cause)`` once, after CHANNEL_HANGUP_COMPLETE of ``uuid`` was
        emitted. If the channel is unknown or already hung up, ``fn`` is called soon (from the
        loop) with its cause, or ``NORMAL_CLEARING`` if it is unknown."""
        ...

    def on_channel_hangup(self, uuid: str, fn: Callable[[str], None]) -> None:
        """Call ``fn(hangup_cause)`` once, right after CHANNEL_HANGUP of ``uuid`` was emitted
        and before CHANNEL_HANGUP_COMPLETE: the moment a running dialplan application sees the
        hangup. mod_callcenter's ``callcenter`` app then stops its music on hold, emits
        member-queue-end and members-count and returns (e_no_agent_abandon: CHANNEL_HANGUP >
        PLAYBACK_STOP > cc:member-queue-end > cc:members-count > CHANNEL_EXECUTE_COMPLETE >
        CHANNEL_HANGUP_COMPLETE); ``fn`` may call `stop_playback`, `fire_event`, `set_var` and
        the application's ``on_exit`` synchronously, and the core emits
        CHANNEL_HANGUP_COMPLETE only after ``fn`` returned. If the channel is unknown or
        already hung up, ``fn`` is called soon (from the loop)."""
        ...

    def channel_exists(self, uuid: str) -> bool:
        """True while the channel exists and has not been hung up."""
        ...

    def channel_vars(self, uuid: str) -> dict[str, str]:
        """A copy of the channel's variables (unencoded); empty dict for an unknown channel."""
        ...

    def set_var(self, uuid: str, name: str, value: str) -> None:
        """Set one channel variable (as ``uuid_setvar``); a no-op for an unknown channel."""
        ...

    def playback(self, uuid: str, file: str) -> None:
        """Start playing ``file`` (e.g. the queue's moh ``local_stream://moh``) on a channel:
        emits PLAYBACK_START. Music on hold plays until `stop_playback`."""
        ...

    def stop_playback(self, uuid: str) -> None:
        """Stop what `playback` started: emits PLAYBACK_STOP. A no-op if nothing plays."""
        ...


class CallcenterEngine(Protocol):
    """What the mod_callcenter engine offers to the switch core."""

    def api(self, args: str) -> str:
        """Run ``callcenter_config <args>`` and return the reply text exactly as FreeSWITCH's
        API returns it (e.g. ``+OK\\n``, ``-ERR Invalid!\\n``, a list with its header line).
        Returning an empty string makes the Event Socket reply ``-ERR no reply``."""
        ...

    def enter_queue(
        self,
        member_uuid: str,
        queue_name: str,
        on_exit: Callable[[str], None],
    ) -> None:
        """The ``callcenter <queue_name>`` dialplan application on the answered (or, with
        ``ignore_early_media=false``, early) leg ``member_uuid``.

        The engine emits member-queue-start etc., offers the member to agents through
        `SwitchPort.originate_agent_leg` / `SwitchPort.bridge`, sets the ``cc_*`` channel
        variables with `SwitchPort.set_var`, and when the application returns calls
        ``on_exit(cc_cause)`` once, where ``cc_cause`` is the value of ``cc_cause``
        (``answered`` after a bridge, ``cancel`` when the member left: timeout, break out, ...).
        The core then emits CHANNEL_EXECUTE_COMPLETE and continues the dialplan if the channel
        is still up. Must also handle the member hanging up (watch with
        `SwitchPort.on_hangup`).
        """
        ...


class CallcenterEngineFactory(Protocol):
    """Signature of ``dialer.sim.callcenter.create_engine``."""

    def __call__(self, port: SwitchPort, config: Mapping[str, Any]) -> CallcenterEngine:
        """Build the engine from the scenario's ``callcenter`` mapping (queues, agents, tiers,
        simulated agent behaviour: its schema is the engine's to define and document)."""
        ...
