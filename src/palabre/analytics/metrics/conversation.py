"""Care and quality: response rate and times in business hours, conversation and amplification
rates, sentiment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

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
    GroupedFigures,
    Period,
    _epoch,
    _json_number,
    _minutes,
    _ratio,
    brand_authors,
    grouped_figures,
    grouping_sets,
)
from palabre.analytics.models import CommentDay
from palabre.conversations.models import Contact, Item, ItemKind
from palabre.inbox.models import Conversation, InboxSettings, Status
from palabre.inbox.services import business_hours, settings_for
from palabre.orgs.models import Channel, Organisation


def care(
    organisation: Organisation,
    period: Period,
    filters: Filters,
    *,
    now: datetime,
    inbox_settings: InboxSettings | None = None,
) -> dict[str, Any]:
    """Response rate, first response and resolution times, out-of-hours answers, SLA breaches."""
    settings = inbox_settings or settings_for(organisation)
    calendar = Calendar(business_hours(organisation, settings), period.start, period.end + BUSINESS_HORIZON)
    # `began_at` is the root's `created_at`, kept on the thread's row (indexed): no join to the roots.
    rows = Conversation.objects.for_org(organisation).filter(
        began_at__gte=period.start, began_at__lt=period.end
    )
    if filters.channel_id:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.member_id:
        rows = rows.filter(assignee_id=filters.member_id)
    rows = in_campaign(rows, organisation, filters, "root")
    asked = EpochSeconds(F("began_at"))
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
    groups = [None, "channel_id", "assignee_id", "intent"]
    labels = {"channel_id": "channel__name", "assignee_id": "assignee__username"}
    if connection.vendor == "postgresql":
        grouped = _care_figures_postgresql(rows, calendar, target, now, groups, labels)
    else:
        grouped = grouped_figures(
            with_times.annotate(_closed_answer=calendar.closed(answered)),
            {
                "first_response": (responded, first_clock),
                "first_response_business": (responded, first_business),
                "resolution": (closed, resolution_clock),
                "resolution_business": (closed, resolution_business),
            },
            groups,
            counts={"conversations": Q(), "answered": responded},
            totals={
                "answered_out_of_hours": responded & Q(_closed_answer=1),
                "breached": Q(_first_business__gte=target) | Q(_waiting_business__gte=target),
                "unanswered_questions": Q(intent="question", first_responded_at__isnull=True),
            },
            labels=labels,
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


def _care_figures_postgresql(
    rows: QuerySet,
    calendar: Calendar,
    target: float,
    now: datetime,
    groups: list[str | None],
    labels: dict[str, str],
) -> GroupedFigures:
    """The care figures of SQLite's `grouped_figures` (same values, counts and totals): an inner
    query, fenced (`OFFSET 0`), reads each thread's moments as epoch seconds and its stored business
    durations; the next one gives the durations and flags, the stored durations where they hold
    (see below), else the moments placed in the calendar; then one aggregate over the grouping
    sets. Placing every moment in the calendar was most of the block's cost; it is now done for
    the waiting threads' beginnings only (and for rows counted with other hours)."""
    # A row's stored business durations (counted by the inbox when its moments change) are this
    # calendar's values when they were counted with the organisation's current hours and the moment
    # lies inside the calendar's span (a first answer given after the horizon counts as given then):
    # read as they are; the other rows' moments are placed in the calendar here, as are the waiting
    # threads' beginnings (their clock runs until now). The inner query reads the columns only: the
    # placing, rare, is written above it (costed in the scan, the calendar's expressions had the
    # planner scan the whole table in parallel instead of the period's rows by their index).
    start, end = calendar.span

    def holds(moment: str) -> ExpressionWrapper:
        inside = Q(hours_key=calendar.hours.key, **{f"{moment}__gte": start, f"{moment}__lt": end})
        return ExpressionWrapper(inside, output_field=BooleanField())

    moments = (
        rows.order_by()
        .annotate(
            _asked=EpochSeconds(F("began_at")),
            _answered=EpochSeconds(F("first_responded_at")),
            _resolved=EpochSeconds(F("status_changed_at")),
            _first_kept=F("business_to_first_response"),
            _change_kept=F("business_to_status_change"),
            _shut_kept=Cast("first_response_out_of_hours", IntegerField()),
            _first_holds=holds("first_responded_at"),
            _change_holds=holds("status_changed_at"),
            _closed=Case(
                When(Q(status=Status.CLOSED, status_changed_at__isnull=False), then=Value(1)),
                default=Value(0),
            ),
            _question=Case(When(intent="question", then=Value(1)), default=Value(0)),
        )
        .values(
            *[group for group in groups if group],
            "_asked",
            "_answered",
            "_resolved",
            "_first_kept",
            "_change_kept",
            "_shut_kept",
            "_first_holds",
            "_change_holds",
            "_closed",
            "_question",
        )
    )
    moments_sql, params = moments.query.sql_with_params()
    compiler = moments.query.get_compiler(connection=connection)

    def placed(expression) -> str:
        sql, placed_params = compiler.compile(expression)
        assert not placed_params  # the calendar's boundaries are written in the statement
        return sql

    if calendar.intervals:
        asked_at, answered_at, resolved_at = (
            placed(calendar.ordinal(RawSQL(column, ()))) for column in ("_asked", "_answered", "_resolved")
        )
        answered_shut = placed(calendar.closed(RawSQL("_answered", ())))
    else:  # never open: no business time, every moment out of hours
        asked_at = answered_at = resolved_at = "0.0"
        answered_shut = "1"
    first_business = f"(CASE WHEN _first_holds THEN _first_kept ELSE {answered_at} - {asked_at} END)"
    quote = connection.ops.quote_name
    kept_groups = ", ".join(quote(c) for c in [group for group in groups if group])
    answered = "(_answered IS NOT NULL)"
    base = (
        f"SELECT {kept_groups}, "
        "_answered - _asked AS pv0, "
        f"{first_business} AS pv1, "
        "CASE WHEN _closed = 1 THEN _resolved - _asked END AS pv2, "
        "CASE WHEN _closed = 1 THEN "
        f"(CASE WHEN _change_holds THEN _change_kept ELSE {resolved_at} - {asked_at} END) END AS pv3, "
        f"CASE WHEN {answered} AND (CASE WHEN _first_holds THEN _shut_kept ELSE {answered_shut} END) = 1 "
        "THEN 1 ELSE 0 END AS pc0, "
        f"CASE WHEN ({answered} AND {first_business} >= %s) "
        f"OR (NOT {answered} AND %s - {asked_at} >= %s) THEN 1 ELSE 0 END AS pc1, "
        f"CASE WHEN _question = 1 AND NOT {answered} THEN 1 ELSE 0 END AS pc2 "
        f"FROM ({moments_sql} OFFSET 0) AS moments"
    )
    return grouping_sets(
        base,
        # The target's placeholders and now's ordinal come before the moments'.
        (target, calendar.ordinal_of(_epoch(now)), target, *params),
        ["first_response", "first_response_business", "resolution", "resolution_business"],
        ["conversations", "answered"],
        ["answered_out_of_hours", "breached", "unanswered_questions"],
        groups,
        labels,
        # The channel's name and the member's login read for the result's rows, not carried by
        # every thread through the grouping (care's CPU, 1M items, 28 days: 0.28 -> 0.23 s a period).
        label_tables={
            "channel_id": (Channel._meta.db_table, "name"),
            "assignee_id": (get_user_model()._meta.db_table, "username"),
        },
        # Every thread, and the answered ones (those whose first response time, pv0, is known:
        # every row has its beginning): counted by COUNT, not summed from a flag on each row
        # (care's CPU, 1M items, 90 days: 540 -> 520 ms).
        counted_as={"conversations": "COUNT(*)", "answered": 'COUNT("pv0")'},
    )


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
    brand = brand_authors(organisation.pk)
    in_period = Q(created_at__gte=period.start, created_at__lt=period.end)
    posts = items.filter(in_period, brand, kind=ItemKind.POST)
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
        .exclude(brand)
        .exclude(pk=F("thread_root_id"))
        .count()
    )
    comments = items.filter(kind__in=CUSTOMER_KINDS).exclude(brand)
    earlier = Item.objects.for_org(organisation).filter(created_at__lt=period.start).exclude(brand)
    days = _whole_utc_days(period) if connection.vendor == "postgresql" and not filters.campaign_id else None
    if days is None:
        found = _comments([comments.filter(in_period)], earlier)
    else:
        # The whole UTC days from the kept counts (one row per channel, author and contact of a
        # day), the hours before the first and after the last from the items.
        first, last = days
        counted = CommentDay.objects.for_org(organisation.pk).filter(day__gte=first, day__lt=last)
        if filters.channel_id:
            counted = counted.filter(channel_id=filters.channel_id)
        # In the index's order, as the halves: the rows are then read from the index alone (the
        # planner otherwise scans the whole table in parallel where the period holds most of it:
        # 1M items, 90 days, the block's CPU 240 -> 170 ms).
        counted = counted.exclude(brand).order_by("day").values("contact_id", "comments", "substantive")
        edges = [
            comments.filter(created_at__gte=period.start, created_at__lt=_utc_midnight(first)),
            comments.filter(created_at__gte=_utc_midnight(last), created_at__lt=period.end),
        ]
        found = _comments(edges, earlier, counted)
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
        "comments": found["comments"],
        "substantive": found["substantive"],
        "substantive_share": _ratio(found["substantive"], found["comments"]),
        "contributors": found["contributors"],
        "returning_contributors": found["returning"],
        "new_contributors": found["contributors"] - found["returning"],
        "top_contributors": found["top"],
    }


def _whole_utc_days(period: Period) -> tuple[date, date] | None:
    """[first, last): the UTC days that lie wholly inside the period, or None if there are none."""
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    first = start.date() + timedelta(days=1) if start.time() != time(0) else start.date()
    last = end.date()
    return (first, last) if first < last else None


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _comments(parts: list[QuerySet], earlier: QuerySet, counted: QuerySet | None = None) -> dict[str, Any]:
    """The comments' figures in one statement that reads the period's comments once: their count,
    the substantive ones, the distinct contributors, the returning ones among them (who wrote one
    of the `earlier` items) and the `TOP` contributors by comments. `parts`: the comments, in
    querysets of items that cover the period without overlap; `counted`: the kept counts of the
    rest of the period (analytics.CommentDay: contact, comments, substantive), if any.

    The comments are first counted per contact; the returning contributors are then one probe each
    for an earlier item (index on items by contact and date), so that the work follows the
    period's contributors, not the organisation's whole history or every contact it ever had; the
    names are read for the top contributors only.

    On PostgreSQL the comments are read as two halves, the substantive ones and the others, each
    from its partial index (conversations migration 0008: the test is run once per item when it is
    written, and the index carries what is read here), instead of running the regular expression on
    every comment's text fetched from the table (about half the block's cost on 1M items). Each half
    is read in the indexes' order: without it, over a period that holds most of the table, the
    planner costs the regular expression as a mere comparison and scans the table instead (0.88 s
    instead of 0.35 s of CPU on 1M items, 90 days). The kept counts of the whole UTC days hold one
    row per channel, author and contact of a day (243,000 instead of 913,000 index entries on 1M
    items, 90 days: the statement's CPU 320 -> 200 ms)."""
    halves: list[QuerySet] = []
    for comments in parts:
        comments = comments.order_by().annotate(_n=Value(1))
        if connection.vendor == "postgresql":
            halves += [
                comments.filter(text__regex=SUBSTANTIVE)
                .order_by("created_at")
                .annotate(_substantive=Value(1))
                .values("contact_id", "_n", "_substantive"),
                comments.exclude(text__regex=SUBSTANTIVE)
                .order_by("created_at")
                .annotate(_substantive=Value(0))
                .values("contact_id", "_n", "_substantive"),
            ]
        else:
            halves.append(
                comments.annotate(
                    _substantive=Case(When(text__regex=SUBSTANTIVE, then=Value(1)), default=Value(0)),
                ).values("contact_id", "_n", "_substantive")
            )
    if counted is not None:
        halves.append(counted)
    per_item = halves[0].union(*halves[1:], all=True) if len(halves) > 1 else halves[0]
    probe = earlier.filter(contact_id=RawSQL("earlier_writer.contact_id", ())).order_by().values("pk")
    per_item_sql, per_item_params = per_item.query.sql_with_params()
    probe_sql, probe_params = probe.query.sql_with_params()
    contact = connection.ops.quote_name(Contact._meta.db_table)
    sql = (
        f"WITH per_item (contact_id, n, substantive) AS ({per_item_sql}), "
        "per_contact AS (SELECT contact_id, SUM(n) AS n, SUM(substantive) AS s FROM per_item "
        "GROUP BY contact_id), "
        "totals AS (SELECT COALESCE(SUM(n), 0) AS comments, COALESCE(SUM(s), 0) AS substantive, "
        "COUNT(contact_id) AS contributors, "
        # A semi-join (one index probe per contributor, stopping at the first earlier item) rather
        # than a subquery run for each row of the sum: 10 to 20 ms less CPU on 1M items, 28 days.
        "(SELECT COUNT(*) FROM per_contact earlier_writer WHERE earlier_writer.contact_id IS NOT NULL "
        f"AND EXISTS ({probe_sql})) AS returned FROM per_contact), "
        # Names are joined only to the contributors with at least as many comments as the TOP-th.
        "top AS (SELECT p.contact_id, c.display_name, p.n FROM per_contact p "
        f"JOIN {contact} c ON c.id = p.contact_id "
        "WHERE p.n >= COALESCE((SELECT n FROM per_contact WHERE contact_id IS NOT NULL "
        "ORDER BY n DESC LIMIT 1 OFFSET %s), 0) ORDER BY p.n DESC, c.display_name LIMIT %s) "
        "SELECT totals.comments, totals.substantive, totals.contributors, totals.returned, "
        "top.display_name, top.n FROM totals LEFT JOIN top ON 1 = 1 "
        "ORDER BY top.n DESC, top.display_name"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*per_item_params, *probe_params, TOP - 1, TOP))
        rows = cursor.fetchall()
    comments_n, substantive, contributors, returning = rows[0][:4]
    return {
        "comments": int(comments_n),
        "substantive": int(substantive),
        "contributors": int(contributors),
        "returning": int(returning),
        "top": [{"name": name, "items": int(n)} for *_totals, name, n in rows if n is not None],
    }
