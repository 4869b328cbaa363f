"""Online estimates that forget by time: half-lives in seconds, not in outcomes.

An observation made ``h`` seconds before another weighs ``2 ** (-h / half_life_s)`` of it.
Weights are kept as decayed sums: when an observation arrives at a later moment every sum is
multiplied by the decay since the previous one, so only differences of moments matter (any
clock origin gives the same estimates) and nothing overflows. The moment of an observation
is given by the caller (the pacer uses the time of its latest snapshot); ``None`` means "no
clock yet": no decay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def decay(since_s: float | None, at_s: float | None, half_life_s: float) -> float:
    """The factor old weights are multiplied by between two moments (1 without a clock)."""
    if since_s is None or at_s is None or at_s <= since_s:
        return 1.0
    return float(2.0 ** (-(at_s - since_s) / half_life_s))


RECENT_OUTCOMES = 256


def changed_at(outcomes: str, p: float, min_after: int = 10) -> int:
    """Where in ``outcomes`` ("1" yes, "0" no, oldest first) a rate ``p`` most likely changed:
    the start of the suffix (at least ``min_after`` long when possible) whose own rate is the
    likeliest against ``p`` (largest log-likelihood ratio)."""
    best, best_ratio = 0, -1.0
    yes = 0
    for start in range(len(outcomes) - 1, -1, -1):
        yes += outcomes[start] == "1"
        n = len(outcomes) - start
        if n < min_after and start > 0:
            continue
        q = min(max(yes / n, 1e-9), 1.0 - 1e-9)
        ratio = yes * math.log(q / p) + (n - yes) * math.log((1.0 - q) / (1.0 - p))
        if ratio > best_ratio:
            best, best_ratio = start, ratio
    return best


class AnswerRate:
    """Probability of a yes/no event that forgets by time and detects changes (CUSUM).

    The value ``p`` is a decayed mean (half-life ``half_life_s``). A two-sided Bernoulli CUSUM
    watches the outcomes against it: each side adds the log-likelihood ratio of the outcome
    under ``p`` shifted up (resp. down) by ``max(cusum_k, min(p, 1 - p) / 2)`` against ``p``
    (a side never goes below 0); its threshold in nats is about the log of the outcomes
    between false alarms. When a side passes its threshold (``cusum_h_up`` for a rise,
    the dangerous way: more answers than agents; ``cusum_h`` for a fall) the rate has changed:
    the value restarts from the outcomes since the likeliest moment of the change among the
    latest ``RECENT_OUTCOMES`` (`changed_at`), plus ``keep_weight`` outcomes at the old value,
    so a rise or a fall is learnt within a few dozen outcomes instead of a half-life;
    the small weight also tells the pacer to be cautious until more come in. ``changes``
    counts such restarts. The CUSUM is armed after ``arm_after`` outcomes and ``arm_after_s``
    seconds from the first: a new campaign's first answers come before its first unanswered
    calls end (ring times are shorter than the no-answer timeout), which is learning, not a
    change. The CUSUM watches outcomes by launch cohort (`_settle`): those of calls launched in
    the same second, once ``settle_s`` (more than the no-answer timeout) has passed.
    """

    def __init__(
        self,
        half_life_s: float,
        cusum_k: float = 0.05,
        cusum_h: float = 11.0,
        cusum_h_up: float = 9.0,
        keep_weight: float = 5.0,
        arm_after: int = 100,
        arm_after_s: float = 300.0,
        settle_s: float = 40.0,
    ) -> None:
        self._half_life_s = half_life_s
        self._arm_after = arm_after
        self._arm_after_s = arm_after_s
        self.first_s: float | None = None
        self._settle_s = settle_s
        # outcomes waiting for their launch second's cohort to settle: launch s -> [yes, all]
        self.pending: dict[int, list[int]] = {}
        self._k = cusum_k
        self._h = (cusum_h_up, cusum_h)
        self._keep = keep_weight
        self.yes = 0.0
        self.total = 0.0
        self.sides = [0.0, 0.0]  # CUSUM of a rise, of a fall
        self.recent = ""  # the latest outcomes, "1" yes "0" no, oldest first
        self.last_s: float | None = None
        self.count = 0
        self.changes = 0

    def seed(self, probability: float, weight: float) -> None:
        """Start from ``probability`` worth ``weight`` outcomes (a prior)."""
        self.yes, self.total = probability * weight, weight

    def add(self, yes: bool, at_s: float | None = None, after_s: float = 0.0) -> None:
        """One outcome known at ``at_s``, of a call launched ``after_s`` before."""
        if at_s is not None and self.first_s is None:
            self.first_s = at_s
        if at_s is None:
            if self._armed(at_s):
                self._watch(int(yes), 1)
        else:
            cohort = self.pending.setdefault(math.floor(at_s - after_s), [0, 0])
            cohort[0] += int(yes)
            cohort[1] += 1
            self._settle(at_s)
        factor = decay(self.last_s, at_s, self._half_life_s)
        self.yes = self.yes * factor + yes
        self.total = self.total * factor + 1.0
        if at_s is not None:
            self.last_s = at_s if self.last_s is None else max(self.last_s, at_s)
        self.count += 1

    def _armed(self, at_s: float | None) -> bool:
        if self.count < self._arm_after:
            return False
        return at_s is None or self.first_s is None or at_s - self.first_s >= self._arm_after_s

    def _settle(self, now_s: float) -> None:
        """Watch the cohorts launched ``settle_s`` or more before ``now_s``, oldest first.

        The outcomes of calls launched together do not arrive mixed: the answers within the
        ring time, the unanswered ones together at the timeout. Watched in arrival order, a
        large launch reads as a run of answers then a run of no-answers: false changes."""
        for launched in sorted(k for k in self.pending if k <= now_s - self._settle_s):
            yes, total = self.pending.pop(launched)
            if self._armed(now_s):
                self._watch(yes, total)

    def _watch(self, yes: int, total: int) -> None:
        p = min(max(self.value, 0.01), 0.99)
        ones = "1" * yes + "0" * (total - yes)
        self.recent = (self.recent + ones)[-RECENT_OUTCOMES:]
        shift = max(self._k, 0.5 * min(p, 1.0 - p))
        for index, other in enumerate((p + shift, p - shift)):
            other = min(max(other, 0.005), 0.995)
            # log-likelihood ratio of the shifted rate against the current one
            step = yes * math.log(other / p) + (total - yes) * math.log((1.0 - other) / (1.0 - p))
            self.sides[index] = max(0.0, self.sides[index] + step)
            if self.sides[index] > self._h[index]:
                after = self.recent[changed_at(self.recent, p) :]
                self.yes = after.count("1") + self._keep * p
                self.total = len(after) + self._keep
                self.sides = [0.0, 0.0]
                self.changes += 1
                return

    @property
    def value(self) -> float:
        return self.yes / self.total if self.total > 0 else 0.0

    @property
    def weight(self) -> float:
        """Effective number of outcomes behind ``value`` (priors included)."""
        return self.total

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; the half-life and thresholds are configuration."""
        return {
            "yes": self.yes,
            "total": self.total,
            "cusum": list(self.sides),
            "pending": [[k, y, n] for k, (y, n) in sorted(self.pending.items())],
            "recent": self.recent,
            "first_s": self.first_s,
            "last_s": self.last_s,
            "count": self.count,
            "changes": self.changes,
        }

    def load(self, data: Mapping[str, Any]) -> None:
        self.yes = float(data["yes"])
        self.total = float(data["total"])
        sides = [float(x) for x in data["cusum"]]
        recent = str(data["recent"])
        if len(sides) != 2 or set(recent) - {"0", "1"}:
            raise ValueError("cusum of two sides and recent outcomes as 0/1 expected")
        self.sides, self.recent = sides, recent
        self.pending = {int(k): [int(y), int(n)] for k, y, n in data["pending"]}
        first = data["first_s"]
        self.first_s = None if first is None else float(first)
        last = data["last_s"]
        self.last_s = None if last is None else float(last)
        self.count = int(data["count"])
        self.changes = int(data["changes"])


class DecayingHistogram:
    """Distribution of a duration on 1-second bins ``[i, i+1)``; the last bin holds the tail."""

    def __init__(self, max_s: int, half_life_s: float) -> None:
        self._half_life_s = half_life_s
        self._bins: FloatArray = np.zeros(max_s + 1)
        self._sum_s = 0.0
        self._cdf: FloatArray | None = None
        self.last_s: float | None = None
        self.count = 0

    @property
    def max_s(self) -> int:
        return len(self._bins) - 1

    @property
    def weight(self) -> float:
        """Effective number of observations (priors included)."""
        return float(self._bins.sum())

    def seed(self, bins: FloatArray, sum_s: float) -> None:
        """Add prior weight: ``bins`` per 1-s bin (same size), ``sum_s`` their weighted sum."""
        self._bins = self._bins + bins
        self._sum_s += sum_s
        self._cdf = None

    def add(self, duration_s: float, at_s: float | None = None) -> None:
        factor = decay(self.last_s, at_s, self._half_life_s)
        if factor != 1.0:
            self._bins *= factor
            self._sum_s *= factor
        if at_s is not None:
            self.last_s = at_s if self.last_s is None else max(self.last_s, at_s)
        index = min(max(int(duration_s), 0), self.max_s)
        self._bins[index] += 1.0
        self._sum_s += max(duration_s, 0.0)
        self._cdf = None
        self.count += 1

    def bins(self) -> FloatArray:
        return self._bins.copy()

    def sum_s(self) -> float:
        return self._sum_s

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data: the non-empty bins as ``[index, weight]`` pairs."""
        nonzero = np.nonzero(self._bins)[0]
        return {
            "sum_s": self._sum_s,
            "count": self.count,
            "last_s": self.last_s,
            "max_s": self.max_s,
            "bins": [[int(i), float(self._bins[i])] for i in nonzero],
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Take the learnt weights of ``to_dict``; ``ValueError`` if the bins do not fit."""
        self._bins = bins_of(data, self.max_s)
        self._sum_s = float(data["sum_s"])
        self.count = int(data["count"])
        last = data["last_s"]
        self.last_s = None if last is None else float(last)
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


def bins_of(data: Mapping[str, Any], max_s: int) -> FloatArray:
    """The bins of a saved histogram (``to_dict``); ``ValueError`` if of another size."""
    if int(data["max_s"]) != max_s:
        raise ValueError(f"histogram of {data['max_s']} s, expected {max_s} s")
    bins: FloatArray = np.zeros(max_s + 1)
    for index, weight in data["bins"]:
        bins[int(index)] = float(weight)
    return bins


def lognormal_params(mean_s: float, sd_s: float) -> tuple[float, float]:
    """(mu, sigma) of the normal whose exponential has the given mean and sd."""
    sigma2 = math.log(1.0 + (sd_s / mean_s) ** 2)
    return math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2)


def lognormal_bins(mean_s: float, sd_s: float, max_s: int, weight: float) -> FloatArray:
    """``weight`` observations spread over 1-s bins as a lognormal law (tail in the last bin)."""
    mu, sigma = lognormal_params(mean_s, sd_s)
    edges = np.arange(1, max_s + 1, dtype=np.float64)
    z = (np.log(edges) - mu) / (sigma * math.sqrt(2.0))
    cdf = 0.5 * (1.0 + np.array([math.erf(v) for v in z]))
    cum = np.concatenate(([0.0], cdf, [1.0]))
    result: FloatArray = np.diff(cum) * weight
    return result


def uniform_bins(low_s: float, high_s: float, max_s: int, weight: float) -> FloatArray:
    """``weight`` observations spread evenly over the bins of ``[low_s, high_s)``."""
    bins: FloatArray = np.zeros(max_s + 1)
    first, last = int(low_s), max(int(low_s), min(math.ceil(high_s) - 1, max_s))
    bins[first : last + 1] = weight / (last - first + 1)
    return bins
