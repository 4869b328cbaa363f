"""What a pacer has learnt, as plain data: saved when a slice hands on, restored by the next.

``pacer_state(pacer)`` is a JSON-able dict carrying ``version`` (`PACER_STATE_VERSION`) and
``mode``; ``restore_pacer(mode, data)`` builds the pacer back. Invariant (property-tested):
a restored pacer holds the same estimates, so fed the same snapshots and outcomes from then on
it makes the same decisions as the one that was saved. Data of another version or mode, or
that does not fit (a histogram of another size), raises `PacerStateError`: the caller then
starts afresh. Configuration (half-lives, budget policy) is code, not state: a restored pacer
keeps the configuration it is built with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialer.pacing.model import Mode
from dialer.pacing.modes import Pacer, PreviewPacer, ProgressivePacer
from dialer.pacing.predictive import PredictiveConfig, PredictivePacer

PACER_STATE_VERSION = 1

_ESTIMATORS = ("ring", "talk", "wrap")


class PacerStateError(ValueError):
    """Saved pacer data that this code cannot restore."""


def pacer_state(pacer: Pacer) -> dict[str, Any]:
    """The learnt state of ``pacer`` (only the predictive mode learns anything)."""
    data: dict[str, Any] = {"version": PACER_STATE_VERSION, "mode": pacer.mode.value}
    if isinstance(pacer, PredictivePacer):
        data["answer"] = pacer.answer.to_dict()
        for name in _ESTIMATORS:
            data[name] = getattr(pacer, name).to_dict()
    return data


def restore_pacer(
    mode: Mode,
    data: Mapping[str, Any],
    *,
    ratio: float = 1.0,
    config: PredictiveConfig | None = None,
) -> Pacer:
    """A pacer of ``mode`` holding the state of ``data``; `PacerStateError` if it cannot."""
    if data.get("version") != PACER_STATE_VERSION:
        raise PacerStateError(f"pacer state version {data.get('version')!r}")
    if data.get("mode") != mode.value:
        raise PacerStateError(f"pacer state of mode {data.get('mode')!r}, not {mode.value}")
    if mode is Mode.PREVIEW:
        return PreviewPacer()
    if mode is Mode.PROGRESSIVE:
        return ProgressivePacer(ratio)
    pacer = PredictivePacer(config)
    try:
        pacer.answer.load(data["answer"])
        for name in _ESTIMATORS:
            getattr(pacer, name).load(data[name])
    except (KeyError, TypeError, ValueError) as exc:
        raise PacerStateError(f"pacer state does not fit: {exc}") from exc
    return pacer
