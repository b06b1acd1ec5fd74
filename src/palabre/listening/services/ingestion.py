"""What sources bring: candidates matched and stored as mentions (a poll, the pipeline's listening
stage), polls with backoff, and the sources due."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from palabre import bulk
from palabre.listening.models import (
    ListeningQuery,
    ListeningSource,
    Mention,
    MentionMatch,
    SourceKind,
)
from palabre.listening.services.search_queries import MAX_MATCHED_CHARS, matcher_for
from palabre.listening.services.sources import own_channels_source

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


@dataclass
class IngestResult:
    seen: int = 0
    created: int = 0
    already_known: int = 0
    unmatched: int = 0
    mention_ids: list[int] = field(default_factory=list)


# What a query's `source:` filter names: the platform, whatever the kind of fetch.
SOURCE_NAMES = {
    SourceKind.RSS: "rss",
    SourceKind.MASTODON_HASHTAG: "mastodon",
    SourceKind.MASTODON_TIMELINE: "mastodon",
    SourceKind.BLUESKY_JETSTREAM: "bluesky",
    SourceKind.REDDIT_SEARCH: "reddit",
    SourceKind.WEB_PAGE: "web",
}


def _domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "") if url else ""
    return host.removeprefix("www.").lower()[:255]


# Read for every batch of the pipeline's listening stage: compiled once (palabre.bulk.Prepared).
_known_mentions = bulk.Prepared(
    lambda source_id, external_ids: Mention.objects.filter(
        source_id=source_id, external_id__any=external_ids
    ).values_list("external_id", flat=True)
)


def ingest_candidates(*, source: ListeningSource, candidates: list) -> IngestResult:
    """Store the candidates that match at least one active query. Idempotent: a candidate already
    stored for this source (same external id) is skipped, so polls and retries never duplicate."""
    from palabre.nlp.classifiers import load_models
    from palabre.nlp.language import detect_languages

    result = IngestResult(seen=len(candidates))
    if not candidates:
        return result
    unique = {}
    for candidate in candidates:
        unique.setdefault(candidate.external_id, candidate)
    known = set(_known_mentions(source.pk, list(unique)))
    result.already_known = len(candidates) - len(unique) + len(known)
    fresh = [c for eid, c in unique.items() if eid not in known]
    matcher, queries = matcher_for(source.organisation_id)
    if matcher is None:
        result.unmatched = len(fresh)
        return result
    # The languages the source did not give, at once: a text that comes again (a spam wave, a
    # repost differing by its links) is detected once.
    detected = iter(detect_languages([c.text for c in fresh if not c.language and c.text]))
    matched = []
    for candidate in fresh:
        language = candidate.language or (next(detected) if candidate.text else "")
        domain = candidate.domain or _domain_of(candidate.url)
        matches = matcher.match(
            candidate.text[:MAX_MATCHED_CHARS],
            lang=language or None,
            source=candidate.source_name or SOURCE_NAMES.get(source.kind, source.kind),
            domain=domain if "." in domain else None,
        )
        if matches:
            matched.append((candidate, language, matches))
        else:
            result.unmatched += 1
    if not matched:
        return result
    sentiments = load_models().sentiment_many([c.text for c, _lang, _m in matched])
    rows = [
        (_mention(source, candidate, language, label, probabilities), candidate, matches)
        for (candidate, language, matches), (label, probabilities) in zip(matched, sentiments, strict=True)
    ]
    try:
        # The batch in two inserts (mentions, then their matches).
        with transaction.atomic():
            bulk.insert([mention for mention, _c, _m in rows])
            bulk.insert(
                [
                    match
                    for mention, candidate, matches in rows
                    for match in _matches(mention, candidate, matches, queries)
                ]
            )
        stored = [mention for mention, _c, _m in rows]
    except IntegrityError:  # some stored meanwhile by a concurrent poll: one by one, skipping those
        stored = []
        for mention, candidate, matches in rows:
            try:
                with transaction.atomic():
                    mention.pk = None
                    mention.save(force_insert=True)
                    MentionMatch.objects.bulk_create(_matches(mention, candidate, matches, queries))
            except IntegrityError:
                result.already_known += 1
                continue
            stored.append(mention)
    result.created = len(stored)
    result.mention_ids = [mention.pk for mention in stored]
    if result.created:
        ListeningSource.objects.filter(pk=source.pk).update(
            mentions_ingested=models.F("mentions_ingested") + result.created
        )
        organisation_id = source.organisation_id
        transaction.on_commit(lambda: _enqueue_detection(organisation_id))
    return result


def _mention(source: ListeningSource, candidate, language: str, label: str, probabilities: dict) -> Mention:
    return Mention(
        organisation_id=source.organisation_id,
        source=source,
        external_id=candidate.external_id,
        item_id=getattr(candidate, "item_id", None),
        text=candidate.text,
        url=candidate.url[:1000],
        author=candidate.author[:300],
        author_name=candidate.author_name[:300],
        author_reach=candidate.author_reach,
        domain=(candidate.domain or _domain_of(candidate.url))[:255],
        language=(language or "")[:8],
        sentiment=label,
        negative_score=probabilities.get("negative", 0.0),
        published_at=candidate.published_at,
    )


def _matches(mention: Mention, candidate, matches: list, queries) -> list[MentionMatch]:
    return [
        MentionMatch(
            organisation_id=mention.organisation_id,
            mention=mention,
            query_id=match.query_id,
            spans=[list(span) for span in match.spans],
            published_at=candidate.published_at,
        )
        for match in matches
        if match.query_id in queries
    ]


# Crisis detection reads complete five-minute buckets: run after every stored batch (several a
# second under load) it mostly re-read what its last run read, half the CPU of the pipeline's
# listening stage. After a batch, an organisation's detection runs at once when none ran in the
# last DETECT_EVERY seconds, else once that delay is over (one deferred task per delay), so what a
# batch brings is looked at within DETECT_EVERY seconds; the `listening.detect` job runs it every
# 300 s as well (and is all there is with a backend that cannot defer).
DETECT_EVERY = 30


def _enqueue_detection(organisation_id: int) -> None:
    from palabre.listening.tasks import detect_crisis_task

    if cache.add(f"listening:detect:{organisation_id}", True, timeout=DETECT_EVERY):
        detect_crisis_task.enqueue(organisation_id)
        return
    if not cache.add(f"listening:detect-later:{organisation_id}", True, timeout=DETECT_EVERY):
        return  # a detection is asked for after this batch already
    if detect_crisis_task.get_backend().supports_defer:
        later = timezone.now() + timedelta(seconds=DETECT_EVERY)
        detect_crisis_task.using(run_after=later).enqueue(organisation_id)


def analyse_item_for_listening(item, created: bool) -> None:
    """Analyser registered with conversations: the organisation's own channels are a source too."""
    analyse_items_for_listening([item], frozenset({item.pk} if created else ()))


def analyse_items_for_listening(items: list, created: frozenset[int]) -> None:
    """The pipeline's listening stage: a batch of the organisation's own items matched against its
    active queries, in one pass per organisation (`ingest_candidates` on all of them at once)."""
    from palabre.connectors.search import Candidate

    by_org: dict[int, list] = {}
    for item in items:
        if item.text:
            by_org.setdefault(item.organisation_id, []).append(item)
    listening = (
        set(
            ListeningQuery.objects.filter(organisation_id__in=list(by_org), active=True)
            .values_list("organisation_id", flat=True)
            .distinct()
        )
        if by_org
        else set()
    )
    for organisation_id, org_items in by_org.items():
        if organisation_id not in listening:
            continue
        source = own_channels_source(org_items[0].organisation)
        if not source.active:
            continue
        candidates = []
        for item in org_items:
            author = item.author
            candidates.append(
                Candidate(
                    external_id=f"item:{item.pk}",
                    text=item.text,
                    url=item.url,
                    author=author.handle if author else "",
                    author_name=(author.display_name if author else "") or "",
                    author_reach=author.followers if author else None,
                    published_at=item.created_at,
                    language=item.language or "",
                    domain=_domain_of(item.url),
                    source_name=item.channel.platform,
                    item_id=item.pk,
                )
            )
        ingest_candidates(source=source, candidates=candidates)


def poll_source(
    source: ListeningSource, *, now: datetime | None = None, force: bool = False
) -> dict[str, Any]:
    """Search a due source from its cursor (its connector fetches) and ingest what it brings: the
    polling routine of `connectors.polling` on the source's row (claimed first, so two workers never
    poll one source at once; its health recorded; backed off when it fails)."""
    from palabre.connectors import polling, search

    now = now or timezone.now()
    row = ListeningSource.objects.filter(pk=source.pk)
    lease = now + timedelta(minutes=max(source.interval_minutes, 5))
    if not polling.claim(row.filter(active=True), now=now, until=lease, force=force, last_polled_at=now):
        return {"source": source.pk, "skipped": "not due"}
    source.refresh_from_db()
    interval = timedelta(minutes=source.interval_minutes)
    try:
        if source.kind == SourceKind.OWN_CHANNELS:  # its items arrive through analysis
            fetched = search.SearchPage([], source.cursor or {})
        else:
            fetched = search.search(source.kind, source.config or {}, source.cursor or {})
    except search.SearchError as error:
        failures = source.consecutive_failures + 1
        # Twice the interval after the first failure, doubling, at most MAX_BACKOFF.
        wait = polling.retry_delay(
            failures,
            first=2 * interval.total_seconds(),
            cap=MAX_BACKOFF.total_seconds(),
            retry_after=error.retry_after,
            jitter=0,
        )
        failure = polling.PollFailure(message=str(error), code=error.code, retry_after=error.retry_after)
        polling.record_failure(row, failure, now=now, next_poll_at=now + timedelta(seconds=wait))
        logger.warning("Listening source %s failed (%s): %s", source.pk, failures, error)
        return {"source": source.pk, "error": str(error), "failures": failures}
    with transaction.atomic():
        result = ingest_candidates(source=source, candidates=fetched.candidates)
        polling.record_success(
            row,
            now=now,
            next_poll_at=now + interval,
            cursor=fetched.cursor,
            last_error="",
            last_error_code="",
        )
    return {
        "source": source.pk,
        "seen": result.seen,
        "created": result.created,
        "known": result.already_known,
    }


def due_sources(now: datetime | None = None) -> models.QuerySet[ListeningSource]:
    now = now or timezone.now()
    return ListeningSource.objects.filter(active=True, next_poll_at__lte=now).exclude(
        kind=SourceKind.OWN_CHANNELS
    )
