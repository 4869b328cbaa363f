"""Scripted `NodeApi`: the reply of each (node, command) as given; an unreachable node
raises as the adapter does."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer.esl.ports import EslDisconnected


@dataclass
class ScriptedNodeApi:
    replies: dict[str, dict[str, str]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    def names(self) -> list[str]:
        return list(self.replies) + [n for n in self.down if n not in self.replies]

    def api(self, node: str, command: str) -> str:
        if node in self.down:
            raise EslDisconnected(f"{node}: no Event Socket (connection refused)")
        return self.replies[node].get(command, "-ERR no reply")
