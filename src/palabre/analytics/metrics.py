"""The figures of the analytics dashboard and reports, computed by the database.

Every block is a handful of aggregate queries whose number does not depend on the row count;
Python only shapes their results. Definitions and formulas: docs/analytics.md.

Business time is counted in SQL against the organisation's calendar (inbox business hours): the
opening intervals of the period are listed once in Python (a bounded list, one per opening per
day) and turned into a flat `CASE` that maps a moment to the business seconds elapsed since the
first opening ("business ordinal"); the business duration of (start, end) is the difference of
their ordinals. Percentiles are nearest-rank (the value at rank ceil(p x n) in ascending order),
picked with window functions so that SQLite and PostgreSQL give the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, RowNumber, TruncDate

from palabre.conversations.models import Item, ItemKind
from palabre.inbox.hours import BusinessHours
from palabre.inbox.models import Conversation, Reply, Status
from palabre.inbox.services import business_hours, settings_for
from palabre.listening.models import CrisisAlert, Mention, MentionMatch, QueryKind
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationRule, ModerationStatus
from palabre.orgs.models import Membership, Organisation

# Business time is counted up to this long after the period's end (a first answer given later
# counts as given then): it bounds the calendar the query carries.
BUSINESS_HORIZON = timedelta(days=31)
# (numerator, denominator) of the nearest-rank percentiles: integers, so that ceil(p x n) is exact.
MEDIAN, P90 = (1, 2), (9, 10)
TOP = 10
CUSTOMER_KINDS = (
    ItemKind.COMMENT,
    ItemKind.REPLY,
    ItemKind.MENTION,
    ItemKind.DIRECT_MESSAGE,
    ItemKind.REVIEW,
)
SHARE_KEYS = ("shares", "reposts", "reblogs")
LIKE_KEYS = ("likes", "favourites")
# At least two words of letters or digits: one word or emoji alone is not a substantive comment.
SUBSTANTIVE = r"\w+\W+\w"


@dataclass(frozen=True)
class Period:
    """[start, end): whole local days of the organisation, from `first` to `last` included."""

    first: date
    last: date
    time_zone: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.time_zone))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.time_zone)

    def local_days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True)
class Filters:
    channel_id: int | None = None
    member_id: int | None = None


# --- SQL building blocks --------------------------------------------------------------------------


class EpochSeconds(Func):
    """Seconds since 1970-01-01 UTC of a datetime column, as a float, on SQLite and PostgreSQL.

    SQLite's julianday is a float of days: rounded to the millisecond, so that 10:00 minus 08:00
    is exactly 7,200 s and a first answer right on the target is not counted as late."""

    output_field = FloatField()

    def as_sqlite(self, compiler, conn, **extra):
        return self.as_sql(
            compiler, conn, template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        )

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(
            compiler, conn, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"
        )


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


class Calendar:
    """The opening intervals of a period (plus the horizon), as epoch seconds, and the SQL
    expressions built on them."""

    def __init__(self, hours: BusinessHours, start: datetime, end: datetime):
        self.hours = hours
        intervals: list[tuple[float, float]] = []
        day = start.astimezone(hours.zone).date() - timedelta(days=1)
        while datetime.combine(day, time(0), tzinfo=hours.zone) < end:
            intervals.extend((_epoch(o), _epoch(c)) for o, c in hours.intervals(day))
            day += timedelta(days=1)
        self.intervals = intervals

    def ordinal(self, moment) -> Any:
        """Business seconds from the first opening to `moment` (an expression giving epoch seconds)."""
        if not self.intervals:
            return Value(0.0)
        if connection.vendor == "postgresql":
            return _BucketOrdinal(moment, intervals=self.intervals)
        whens, done = [], 0.0
        for opens, closes in self.intervals:
            whens.append(When(_lt(moment, opens), then=Value(done)))
            whens.append(When(_lt(moment, closes), then=moment - Value(opens) + Value(done)))
            done += closes - opens
        return Case(*whens, default=Value(done), output_field=FloatField())

    def closed(self, moment) -> Any:
        """1 when `moment` falls outside every opening interval, else 0."""
        if not self.intervals:
            return Value(1)
        if connection.vendor == "postgresql":
            return _BucketClosed(moment, intervals=self.intervals)
        whens = []
        for opens, closes in self.intervals:
            whens.append(When(_lt(moment, opens), then=Value(1)))
            whens.append(When(_lt(moment, closes), then=Value(0)))
        return Case(*whens, default=Value(1), output_field=IntegerField())

    def business_seconds(self, start, end) -> Any:
        return self.ordinal(end) - self.ordinal(start)


class _Bucketed(Func):
    """PostgreSQL: the moment is placed among the openings and closings with one `width_bucket`
    (a binary search) instead of a `CASE` that compares it with each of them: k, the number of
    boundaries at or before it, is odd inside an opening interval and even outside."""

    def __init__(self, moment, *, intervals: list[tuple[float, float]]):
        super().__init__(moment)
        self.intervals = intervals

    @staticmethod
    def _array(numbers: list[float]) -> str:
        return "ARRAY[" + ",".join(repr(float(n)) for n in numbers) + "]::float8[]"

    def bucket(self, moment_sql: str) -> str:
        return f"width_bucket({moment_sql}, {self._array([b for pair in self.intervals for b in pair])})"


class _BucketOrdinal(_Bucketed):
    output_field = FloatField()

    def as_postgresql(self, compiler, conn, **extra):
        moment, params = compiler.compile(self.source_expressions[0])
        # For k = 2j - 1 (inside interval j): t + (done before j - opening j); for k = 2j: done after j.
        slope, offset, done = [], [], 0.0
        for opens, closes in self.intervals:
            slope += [1.0, 0.0]
            offset += [done - opens, done + closes - opens]
            done += closes - opens
        k = self.bucket(moment)
        sql = (
            f"(CASE WHEN {k} = 0 THEN 0.0 ELSE {moment} * ({self._array(slope)})[{k}] "
            f"+ ({self._array(offset)})[{k}] END)"
        )
        return sql, (*params, *params, *params, *params)  # the moment: in k three times, then alone


class _BucketClosed(_Bucketed):
    output_field = IntegerField()

    def as_postgresql(self, compiler, conn, **extra):
        moment, params = compiler.compile(self.source_expressions[0])
        return f"(1 - mod({self.bucket(moment)}, 2))", tuple(params)


class _LessThan(Func):
    template = "(%(expressions)s)"
    arg_joiner = " < "
    output_field = BooleanField()
    conditional = True


def _lt(expression, number: float):
    return _LessThan(expression, Value(number, output_field=FloatField()))


def percentiles(rows: QuerySet, value, group: str | None = None) -> dict[Any, dict[str, float | int]]:
    """{group value: {"n", "median", "p90"}} of `value` over `rows`, nearest rank, in one query."""
    partition = [F(group)] if group else []
    ranked = (
        rows.annotate(pv=value)
        .filter(pv__isnull=False)
        .annotate(
            prank=Window(
                RowNumber(), partition_by=partition or None, order_by=[F("pv").asc(), F("pk").asc()]
            ),
            pn=Window(Count("pk"), partition_by=partition or None),
        )
    )
    ranks = Q()
    for numerator, denominator in (MEDIAN, P90):
        # ceil(n x a / b) in integer arithmetic
        ranks |= Q(prank=(F("pn") * numerator + (denominator - 1)) / denominator)
    found: dict[Any, dict[str, float | int]] = {}
    fields = ["pv", "prank", "pn"] + ([group] if group else [])
    for row in ranked.filter(ranks).values(*fields):
        key = row[group] if group else None
        n = row["pn"]
        entry = found.setdefault(key, {"n": n})
        if row["prank"] == -(-n * MEDIAN[0] // MEDIAN[1]):
            entry["median"] = row["pv"]
        if row["prank"] == -(-n * P90[0] // P90[1]):
            entry["p90"] = row["pv"]
    return found


def _ratio(part: float | int | None, whole: float | int | None) -> float | None:
    return None if not whole else (part or 0) / whole


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def _json_number(key: str) -> Any:
    return Coalesce(Cast(KeyTextTransform(key, "metrics"), FloatField()), Value(0.0))


def _brand_item() -> Q:
    return Q(author__isnull=False, author__handle=F("channel__handle"))


# --- the blocks -------------------------------------------------------------------------------------


def care(organisation: Organisation, period: Period, filters: Filters, *, now: datetime) -> dict[str, Any]:
    """Response rate, first response and resolution times, out-of-hours answers, SLA breaches."""
    settings = settings_for(organisation)
    calendar = Calendar(business_hours(organisation, settings), period.start, period.end + BUSINESS_HORIZON)
    rows = Conversation.objects.filter(
        organisation=organisation, root__created_at__gte=period.start, root__created_at__lt=period.end
    )
    if filters.channel_id:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.member_id:
        rows = rows.filter(assignee_id=filters.member_id)
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
    totals = with_times.aggregate(
        conversations=Count("pk"),
        answered=Count("pk", filter=Q(first_responded_at__isnull=False)),
        answered_out_of_hours=Sum(
            Case(
                When(first_responded_at__isnull=False, then=calendar.closed(answered)),
                default=Value(0),
                output_field=IntegerField(),
            )
        ),
        breached=Count("pk", filter=Q(_first_business__gte=target) | Q(_waiting_business__gte=target)),
        unanswered_questions=Count("pk", filter=Q(intent="question", first_responded_at__isnull=True)),
    )
    first_clock = answered - asked
    first_business = calendar.business_seconds(asked, answered)
    closed = rows.filter(status=Status.CLOSED, status_changed_at__isnull=False)
    resolution_clock = resolved - asked
    resolution_business = calendar.business_seconds(asked, resolved)
    responded = rows.filter(first_responded_at__isnull=False)

    def times(group: str | None) -> dict[Any, dict[str, Any]]:
        table: dict[Any, dict[str, Any]] = {}
        for name, source, expression in (
            ("first_response", responded, first_clock),
            ("first_response_business", responded, first_business),
            ("resolution", closed, resolution_clock),
            ("resolution_business", closed, resolution_business),
        ):
            for key, found in percentiles(source, expression, group).items():
                entry = table.setdefault(key, {})
                entry[f"{name}_median"] = _minutes(found.get("median"))
                entry[f"{name}_p90"] = _minutes(found.get("p90"))
        return table

    def rates(group: str, label: str | None = None) -> list[dict[str, Any]]:
        fields = [group] + ([label] if label else [])
        counted = (
            rows.values(*fields)
            .annotate(
                conversations=Count("pk"),
                answered=Count("pk", filter=Q(first_responded_at__isnull=False)),
            )
            .order_by(*fields)
        )
        timing = times(group)
        out = []
        for row in counted:
            out.append(
                {
                    "key": row[group],
                    "label": (row[label] if label else row[group]) or "",
                    "conversations": row["conversations"],
                    "answered": row["answered"],
                    "response_rate": _ratio(row["answered"], row["conversations"]),
                    **_empty_times(),
                    **timing.get(row[group], {}),
                }
            )
        return out

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
        "by_channel": rates("channel_id", "channel__name"),
        "by_member": rates("assignee_id", "assignee__username"),
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
    items = Item.objects.filter(organisation=organisation)
    if filters.channel_id:
        items = items.filter(channel_id=filters.channel_id)
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
    earlier = Item.objects.filter(
        organisation=organisation, contact=OuterRef("contact"), created_at__lt=period.start
    ).exclude(_brand_item())
    returning = comments.filter(Exists(earlier)).aggregate(n=Count("contact", distinct=True))["n"]
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


def health(organisation: Organisation, period: Period, filters: Filters) -> dict[str, Any]:
    """Spam and toxic shares, moderation load and time, reversed decisions, rules that fire most."""
    states = ItemModeration.objects.filter(
        organisation=organisation, item__created_at__gte=period.start, item__created_at__lt=period.end
    )
    decisions = ModerationDecision.objects.filter(
        organisation=organisation, item__created_at__gte=period.start, item__created_at__lt=period.end
    )
    if filters.channel_id:
        states = states.filter(item__channel_id=filters.channel_id)
        decisions = decisions.filter(item__channel_id=filters.channel_id)
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
    names = dict(
        ModerationRule.objects.filter(organisation=organisation, pk__in=ids).values_list("pk", "pattern")
    )
    return [
        {"rule": str(rule_id), "label": names.get(rule_pk(rule_id), str(rule_id)), "fired": n}
        for rule_id, n in fired
    ]


def listening(organisation: Organisation, period: Period) -> dict[str, Any]:
    """Mentions per local day and sentiment; share of voice of brand and competitor queries."""
    zone = ZoneInfo(period.time_zone)
    mentions = Mention.objects.filter(
        organisation=organisation, published_at__gte=period.start, published_at__lt=period.end
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
        MentionMatch.objects.filter(
            organisation=organisation,
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
    alerts = CrisisAlert.objects.filter(
        organisation=organisation, created_at__gte=period.start, created_at__lt=period.end
    ).count()
    return {
        "mentions": totals["mentions"],
        "negative_share": _ratio(totals["negative"], totals["mentions"]),
        "positive_share": _ratio(totals["positive"], totals["mentions"]),
        "alerts": alerts,
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


def team(organisation: Organisation, period: Period, filters: Filters) -> dict[str, Any]:
    """The brand's answers per member and the share written out of business hours.

    An answer is an item the brand wrote on its channel in a thread (not a post), whether it left
    from Palabre's inbox or from the platform itself; it counts for the member the inbox reply was
    written by when there is one for that thread, else for the thread's assignee."""
    calendar = Calendar(business_hours(organisation), period.start, period.end)
    answers = (
        Item.objects.filter(
            organisation=organisation, created_at__gte=period.start, created_at__lt=period.end
        )
        .filter(_brand_item())
        .exclude(kind=ItemKind.POST)
        .exclude(thread_root__isnull=True)
    )
    if filters.channel_id:
        answers = answers.filter(channel_id=filters.channel_id)
    written_by = Reply.objects.filter(
        organisation=organisation, conversation__root_id=OuterRef("thread_root_id")
    ).order_by("created_at", "pk")
    answers = answers.annotate(
        member=Coalesce(
            Subquery(written_by.values("author_id")[:1]),
            F("thread_root__inbox_conversation__assignee_id"),
            output_field=IntegerField(),
        )
    )
    if filters.member_id:
        answers = answers.filter(member=filters.member_id)
    rows = list(
        answers.values("member")
        .annotate(
            replies=Count("pk"),
            after_hours=Sum(calendar.closed(EpochSeconds(F("created_at")))),
            conversations=Count("thread_root", distinct=True),
        )
        .order_by("-replies", "member")
    )
    names = dict(
        Membership.objects.filter(
            organisation=organisation, user_id__in=[r["member"] for r in rows if r["member"]]
        )
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


def figures(
    organisation: Organisation, period: Period, filters: Filters | None = None, *, now: datetime
) -> dict[str, Any]:
    """Every block for one period."""
    filters = filters or Filters()
    return {
        "care": care(organisation, period, filters, now=now),
        "quality": quality(organisation, period, filters),
        "health": health(organisation, period, filters),
        "listening": listening(organisation, period),
        "team": team(organisation, period, filters),
    }


def report(
    organisation: Organisation, period: Period, filters: Filters | None = None, *, now: datetime
) -> dict[str, Any]:
    """The period's figures and the previous period's, for comparison."""
    previous = period.previous()
    return {
        "organisation": organisation.slug,
        "period": {"from": period.first, "to": period.last, "time_zone": period.time_zone},
        "previous_period": {"from": previous.first, "to": previous.last},
        "current": figures(organisation, period, filters, now=now),
        "previous": figures(organisation, previous, filters, now=now),
    }
