"""What a key may do and did: the per-key limit (`PALABRE_AKISMET_RATE_LIMIT` requests per minute),
counted in the database so that it holds whatever the number of server processes
(`KeyRequestCounter`), and the monthly counts of usage-limit and key-sites."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from palabre import config
from palabre.compat.models import SiteRequestCount
from palabre.conversations.models import Item
from palabre.moderation import lookups
from palabre.moderation.models import ModerationDecision, ModerationSite, ModerationStatus
from palabre.storable import FIRST_YEAR, LAST_YEAR


def month_stats(site: ModerationSite, month_start: datetime, month_end: datetime) -> dict[str, int]:
    """What this site's channel received through the API in a month, as Akismet counts it."""
    items = Item.objects.filter(
        channel=site.channel,
        external_id__startswith="akismet-",
        received_at__gte=month_start,
        received_at__lt=month_end,
    )
    counts = items.aggregate(
        total=Count("pk"),
        spam=Count("pk", filter=Q(moderation__status=ModerationStatus.REJECTED)),
    )
    feedback = ModerationDecision.objects.filter(
        item__in=items, source=ModerationDecision.Source.MODERATOR
    ).aggregate(
        missed_spam=Count("pk", filter=Q(action="spam")),
        false_positives=Count("pk", filter=Q(action="ham")),
    )
    return {
        "api_calls": counts["total"],
        "spam": counts["spam"],
        "ham": counts["total"] - counts["spam"],
        "missed_spam": feedback["missed_spam"],
        "false_positives": feedback["false_positives"],
    }


def month_bounds(month: str) -> tuple[str, datetime, datetime] | None:
    now = timezone.now()
    try:
        year, number = (int(part) for part in month.split("-")) if month else (now.year, now.month)
        start = datetime(year, number, 1, tzinfo=UTC)
    except ValueError:
        return None
    if not FIRST_YEAR <= year <= LAST_YEAR:  # December 9999 has no month after it: a server error
        return None
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return f"{year:04d}-{number:02d}", start, end


# --- rate limit ----------------------------------------------------------------------------------


def rate_limit() -> int:
    try:
        return max(int(config.AKISMET_RATE_LIMIT.raw()), 0)
    except ValueError:
        return int(config.AKISMET_RATE_LIMIT.default)


@dataclass
class _KeyTokens:
    """What one process holds of a key's current minute."""

    minute: int
    tokens: int = 0  # requests this process may still accept: claimed, not used yet
    claimed: int = 0  # the database's count after this process's last claim
    full: bool = False  # the minute's `limit` tokens are all handed out: refuse without asking
    # For the size of the next block (kept from one minute to the next):
    used: int = 0  # tokens used since the last claim
    claimed_at: float = -math.inf  # when (monotonic) the last claim was made


class KeyRequestCounter:
    """Requests per key and minute, held exactly across threads, processes and machines.

    The database counts the tokens handed out for a key and minute, one atomic upsert per claim;
    a process accepts a request only with a token it claimed, so no more than `limit` requests
    are ever accepted in a minute, whatever the number of processes. A claim asks for a block:
    about `WRITE_EVERY` seconds of this process's own traffic, at most a `SHARE`th of what is
    left of the limit, at least one token. Far from the limit, a busy process claims about once
    a second; near it, blocks shrink to one token, so every request writes. A claim that goes
    past the limit gets only the tokens below it; once the limit is reached, the process refuses
    without asking again until the next minute. Tokens a process claimed and did not use before
    the minute ends are lost to the others: a few fewer requests than the limit may be accepted
    in that minute, never more."""

    WRITE_EVERY = 1.0
    SHARE = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[int, _KeyTokens] = {}
        self._claiming: dict[int, threading.Lock] = {}

    def _entry(self, site_id: int, minute: int) -> _KeyTokens:
        entry = self._keys.get(site_id)
        if entry is None or entry.minute != minute:
            entry = _KeyTokens(minute)
            previous = self._keys.get(site_id)
            if previous is not None:
                entry.used, entry.claimed_at = previous.used, previous.claimed_at
            self._keys[site_id] = entry
        return entry

    def _block(self, entry: _KeyTokens, limit: int, clock: float) -> int:
        if entry.claimed_at == -math.inf:  # this process's first request for the key
            return 1
        # Tokens used per second since the last claim (at most one per millisecond measured).
        elapsed = max(clock - entry.claimed_at, 0.001)
        wanted = math.ceil(entry.used * self.WRITE_EVERY / elapsed)
        return max(1, min(wanted, (limit - entry.claimed) // self.SHARE))

    @staticmethod
    def _spend(entry: _KeyTokens) -> bool:
        if entry.tokens <= 0:
            return False
        entry.tokens -= 1
        entry.used += 1
        return True

    def take(self, site_id: int, limit: int, *, now: float) -> int:
        """Count one request; 0 if allowed, else the seconds to wait."""
        minute = int(now // 60)
        wait = max(1, math.ceil((minute + 1) * 60 - now))
        with self._lock:
            entry = self._entry(site_id, minute)
            if self._spend(entry):
                return 0
            if entry.full:
                return wait
            claiming = self._claiming.setdefault(site_id, threading.Lock())
        # One claim at a time per key in a process: the threads waiting share its block.
        with claiming:
            with self._lock:
                entry = self._entry(site_id, minute)
                if self._spend(entry):
                    return 0
                if entry.full:
                    return wait
                clock = time.monotonic()
                size = self._block(entry, limit, clock)
            total = self._claim(site_id, minute, size)
            granted = max(0, min(size, limit - (total - size)))
            with self._lock:
                entry.claimed = max(entry.claimed, total)
                entry.full = entry.full or total >= limit
                entry.tokens += granted
                entry.used, entry.claimed_at = 0, clock
                if self._spend(entry):
                    return 0
        return wait

    @staticmethod
    def _claim(site_id: int, minute: int, size: int) -> int:
        """Add `size` tokens to the key's minute; the count after them (tokens `total - size` to
        `total` are this claim's: the upsert is atomic)."""
        [(total,)] = lookups.run(lookups.statement(_count_sql), [site_id, minute, size, size])
        if total == size:  # this minute's first claim: forget the minutes before the last
            SiteRequestCount.objects.filter(site_id=site_id, minute__lt=minute - 1).delete()
        return total

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


def _count_sql() -> str:
    table = connection.ops.quote_name(SiteRequestCount._meta.db_table)
    return (
        f"INSERT INTO {table} (site_id, minute, count) VALUES (%s, %s, %s) "
        f"ON CONFLICT (site_id, minute) DO UPDATE SET count = {table}.count + %s RETURNING count"
    )


request_counter = KeyRequestCounter()


def take_request(site: ModerationSite, *, now: float | None = None) -> int:
    """Count one request for this key in the current minute; 0 if allowed, else seconds to wait."""
    limit = rate_limit()
    if not limit:
        return 0
    return request_counter.take(site.pk, limit, now=time.time() if now is None else now)
