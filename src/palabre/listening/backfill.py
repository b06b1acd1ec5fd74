"""A new or edited query over what was already collected, and a preview while it is written.

Listening keeps only what matched some query, so a new query starts at 0. Two remedies:
- the backfill: in the background, the query runs over the organisation's stored mentions and its
  own channels' items of the last days; what it matches is added (mentions keep their other
  matches; an item becomes a mention), with progress kept on a `QueryBackfill` row;
- the preview: while the query is written, the same matching over recent stored content, for a
  count and a few examples, and the parser's errors as precise as on saving.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Left
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.conversations.models import Item
from palabre.listening.models import ListeningQuery, Mention, MentionMatch, QueryBackfill, SourceKind
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 90
BATCH = 500
QUEUED_FOR_LONG = timedelta(minutes=10)
PREVIEW_ROWS = 3000  # the most recent stored posts a preview reads
PREVIEW_SAMPLES = 5
# A preview answers a page as it is typed (any member may ask): it stops matching after this long
# and says how many posts it read, so a query slow to match (dozens of NEAR over long posts) never
# holds a web worker for minutes; the backfill, in the background, reads them all.
PREVIEW_SECONDS = 2.0


def _clean_days(days: Any) -> int:
    try:
        value = int(days)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= MAX_DAYS:
        raise ValidationError({"days": _("Choose from 1 to %(n)s days.") % {"n": MAX_DAYS}})
    return value


def _mentions(organisation_id: int, since: datetime, until: datetime):
    return Mention.objects.for_org(organisation_id).filter(published_at__gte=since, published_at__lte=until)


def _items(organisation_id: int, since: datetime, until: datetime):
    """The own channels' items of the window that are not a mention yet."""
    known = Mention.objects.for_org(organisation_id).filter(item__isnull=False).values("item_id")
    return (
        Item.objects.for_org(organisation_id)
        .filter(created_at__gte=since, created_at__lte=until)
        .exclude(text="")
        .exclude(pk__in=known)
    )


def _source_name(mention: Mention) -> str:
    from palabre.listening.services import SOURCE_NAMES

    if mention.source.kind == SourceKind.OWN_CHANNELS and mention.item_id:
        return mention.item.channel.platform
    return SOURCE_NAMES.get(mention.source.kind, mention.source.kind)


# --- the backfill --------------------------------------------------------------------------------


def start(*, actor: Actor, listening_query: ListeningQuery, days: Any = DEFAULT_DAYS) -> QueryBackfill:
    """Queue a backfill of the query over the last `days` (run by a worker after commit)."""
    actor.require(Perm.LISTENING_MANAGE)
    if listening_query.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    days = _clean_days(days)
    now = timezone.now()
    since = now - timedelta(days=days)
    with transaction.atomic():
        # One backfill of a query waits for a worker at most (besides one running): asked again,
        # it reads the latest text over the latest days. Each reads up to 90 days of posts on a
        # shared worker, and a script asking a thousand times queued a thousand.
        ListeningQuery.objects.select_for_update().filter(pk=listening_query.pk).first()
        total = (
            _mentions(actor.organisation.pk, since, now).count()
            + _items(actor.organisation.pk, since, now).count()
        )
        row = QueryBackfill.objects.filter(query=listening_query, status=QueryBackfill.Status.QUEUED).first()
        if row is not None:
            lost = row.created_at < now - QUEUED_FOR_LONG  # its task lost (a queue emptied): again
            row.query_text, row.days, row.total, row.created_at = listening_query.query, days, total, now
            row.save(update_fields=["query_text", "days", "total", "created_at"])
            if lost:
                transaction.on_commit(lambda: _enqueue(row.pk))
            return row
        row = QueryBackfill.objects.create(
            organisation=actor.organisation,
            query=listening_query,
            query_text=listening_query.query,
            days=days,
            total=total,
            created_at=now,
        )
        record(actor, "listening.backfill_started", listening_query, after={"days": days, "backfill": row.pk})
        transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _enqueue(backfill_id: int) -> None:
    from palabre.listening.tasks import backfill_query_task

    backfill_query_task.enqueue(backfill_id)


def latest(listening_query: ListeningQuery) -> QueryBackfill | None:
    return QueryBackfill.objects.filter(query=listening_query).order_by("-created_at", "-id").first()


def run(backfill_id: int) -> QueryBackfill | None:
    """Match the query over the window, batch by batch, saving progress after each batch.
    Idempotent: a match already stored is kept, an item already a mention is skipped."""
    from palabre.connectors.search import Candidate
    from palabre.listening.services import MAX_MATCHED_CHARS, ingest_candidates, own_channels_source
    from palabre.listening.services.search_queries import saved_query
    from palabre.nlp.matcher import QueryMatcher

    row = QueryBackfill.objects.select_related("query", "organisation").filter(pk=backfill_id).first()
    if row is None or row.status == QueryBackfill.Status.DONE:
        return row
    query = row.query
    until = row.created_at
    since = until - timedelta(days=row.days)
    QueryBackfill.objects.filter(pk=row.pk).update(
        status=QueryBackfill.Status.RUNNING, started_at=timezone.now(), scanned=0, matched=0
    )
    scanned = matched = 0
    try:
        matcher = QueryMatcher({query.pk: saved_query(row.query_text)})
        already = set(MentionMatch.objects.filter(query=query).values_list("mention_id", flat=True))
        last = 0
        while True:
            batch = list(
                _mentions(row.organisation_id, since, until)
                .filter(pk__gt=last)
                .select_related("source", "item__channel")
                .defer("text", "item__text")
                .annotate(head=Left("text", MAX_MATCHED_CHARS))
                .order_by("pk")[:BATCH]
            )
            if not batch:
                break
            last = batch[-1].pk
            found = []
            for mention in batch:
                if mention.pk in already:
                    continue
                hits = matcher.match(
                    mention.head,
                    lang=mention.language or None,
                    source=_source_name(mention),
                    domain=mention.domain if "." in mention.domain else None,
                )
                if hits:
                    found.append(
                        MentionMatch(
                            organisation_id=row.organisation_id,
                            mention=mention,
                            query=query,
                            spans=[list(span) for span in hits[0].spans],
                            published_at=mention.published_at,
                        )
                    )
            MentionMatch.objects.bulk_create(found, ignore_conflicts=True)
            scanned += len(batch)
            matched += len(found)
            QueryBackfill.objects.filter(pk=row.pk).update(scanned=scanned, matched=matched)
        if query.active:
            # Items become mentions through listening's own ingestion (every active query is tried,
            # so the new one too); the ones that match nothing stay items.
            source = own_channels_source(row.organisation)
            last = 0
            while True:
                batch = list(
                    _items(row.organisation_id, since, until)
                    .filter(pk__gt=last)
                    .select_related("author", "channel")
                    .order_by("pk")[:BATCH]
                )
                if not batch:
                    break
                last = batch[-1].pk
                candidates = [
                    Candidate(
                        external_id=f"item:{item.pk}",
                        text=item.text,
                        url=item.url,
                        author=item.author.handle if item.author else "",
                        author_name=(item.author.display_name if item.author else "") or "",
                        author_reach=item.author.followers if item.author else None,
                        published_at=item.created_at,
                        language=item.language or "",
                        source_name=item.channel.platform,
                        item_id=item.pk,
                    )
                    for item in batch
                ]
                with transaction.atomic():
                    result = ingest_candidates(source=source, candidates=candidates)
                new_ids = result.mention_ids
                scanned += len(batch)
                matched += MentionMatch.objects.filter(query=query, mention_id__in=new_ids).count()
                QueryBackfill.objects.filter(pk=row.pk).update(scanned=scanned, matched=matched)
    except Exception as error:  # kept on the row, shown on the query's page; the worker logs it too
        logger.exception("backfill %s failed", row.pk)
        QueryBackfill.objects.filter(pk=row.pk).update(
            status=QueryBackfill.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    QueryBackfill.objects.filter(pk=row.pk).update(
        status=QueryBackfill.Status.DONE,
        scanned=scanned,
        matched=matched,
        total=max(row.total, scanned),
        finished_at=timezone.now(),
    )
    row.refresh_from_db()
    return row


# --- the preview ---------------------------------------------------------------------------------


@dataclass
class Preview:
    count: int = 0
    scanned: int = 0
    days: int = DEFAULT_DAYS
    complete: bool = True  # False: stopped after PREVIEW_SECONDS, `scanned` says how far
    samples: list[dict[str, Any]] = field(default_factory=list)


def _highlighted(text: str, spans: tuple[tuple[int, int], ...]) -> list[dict[str, Any]]:
    """The text cut into parts, the matched ones marked (the template escapes each part)."""
    parts, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        if start > at:
            parts.append({"text": text[at:start], "hit": False})
        parts.append({"text": text[start:end], "hit": True})
        at = end
    if at < len(text):
        parts.append({"text": text[at:], "hit": False})
    return parts


def preview(*, actor: Actor, text: str, days: Any = DEFAULT_DAYS, now: datetime | None = None) -> Preview:
    """How many of the recent stored posts the query would match, with a few examples. Raises the
    same ValidationError (with the position) as saving the query."""
    from palabre.listening.services import MAX_MATCHED_CHARS, validate_query_text
    from palabre.nlp.matcher import QueryMatcher

    actor.require(Perm.ITEMS_VIEW)
    days = _clean_days(days)
    text = validate_query_text(text)
    now = now or timezone.now()
    since = now - timedelta(days=days)
    matcher = QueryMatcher({"preview": text})
    result = Preview(days=days)
    # Only the part of a post that is matched is read (a feed entry may be megabytes long).
    head = Left("text", MAX_MATCHED_CHARS)
    mentions = list(
        _mentions(actor.organisation.pk, since, now)
        .select_related("source", "item__channel")
        .defer("text", "item__text")
        .annotate(head=head)
        .order_by("-published_at", "-pk")[:PREVIEW_ROWS]
    )
    rows: list[tuple[str, str, str, str | None, datetime, str]] = [
        (m.head, m.language, _source_name(m), m.domain or None, m.published_at, m.url) for m in mentions
    ]
    room = PREVIEW_ROWS - len(rows)
    if room > 0:
        rows += [
            (i.head, i.language, i.channel.platform, None, i.created_at, i.url)
            for i in _items(actor.organisation.pk, since, now)
            .select_related("channel")
            .defer("text")
            .annotate(head=head)
            .order_by("-created_at", "-pk")[:room]
        ]
    rows.sort(key=lambda r: r[4], reverse=True)
    deadline = time.monotonic() + PREVIEW_SECONDS
    for body, language, source, domain, published, url in rows:
        if result.scanned and time.monotonic() >= deadline:
            result.complete = False
            break
        result.scanned += 1
        hits = matcher.match(
            body,
            lang=language or None,
            source=source,
            domain=domain if domain and "." in domain else None,
        )
        if not hits:
            continue
        result.count += 1
        if len(result.samples) < PREVIEW_SAMPLES:
            result.samples.append(
                {
                    "parts": _highlighted(body[:400], tuple(s for s in hits[0].spans if s[1] <= 400)),
                    "text": body[:400],
                    "spans": [list(s) for s in hits[0].spans],
                    "source": source,
                    "published_at": published,
                    "url": url,
                }
            )
    return result


def start_after_save(*, actor: Actor, listening_query: ListeningQuery, text_changed: bool) -> None:
    """A new query, or one whose text changed, is run over what was collected (when active)."""
    if text_changed and listening_query.active:
        try:
            start(actor=actor, listening_query=listening_query)
        except IntegrityError:  # the query was deleted meanwhile
            return
