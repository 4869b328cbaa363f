"""Seams of the xml_curl context: the data the switch's configuration is made of.

`SwitchData` has an in-memory fake (`dialer.xmlcurl.fakes`) and a SQL adapter
(`dialer.xmlcurl.adapters`); its contract test is
``tests/contracts/test_contract_switch_data.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from dialer.routing.model import Trunk


class SwitchData(Protocol):
    """Read at every fetch, so a change is served at the switch's next lookup."""

    def campaigns(self) -> list[tuple[str, str]]:
        """``(campaign name, queue)`` of every campaign, sorted by name."""
        ...

    def trunks(self) -> list[Trunk]:
        """Every trunk, sorted by name."""
        ...

    def dnc_prefixes(self, now: datetime) -> list[str]:
        """The global DNC prefixes (``+digits``) in force at ``now``, sorted."""
        ...

    def agent_contacts(self) -> list[tuple[str, str]]:
        """``(agent name, contact)`` of every agent, sorted by name."""
        ...
