"""What a pacer has learnt, as plain data: saved when a slice hands on, restored by the next.

``pacer_state(pacer)`` is a JSON-able dict carrying ``version`` (`PACER_STATE_VERSION`) and
``mode``; ``restore_pacer(mode, data)`` builds the pacer back. Invariant (property-tested):
a restored pacer holds the same estimates, so fed the same snapshots and outcomes from then on
it makes the same decisions as the one that was saved. Data of another version or mode, or
that does not fit (a histogram of another size), raises `PacerStateError`: the caller then
starts afresh. Configuration (half-lives, budget policy) is code, not state: a restored pacer
keeps the configuration it is built with.

Version 2 (time-based forgetting): the predictive mode holds ``now_s`` (its clock, the latest
snapshot's), ``answer`` (decayed ``yes``/``total``; ``cusum``, its two sides; ``pending``
cohorts as ``[launch_s, yes, all]``; ``recent`` outcomes as a 0/1 string; ``first_s``,
``last_s``, ``count``, ``changes``), ``ring``/``talk``/``wrap`` (decayed 1-s bins as
``[index, weight]``, ``sum_s``, ``last_s``, ``count``, ``max_s``) and ``budget`` (``samples``
of ``[now_s, answered, abandoned]``). Version 1 states (forgetting by outcomes) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialer.pacing.model import Mode
from dialer.pacing.modes import Pacer, PreviewPacer, ProgressivePacer
from dialer.pacing.predictive import PredictiveConfig, PredictivePacer
from dialer.pacing.priors import PACER_STATE_VERSION

_ESTIMATORS = ("ring", "talk", "wrap")

__all__ = ["PACER_STATE_VERSION", "PacerStateError", "pacer_state", "restore_pacer"]


class PacerStateError(ValueError):
    """Saved pacer data that this code cannot restore."""


def pacer_state(pacer: Pacer) -> dict[str, Any]:
    """The learnt state of ``pacer`` (only the predictive mode learns anything)."""
    data: dict[str, Any] = {"version": PACER_STATE_VERSION, "mode": pacer.mode.value}
    if isinstance(pacer, PredictivePacer):
        data["now_s"] = pacer.now_s
        data["answer"] = pacer.answer.to_dict()
        for name in _ESTIMATORS:
            data[name] = getattr(pacer, name).to_dict()
        data["budget"] = {"samples": pacer.track.to_list()}
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
        now_s = data["now_s"]
        pacer.now_s = None if now_s is None else float(now_s)
        pacer.answer.load(data["answer"])
        for name in _ESTIMATORS:
            getattr(pacer, name).load(data[name])
        pacer.track.load(list(data["budget"]["samples"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PacerStateError(f"pacer state does not fit: {exc}") from exc
    return pacer
