"""Community health (toxic share, returning and active members, the rules that fired) and listening
(volume, sentiment, share of voice)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import TruncDate

from palabre.analytics.metrics.campaigns import in_campaign
from palabre.analytics.metrics.sql import (
    TOP,
    EpochSeconds,
    Filters,
    Period,
    _minutes,
    _ratio,
    percentiles,
)
from palabre.conversations.models import Item
from palabre.listening.models import CrisisAlert, Mention, MentionMatch, QueryKind
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationRule, ModerationStatus
from palabre.orgs.models import Organisation


def health(organisation: Organisation, period: Period, filters: Filters) -> dict[str, Any]:
    """Spam and toxic shares, moderation load and time, reversed decisions, rules that fire most."""
    states = ItemModeration.objects.for_org(organisation).filter(
        item__created_at__gte=period.start, item__created_at__lt=period.end
    )
    decisions = ModerationDecision.objects.for_org(organisation).filter(
        item__created_at__gte=period.start, item__created_at__lt=period.end
    )
    if filters.channel_id:
        states = states.filter(item__channel_id=filters.channel_id)
        decisions = decisions.filter(item__channel_id=filters.channel_id)
    states = in_campaign(states, organisation, filters, "item")
    decisions = in_campaign(decisions, organisation, filters, "item")
    totals = states.aggregate(
        moderated=Count("pk"),
        spam=Count("pk", filter=Q(is_spam=True)),
        toxic=Count("pk", filter=Q(status=ModerationStatus.REJECTED, is_spam=False)),
        held_now=Count("pk", filter=Q(status=ModerationStatus.HELD)),
    )
    by_moderator = decisions.filter(source=ModerationDecision.Source.MODERATOR)
    load = list(
        by_moderator.values("decided_by", "decided_by__username")
        .annotate(decisions=Count("pk"))
        .order_by("-decisions", "decided_by__username")
    )
    first_review = (
        ModerationDecision.objects.filter(item=OuterRef("item"), source=ModerationDecision.Source.MODERATOR)
        .order_by("created_at", "pk")
        .values("created_at")[:1]
    )
    automatic = decisions.filter(source=ModerationDecision.Source.AUTOMATIC)
    reviewed_automatic = automatic.annotate(_reviewed_at=Subquery(first_review)).filter(
        _reviewed_at__isnull=False
    )
    review_times = percentiles(
        reviewed_automatic.filter(status_after=ModerationStatus.HELD),
        EpochSeconds(F("_reviewed_at")) - EpochSeconds(F("created_at")),
    ).get(None, {})
    later_review = ModerationDecision.objects.filter(
        item=OuterRef("item"),
        source=ModerationDecision.Source.MODERATOR,
        created_at__gte=OuterRef("created_at"),
    )
    overturned = Exists(later_review.filter(status_after=ModerationStatus.REJECTED))
    restored = Exists(
        later_review.filter(status_after__in=[ModerationStatus.APPROVED, ModerationStatus.PUBLISHED])
    )
    reversed_counts = automatic.aggregate(
        reviewed=Count("pk", filter=Q(Exists(later_review))),
        reversed=Count(
            "pk",
            filter=(Q(status_after=ModerationStatus.PUBLISHED) & Q(overturned))
            | (Q(status_after__in=[ModerationStatus.HELD, ModerationStatus.REJECTED]) & Q(restored)),
        ),
    )
    return {
        "moderated": totals["moderated"],
        "spam": totals["spam"],
        "spam_share": _ratio(totals["spam"], totals["moderated"]),
        "toxic": totals["toxic"],
        "toxic_share": _ratio(totals["toxic"], totals["moderated"]),
        "held_now": totals["held_now"],
        "moderator_decisions": sum(row["decisions"] for row in load),
        "load_by_moderator": [
            {
                "key": row["decided_by"],
                "label": row["decided_by__username"] or "",
                "decisions": row["decisions"],
            }
            for row in load
        ],
        "time_to_moderate_median": _minutes(review_times.get("median")),
        "time_to_moderate_p90": _minutes(review_times.get("p90")),
        "reviewed_automatic": reversed_counts["reviewed"],
        "reversed": reversed_counts["reversed"],
        "reversed_share": _ratio(reversed_counts["reversed"], reversed_counts["reviewed"]),
        "top_rules": _top_rules(organisation, period),
    }


def _top_rules(organisation: Organisation, period: Period) -> list[dict[str, Any]]:
    """The rules named in the automatic decisions of the period, most fired first (one query
    unnesting the JSON list, plus one for the rules' names)."""
    table = ModerationDecision._meta.db_table
    if connection.vendor == "postgresql":
        unnest = f"{table} d CROSS JOIN LATERAL jsonb_array_elements_text(d.rules_fired) AS r(value)"
    else:
        unnest = f"{table} d, json_each(d.rules_fired) AS r"
    item_table = Item._meta.db_table
    sql = (
        f"SELECT CAST(r.value AS TEXT), COUNT(*) FROM {unnest} "
        f"JOIN {item_table} i ON i.id = d.item_id "
        "WHERE d.organisation_id = %s AND d.source = %s AND i.created_at >= %s AND i.created_at < %s "
        "GROUP BY CAST(r.value AS TEXT) ORDER BY COUNT(*) DESC, CAST(r.value AS TEXT) LIMIT %s"
    )
    params = [
        organisation.pk,
        ModerationDecision.Source.AUTOMATIC,
        period.start,
        period.end,
        TOP,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime) else p for p in params],
        )
        fired = cursor.fetchall()

    def rule_pk(rule_id: str) -> int | None:
        number = str(rule_id).removeprefix("rule:")
        return int(number) if number.isdigit() else None

    ids = [pk for pk in (rule_pk(rule_id) for rule_id, _n in fired) if pk is not None]
    names = dict(ModerationRule.objects.for_org(organisation).filter(pk__in=ids).values_list("pk", "pattern"))
    return [
        {"rule": str(rule_id), "label": names.get(rule_pk(rule_id), str(rule_id)), "fired": n}
        for rule_id, n in fired
    ]


def listening(organisation: Organisation, period: Period) -> dict[str, Any]:
    """Mentions per local day and sentiment; share of voice of brand and competitor queries."""
    zone = ZoneInfo(period.time_zone)
    mentions = Mention.objects.for_org(organisation).filter(
        published_at__gte=period.start, published_at__lt=period.end
    )
    per_day = (
        mentions.annotate(day=TruncDate("published_at", tzinfo=zone))
        .values("day", "sentiment")
        .annotate(n=Count("pk"))
        .order_by("day", "sentiment")
    )
    days = {
        day: {"day": day, "total": 0, "positive": 0, "neutral": 0, "negative": 0}
        for day in period.local_days()
    }
    for row in per_day:
        entry = days.get(row["day"])
        if entry is None:
            continue
        entry["total"] += row["n"]
        if row["sentiment"] in ("positive", "neutral", "negative"):
            entry[row["sentiment"]] += row["n"]
    voices = list(
        MentionMatch.objects.for_org(organisation)
        .filter(
            published_at__gte=period.start,
            published_at__lt=period.end,
            query__kind__in=[QueryKind.BRAND, QueryKind.COMPETITOR],
        )
        .values("query", "query__name", "query__kind")
        .annotate(mentions=Count("mention", distinct=True))
        .order_by("-mentions", "query__name")
    )
    voice_total = sum(row["mentions"] for row in voices)
    totals = mentions.aggregate(
        mentions=Count("pk"),
        negative=Count("pk", filter=Q(sentiment="negative")),
        positive=Count("pk", filter=Q(sentiment="positive")),
    )
    # Alerts are few (the detector raises one per spike): listed whole, each leads to its timeline.
    alert_list = [
        {"id": pk, "query": name, "metric": metric, "window_start": start}
        for pk, name, metric, start in CrisisAlert.objects.for_org(organisation)
        .filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by("created_at", "pk")
        .values_list("pk", "query__name", "metric", "window_start")
    ]
    return {
        "mentions": totals["mentions"],
        "negative_share": _ratio(totals["negative"], totals["mentions"]),
        "positive_share": _ratio(totals["positive"], totals["mentions"]),
        "alerts": len(alert_list),
        "alert_list": alert_list,
        "per_day": list(days.values()),
        "share_of_voice": [
            {
                "query": row["query__name"],
                "kind": row["query__kind"],
                "mentions": row["mentions"],
                "share": _ratio(row["mentions"], voice_total),
            }
            for row in voices
        ],
    }
