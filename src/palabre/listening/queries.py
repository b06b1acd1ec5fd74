"""Reads of listening for pages and the API, always within the actor's organisation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Max, Q
from django.db.models.functions import Left, TruncDay, TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.listening import detection
from palabre.listening.models import (
    AlertSubscription,
    CrisisAlert,
    CrisisMode,
    ListeningQuery,
    ListeningSource,
    Mention,
    QueryKind,
    Sentiment,
)
from palabre.nlp.normalize import fold
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation

VIEW = Perm.ITEMS_VIEW


def _get(actor: Actor, model: type[models.Model], pk: int) -> Any:
    actor.require(VIEW)
    found = model.objects.visible_to(actor).filter(pk=pk).first()
    if found is None:
        raise NotInOrganisation()
    return found


def listening_queries(actor: Actor) -> models.QuerySet[ListeningQuery]:
    actor.require(VIEW)
    return ListeningQuery.objects.visible_to(actor).annotate(
        mention_count=Count("matches"), last_mention_at=Max("matches__published_at")
    )


def listening_query(actor: Actor, query_id: int) -> ListeningQuery:
    return _get(actor, ListeningQuery, query_id)


def sources(actor: Actor) -> models.QuerySet[ListeningSource]:
    actor.require(VIEW)
    return ListeningSource.objects.visible_to(actor)


def source(actor: Actor, source_id: int) -> ListeningSource:
    return _get(actor, ListeningSource, source_id)


def alerts(actor: Actor) -> models.QuerySet[CrisisAlert]:
    actor.require(VIEW)
    return CrisisAlert.objects.visible_to(actor).select_related("query")


def alert(actor: Actor, alert_id: int) -> CrisisAlert:
    return _get(actor, CrisisAlert, alert_id)


def crisis_history(actor: Actor) -> models.QuerySet[CrisisMode]:
    actor.require(VIEW)
    return CrisisMode.objects.visible_to(actor).select_related("alert", "alert__query")


def crisis(actor: Actor, crisis_id: int) -> CrisisMode:
    return _get(actor, CrisisMode, crisis_id)


def subscriptions(actor: Actor) -> models.QuerySet[AlertSubscription]:
    actor.require(Perm.LISTENING_MANAGE)
    return AlertSubscription.objects.visible_to(actor)


def subscription(actor: Actor, subscription_id: int) -> AlertSubscription:
    actor.require(Perm.LISTENING_MANAGE)
    return _get(actor, AlertSubscription, subscription_id)


# --- mentions ---------------------------------------------------------------------------------


@dataclass
class MentionFilter:
    query_id: int | None = None
    source_id: int | None = None
    language: str = ""
    sentiment: str = ""
    since: date | None = None
    until: date | None = None
    text: str = ""


# The dashboard draws a bar per day: a period of centuries took minutes to draw, and the calendar's
# last day has no day after it. Filters beyond these bounds are refused, naming the field.
MAX_PERIOD_DAYS = 5 * 366
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


def period_errors(since: date | None, until: date | None, *, today: date) -> dict[str, str]:
    """What is wrong with a mention filter's period (field -> message); empty when it can be drawn."""
    errors = {}
    for name, day in (("since", since), ("until", until)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            errors[name] = _("Give a date between %(first)s and %(last)s.") % {
                "first": FIRST_DAY.isoformat(),
                "last": LAST_DAY.isoformat(),
            }
    if errors:
        return errors
    if since and until and since > until:
        return {"until": _("The end comes before the start.")}
    last = until or max(today, since or today)
    if since and (last - since).days > MAX_PERIOD_DAYS:
        return {"since": _("A period lasts at most %(days)s days.") % {"days": MAX_PERIOD_DAYS}}
    return {}


def check_period(where: MentionFilter) -> None:
    errors = period_errors(where.since, where.until, today=timezone.localdate())
    if errors:
        raise ValidationError(errors)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def mentions(actor: Actor, where: MentionFilter | None = None) -> models.QuerySet[Mention]:
    actor.require(VIEW)
    where = where or MentionFilter()
    check_period(where)
    rows = Mention.objects.visible_to(actor)
    if where.query_id:
        rows = rows.filter(matches__query_id=where.query_id, matches__organisation=actor.organisation)
    if where.source_id:
        rows = rows.filter(source_id=where.source_id)
    if where.language:
        rows = rows.filter(language=where.language)
    if where.sentiment:
        rows = rows.filter(sentiment=where.sentiment)
    if where.since:
        rows = rows.filter(published_at__gte=_start_of(where.since))
    if where.until:
        rows = rows.filter(published_at__lt=_start_of(where.until + timedelta(days=1)))
    if where.text:
        rows = rows.filter(text__icontains=where.text)
    return rows.select_related("source").prefetch_related("queries")


def text_head():
    """The part of a mention's text that pages read: a feed entry may be megabytes long, and a page
    of 50 mentions, or the dashboard's 2,000, read whole held a web worker for minutes and gigabytes
    (the API and the CSV export give the text whole)."""
    from palabre.listening.services.search_queries import MAX_MATCHED_CHARS

    return Left("text", MAX_MATCHED_CHARS)


def with_text_heads(rows: models.QuerySet[Mention]) -> models.QuerySet[Mention]:
    """The mentions with `text` holding only its head (see `text_head`)."""
    return rows.defer("text").annotate(text_head=text_head())


def mention_languages(actor: Actor) -> list[str]:
    actor.require(VIEW)
    return list(
        Mention.objects.visible_to(actor)
        .exclude(language="")
        .values_list("language", flat=True)
        .distinct()
        .order_by("language")
    )


# --- dashboards -------------------------------------------------------------------------------

DASHBOARD_TEXTS = 2000  # the latest mentions whose words make the top terms


def _period(where: MentionFilter) -> tuple[datetime, datetime]:
    now = timezone.now()
    end = _start_of(where.until + timedelta(days=1)) if where.until else now
    start = _start_of(where.since) if where.since else end - timedelta(days=30)
    return start, min(end, now) if not where.until else end


def dashboard(actor: Actor, where: MentionFilter) -> dict[str, Any]:
    """Who, where, how and how much: volume and sentiment over time, top authors, sources,
    domains and terms, and the share of voice of the brand against its competitors."""
    check_period(where)
    start, end = _period(where)
    scoped = MentionFilter(**{**where.__dict__, "since": None, "until": None})
    rows = mentions(actor, scoped).filter(published_at__gte=start, published_at__lt=end)
    hourly = (end - start) <= timedelta(days=3)
    trunc = TruncHour if hourly else TruncDay
    zone = timezone.get_current_timezone()
    per_bucket = (
        rows.order_by()
        .annotate(bucket=trunc("published_at", tzinfo=zone))
        .values("bucket", "sentiment")
        .annotate(n=Count("id", distinct=True))
    )
    series: dict[datetime, Counter] = {}
    for row in per_bucket:
        series.setdefault(row["bucket"], Counter())[row["sentiment"] or Sentiment.NEUTRAL] += row["n"]
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    buckets = []
    cursor = (
        timezone.localtime(start, zone).replace(minute=0, second=0, microsecond=0)
        if hourly
        else timezone.localtime(start, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    while cursor < end:
        counts = series.get(cursor, Counter())
        buckets.append(
            {
                "start": cursor,
                **{s: counts.get(s, 0) for s in Sentiment.values},
                "total": sum(counts.values()),
            }
        )
        cursor = zone.normalize(cursor + step) if hasattr(zone, "normalize") else cursor + step
    total = sum(b["total"] for b in buckets)
    sentiment_totals = {s: sum(b[s] for b in buckets) for s in Sentiment.values}
    top_authors = list(
        rows.exclude(author="")
        .order_by()
        .values("author", "author_name")
        .annotate(n=Count("id", distinct=True), reach=Max("author_reach"))
        .order_by("-n", "-reach")[:10]
    )
    top_sources = list(
        rows.order_by()
        .values("source__name", "source__kind")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n")[:10]
    )
    top_domains = list(
        rows.exclude(domain="")
        .order_by()
        .values("domain")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n")[:10]
    )
    texts = list(
        rows.order_by("-published_at")
        .annotate(head=text_head())
        .values_list("head", flat=True)[:DASHBOARD_TEXTS]
    )
    # The brand's own accounts (@MaisonLumiereFR, @maisonlumiere@piaille.fr,
    # maisonlumiere.bsky.social) are in most of its mentions: never a subject.
    own = {
        fold(handle).lstrip("@").split("@")[0].removesuffix(".bsky.social")
        for handle in Channel.objects.visible_to(actor).values_list("handle", flat=True)
    }
    term_counts = Counter(
        term for text in texts for term in detection.terms_of(text) if term.lstrip("#") not in own
    )
    top_terms = term_counts.most_common(15)
    spelled = detection.spelled_as(texts, [term for term, _n in top_terms])
    return {
        "start": start,
        "end": end,
        "hourly": hourly,
        "buckets": buckets,
        "total": total,
        "sentiment": sentiment_totals,
        "top_authors": top_authors,
        "top_sources": top_sources,
        "top_domains": top_domains,
        "top_terms": [(spelled[term], n) for term, n in top_terms],
        "share_of_voice": share_of_voice(actor, start=start, end=end),
    }


def share_of_voice(actor: Actor, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Mentions per brand and competitor query over the period, with their share of the total."""
    actor.require(VIEW)
    counts = list(
        ListeningQuery.objects.visible_to(actor)
        .filter(kind__in=[QueryKind.BRAND, QueryKind.COMPETITOR])
        .annotate(
            n=Count("matches", filter=Q(matches__published_at__gte=start, matches__published_at__lt=end)),
            negative=Count(
                "matches",
                filter=Q(
                    matches__published_at__gte=start,
                    matches__published_at__lt=end,
                    matches__mention__sentiment=Sentiment.NEGATIVE,
                ),
            ),
        )
        .values("id", "name", "kind", "n", "negative")
    )
    total = sum(row["n"] for row in counts) or 1
    for row in counts:
        row["share"] = round(100 * row["n"] / total, 1)
        row["negative_share"] = round(100 * row["negative"] / row["n"], 1) if row["n"] else 0.0
    return sorted(counts, key=lambda row: (-row["n"], row["name"]))
