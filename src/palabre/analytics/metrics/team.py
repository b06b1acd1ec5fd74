"""The team: replies per member, workload and after-hours load."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from palabre.analytics.metrics.campaigns import in_campaign
from palabre.analytics.metrics.sql import (
    Calendar,
    EpochSeconds,
    Filters,
    Period,
    _ratio,
    brand_authors,
    brand_pairs,
)
from palabre.conversations.models import Item, ItemKind
from palabre.inbox.models import Conversation, InboxSettings
from palabre.inbox.services import business_hours
from palabre.orgs.models import Membership, Organisation


def team(
    organisation: Organisation,
    period: Period,
    filters: Filters,
    *,
    inbox_settings: InboxSettings | None = None,
) -> dict[str, Any]:
    """The brand's answers per member and the share written out of business hours.

    An answer is an item the brand wrote on its channel in a thread (not a post), whether it left
    from Palabre's inbox or from the platform itself; it counts for the member the inbox reply was
    written by when there is one for that thread, else for the thread's assignee."""
    calendar = Calendar(business_hours(organisation, inbox_settings), period.start, period.end)
    # The brand's items: found by their authors (index on author and date), each checked against
    # its author's channels as a row's value (a CASE): compared as columns, the pairs had the
    # planner intersect each author's entries with every item of its channel (184,000 index
    # entries a channel on 1M items, a third of the statement's CPU).
    pairs = brand_pairs(organisation.pk)
    on_its_channel = Case(
        When(brand_authors(organisation.pk), then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    answers = (
        Item.objects.for_org(organisation)
        .filter(created_at__gte=period.start, created_at__lt=period.end)
        .filter(author_id__in=sorted({author_id for author_id, _channel in pairs}))
        .alias(_on_its_channel=on_its_channel)
        .filter(_on_its_channel=1)
        .exclude(kind=ItemKind.POST)
        .exclude(thread_root__isnull=True)
    )
    if filters.channel_id:
        answers = answers.filter(channel_id=filters.channel_id)
    answers = in_campaign(answers, organisation, filters)
    # One probe per answer for its thread's row (unique by root, no ordering), which holds the
    # author of its first inbox reply (kept by the inbox when a reply is written, moved or deleted):
    # that author, else the row's assignee. The reply itself was looked up for every answer before.
    # On PostgreSQL both reads come from indexes alone: the answers from (author, created_at),
    # which carries their organisation, channel, kind and thread (conversations migration 0010),
    # the member from the thread rows' index by root, which carries both columns (inbox migration
    # 0006). Replies are counted as rows (COUNT(*)): counting their ids would fetch each row.
    member = Coalesce(F("first_reply_author_id"), F("assignee_id"), output_field=IntegerField())
    thread_member = (
        Conversation.objects.filter(root_id=OuterRef("thread_root_id")).order_by().values(member=member)[:1]
    )
    answers = answers.annotate(member=Subquery(thread_member, output_field=IntegerField()))
    if filters.member_id:
        answers = answers.filter(member=filters.member_id)
    rows = list(
        answers.values("member")
        .annotate(
            replies=Count("*"),
            after_hours=Sum(calendar.closed(EpochSeconds(F("created_at")))),
            conversations=Count("thread_root", distinct=True),
        )
        .order_by("-replies", "member")
    )
    names = dict(
        Membership.objects.for_org(organisation)
        .filter(user_id__in=[r["member"] for r in rows if r["member"]])
        .values_list("user_id", "user__username")
        .distinct()
    )
    members = [
        {
            "key": row["member"],
            "label": names.get(row["member"], ""),
            "replies": row["replies"],
            "after_hours": row["after_hours"] or 0,
            "after_hours_share": _ratio(row["after_hours"], row["replies"]),
            "conversations": row["conversations"],
        }
        for row in rows
    ]
    total = sum(m["replies"] for m in members)
    after = sum(m["after_hours"] for m in members)
    return {
        "replies": total,
        "after_hours": after,
        "after_hours_share": _ratio(after, total),
        "members": members,
    }
