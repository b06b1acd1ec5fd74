"""Business hours: is the team there, and when is a response due, counted in business minutes.

Pure functions over a `BusinessHours` value (time zone, weekly opening intervals, holidays), so
the SLA clock, the on-call rule and the digest all read the same calendar.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

# Monday to Friday, 9:00 to 18:00: what a new organisation starts with.
DEFAULT_WEEK = {str(day): [["09:00", "18:00"]] for day in range(5)}
# How far ahead a due date is looked for: a calendar with no opening hours never ends a clock.
HORIZON_DAYS = 400


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours) % 24, int(minutes))


@dataclass(frozen=True)
class BusinessHours:
    time_zone: str = "Europe/Paris"
    weekly: dict[str, list[list[str]]] = field(default_factory=lambda: dict(DEFAULT_WEEK))
    holidays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, time_zone: str, weekly: dict, holidays: list[str]) -> BusinessHours:
        return cls(
            time_zone=time_zone or "UTC",
            weekly=weekly if weekly else dict(DEFAULT_WEEK),
            holidays=frozenset(date.fromisoformat(d) for d in holidays or []),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of one local day, as aware datetimes."""
        if day in self.holidays:
            return []
        found = []
        for start, end in self.weekly.get(str(day.weekday()), []):
            opens = datetime.combine(day, _parse(start), tzinfo=self.zone)
            closes = datetime.combine(day, _parse(end), tzinfo=self.zone)
            if end in ("24:00", "00:00") and start != end:
                closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
            if closes > opens:
                found.append((opens, closes))
        return sorted(found)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return any(opens <= local < closes for opens, closes in self.intervals(local.date()))

    def add_minutes(self, start: datetime, minutes: int) -> datetime | None:
        """The moment `minutes` business minutes after `start`; None when the calendar never opens."""
        remaining = timedelta(minutes=minutes)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(HORIZON_DAYS):
            for opens, closes in self.intervals(day):
                begin = max(opens, local)
                if begin >= closes:
                    continue
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= closes - begin
            day += timedelta(days=1)
        return None

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Business minutes elapsed from `start` to `end` (0 when end is earlier)."""
        if end <= start:
            return 0
        total = timedelta()
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.intervals(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)

    def last_opening_before(self, moment: datetime) -> datetime | None:
        """When the team last left (the end of the previous opening interval): the digest's "overnight"."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(30):
            for _opens, closes in reversed(self.intervals(day)):
                if closes <= local:
                    return closes
            day -= timedelta(days=1)
        return None

    # --- business time as analytics counts it (stored on each thread's row) ----------------------

    @cached_property
    def key(self) -> int:
        """A 64-bit fingerprint of this calendar (time zone, weekly hours, holidays): a thread's row
        records the calendar its stored durations were counted with, and analytics reads them only
        while the organisation's calendar is still that one."""
        text = json.dumps(
            [self.time_zone, self.weekly, sorted(day.isoformat() for day in self.holidays)], sort_keys=True
        )
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)

    @cached_property
    def _epoch_days(self) -> dict[date, list[float]]:
        return {}  # local day -> its openings and closings as epoch seconds, flattened (a memo)

    def _boundaries(self, first: datetime, last: datetime) -> list[float]:
        """The openings and closings, as epoch seconds, of the local days from the day before
        `first` to the day of `last` (the days analytics' calendar holds around them)."""
        day = first.astimezone(self.zone).date() - timedelta(days=1)
        final = last.astimezone(self.zone).date()
        found: list[float] = []
        while day <= final:
            bounds = self._epoch_days.get(day)
            if bounds is None:
                bounds = [b.timestamp() for pair in self.intervals(day) for b in pair]
                self._epoch_days[day] = bounds
            found += bounds
            day += timedelta(days=1)
        return found

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds from `start` to `end` (negative when `end` is earlier), the same float
        as analytics' SQL gives (metrics.sql.Calendar): each moment's epoch seconds t placed among
        the boundaries, its ordinal t - opening + seconds open before (or the seconds open before
        it, outside the hours), then the difference. Every step is exact in binary floating point
        (whole-second boundaries; each intermediate value is a multiple of the moment's own float
        precision and no larger than it), so the value does not depend on where the calendar
        begins."""
        first, last = (start, end) if start <= end else (end, start)
        bounds = self._boundaries(first, last)
        if not bounds:
            return 0.0
        slope: list[float] = []
        offset: list[float] = []
        done = 0.0
        for opens, closes in zip(bounds[::2], bounds[1::2], strict=True):
            slope += [1.0, 0.0]
            offset += [done - opens, done + closes - opens]
            done += closes - opens

        def ordinal(moment: datetime) -> float:
            t = moment.timestamp()
            k = bisect_right(bounds, t)  # PostgreSQL's width_bucket: the boundaries at or before t
            return 0.0 if k == 0 else t * slope[k - 1] + offset[k - 1]

        return ordinal(end) - ordinal(start)

    def closed_at(self, moment: datetime) -> bool:
        """True outside the opening intervals, as analytics' SQL places the moment (`is_open`'s
        opposite for well-formed hours)."""
        return bisect_right(self._boundaries(moment, moment), moment.timestamp()) % 2 == 0
