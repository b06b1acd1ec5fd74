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

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from palabre.nlp.normalize import fold

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


def volume_alarms(
    hourly: Sequence[int],
    fine: Sequence[int] | None,
    *,
    start: datetime,
    fine_per_hour: int = 12,
    config: DetectorConfig = DetectorConfig(),
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
    config: DetectorConfig = DetectorConfig(),
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


# --- crisis or launch: what listening knows beyond volume ------------------------------------


@dataclass(frozen=True)
class SpikeNature:
    """Whether a volume spike reads as a crisis (bad buzz) or a launch (a rise people welcome)."""

    nature: str  # "crisis", "launch" or "unclear"
    negative_share: float  # of the spike's mentions
    usual_negative_share: float  # of the weeks before, shrunk towards the prior
    negative_z: float  # binomial z of the spike's negatives against the usual share
    influential: int  # the spike's most-followed authors counted
    influential_negative: int  # of them, those whose mention is negative
    negative_terms: tuple[str, ...]  # emerging terms carried mostly by negative mentions


def spike_nature(
    *,
    mentions: int,
    negatives: int,
    baseline_mentions: int,
    baseline_negatives: int,
    influential: int = 0,
    influential_negative: int = 0,
    negative_terms: Sequence[str] = (),
    config: DetectorConfig = DetectorConfig(),
) -> SpikeNature:
    """Tell a crisis from a launch with what listening knows beyond volume: a crisis when the
    spike's negative share is clearly above the query's usual (binomial z >= 1.96 and at least
    `negative_lift` / 2 more), or when most of its influential authors are negative; a launch when
    its negative share is not above the usual, no influential author leads a negative wave and no
    emerging term is carried by negative mentions; unclear otherwise (too few mentions: fewer than
    `negative_min`)."""
    p0 = (baseline_negatives + config.prior_negative * config.prior_weight) / (
        baseline_mentions + config.prior_weight
    )
    share = negatives / mentions if mentions else 0.0
    z = (negatives - mentions * p0) / math.sqrt(mentions * p0 * (1 - p0)) if mentions else 0.0
    negative_authors = influential >= 2 and 2 * influential_negative > influential
    if (mentions >= config.negative_min and z >= 1.96 and share - p0 >= config.negative_lift / 2) or (
        negative_authors
    ):
        nature = "crisis"
    elif mentions >= config.negative_min and z < 1.0 and not negative_terms and influential_negative == 0:
        nature = "launch"
    else:
        nature = "unclear"
    return SpikeNature(
        nature,
        round(share, 3),
        round(p0, 3),
        round(z, 2),
        influential,
        influential_negative,
        tuple(negative_terms),
    )


# --- why: emerging terms ----------------------------------------------------------------------

_WORD = re.compile(r"#?[a-z0-9][a-z0-9_-]{2,}")
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")
_URL = re.compile(r"https?://\S+|www\.\S+")
STOPWORDS = frozenset(
    [
        "les",
        "des",
        "une",
        "est",
        "pas",
        "que",
        "qui",
        "pour",
        "dans",
        "sur",
        "avec",
        "par",
        "plus",
        "tout",
        "tous",
        "mais",
        "son",
        "ses",
        "aux",
        "ete",
        "etre",
        "avoir",
        "fait",
        "faire",
        "elle",
        "ils",
        "nous",
        "vous",
        "leur",
        "leurs",
        "cette",
        "ces",
        "comme",
        "ont",
        "sont",
        "sans",
        "tres",
        "bien",
        "deja",
        "encore",
        "aussi",
        "alors",
        "donc",
        "car",
        "quand",
        "meme",
        "apres",
        "avant",
        "chez",
        "entre",
        "rien",
        "peu",
        "trop",
        "moins",
        "lui",
        "oui",
        "non",
        "ici",
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "are",
        "was",
        "were",
        "you",
        "your",
        "our",
        "they",
        "their",
        "from",
        "have",
        "has",
        "had",
        "not",
        "but",
        "all",
        "just",
        "can",
        "will",
        "would",
        "about",
        "what",
        "when",
        "there",
        "been",
        "more",
        "some",
        "than",
        "them",
        "then",
        "out",
        "get",
        "got",
        "its",
    ]
)


def terms_of(text: str) -> set[str]:
    """The distinct terms of a text: folded, elisions cut, hashtags kept, stop words left out."""
    folded = _ELISION.sub(" ", _URL.sub(" ", fold(text).replace("’", "'")))
    return {
        word for word in _WORD.findall(folded) if word.lstrip("#") not in STOPWORDS and not word.isdigit()
    }


@dataclass(frozen=True)
class EmergingTerm:
    term: str
    score: float  # z-score of the log-odds ratio
    recent: int  # documents of the spike that contain it
    baseline: int  # documents of the baseline that contain it


def emerging_terms(
    recent: Sequence[str], baseline: Sequence[str], *, top: int = 10, prior: float = 10.0, min_recent: int = 2
) -> list[EmergingTerm]:
    """Terms over-represented in `recent` against `baseline`: log-odds ratio with an informative
    Dirichlet prior (Monroe, Colaresi & Quinn, 2008), counted in documents so one repeated word
    does not count as a trend."""
    recent_counts = Counter(term for text in recent for term in terms_of(text))
    baseline_counts = Counter(term for text in baseline for term in terms_of(text))
    n_recent = sum(recent_counts.values())
    n_baseline = sum(baseline_counts.values())
    if not n_recent:
        return []
    vocabulary = recent_counts.keys() | baseline_counts.keys()
    total = n_recent + n_baseline
    alpha0 = prior * len(vocabulary)
    results = []
    for term, y_r in recent_counts.items():
        if y_r < min_recent:
            continue
        y_b = baseline_counts.get(term, 0)
        alpha = alpha0 * (y_r + y_b) / total
        delta = math.log((y_r + alpha) / (n_recent + alpha0 - y_r - alpha)) - math.log(
            (y_b + alpha) / (n_baseline + alpha0 - y_b - alpha)
        )
        z = delta / math.sqrt(1.0 / (y_r + alpha) + 1.0 / (y_b + alpha))
        if z > 0:
            results.append(EmergingTerm(term, round(z, 2), y_r, y_b))
    results.sort(key=lambda t: (-t.score, t.term))
    return results[:top]


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


# --- streaming: one 5-minute count at a time ----------------------------------------------------


@dataclass(frozen=True)
class StreamConfig:
    """The streaming detector's settings; chosen on the generated series of `bench/crisis_detection`
    and from first principles (see docs/listening-alerts.md), never fitted on an evaluation set."""

    fine: timedelta = timedelta(minutes=5)
    per_hour: int = 12
    # runs of fine buckets judged together: 15 minutes (a burst) and an hour (a build-up); each is
    # judged without its busiest bucket, so one busy 5 minutes alone is a blip, not a crisis
    runs: tuple[int, ...] = (3, 12)
    # -log10 chance of the run (less its busiest bucket) under the baseline
    surprise: float = 4.0
    min_ratio: float = 3.0
    min_count: int = 6  # mentions in the run, at least
    # history for young queries: the hours before, when no day has passed yet
    recent_hours: int = 6
    first_hours: int = 2  # no alarm before this many complete hours
    relative_spread: float = 0.25
    relative_spread_warmup: float = 0.6
    surprise_warmup: float = 7.0  # less history, a higher bar
    burst_hours: int = 168
    level_floor: float = 0.5
    level_cap: float = 2.0
    silence: timedelta = timedelta(hours=3)  # an alarm within this of the previous is the same event
    # One alarm per episode: after an alarm the detector is re-armed only once a complete hour has
    # fallen back to at most `rearm_ratio` times its baseline (a long bad buzz is one alert).
    rearm_ratio: float = 1.5
    # Calibration per series (extreme values, peaks over threshold): a run's log ratio to its usual
    # must also pass the level that this series' own runs of that length exceed with probability
    # `risk` per 5 minutes: a generalised Pareto tail fitted on the last `calibration_days` of them
    # (peaks over their `tail_quantile`), refitted every hour. A news-driven series (many big swings)
    # needs a larger spike than a steady one. 1e-4: about once in 35 days of one series' buckets.
    risk: float = 1e-4
    calibration_days: int = 14
    tail_quantile: float = 0.98
    # A bucket alone (no run) alarms only at `record_factor` times the largest ratio any single
    # bucket of this series reached in the last `calibration_days` (its blips included): a blip of
    # the usual size never does, a burst far beyond anything the series has shown does.
    record_factor: float = 2.0
    # A quiet hour's usual count is never taken below this share of the query's median hour over
    # the last week: 3 times a night's handful is not a crisis.
    typical_floor: float = 0.5


class StreamingDetector:
    """Reads one count per fine bucket, in time order, and says at each bucket's end whether a spike
    is known. Only what came before is used, so a prefix of a series gives exactly the alarms of the
    whole run up to its end (a test pins it).

    Baseline for the hour being counted: the same hour of the previous weeks once three weeks exist,
    the same hour of the previous days once a day exists, the hours just before until then (the
    warm-up, told in every alarm, with a higher bar). Its level follows slow growth: the last day's
    counts against their own baseline rescale it. A run of fine buckets (15 minutes, an hour) less
    its busiest bucket must be improbable (quasi-Poisson tail), at least `min_ratio` times the
    usual, and past the limit calibrated on this series' own runs of that length (extreme values:
    a news-driven series needs a larger spike than a steady one). A bucket alone alarms only at
    twice the largest ratio any bucket of the series reached in the last two weeks, blips included.
    One alarm per episode: the next needs a complete hour back near its usual count first.
    """

    def __init__(self, config: StreamConfig = StreamConfig(), detector: DetectorConfig = DetectorConfig()):
        self.config = config
        self.detector = detector
        self.start: datetime | None = None
        self.fine: list[int] = []
        self.hourly: list[int] = []
        self._baseline: tuple[float, float, str] | None = None
        self._last_alarm: datetime | None = None
        self._raw: float | None = None
        self._centres: list[float | None] = []
        self._bursts: list[float] = []  # each hour's baseline, for the level of the last day
        # per run length: its log ratios to the usual, and the limit this series passes rarely
        self._ratios: dict[int, list[float]] = {}
        self._limits: dict[int, float | None] = {}
        self._armed = True

    # history depth, in words the explanation uses
    def warmup(self, h: int) -> str:
        if h >= HOURS_PER_WEEK * self.detector.min_history:
            return "weeks"
        if h >= HOURS_PER_WEEK:
            return "week"
        if h >= 24:
            return "day"
        return "hours"

    def _hour_baseline(self, h: int) -> tuple[float, float, str] | None:
        hourly = self.hourly
        if h < self.config.first_hours:
            return None
        kind = self.warmup(h)
        if kind == "hours":
            values = hourly[max(0, h - self.config.recent_hours) : h]
        else:
            values = _history(hourly, h, self.detector)
        if len(values) < self.config.first_hours:
            return None
        centre = float(median(values))
        mad = float(median(abs(v - centre) for v in values))
        self._raw = centre
        relative = self.config.relative_spread
        if kind == "hours":  # the daily rhythm is not known yet: a morning rise is no spike
            relative = self.config.relative_spread_warmup
        else:
            centre *= self._level(h)
        if h >= 24:  # a quiet hour's handful is weighed against the query's typical hour too
            typical = float(median(hourly[max(0, h - HOURS_PER_WEEK) : h]))
            centre = max(centre, self.config.typical_floor * typical)
        spread = max(1.4826 * mad, math.sqrt(max(centre, 1.0)), relative * centre)
        return centre, spread, kind

    def _note_burstiness(self, buckets: list[int]) -> None:
        """Variance over mean of the fine buckets of a complete hour (1 for Poisson counts)."""
        mean = sum(buckets) / len(buckets)
        if mean >= 0.5:
            variance = sum((b - mean) ** 2 for b in buckets) / (len(buckets) - 1)
            self._bursts.append(variance / mean)
            del self._bursts[: -self.config.burst_hours]

    def burstiness(self) -> float:
        """How much busier than Poisson 5-minute counts run within an hour: the median over the
        last `burst_hours` hours that had mentions (1 until some have)."""
        if len(self._bursts) < 3:
            return 1.0
        return max(1.0, float(median(self._bursts)))

    def _level(self, h: int) -> float:
        """How the last day ran against its own baselines (slow growth, a quiet holiday), each hour
        capped at twice its baseline so a spike does not lift the next day's."""
        pairs = [(self.hourly[i], c) for i in range(max(0, h - 24), h) if (c := self._centres[i]) is not None]
        usual = sum(c for _a, c in pairs)
        if len(pairs) < 12 or usual < 12:
            return 1.0
        seen = sum(min(a, 2 * c) for a, c in pairs)
        return min(max(seen / usual, self.config.level_floor), self.config.level_cap)

    def _close_hour(self, count: int) -> None:
        """An hour is complete: re-arm after an episode, note how far it strayed from its baseline."""
        base = self._baseline
        if base is None:
            return
        expected = base[0]
        if count <= self.config.rearm_ratio * max(expected, 1.0):
            self._armed = True
        for length, values in self._ratios.items():
            if length == 1:
                enough = len(values) >= 24 * self.config.per_hour
                self._limits[1] = max(values) + math.log(self.config.record_factor) if enough else None
            else:
                self._limits[length] = tail_limit(
                    values, risk=self.config.risk, quantile=self.config.tail_quantile
                )

    def _calibrate(self, length: int, value: float) -> bool:
        """Note a run's log ratio to its usual; say whether it passes this series' calibrated limit
        for runs of its length (a run past the limit is left out of the series' usual).
        Without a limit yet (a first day), a run passes and a bucket alone does not."""
        limit = self._limits.get(length)
        # a bucket alone is always noted: blips recur, and a series that has them learns their size
        if limit is None or value < limit or length == 1:
            values = self._ratios.setdefault(length, [])
            values.append(value)
            del values[: -self.config.calibration_days * 24 * self.config.per_hour]
        if limit is None:
            return length > 1
        return value >= limit

    def push(self, moment: datetime, count: int) -> list[tuple[datetime, Alarm, str]]:
        """Add the count of the fine bucket starting at `moment`; return the alarms known at its end
        as (known at, alarm, warm-up)."""
        config = self.config
        if self.start is None:
            self.start = moment
        j = (moment - self.start) // config.fine
        if j < len(self.fine):
            raise ValueError(f"rows out of time order at {moment.isoformat()}")
        found = []
        while len(self.fine) <= j:  # a gap counts as empty buckets
            found = self._add(0 if len(self.fine) < j else int(count))
        return found

    def _add(self, count: int) -> list[tuple[datetime, Alarm, str]]:
        config = self.config
        j = len(self.fine)
        self.fine.append(count)
        h, k = divmod(j, config.per_hour)
        if k == 0:
            if h:
                last = self.fine[-config.per_hour - 1 : -1]
                self.hourly.append(sum(last))
                self._note_burstiness(last)
                self._close_hour(sum(last))
            self._raw = None
            self._baseline = self._hour_baseline(h)
            self._centres.append(self._raw)
        base = self._baseline
        if base is None:
            return []
        expected_h, spread_h, kind = base
        per_fine = max(expected_h, 0.5) / config.per_hour
        dispersion = spread_h**2 / max(expected_h, 1.0)
        bursty = self.burstiness()
        bar = config.surprise_warmup if kind == "hours" else config.surprise
        best = None
        for length in (1, *config.runs):
            if j + 1 < length:
                continue
            window = self.fine[j + 1 - length :]
            run = sum(window)
            # A run is judged without its busiest bucket (one busy 5 minutes is a blip, not a
            # crisis); a bucket alone only against the tail of this series' own single buckets.
            kept, n = (run, 1) if length == 1 else (run - max(window), length - 1)
            usual = per_fine * n
            unusual = self._calibrate(length, math.log((kept + 1) / (usual + 1)))
            if not unusual or run < config.min_count or kept < config.min_ratio * usual:
                continue
            # Two sources of extra variance: the 5-minute burstiness measured within past hours, and
            # the rate's drift from hour to hour, of which a run shorter than an hour shows its share.
            drift = max(dispersion - bursty, 0.0) * length / config.per_hour
            score = surprise(kept, usual, bursty + drift)
            if score >= bar and (best is None or score > best[0]):
                best = (score, length, run, per_fine * length)
        if best is None:
            return []
        score, length, run, expected = best
        assert self.start is not None
        begins = self.start + (j + 1 - length) * config.fine
        known = self.start + (j + 1) * config.fine
        previous, self._last_alarm = self._last_alarm, known
        armed, self._armed = self._armed, False
        if not armed or (previous is not None and known - previous < config.silence):
            return []
        alarm = Alarm(
            j, begins, config.fine * length, "volume", run, round(expected, 2), round(score, 2), "run"
        )
        return [(known, alarm, kind)]
