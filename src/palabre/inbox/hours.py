"""Business hours: is the team there, and when is a response due, counted in business minutes.

Pure functions over a `BusinessHours` value (time zone, weekly opening intervals, holidays), so
the SLA clock, the on-call rule and the digest all read the same calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
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
