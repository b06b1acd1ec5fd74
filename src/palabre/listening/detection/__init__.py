"""Spike detection on mention series: pure functions, no Django (the bench replays them too).

A query's mentions become two series, volume and negative share, in 5-minute and hourly buckets.
Each bucket is compared with a baseline by hour of week (Monday 9h is not Sunday 3h):

- volume: the median of the same hour-of-week slot over the previous weeks, its spread by the
  median absolute deviation (MAD) floored by Poisson noise, a robust z-score per bucket, and a
  one-sided CUSUM on hourly z-scores for slow build-ups that no single hour gives away;
- negative share: a binomial test of the bucket's negative count against the query's share over
  the previous weeks (with a Beta prior, so a few mentions prove nothing).

Sparse series are handled by pooling neighbouring hours, then the same hour on other days, and by
minimum counts: 0 -> 2 mentions is not a crisis. Explanations: `emerging_terms` compares the words
of the spike with those of the baseline (log-odds ratio with an informative Dirichlet prior).
"""

from palabre.listening.detection.baseline import (
    HOURS_PER_WEEK,
    Alarm,
    DetectorConfig,
    bucket_counts,
    floor_time,
    hourly_baseline,
    poisson_tail,
    slot_of_week,
    surprise,
    tail_limit,
)
from palabre.listening.detection.batch import apply_cooldown, negative_alarms, volume_alarms
from palabre.listening.detection.nature import SpikeNature, spike_nature
from palabre.listening.detection.streaming import StreamConfig, StreamingDetector
from palabre.listening.detection.terms import STOPWORDS, EmergingTerm, emerging_terms, spelled_as, terms_of

__all__ = [
    "HOURS_PER_WEEK",
    "STOPWORDS",
    "Alarm",
    "DetectorConfig",
    "EmergingTerm",
    "SpikeNature",
    "StreamConfig",
    "StreamingDetector",
    "apply_cooldown",
    "bucket_counts",
    "emerging_terms",
    "floor_time",
    "hourly_baseline",
    "negative_alarms",
    "poisson_tail",
    "slot_of_week",
    "spike_nature",
    "surprise",
    "tail_limit",
    "spelled_as",
    "terms_of",
    "volume_alarms",
]
