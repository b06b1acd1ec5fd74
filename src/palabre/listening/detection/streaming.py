"""The streaming detector: one 5-minute count at a time, alarms known at each bucket's end."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from palabre.listening.detection.baseline import (
    DEFAULT_CONFIG,
    HOURS_PER_WEEK,
    Alarm,
    DetectorConfig,
    _history,
    surprise,
    tail_limit,
)


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
    surprise: float = 3.0
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
    # One alert a news day (session 13): no alarm within `alert_gap` of the last one raised, re-armed
    # or not. A day of news comes in bursts hours apart (AAPL's news days on nab_tweets); under a
    # day, so the same hour the next day is news again.
    alert_gap: timedelta = timedelta(hours=20)
    # ...unless the news escalates: a run at `escalation` times the ratio to its usual of the day's
    # last alarm alarms within the gap (a bad buzz that triples after a first alert must not be
    # silent); the day's clock is kept, so an escalation does not push the next day's news back.
    # Chosen for the community manager, not on the scores: one `dev` false alarm (0.47 -> 0.51 a
    # week), all six series 26 -> 29 (0.55 -> 0.61), no window lost or later.
    escalation: float = 3.0
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
    # the usual size never does, a burst far beyond anything the series has shown does. 3 since
    # session 13 (2 before): the same dev windows and alarms, fewer blip alarms on generated series.
    record_factor: float = 3.0
    # A quiet hour's usual count is never taken below this share of the query's median hour over
    # the last week: 3 times a night's handful is not a crisis.
    typical_floor: float = 0.5
    # Two stages: a run past every bar above opens a watch; the alarm is raised when the test passes
    # again at least `confirm_after` buckets later and within `confirm_within` buckets (the episode
    # goes on), at that later bucket. A rise that passes once and falls back (a lone 10 minutes) is
    # forgotten: the detector is armed as before it. A run `strong_factor` times past the surprise
    # bar, or a bucket alone past the series' record, alarms at once; so does any run of the first
    # day, whose bar (`surprise_warmup`) is past that already.
    confirm_after: int = 2
    confirm_within: int = 12
    strong_factor: float = 2.0


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
    three times the largest ratio any bucket of the series reached in the last two weeks, blips
    included.
    One alarm per episode: the next needs a complete hour back near its usual count first, and
    20 hours since the last alarm (one alert a news day) unless the news escalates to 3 times it. Two
    stages: a first pass opens a watch, and the alarm comes when the test passes again 10 minutes
    to an hour later (at once for an overwhelming run or a bucket past the record).
    """

    def __init__(self, config: StreamConfig = StreamConfig(), detector: DetectorConfig = DEFAULT_CONFIG):
        self.config = config
        self.detector = detector
        self.start: datetime | None = None
        self.fine: list[int] = []
        self.hourly: list[int] = []
        self._baseline: tuple[float, float, str] | None = None
        self._last_alarm: datetime | None = None
        # the last alarm that opened a news day, and the last alarm of a bucket alone: when, and
        # their ratio to the usual count (an escalation passes `escalation` times it)
        self._raised: tuple[datetime, float] | None = None
        self._single: tuple[datetime, float] | None = None
        self._raw: float | None = None
        self._centres: list[float | None] = []
        self._bursts: list[float] = []  # each hour's baseline, for the level of the last day
        # per run length: its log ratios to the usual, and the limit this series passes rarely
        self._ratios: dict[int, list[float]] = {}
        self._limits: dict[int, float | None] = {}
        self._armed = True
        # an open watch: (the bucket that opened it, the last alarm-worthy moment before it)
        self._watch: tuple[int, datetime | None] | None = None

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
        if self._watch is not None and j - self._watch[0] > config.confirm_within:
            # not confirmed: the watch leaves no trace, the detector is armed as it was before it
            self._armed, self._last_alarm, self._watch = True, self._watch[1], None
        if best is None:
            return []
        score, length, run, expected = best
        assert self.start is not None
        begins = self.start + (j + 1 - length) * config.fine
        known = self.start + (j + 1) * config.fine
        previous, self._last_alarm = self._last_alarm, known
        armed, self._armed = self._armed, False
        if length > 1 and self._single is not None:
            # a bucket alone opens a news day only when a run follows it within the hour
            if known - self._single[0] <= config.confirm_within * config.fine:
                self._raised = self._single
            self._single = None
        ratio = run / max(expected, 1e-9)
        same_day = (
            self._raised is not None
            and known - self._raised[0] < config.alert_gap
            and ratio < config.escalation * self._raised[1]
        )
        if self._watch is not None:
            if j - self._watch[0] < config.confirm_after:
                return []
            self._watch = None  # the episode goes on: the alarm is raised now
        elif not armed or (previous is not None and known - previous < config.silence) or same_day:
            return []
        elif length > 1 and score < config.strong_factor * config.surprise:
            self._watch = (j, previous)
            return []
        if length > 1:
            escalated = self._raised is not None and known - self._raised[0] < config.alert_gap
            self._raised = (self._raised[0] if escalated else known, ratio)
        else:
            self._single = (known, ratio)
        alarm = Alarm(
            j, begins, config.fine * length, "volume", run, round(expected, 2), round(score, 2), "run"
        )
        return [(known, alarm, kind)]
