"""The crisis timeline of one alert: a post-mortem of what happened, when, and how fast the team was.

Definitions (docs/analytics.md, "Crisis timeline"):
- the curve: the alert's query's matched mentions counted in buckets of the alert's width, from
  `BUCKETS_BEFORE` buckets before the alert's window to `BUCKETS_AFTER` buckets after it;
- the first signal: the start of the earliest bucket of the run of buckets above the alert's
  baseline (its `expected` value: a count for volume alerts, a share for negative-share alerts)
  that ends with the alert's own window; the window's start when the window itself is not above;
- the alert: when Palabre raised it (`created_at`);
- the first answer: the first message the brand wrote (not a post) in a thread that one of the
  query's mentions of the timeline started or joined, at or after the first signal;
- posts held: the post variants that publishing held (crisis mode, guardrails) from the first
  signal to the end of the timeline or of the crisis mode the alert opened, whichever is later.

Every figure comes from the database in a fixed number of queries, whatever the volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Max, Min, Q, Value
from django.db.models.functions import Coalesce, Floor
from django.shortcuts import get_object_or_404

from palabre.analytics.metrics.sql import EpochSeconds, _brand_item
from palabre.conversations.models import Item, ItemKind
from palabre.listening.models import AlertMetric, CrisisAlert, CrisisMode, MentionMatch, Sentiment
from palabre.orgs.models import Organisation
from palabre.publishing.models import PostVariant

BUCKETS_BEFORE = 24
BUCKETS_AFTER = 12


@dataclass
class Bucket:
    start: datetime
    total: int
    negative: int
    above: bool


@dataclass
class CrisisTimeline:
    alert: CrisisAlert
    zone: ZoneInfo
    buckets: list[Bucket]
    first_signal: datetime
    alerted_at: datetime
    first_answer: datetime | None
    held: list[dict[str, Any]] = field(default_factory=list)

    @property
    def minutes_to_alert(self) -> float:
        return (self.alerted_at - self.first_signal).total_seconds() / 60

    @property
    def minutes_to_answer(self) -> float | None:
        if self.first_answer is None:
            return None
        return (self.first_answer - self.first_signal).total_seconds() / 60

    @property
    def width(self) -> timedelta:
        return timedelta(minutes=self.alert.bucket_minutes)

    def bucket_index(self, moment: datetime | None) -> int | None:
        """Which bucket of the curve an instant falls in (None outside the curve)."""
        if moment is None or not self.buckets:
            return None
        index = int((moment - self.buckets[0].start) / self.width)
        return index if 0 <= index < len(self.buckets) else None


def _above(alert: CrisisAlert, total: int, negative: int) -> bool:
    if alert.metric == AlertMetric.NEGATIVE_SHARE:
        return total > 0 and negative / total > alert.expected
    return total > alert.expected


def _buckets(alert: CrisisAlert, start: datetime, count: int) -> list[Bucket]:
    width_s = alert.bucket_minutes * 60
    end = start + timedelta(seconds=width_s * count)
    rows = (
        MentionMatch.objects.for_org(alert.organisation_id)
        .filter(query_id=alert.query_id, published_at__gte=start, published_at__lt=end)
        .annotate(
            bucket=Floor((EpochSeconds("published_at") - Value(start.timestamp())) / Value(float(width_s)))
        )
        .values("bucket")
        .annotate(total=Count("pk"), negative=Count("pk", filter=Q(mention__sentiment=Sentiment.NEGATIVE)))
        .order_by()
    )
    counts = {int(row["bucket"]): (row["total"], row["negative"]) for row in rows}
    buckets = []
    for index in range(count):
        total, negative = counts.get(index, (0, 0))
        buckets.append(
            Bucket(
                start=start + timedelta(seconds=width_s * index),
                total=total,
                negative=negative,
                above=_above(alert, total, negative),
            )
        )
    return buckets


def _first_signal(buckets: list[Bucket], alert_index: int, window_start: datetime) -> datetime:
    if not buckets[alert_index].above:
        return window_start
    index = alert_index
    while index > 0 and buckets[index - 1].above:
        index -= 1
    return buckets[index].start


def _first_answer(alert: CrisisAlert, since: datetime, until: datetime) -> datetime | None:
    threads = (
        MentionMatch.objects.for_org(alert.organisation_id)
        .filter(query_id=alert.query_id, published_at__lt=until, mention__item__isnull=False)
        .annotate(root=Coalesce(F("mention__item__thread_root_id"), F("mention__item_id")))
        .values("root")
    )
    answers = (
        Item.objects.for_org(alert.organisation_id)
        .filter(_brand_item(), created_at__gte=since, thread_root_id__in=threads)
        .exclude(kind=ItemKind.POST)
    )
    return answers.aggregate(first=Min("created_at"))["first"]


def crisis_timeline(organisation: Organisation, alert_id: int) -> CrisisTimeline:
    """The timeline of the organisation's alert; 404 for an alert of another organisation."""
    alert = get_object_or_404(CrisisAlert.objects.for_org(organisation).select_related("query"), pk=alert_id)
    zone = ZoneInfo(organisation.time_zone)
    width = timedelta(minutes=alert.bucket_minutes)
    count = int((alert.window_end - alert.window_start) / width) or 1
    start = alert.window_start - BUCKETS_BEFORE * width
    buckets = _buckets(alert, start, BUCKETS_BEFORE + count + BUCKETS_AFTER)
    first_signal = _first_signal(buckets, BUCKETS_BEFORE, alert.window_start)
    curve_end = buckets[-1].start + width
    crisis_end = (
        CrisisMode.objects.for_org(organisation)
        .filter(alert=alert)
        .aggregate(end=Max(Coalesce("ended_at", Value(curve_end))))["end"]
    )
    held_until = max(curve_end, crisis_end or curve_end)
    held = list(
        # debt: publishing's models have no organisation-scoped queryset yet (another engineer moves
        # them); read through `PostVariant.objects.for_org` once they do.
        PostVariant.objects.filter(post__organisation=organisation)
        .filter(held_at__gte=first_signal, held_at__lt=held_until)
        .order_by("held_at", "pk")
        .values("post_id", "post__title", "channel__name", "held_at", "held_reason", "state")
    )
    return CrisisTimeline(
        alert=alert,
        zone=zone,
        buckets=buckets,
        first_signal=first_signal,
        alerted_at=alert.created_at,
        first_answer=_first_answer(alert, first_signal, held_until),
        held=held,
    )


def timeline_figures(timeline: CrisisTimeline) -> dict[str, Any]:
    """The timeline as plain data (the API's answer, the report's rows): instants in the
    organisation's time zone, durations in clock minutes."""

    def local(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(timeline.zone).isoformat()

    alert = timeline.alert
    return {
        "alert": {
            "id": alert.pk,
            "query": alert.query.name,
            "metric": alert.metric,
            "bucket_minutes": alert.bucket_minutes,
            "window_start": local(alert.window_start),
            "window_end": local(alert.window_end),
            "expected": alert.expected,
            "observed": alert.observed,
            "status": alert.status,
        },
        "time_zone": str(timeline.zone),
        "first_signal": local(timeline.first_signal),
        "alerted_at": local(timeline.alerted_at),
        "first_answer": local(timeline.first_answer),
        "minutes_to_alert": round(timeline.minutes_to_alert, 1),
        "minutes_to_answer": None
        if timeline.minutes_to_answer is None
        else round(timeline.minutes_to_answer, 1),
        "buckets": [
            {
                "start": local(bucket.start),
                "total": bucket.total,
                "negative": bucket.negative,
                "above_baseline": bucket.above,
            }
            for bucket in timeline.buckets
        ],
        "posts_held": [
            {
                "post": row["post_id"],
                "title": row["post__title"],
                "channel": row["channel__name"],
                "held_at": local(row["held_at"]),
                "reason": row["held_reason"],
                "state": row["state"],
            }
            for row in timeline.held
        ],
    }
