"""YouTube's quota: each call costs units (https://developers.google.com/youtube/v3/determine_quota_cost:
list 1, insert, setModerationStatus and delete 50); the project has 10,000 a day by default,
reset at midnight Pacific time. Each call's cost is counted (`QuotaUsage`, per channel and Pacific
day) before it is made: a call that would overspend, or any call after Google answered
`quotaExceeded`, raises RateLimited until the next Pacific midnight. An upload is counted as 1,600
units, the figure of videos.insert's reference page: Google now also documents a separate bucket
of 100 uploads a day (one unit each) for projects on its newer allocation; counting 1,600 of the
shared 10,000 is the figure that overspends neither (six uploads a day by default, well under 100).

"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from palabre.connectors.base import (
    RateLimited,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
DAILY_QUOTA = 10_000
# https://developers.google.com/youtube/v3/determine_quota_cost
COSTS = {
    "channels.list": 1,
    "commentThreads.list": 1,
    "comments.list": 1,
    "comments.insert": 50,
    "comments.setModerationStatus": 50,
    "comments.delete": 50,
    "playlistItems.list": 1,
    "videos.list": 1,
    "videos.insert": 1_600,
}


def pacific_day(now: datetime):
    return now.astimezone(PACIFIC).date()


def until_pacific_midnight(now: datetime) -> float:
    """Seconds until the next midnight Pacific time, when Google resets the daily quota."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return max((midnight - local).total_seconds(), 1.0)


def quota_limit(channel) -> int:
    credentials = channel.read_credentials() if channel.has_credentials else {}
    try:
        return int(credentials.get("daily_quota") or DAILY_QUOTA)
    except (TypeError, ValueError):
        return DAILY_QUOTA


def quota_today(channel, *, now: datetime | None = None) -> dict[str, Any]:
    """What the channel spent of today's quota, as the health page shows it."""
    from palabre.connectors.models import QuotaUsage

    now = now or timezone.now()
    day = pacific_day(now)
    usage = QuotaUsage.objects.filter(channel=channel, day=day).first()
    limit = quota_limit(channel)
    used = usage.units if usage else 0
    return {
        "quota_day": day.isoformat(),
        "quota_used": used,
        "quota_limit": limit,
        "quota_left": 0 if usage and usage.exhausted else max(limit - used, 0),
        "quota_exhausted": bool(usage and usage.exhausted),
        "quota_resets_at": (now + timedelta(seconds=until_pacific_midnight(now))).isoformat(),
    }


def spend(channel, method: str, *, now: datetime | None = None) -> None:
    """Count `method`'s cost against today's quota before the call; RateLimited when it would
    overspend it or Google said it is spent."""
    from palabre.connectors.models import QuotaUsage

    now = now or timezone.now()
    cost = COSTS[method]
    limit = quota_limit(channel)
    day = pacific_day(now)
    wait = until_pacific_midnight(now)
    with transaction.atomic():
        usage, _created = QuotaUsage.objects.get_or_create(channel=channel, day=day)
        # One conditional update: two workers cannot both take the last units.
        taken = QuotaUsage.objects.filter(pk=usage.pk, exhausted=False, units__lte=limit - cost).update(
            units=F("units") + cost
        )
    if not taken:
        raise RateLimited(
            f"YouTube: the channel's daily quota ({limit} units) is spent for {day.isoformat()} "
            f"(Pacific time); {method} costs {cost}. It comes back at midnight Pacific time.",
            retry_after=wait,
        )


def quota_spent(channel, *, now: datetime | None = None) -> None:
    """Google said the quota is spent: no more calls until its next day."""
    from palabre.connectors.models import QuotaUsage

    day = pacific_day(now or timezone.now())
    QuotaUsage.objects.get_or_create(channel=channel, day=day)
    QuotaUsage.objects.filter(channel=channel, day=day).update(exhausted=True)
