"""Care and quality: response rate and times in business hours, conversation and amplification
rates, sentiment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

from palabre.analytics.metrics.campaigns import in_campaign
from palabre.analytics.metrics.sql import (
    BUSINESS_HORIZON,
    CUSTOMER_KINDS,
    LIKE_KEYS,
    SHARE_KEYS,
    SUBSTANTIVE,
    TOP,
    Calendar,
    EpochSeconds,
    Filters,
    Period,
    _brand_item,
    _epoch,
    _json_number,
    _minutes,
    _ratio,
    grouped_figures,
)
from palabre.conversations.models import Item, ItemKind
from palabre.inbox.models import Conversation, Status
from palabre.inbox.services import business_hours, settings_for
from palabre.orgs.models import Organisation


def care(organisation: Organisation, period: Period, filters: Filters, *, now: datetime) -> dict[str, Any]:
    """Response rate, first response and resolution times, out-of-hours answers, SLA breaches."""
    settings = settings_for(organisation)
    calendar = Calendar(business_hours(organisation, settings), period.start, period.end + BUSINESS_HORIZON)
    rows = Conversation.objects.for_org(organisation).filter(
        root__created_at__gte=period.start, root__created_at__lt=period.end
    )
    if filters.channel_id:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.member_id:
        rows = rows.filter(assignee_id=filters.member_id)
    rows = in_campaign(rows, organisation, filters, "root")
    asked = EpochSeconds(F("root__created_at"))
    answered = EpochSeconds(F("first_responded_at"))
    resolved = EpochSeconds(F("status_changed_at"))
    # Late once a whole business minute past the target, counted in whole minutes as the inbox's
    # clock does (hours.minutes_between): an answer a few milliseconds past it is on time.
    target = (settings.first_response_minutes + 1) * 60.0
    with_times = rows.annotate(
        _first_business=Case(
            When(first_responded_at__isnull=False, then=calendar.business_seconds(asked, answered)),
            default=Value(None, output_field=FloatField()),
        ),
        _waiting_business=Case(
            When(first_responded_at__isnull=True, then=calendar.business_seconds(asked, Value(_epoch(now)))),
            default=Value(None, output_field=FloatField()),
        ),
    )
    first_clock = answered - asked
    first_business = calendar.business_seconds(asked, answered)
    closed = Q(status=Status.CLOSED, status_changed_at__isnull=False)
    resolution_clock = resolved - asked
    resolution_business = calendar.business_seconds(asked, resolved)
    responded = Q(first_responded_at__isnull=False)
    # Every count, median and p90 of every grouping, in one query on PostgreSQL.
    grouped = grouped_figures(
        with_times.annotate(_closed_answer=calendar.closed(answered)),
        {
            "first_response": (responded, first_clock),
            "first_response_business": (responded, first_business),
            "resolution": (closed, resolution_clock),
            "resolution_business": (closed, resolution_business),
        },
        [None, "channel_id", "assignee_id", "intent"],
        counts={"conversations": Q(), "answered": responded},
        totals={
            "answered_out_of_hours": responded & Q(_closed_answer=1),
            "breached": Q(_first_business__gte=target) | Q(_waiting_business__gte=target),
            "unanswered_questions": Q(intent="question", first_responded_at__isnull=True),
        },
        labels={"channel_id": "channel__name", "assignee_id": "assignee__username"},
    )
    totals = grouped.totals

    def times(group: str | None) -> dict[Any, dict[str, Any]]:
        table: dict[Any, dict[str, Any]] = {}
        for name, by_group in grouped.percentiles.items():
            for key, found in by_group[group].items():
                entry = table.setdefault(key, {})
                entry[f"{name}_median"] = _minutes(found.get("median"))
                entry[f"{name}_p90"] = _minutes(found.get("p90"))
        return table

    def rates(group: str) -> list[dict[str, Any]]:
        timing = times(group)
        return [
            {
                "key": row["key"],
                "label": row["label"] or "",
                "conversations": row["conversations"],
                "answered": row["answered"],
                "response_rate": _ratio(row["answered"], row["conversations"]),
                **_empty_times(),
                **timing.get(row["key"], {}),
            }
            for row in grouped.counts[group]
        ]

    overall = times(None).get(None, {})
    return {
        "conversations": totals["conversations"],
        "answered": totals["answered"],
        "response_rate": _ratio(totals["answered"], totals["conversations"]),
        "answered_out_of_hours": totals["answered_out_of_hours"] or 0,
        "out_of_hours_share": _ratio(totals["answered_out_of_hours"], totals["answered"]),
        "sla_target_minutes": settings.first_response_minutes,
        "sla_breaches": totals["breached"],
        "unanswered_questions": totals["unanswered_questions"],
        **_empty_times(),
        **overall,
        "by_channel": rates("channel_id"),
        "by_member": rates("assignee_id"),
        "by_intent": rates("intent"),
    }


def _empty_times() -> dict[str, None]:
    return {
        f"{name}_{stat}": None
        for name in ("first_response", "first_response_business", "resolution", "resolution_business")
        for stat in ("median", "p90")
    }


def quality(organisation: Organisation, period: Period, filters: Filters) -> dict[str, Any]:
    """Replies, shares and likes per brand post; substantive comments; contributors."""
    items = Item.objects.for_org(organisation)
    if filters.channel_id:
        items = items.filter(channel_id=filters.channel_id)
    items = in_campaign(items, organisation, filters)
    in_period = Q(created_at__gte=period.start, created_at__lt=period.end)
    posts = items.filter(in_period, _brand_item(), kind=ItemKind.POST)
    shares = sum((_json_number(key) for key in SHARE_KEYS[1:]), _json_number(SHARE_KEYS[0]))
    likes = sum((_json_number(key) for key in LIKE_KEYS[1:]), _json_number(LIKE_KEYS[0]))
    liked = Q()
    for key in LIKE_KEYS:
        liked |= Q(metrics__has_key=key)
    post_totals = posts.aggregate(
        posts=Count("pk"),
        shares=Sum(shares),
        likes=Sum(likes),
        posts_with_likes=Count("pk", filter=liked),
    )
    replies = (
        items.filter(thread_root__in=posts.values("pk"))
        .exclude(_brand_item())
        .exclude(pk=F("thread_root_id"))
        .count()
    )
    comments = items.filter(in_period, kind__in=CUSTOMER_KINDS).exclude(_brand_item())
    comment_totals = comments.aggregate(
        comments=Count("pk"),
        substantive=Count("pk", filter=Q(text__regex=SUBSTANTIVE)),
        contributors=Count("contact", distinct=True),
    )
    earlier = Item.objects.for_org(organisation).filter(created_at__lt=period.start).exclude(_brand_item())
    returning = _returning(comments, earlier)
    top = list(
        comments.filter(contact__isnull=False)
        .values("contact", "contact__display_name")
        .annotate(items=Count("pk"))
        .order_by("-items", "contact__display_name")[:TOP]
    )
    n_posts = post_totals["posts"]
    return {
        "posts": n_posts,
        "replies": replies,
        "replies_per_post": _ratio(replies, n_posts),
        "shares": int(post_totals["shares"] or 0),
        "shares_per_post": _ratio(post_totals["shares"], n_posts),
        "likes": int(post_totals["likes"] or 0),
        "posts_with_likes": post_totals["posts_with_likes"],
        "likes_per_post": _ratio(post_totals["likes"], post_totals["posts_with_likes"]),
        "comments": comment_totals["comments"],
        "substantive": comment_totals["substantive"],
        "substantive_share": _ratio(comment_totals["substantive"], comment_totals["comments"]),
        "contributors": comment_totals["contributors"],
        "returning_contributors": returning,
        "new_contributors": comment_totals["contributors"] - returning,
        "top_contributors": [{"name": row["contact__display_name"], "items": row["items"]} for row in top],
    }


def _returning(comments: QuerySet, earlier: QuerySet) -> int:
    """How many of the comments' distinct contacts wrote one of the `earlier` items.

    The period's distinct contributors first, then one probe each for an earlier item (a LIMIT 1
    subquery in the select list of the DISTINCT, which the planner runs per contributor instead of
    hashing the organisation's whole history or probing every contact it ever had): the work
    follows the period's contributors, not the years before it."""
    contributors = comments.filter(contact__isnull=False).order_by().values("contact").distinct()
    probe = earlier.filter(contact_id=RawSQL("contributors.contact", ())).order_by().values("pk")[:1]
    contributors_sql, contributors_params = contributors.query.sql_with_params()
    probe_sql, probe_params = probe.query.sql_with_params()
    sql = (
        f"SELECT COUNT(*) FROM (SELECT ({probe_sql}) AS earlier FROM ({contributors_sql}) AS contributors) "
        "AS probed WHERE earlier IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*probe_params, *contributors_params))
        return cursor.fetchone()[0]
