"""Online estimates with exponential forgetting.

Each new observation weighs ``2 ** (1 / half_life)`` times the previous one, so an observation
``half_life`` observations old counts half as much as the newest. Weights grow geometrically
instead of old ones decaying, which keeps an update O(1); they are rescaled before overflowing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

_RESCALE_AT = 1e200

FloatArray = npt.NDArray[np.float64]


class ForgettingRate:
    """Probability of a yes/no event, starting from ``prior`` worth ``prior_weight`` events."""

    def __init__(self, half_life: float, prior: float, prior_weight: float) -> None:
        self._growth = 2.0 ** (1.0 / half_life)
        self._step = 1.0
        self._yes = prior * prior_weight
        self._total = prior_weight
        self.count = 0

    def add(self, yes: bool) -> None:
        self._step *= self._growth
        self._total += self._step
        if yes:
            self._yes += self._step
        self.count += 1
        if self._step > _RESCALE_AT:
            self._yes /= self._step
            self._total /= self._step
            self._step = 1.0

    @property
    def value(self) -> float:
        return self._yes / self._total if self._total > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; the half-life is configuration and is not included."""
        return {"step": self._step, "yes": self._yes, "total": self._total, "count": self.count}

    def load(self, data: Mapping[str, Any]) -> None:
        """Take the learnt weights of ``to_dict`` (this object keeps its half-life)."""
        self._step = float(data["step"])
        self._yes = float(data["yes"])
        self._total = float(data["total"])
        self.count = int(data["count"])


class ForgettingHistogram:
    """Distribution of a duration on 1-second bins ``[i, i+1)``; the last bin holds the tail."""

    def __init__(self, max_s: int, half_life: float) -> None:
        self._growth = 2.0 ** (1.0 / half_life)
        self._step = 1.0
        self._bins: FloatArray = np.zeros(max_s + 1)
        self._sum_s = 0.0
        self._cdf: FloatArray | None = None
        self.count = 0

    @property
    def max_s(self) -> int:
        return len(self._bins) - 1

    def add(self, duration_s: float) -> None:
        self._step *= self._growth
        index = min(max(int(duration_s), 0), self.max_s)
        self._bins[index] += self._step
        self._sum_s += self._step * max(duration_s, 0.0)
        self._cdf = None
        self.count += 1
        if self._step > _RESCALE_AT:
            self._bins /= self._step
            self._sum_s /= self._step
            self._step = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data: the non-empty bins as ``[index, weight]`` pairs."""
        nonzero = np.nonzero(self._bins)[0]
        return {
            "step": self._step,
            "sum_s": self._sum_s,
            "count": self.count,
            "max_s": self.max_s,
            "bins": [[int(i), float(self._bins[i])] for i in nonzero],
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Take the learnt weights of ``to_dict``; ``ValueError`` if the bins do not fit."""
        if int(data["max_s"]) != self.max_s:
            raise ValueError(f"histogram of {data['max_s']} s, expected {self.max_s} s")
        bins: FloatArray = np.zeros(self.max_s + 1)
        for index, weight in data["bins"]:
            bins[int(index)] = float(weight)
        self._bins = bins
        self._step = float(data["step"])
        self._sum_s = float(data["sum_s"])
        self.count = int(data["count"])
        self._cdf = None

    def mean_s(self) -> float:
        total = float(self._bins.sum())
        return self._sum_s / total if total > 0 else 0.0

    def cdf(self) -> FloatArray:
        """``cdf()[i]`` = P(duration < i) for i in 0..max_s+1 (length max_s + 2)."""
        if self._cdf is None:
            total = float(self._bins.sum())
            cum = np.concatenate(([0.0], np.cumsum(self._bins)))
            self._cdf = cum / total if total > 0 else np.ones_like(cum)
        return self._cdf


def lognormal_params(mean_s: float, sd_s: float) -> tuple[float, float]:
    """(mu, sigma) of the normal whose exponential has the given mean and sd."""
    sigma2 = math.log(1.0 + (sd_s / mean_s) ** 2)
    return math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2)
