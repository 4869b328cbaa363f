"""Where a new campaign's pacer starts: priors pooled from its peers, else conservative ones.

A `PacerPriors` is what a pacer holds before its first outcome: the answer probability worth
``answer_weight`` outcomes and the ring, talk and wrap-up laws as weighted 1-s bins (the bins'
sum is their worth in observations). `pooled_priors` adds up what recent campaigns of the same
queue / trunk group learnt (their saved pacer states): each weighs by how much it saw (its
decayed weights), and the pool is scaled down to at most ``max_answer_weight`` outcomes and
``max_duration_weight`` calls, so that the new campaign's own outcomes soon dominate.

`default_priors` is for a campaign with nothing to pool: a high answer probability (0.5: the
pacer expects many answers, so it dials few calls), answers spread over the whole ring time (a
call ringing long still may answer), long talks and wrap-ups, all worth few observations. The
pacer shrinks the risk it takes by how little its answer estimate rests on
(`PredictivePacer.confidence`), so it is predictive from the first tick but cautious until its
own outcomes come in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dialer.pacing.estimators import FloatArray, bins_of, lognormal_bins, uniform_bins

# The layout of saved pacer states (`dialer.pacing.state`), which pooling reads.
PACER_STATE_VERSION = 2


@dataclass(frozen=True, slots=True, eq=False)
class LawPrior:
    """A duration law as weighted 1-s bins (the last bin holds the tail) and their sum (s)."""

    bins: FloatArray
    sum_s: float

    @property
    def weight(self) -> float:
        return float(self.bins.sum())

    def scaled(self, factor: float) -> LawPrior:
        return LawPrior(self.bins * factor, self.sum_s * factor)


@dataclass(frozen=True, slots=True, eq=False)
class PacerPriors:
    answer_probability: float
    answer_weight: float
    ring: LawPrior
    talk: LawPrior
    wrap: LawPrior


@dataclass(frozen=True, slots=True)
class PriorLimits:
    """Sizes of the laws (s) and the most a pool may weigh."""

    max_ring_s: int = 180
    max_talk_s: int = 3_600
    max_wrap_s: int = 900
    max_answer_weight: float = 400.0
    max_duration_weight: float = 100.0


def _law(bins: FloatArray) -> LawPrior:
    centres = np.arange(len(bins), dtype=np.float64) + 0.5
    return LawPrior(bins, float((bins * centres).sum()))


def default_priors(limits: PriorLimits | None = None) -> PacerPriors:
    """Conservative priors for a campaign with no peers (module docstring)."""
    lim = limits or PriorLimits()
    return PacerPriors(
        answer_probability=0.5,
        answer_weight=10.0,
        ring=_law(uniform_bins(1.0, 25.0, lim.max_ring_s, 5.0)),
        talk=_law(lognormal_bins(180.0, 120.0, lim.max_talk_s, 5.0)),
        wrap=_law(lognormal_bins(15.0, 5.0, lim.max_wrap_s, 5.0)),
    )


def pooled_priors(
    states: Iterable[Mapping[str, Any]], limits: PriorLimits | None = None
) -> PacerPriors | None:
    """Priors pooled from saved predictive pacer states (`dialer.pacing.pacer_state`); states
    of another version or mode, or that do not fit, are skipped. None when nothing usable is
    left."""
    lim = limits or PriorLimits()
    sizes = {"ring": lim.max_ring_s, "talk": lim.max_talk_s, "wrap": lim.max_wrap_s}
    yes = total = 0.0
    laws = {name: LawPrior(np.zeros(size + 1), 0.0) for name, size in sizes.items()}
    for data in states:
        if data.get("version") != PACER_STATE_VERSION or data.get("mode") != "predictive":
            continue
        try:
            one_yes = float(data["answer"]["yes"])
            one_total = float(data["answer"]["total"])
            found = {
                n: LawPrior(bins_of(data[n], s), float(data[n]["sum_s"])) for n, s in sizes.items()
            }
        except (KeyError, TypeError, ValueError):
            continue
        yes, total = yes + one_yes, total + one_total
        for name, law in found.items():
            laws[name] = LawPrior(laws[name].bins + law.bins, laws[name].sum_s + law.sum_s)
    if total <= 0 or yes <= 0 or laws["ring"].weight <= 0 or laws["talk"].weight <= 0:
        return None
    durations = max(laws["talk"].weight, laws["wrap"].weight)
    shrink = min(1.0, lim.max_duration_weight / durations)
    return PacerPriors(
        answer_probability=yes / total,
        answer_weight=min(total, lim.max_answer_weight),
        ring=laws["ring"].scaled(min(1.0, lim.max_duration_weight / laws["ring"].weight)),
        talk=laws["talk"].scaled(shrink),
        wrap=laws["wrap"].scaled(shrink) if laws["wrap"].weight > 0 else default_priors(lim).wrap,
    )
