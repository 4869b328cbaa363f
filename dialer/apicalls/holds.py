"""Agents on API calls are kept from mod_callcenter's queue calls (`AgentHolds`): held when
the agent leg is placed (`dialer.apicalls.service.originate_call`), released when the call
ended (`release_agent`, from the ``dialer.api_call_ended`` task) or never left.

Invariant: an agent is released only when none of its API calls is still being dialled or
talked (an agent on two API calls stays held until both ended).
"""

from __future__ import annotations

from dialer.apicalls.ports import AgentHolds, ApiCallStore

__all__ = ["release_agent", "release_agent_of"]


def release_agent(store: ApiCallStore, holds: AgentHolds | None, agent: str | None) -> bool:
    """Let ``agent`` take queue calls again unless it is on another API call; True when it
    was released."""
    if holds is None or not agent or agent in store.agents_in_calls():
        return False
    holds.release(agent)
    return True


def release_agent_of(store: ApiCallStore, holds: AgentHolds | None, call_uuid: str) -> bool:
    """`release_agent` for the agent of the API call ``call_uuid`` (which ended)."""
    call = store.get(call_uuid)
    return call is not None and release_agent(store, holds, call.agent)
