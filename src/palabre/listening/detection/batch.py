"""Alarms over a whole window of stored buckets (hourly and 5-minute volume, negative share) and
the cooldown that makes one alert of a spike."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from palabre.listening.detection.baseline import (
    DEFAULT_CONFIG,
    Alarm,
    DetectorConfig,
    hourly_baseline,
    surprise,
)


def volume_alarms(
    hourly: Sequence[int],
    fine: Sequence[int] | None,
    *,
    start: datetime,
    fine_per_hour: int = 12,
    config: DetectorConfig = DEFAULT_CONFIG,
    evaluate_from: int = 0,
) -> list[Alarm]:
    """Volume alarms, on hourly buckets (robust z and CUSUM) and on fine buckets.

    `hourly[i]` counts mentions in hour i from `start`; `fine[j]` in the j-th fine bucket (so
    `fine` covers the same period). Only buckets from hour `evaluate_from` on are reported. A bucket
    alarms when its robust z-score passes the threshold AND its count is improbable under the
    baseline (quasi-Poisson tail): z alone is too generous with small counts.
    """
    alarms: list[Alarm] = []
    hour = timedelta(hours=1)
    cusum = 0.0
    baselines = [hourly_baseline(hourly, h, config) for h in range(len(hourly))]
    for h, count in enumerate(hourly):
        base = baselines[h]
        if base is None:
            continue
        expected, spread = base
        z = (count - expected) / spread
        cusum = max(0.0, cusum + min(z, 4.0) - config.cusum_k)  # capped: one hour feeds it, not floods it
        if h < evaluate_from:
            continue
        dispersion = spread**2 / max(expected, 1.0)
        if (
            z >= config.z_hour
            and count >= config.min_count_hour
            and count >= config.min_ratio * expected
            and surprise(count, expected, dispersion) >= config.surprise_hour
        ):
            alarms.append(Alarm(h, start + h * hour, hour, "volume", count, expected, round(z, 2), "z"))
            cusum = 0.0
        elif (
            cusum >= config.cusum_h
            and count >= config.min_count_hour
            and count >= config.cusum_ratio * expected
        ):
            alarms.append(
                Alarm(h, start + h * hour, hour, "volume", count, expected, round(cusum, 2), "cusum")
            )
            cusum = 0.0
    if fine:
        width = hour / fine_per_hour
        for j, count in enumerate(fine):
            h = j // fine_per_hour
            if (
                h < evaluate_from
                or h >= len(baselines)
                or baselines[h] is None
                or count < config.min_count_fine
            ):
                continue
            expected_h, spread_h = baselines[h]
            expected = expected_h / fine_per_hour
            dispersion = spread_h**2 / max(expected_h, 1.0)
            spread = math.sqrt(dispersion * max(expected, 1.0 / fine_per_hour))
            z = (count - expected) / spread
            if (
                z >= config.z_fine
                and count >= config.min_ratio * expected
                and surprise(count, expected, dispersion) >= config.surprise_fine
            ):
                alarms.append(Alarm(j, start + j * width, width, "volume", count, expected, round(z, 2), "z"))
    return alarms


# --- negative share ---------------------------------------------------------------------------


def negative_alarms(
    volume: Sequence[int],
    negative: Sequence[int],
    *,
    start: datetime,
    width: timedelta,
    history_buckets: int,
    config: DetectorConfig = DEFAULT_CONFIG,
    evaluate_from: int = 0,
) -> list[Alarm]:
    """Buckets whose negative count is far above the query's usual negative share.

    The usual share is that of the `history_buckets` before each bucket, shrunk towards a prior.
    """
    alarms = []
    cum_volume = [0]
    cum_negative = [0]
    for v, n in zip(volume, negative, strict=True):
        cum_volume.append(cum_volume[-1] + v)
        cum_negative.append(cum_negative[-1] + n)
    for i in range(evaluate_from, len(volume)):
        total = volume[i]
        if total < config.negative_min:
            continue
        lo = max(0, i - history_buckets)
        hist_total = cum_volume[i] - cum_volume[lo]
        hist_negative = cum_negative[i] - cum_negative[lo]
        p0 = (hist_negative + config.prior_negative * config.prior_weight) / (
            hist_total + config.prior_weight
        )
        share = negative[i] / total
        z = (negative[i] - total * p0) / math.sqrt(total * p0 * (1 - p0))
        if z >= config.negative_z and share - p0 >= config.negative_lift:
            alarms.append(
                Alarm(
                    i,
                    start + i * width,
                    width,
                    "negative_share",
                    round(share, 3),
                    round(p0, 3),
                    round(z, 2),
                    "binomial",
                )
            )
    return alarms


# --- alarms to alerts -------------------------------------------------------------------------


def apply_cooldown(
    alarms: Iterable[Alarm],
    *,
    cooldown: timedelta,
    last_alert: dict[str, datetime] | None = None,
    per_metric: bool = True,
) -> list[Alarm]:
    """One alert per metric (or per series, `per_metric=False`) per cooldown period: the first alarm known (the earliest to end: a
    5-minute bucket is complete long before its hour) speaks for the spike."""
    last = dict(last_alert or {})
    kept = []
    for alarm in sorted(alarms, key=lambda a: (a.end, -a.score)):
        key = alarm.metric if per_metric else "any"
        previous = last.get(key)
        if previous is not None and previous - cooldown < alarm.start < previous + cooldown:
            continue
        kept.append(alarm)
        last[key] = alarm.start
    return kept
