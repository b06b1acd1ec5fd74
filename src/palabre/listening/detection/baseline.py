"""Buckets of a mention series, what an hour usually holds, and how surprising a count is."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class DetectorConfig:
    history_weeks: int = 4
    min_history: int = 3
    # volume, 5-minute buckets
    z_fine: float = 4.5
    min_count_fine: int = 4
    # volume, hourly buckets
    z_hour: float = 4.0
    min_count_hour: int = 8
    min_ratio: float = 2.0
    # -log10 of the chance of such a count under the baseline (6: one in a million buckets)
    surprise_fine: float = 5.0
    surprise_hour: float = 5.0
    cusum_ratio: float = 1.5
    relative_spread: float = 0.2
    # CUSUM on hourly robust z-scores
    cusum_k: float = 1.5
    cusum_h: float = 8.0
    # negative share
    negative_z: float = 3.5
    negative_lift: float = 0.2
    negative_min: int = 6
    prior_negative: float = 0.15
    prior_weight: float = 20.0
    cooldown: timedelta = timedelta(hours=3)


DEFAULT_CONFIG = DetectorConfig()  # frozen: safe as a default argument


@dataclass(frozen=True)
class Alarm:
    index: int  # bucket index in the series it was found in
    start: datetime
    width: timedelta
    metric: str  # "volume" or "negative_share"
    observed: float
    expected: float
    score: float
    rule: str  # "z", "cusum" or "binomial"

    @property
    def end(self) -> datetime:
        return self.start + self.width


# --- series -----------------------------------------------------------------------------------


def floor_time(moment: datetime, width: timedelta) -> datetime:
    """The start of the bucket holding `moment`, in UTC: Python subtracts two times of one named
    zone by their wall clocks, so a series across a change of summer time would lose an hour."""
    seconds = int(width.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def bucket_counts(
    events: Iterable[tuple[datetime, bool]], *, start: datetime, end: datetime, width: timedelta
) -> tuple[list[int], list[int]]:
    """(volume, negatives) per bucket of `width` from `start` (included) to `end` (excluded)."""
    size = max(0, math.ceil((end - start) / width))
    volume, negative = [0] * size, [0] * size
    for moment, is_negative in events:
        if start <= moment < end:
            i = (moment - start) // width  # exact: a float ratio may round up to the last edge
            volume[i] += 1
            negative[i] += bool(is_negative)
    return volume, negative


def slot_of_week(moment: datetime) -> int:
    return moment.weekday() * 24 + moment.hour


# --- volume baseline --------------------------------------------------------------------------


def _history(hourly: Sequence[int], h: int, config: DetectorConfig) -> list[int]:
    """Past counts that say what hour `h` usually holds: the same hour of the week in the previous
    weeks (counted twice) and its neighbouring hours; for a young query, the same hours of the
    previous days. Four values alone give a jumpy median; twelve or so steady it."""
    weeks = range(1, config.history_weeks + 1)
    same = [hourly[h - HOURS_PER_WEEK * k] for k in weeks if h - HOURS_PER_WEEK * k >= 0]
    near = [
        hourly[h - HOURS_PER_WEEK * k + d]
        for k in weeks
        for d in (-1, 1)
        if 0 <= h - HOURS_PER_WEEK * k + d < h
    ]
    values = same + same + near
    if len(same) >= config.min_history:
        return values
    return values + [
        hourly[h - 24 * d + offset]
        for d in range(1, 8)
        for offset in (-1, 0, 1)
        if 0 <= h - 24 * d + offset < h and d % 7
    ]


def hourly_baseline(hourly: Sequence[int], h: int, config: DetectorConfig) -> tuple[float, float] | None:
    """(expected count, robust spread) for hour `h` from the hours before it; None without history."""
    values = _history(hourly, h, config)
    if len(values) < config.min_history:
        return None
    centre = float(median(values))
    mad = float(median(abs(v - centre) for v in values))
    # Never narrower than Poisson noise (a quiet, flat history must not make any blip a spike),
    # nor than the day-to-day swing every social series has (a busy day is not a crisis).
    spread = max(1.4826 * mad, math.sqrt(max(centre, 1.0)), config.relative_spread * centre)
    return centre, spread


def poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    mean = max(mean, 1e-9)
    term = math.exp(-mean)
    below = 0.0
    for k in range(count):
        below += term
        term *= mean / (k + 1)
    if below < 0.999:
        return max(0.0, 1.0 - below)
    # 1 - below loses its digits: sum the upper terms directly (term is P(X = count) here).
    tail, k = 0.0, count
    while term > 1e-300 and k < count + 1000:
        tail += term
        k += 1
        term *= mean / k
    return tail


def surprise(count: float, expected: float, dispersion: float) -> float:
    """-log10 of the chance of `count` or more where `expected` is usual; quasi-Poisson, so an
    over-dispersed history (variance `dispersion` times the mean) needs a larger count."""
    d = max(dispersion, 1.0)
    tail = poisson_tail(math.ceil(count / d), expected / d)
    return -math.log10(max(tail, 1e-300))


def tail_limit(values: Sequence[float], *, risk: float, quantile: float) -> float | None:
    """The value passed with probability `risk`, from a generalised Pareto distribution fitted by
    the method of moments on the peaks over the `quantile` of `values` (peaks over threshold, as in
    Siffer et al., 2017, "Anomaly detection in streams with extreme value theory"); None while fewer
    than a day of 5-minute values exist."""
    if len(values) < 288:
        return None
    top = heapq.nlargest(round((1 - quantile) * len(values)) + 1, values)
    threshold = top[-1]
    peaks = [v - threshold for v in top if v > threshold]
    if len(peaks) < 10:
        return threshold
    mean = sum(peaks) / len(peaks)
    variance = sum((p - mean) ** 2 for p in peaks) / (len(peaks) - 1)
    if variance <= 0:
        return threshold
    shape = 0.5 * (1 - mean * mean / variance)
    scale = 0.5 * mean * (mean * mean / variance + 1)
    odds = risk * len(values) / len(peaks)
    if abs(shape) < 1e-6:
        return threshold - scale * math.log(odds)
    return threshold + scale / shape * (odds ** (-shape) - 1)
