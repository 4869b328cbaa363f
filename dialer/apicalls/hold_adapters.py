"""The real `dialer.apicalls.ports.AgentHolds` (`dialer.apicalls.holds`): agents held from
queue calls through every node's mod_callcenter (``callcenter_config``,
`dialer.agent_admin`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import Future
from functools import partial

from dialer import agent_admin
from dialer.agent_admin import AgentError
from dialer.esl.events import CommandResult
from dialer.esl.ports import EslConnection, EslError

__all__ = ["EslAgentHolds"]

log = logging.getLogger(__name__)


class EslAgentHolds:
    """`dialer.apicalls.ports.AgentHolds` over one Event Socket connection per node (every
    node's, connected or not): a hold is a ``bgapi`` on each (the request does not wait for
    the switches; a refusal arrives with its job and is logged), a release the
    ``agent get``/``agent set`` round trips of `dialer.agent_admin.resume` on each."""

    def __init__(self, connections: Mapping[str, EslConnection], timeout_s: float = 5.0) -> None:
        self._connections = connections
        self._timeout_s = timeout_s

    def hold(self, agent: str) -> None:
        try:
            command = agent_admin.hold_command(agent)
        except AgentError as exc:
            log.warning("agent %s not held from queue calls: %s", agent, exc)
            return
        for node, conn in self._connections.items():
            job = conn.bgapi(command, self._timeout_s)
            job.add_done_callback(partial(_log_refused_hold, node, agent))

    def release(self, agent: str) -> None:
        for node, conn in self._connections.items():
            try:
                agent_admin.resume(conn, agent, self._timeout_s)
            except (AgentError, EslError) as exc:
                log.warning("%s: agent %s still held from queue calls: %s", node, agent, exc)


def _log_refused_hold(node: str, agent: str, job: Future[CommandResult]) -> None:
    error = job.exception()
    if error is None and job.result().ok:
        return
    why = error if error is not None else job.result().text.strip()
    log.warning("%s: agent %s not held from queue calls: %s", node, agent, why)
