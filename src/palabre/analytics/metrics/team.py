"""The team: replies per member, workload and after-hours load."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
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
    # Each answer counts for its thread row's member: the author of the thread's first inbox reply
    # (kept by the inbox when a reply is written, moved or deleted), else the row's assignee. On
    # PostgreSQL the answers are read from the index on (author, created_at) alone, which carries
    # their organisation, channel, kind and thread (conversations migration 0010); see
    # `_members_postgresql` for their members. Replies are counted as rows (COUNT(*)): counting
    # their ids would fetch each row.
    shut = calendar.closed(EpochSeconds(F("created_at")))
    if connection.vendor == "postgresql":
        rows = _members_postgresql(answers, shut, organisation, period, filters)
    else:
        rows = _members(answers, shut, filters)
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


def _member() -> Coalesce:
    return Coalesce(F("first_reply_author_id"), F("assignee_id"), output_field=IntegerField())


def _members(answers: QuerySet, shut: Any, filters: Filters) -> list[dict[str, Any]]:
    """Per member: the answers, those written out of hours and their threads; one probe per answer
    for its thread's row (unique by root, no ordering)."""
    thread_member = (
        Conversation.objects.filter(root_id=OuterRef("thread_root_id"))
        .order_by()
        .values(member=_member())[:1]
    )
    answers = answers.annotate(member=Subquery(thread_member, output_field=IntegerField()))
    if filters.member_id:
        answers = answers.filter(member=filters.member_id)
    return list(
        answers.values("member")
        .annotate(
            replies=Count("*"), after_hours=Sum(shut), conversations=Count("thread_root", distinct=True)
        )
        .order_by("-replies", "member")
    )


# The thread rows hashed for the team's answers: those begun in the period or this long before it.
# An answer to an older thread finds its member by a probe instead: the same member either way.
THREADS_BEFORE = timedelta(days=14)


def _members_postgresql(
    answers: QuerySet, shut: Any, organisation: Organisation, period: Period, filters: Filters
) -> list[dict[str, Any]]:
    """`_members` on PostgreSQL: the thread rows begun from `THREADS_BEFORE` before the period to
    its end are read from their index by beginning alone (which carries their root and members,
    inbox migration 0008) and hashed, the answers joined to them; only an answer whose thread began
    earlier probes the thread rows' index by root, as every answer did before."""
    table = connection.ops.quote_name(Conversation._meta.db_table)
    try:
        answers_sql, params = answers.order_by().values("thread_root_id", shut=shut).query.sql_with_params()
    except EmptyResultSet:  # no brand handle: no answer
        return []
    probe = (
        f"(SELECT COALESCE(p.first_reply_author_id, p.assignee_id) FROM {table} p "
        "WHERE p.root_id = a.thread_root_id LIMIT 1)"
    )
    kept = "WHERE member = %s" if filters.member_id else ""
    sql = (
        "SELECT member, COUNT(*), SUM(shut), COUNT(DISTINCT thread_root_id) FROM ("
        f"SELECT a.thread_root_id, a.shut, CASE WHEN t.root_id IS NULL THEN {probe} ELSE t.member END AS member "
        f"FROM ({answers_sql}) a LEFT JOIN (SELECT root_id, COALESCE(first_reply_author_id, assignee_id) AS member "
        f"FROM {table} WHERE organisation_id = %s AND began_at >= %s AND began_at < %s OFFSET 0) t "
        f"ON t.root_id = a.thread_root_id) AS answered {kept} "
        "GROUP BY member ORDER BY COUNT(*) DESC, member"
    )
    arguments = [*params, organisation.pk, period.start - THREADS_BEFORE, period.end]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arguments, *([filters.member_id] if filters.member_id else [])])
        return [
            {"member": member, "replies": replies, "after_hours": after, "conversations": threads}
            for member, replies, after, threads in cursor.fetchall()
        ]
