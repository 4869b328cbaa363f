"""Expected abandons of a launch plan, from agent supply and answer demand curves.

On a 1-second grid k = 0..H ahead, ``supply[k]`` is the number of agents free by t+k and
``demand[k]`` the number of people answered by t+k (each a sum of independent Bernoulli terms,
kept as mean and variance). An answer at t+k is safe if an agent is free by t+k+grace, and each
agent serves at most one call inside the horizon (a handle time is far longer), so the calls
abandoned are about max_k (demand[k] - supply[k + grace])^+, which is estimated with a normal
approximation.
"""

from __future__ import annotations

import numpy as np

from dialer.pacing.estimators import FloatArray

_SQRT2 = float(np.sqrt(2.0))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))


def _erf(x: FloatArray) -> FloatArray:
    """Abramowitz-Stegun 7.1.26; absolute error below 1.5e-7."""
    sign = np.sign(x)
    ax = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * ax)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    result: FloatArray = sign * (1.0 - poly * np.exp(-ax * ax))
    return result


def expected_excess(mean: FloatArray, var: FloatArray) -> FloatArray:
    """E[max(X, 0)] for X ~ Normal(mean, var), elementwise; exact max(mean, 0) when var = 0."""
    sd = np.sqrt(np.maximum(var, 0.0))
    safe_sd = np.where(sd > 1e-9, sd, 1.0)
    z = mean / safe_sd
    cdf = 0.5 * (1.0 + _erf(z / _SQRT2))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    smooth = mean * cdf + safe_sd * pdf
    result: FloatArray = np.where(sd > 1e-9, smooth, np.maximum(mean, 0.0))
    return result


def conditional_done(
    cdf: FloatArray, ages_s: FloatArray, ahead_s: FloatArray, fallback_mean_s: float
) -> FloatArray:
    """P(duration < age + ahead | duration >= age) for each age (rows) and ahead (columns).

    ``cdf[i]`` = P(duration < i). Where the survival at ``age`` is ~0 (an age beyond everything
    seen) the row falls back to an exponential remainder with mean ``fallback_mean_s``.
    """
    last = len(cdf) - 1
    start = np.minimum(ages_s.astype(np.int64), last)
    end = np.minimum(np.maximum(start[:, None] + ahead_s.astype(np.int64)[None, :], 0), last)
    base = cdf[start]
    survival = 1.0 - base
    stale = survival <= 1e-6
    done = np.maximum(cdf[end] - base[:, None], 0.0) / np.where(stale, 1.0, survival)[:, None]
    if stale.any():
        tail = 1.0 - np.exp(-np.maximum(ahead_s, 0.0) / max(fallback_mean_s, 1.0))
        done[stale] = tail
    result: FloatArray = done
    return result


def bernoulli_sum(probs: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and variance over rows of a (items x grid) matrix of probabilities."""
    if probs.shape[0] == 0:
        zero: FloatArray = np.zeros(probs.shape[1])
        return zero, zero.copy()
    mean: FloatArray = probs.sum(axis=0)
    var: FloatArray = (probs * (1.0 - probs)).sum(axis=0)
    return mean, var


def _added_risk(
    gap_mean: FloatArray,
    gap_var: FloatArray,
    new_call: FloatArray,
    counts: FloatArray,
    base: FloatArray,
) -> FloatArray:
    """Expected abandons added by launching each of ``counts`` calls (max over the grid);
    ``base`` is the expected excess without new calls."""
    n = counts[:, None]
    mean = gap_mean + n * new_call
    var = gap_var + n * (new_call * (1.0 - new_call))
    # Abandons already bound to happen must not hide what new calls add later on.
    added: FloatArray = (expected_excess(mean, var) - base).max(axis=1)
    return added


def marginal_launches(
    gap_mean: FloatArray,
    gap_var: FloatArray,
    new_call: FloatArray,
    max_launch: int,
    max_marginal: float,
) -> tuple[int, float]:
    """Largest n <= max_launch whose every added call raises expected abandons <= max_marginal.

    ``gap_mean``/``gap_var``: demand minus supply over the grid without new calls;
    ``new_call[k]``: probability that one new call is answered by t+k. Returns (n, expected
    abandons added by those n calls). Candidates are scanned in growing blocks since n is
    usually small.
    """
    previous = 0.0
    low = 0
    block = 8
    base = expected_excess(gap_mean, gap_var)
    while low < max_launch:
        high = min(max_launch, low + block)
        counts = np.arange(low + 1, high + 1, dtype=np.float64)
        added = _added_risk(gap_mean, gap_var, new_call, counts, base)
        steps = np.diff(np.concatenate(([previous], added)))
        too_risky = np.nonzero(steps > max_marginal)[0]
        if too_risky.size:
            launch = low + int(too_risky[0])
            return launch, float(added[too_risky[0] - 1]) if too_risky[0] else previous
        previous = float(added[-1])
        low = high
        block *= 4
    return max_launch, previous
