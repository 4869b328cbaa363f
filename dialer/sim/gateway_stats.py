"""Per-gateway call statistics of the simulated switch, as ``sofia status gateway`` prints
them (CallsOUT, FailedCallsOUT) and as the carriers' concurrency limits count them.

Invariant: ``active`` never goes below zero; a call counts as placed once, as failed at most
once, and as active from the moment its INVITE goes out until its channel is hung up.
"""

from __future__ import annotations

__all__ = ["GatewayStats"]


class GatewayStats:
    """Outbound calls placed, failed and active, by gateway name."""

    def __init__(self) -> None:
        self._placed: dict[str, int] = {}
        self._failed: dict[str, int] = {}
        self._active: dict[str, int] = {}

    def call_placed(self, gateway: str) -> None:
        """An originate chose this gateway (CallsOUT)."""
        self._placed[gateway] = self._placed.get(gateway, 0) + 1

    def call_failed(self, gateway: str) -> None:
        """An outbound call on this gateway failed (FailedCallsOUT)."""
        self._failed[gateway] = self._failed.get(gateway, 0) + 1

    def call_started(self, gateway: str) -> int:
        """The INVITE went out; returns the gateway's active calls, this one included."""
        self._active[gateway] = self._active.get(gateway, 0) + 1
        return self._active[gateway]

    def call_ended(self, gateway: str) -> None:
        """A call on this gateway was hung up."""
        self._active[gateway] = max(0, self._active.get(gateway, 1) - 1)

    def placed(self, gateway: str) -> int:
        """CallsOUT of ``gateway``."""
        return self._placed.get(gateway, 0)

    def failed(self, gateway: str) -> int:
        """FailedCallsOUT of ``gateway``."""
        return self._failed.get(gateway, 0)
