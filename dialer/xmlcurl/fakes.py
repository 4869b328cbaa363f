"""In-memory `SwitchData` for tests: what was put is what is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialer.routing.model import Trunk


@dataclass
class MemorySwitchData:
    """``prefixes``: ``(prefix, expires_at or None)``."""

    campaign_queues: dict[str, str] = field(default_factory=dict)
    trunk_list: list[Trunk] = field(default_factory=list)
    prefixes: list[tuple[str, datetime | None]] = field(default_factory=list)
    agents: dict[str, str] = field(default_factory=dict)

    def campaigns(self) -> list[tuple[str, str]]:
        return sorted(self.campaign_queues.items())

    def trunks(self) -> list[Trunk]:
        return sorted(self.trunk_list, key=lambda t: t.name)

    def dnc_prefixes(self, now: datetime) -> list[str]:
        return sorted({p for p, until in self.prefixes if until is None or until > now})

    def agent_contacts(self) -> list[tuple[str, str]]:
        return sorted(self.agents.items())
