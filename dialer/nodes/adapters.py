"""`NodeApi` over the Event Socket: one short connection per command
(`dialer.esl.wiring.connect_once`)."""

from __future__ import annotations

from collections.abc import Sequence

from dialer.config import FsNode
from dialer.esl.ports import EslClientKind
from dialer.esl.wiring import connect_once


class EslNodeApi:
    def __init__(
        self, kind: EslClientKind, nodes: Sequence[FsNode], timeout_s: float = 5.0
    ) -> None:
        self._kind = kind
        self._nodes = {n.name: n for n in nodes}
        self._timeout_s = timeout_s

    def names(self) -> list[str]:
        return list(self._nodes)

    def api(self, node: str, command: str) -> str:
        endpoint = self._nodes[node]
        conn = connect_once(self._kind, endpoint, self._timeout_s)
        try:
            return conn.api(command, self._timeout_s)
        finally:
            conn.close()
