"""What one slice of a campaign's pacing hands to the next: the pacer's learnt state and where
its outcome feed stands (pure; saved through `dialer.runner.ports.PacerStateStore`).

A `Carried` holds, besides the pacer's state (`dialer.pacing.pacer_state`):

* ``feed_since_s``: outcomes that ended before this were fed; the next slice feeds from there
  (rows in ``seen_ended``, attempt id -> end time, were fed already);
* ``answers_learnt``: calls still up whose answer the pacer learnt when it happened (their
  hangup must not teach it again, and they count as answered in the budget);
* ``launched_s``: launch times of calls still in flight, so ring ages and ring times go on
  counting from the launch, not from the hand-off (``launched_seen``: those the listener
  already reported, `dialer.runner.snapshot.InFlight`).

Times are seconds since the epoch. ``to_dict``/``from_dict`` round-trip exactly through JSON;
data of another ``version`` raises `dialer.pacing.PacerStateError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dialer.pacing import Mode, Pacer, PacerStateError, make_pacer, pacer_state, restore_pacer

CARRY_VERSION = 1


@dataclass
class Carried:
    pacer: dict[str, Any]
    feed_since_s: float
    seen_ended: dict[int, float] = field(default_factory=dict)
    answers_learnt: set[str] = field(default_factory=set)
    launched_s: dict[str, float] = field(default_factory=dict)
    launched_seen: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": CARRY_VERSION,
            "pacer": self.pacer,
            "feed_since_s": self.feed_since_s,
            "seen_ended": [[k, v] for k, v in sorted(self.seen_ended.items())],
            "answers_learnt": sorted(self.answers_learnt),
            "launched_s": dict(sorted(self.launched_s.items())),
            "launched_seen": sorted(self.launched_seen),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Carried:
        if data.get("version") != CARRY_VERSION:
            raise PacerStateError(f"carried state version {data.get('version')!r}")
        try:
            return cls(
                pacer=dict(data["pacer"]),
                feed_since_s=float(data["feed_since_s"]),
                seen_ended={int(k): float(v) for k, v in data["seen_ended"]},
                answers_learnt={str(u) for u in data["answers_learnt"]},
                launched_s={str(k): float(v) for k, v in data["launched_s"].items()},
                launched_seen={str(u) for u in data["launched_seen"]},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PacerStateError(f"carried state does not fit: {exc}") from exc


def resume(mode: Mode, saved: Mapping[str, Any] | None) -> tuple[Pacer, Carried | None]:
    """The pacer of ``mode`` holding ``saved``'s state, and the rest of it; a fresh pacer and
    None when nothing usable was saved (none, another version or mode: start afresh)."""
    if saved is not None:
        try:
            carried = Carried.from_dict(saved)
            return restore_pacer(mode, carried.pacer), carried
        except PacerStateError:
            pass
    return make_pacer(mode), None


def carry(pacer: Pacer, rest: Carried) -> Carried:
    """``rest`` with the pacer's current state."""
    rest.pacer = pacer_state(pacer)
    return rest
