"""What the time charts mark on their days: the campaigns running, the crisis alerts raised, the
posts the brand published. Two queries (campaigns, posts per day); the alerts are the listening
block's list of the period."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from palabre.analytics.metrics import Filters, Period
from palabre.analytics.metrics.campaigns import in_campaign
from palabre.analytics.metrics.sql import _brand_item
from palabre.conversations.models import Item, ItemKind
from palabre.orgs.models import Organisation
from palabre.publishing.models import Campaign


def timeline_marks(
    organisation: Organisation, period: Period, filters: Filters, alert_list: list[dict[str, Any]]
) -> dict[str, Any]:
    """{"campaigns": [{"id", "name", "first", "last"}], "alerts": [{"id", "day", "query"}],
    "posts": [{"day", "posts"}]}: the days of the period each falls on, in the organisation's time
    zone. A campaign is drawn from its start (or the period's) to its end (or the period's); one with
    neither date is not drawn. With a campaign filter, that campaign only."""
    zone = ZoneInfo(period.time_zone)
    campaigns = Campaign.objects.for_org(organisation).filter(
        Q(starts_on__isnull=False) | Q(ends_on__isnull=False),
        Q(starts_on__isnull=True) | Q(starts_on__lte=period.last),
        Q(ends_on__isnull=True) | Q(ends_on__gte=period.first),
    )
    if filters.campaign_id:
        campaigns = campaigns.filter(pk=filters.campaign_id)
    running = [
        {
            "id": pk,
            "name": name,
            "first": max(starts_on or period.first, period.first),
            "last": min(ends_on or period.last, period.last),
        }
        for pk, name, starts_on, ends_on in campaigns.order_by("starts_on", "name", "pk").values_list(
            "pk", "name", "starts_on", "ends_on"
        )
    ]
    posts = Item.objects.for_org(organisation).filter(
        _brand_item(), kind=ItemKind.POST, created_at__gte=period.start, created_at__lt=period.end
    )
    if filters.channel_id:
        posts = posts.filter(channel_id=filters.channel_id)
    posts = in_campaign(posts, organisation, filters)
    per_day = (
        posts.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    alerts = [
        {"id": row["id"], "day": _local_day(row["window_start"], zone), "query": row["query"]}
        for row in alert_list
    ]
    return {
        "campaigns": running,
        "alerts": alerts,
        "posts": [{"day": row["day"], "posts": row["n"]} for row in per_day],
    }


def _local_day(moment, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
