"""`MemoryAgentStore`: the in-memory `dialer.agents.ports.AgentStore`."""

from __future__ import annotations

from dialer.agents.ports import AgentRecord


class MemoryAgentStore:
    """Agents in a dict, each written whole, as the SQL store does."""

    def __init__(self, records: list[AgentRecord] | None = None) -> None:
        self._records: dict[str, AgentRecord] = {}
        for record in records or []:
            self.put(record)

    def get(self, name: str) -> AgentRecord | None:
        return self._records.get(name)

    def all(self) -> list[AgentRecord]:
        return [self._records[name] for name in sorted(self._records)]

    def put(self, record: AgentRecord) -> None:
        self._records[record.name] = record.with_tiers(record.tiers)

    def remove(self, name: str) -> bool:
        return self._records.pop(name, None) is not None
