"""Seams of the nodes context: one API command on a named node.

`NodeApi` has a scripted fake (`dialer.nodes.fakes`) and an Event Socket adapter
(`dialer.nodes.adapters`); its contract test is ``tests/contracts/test_contract_node_api.py``.
"""

from __future__ import annotations

from typing import Protocol


class NodeApi(Protocol):
    def names(self) -> list[str]:
        """The configured nodes (``DIALER_FREESWITCH_NODES``), in order."""
        ...

    def api(self, node: str, command: str) -> str:
        """The reply of ``api <command>`` on ``node``; `KeyError` for a node not
        configured, `dialer.esl.ports.EslError` when it cannot be reached."""
        ...
