"""One mod_callcenter agent as the dialer last saw it: what the listener keeps up to date and
the pacer reads. Pure.

Times are epoch seconds on the dialer's own clock (`dialer.listener.switch_state` moves the
switch's times onto it); 0 means "not known".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AgentState"]


@dataclass(frozen=True, slots=True)
class AgentState:
    """mod_callcenter's view of one agent: ``status`` (Available, On Break, Logged Out,
    Available (On Demand)) and ``state`` (Idle, Waiting, Receiving, In a queue call).

    ``changed_at_s``: when the agent entered its current (status, state); ``bridge_end_s``:
    when its last queue call ended; ``wrap_up_s``: its wrap-up time (it is offered nothing
    before ``bridge_end_s + wrap_up_s``, nor before ``ready_at_s``); ``queues``: the queues it
    has tiers in, as of the last reconcile.
    """

    name: str
    status: str = ""
    state: str = ""
    changed_at_s: float = 0.0
    bridge_end_s: float = 0.0
    wrap_up_s: float = 0.0
    ready_at_s: float = 0.0
    queues: tuple[str, ...] = ()

    def ready_from_s(self) -> float:
        """The first moment mod_callcenter may offer this agent a call."""
        return max(self.ready_at_s, self.bridge_end_s + self.wrap_up_s if self.bridge_end_s else 0)
