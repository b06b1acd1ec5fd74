"""Polling and ingestion: matched candidates stored once, health recorded, own channels listened to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening.models import ListeningSource, Mention, MentionMatch
from palabre.listening.services import ingest_candidates, poll_source

from .conftest import fixture_text


def candidate(external_id: str, text: str, **extra) -> Candidate:
    return Candidate(
        external_id=external_id, text=text, published_at=timezone.now() - timedelta(minutes=5), **extra
    )


def test_only_matching_candidates_are_stored_with_matches_spans_and_sentiment(org, make_query, make_source):
    brand = make_query(org, '"Maison Lumière" OR #MaisonLumiere', name="Marque")
    rival = make_query(org, "Atelier Boréal", name="Concurrent", kind="competitor")
    source = make_source(org, "rss", {"url": "https://example.org/feed"})
    result = ingest_candidates(
        source=source,
        candidates=[
            candidate("1", "Maison Lumière : livraison en retard, service client injoignable, honteux !"),
            candidate("2", "Rien à voir : une recette de crêpes"),
            candidate(
                "3", "Atelier Boréal ou Maison Lumière pour un canapé ?", url="https://www.forum.example/t/3"
            ),
        ],
    )
    assert (result.created, result.unmatched) == (2, 1)
    first = Mention.objects.get(external_id="1")
    assert first.sentiment == "negative" and first.language == "fr"
    (match,) = MentionMatch.objects.filter(mention=first)
    assert match.query == brand and match.spans == [[0, 14]]
    third = Mention.objects.get(external_id="3")
    assert set(third.queries.all()) == {brand, rival}
    assert third.domain == "forum.example"
    source.refresh_from_db()
    assert source.mentions_ingested == 2


def test_ingestion_is_idempotent(org, make_query, make_source):
    make_query(org, "lumiere")
    source = make_source(org, "rss", {"url": "https://example.org/feed"})
    batch = [candidate("a", "Maison Lumière"), candidate("a", "Maison Lumière"), candidate("b", "lumière")]
    assert ingest_candidates(source=source, candidates=batch).created == 2
    again = ingest_candidates(source=source, candidates=batch)
    assert again.created == 0 and again.already_known == 3
    assert Mention.objects.count() == 2


def test_a_poll_detects_each_reading_once_and_a_given_language_is_kept(
    org, make_query, make_source, monkeypatch
):
    from palabre.nlp import language

    detect = language._detect
    read: list[str] = []
    monkeypatch.setattr(language, "_detect", lambda text: read.append(text) or detect(text))
    make_query(org, "lumiere")
    source = make_source(org, "rss", {"url": "https://example.org/feed"})
    wave = "Maison Lumière rembourse tout le monde ce soir, inscrivez-vous vite"
    batch = [candidate(f"w{n}", f"{wave} https://promo{n}.example #lumiere{n}") for n in range(4)]
    batch += [
        candidate("en", "Maison Lumière lamps look great in our new flat, thanks"),
        candidate("given", "Maison Lumière, the lamps look great", language="de"),
    ]
    assert ingest_candidates(source=source, candidates=batch).created == 6
    assert len(read) == 2  # the wave once, the English text; the given language is not detected
    languages = dict(Mention.objects.values_list("external_id", "language"))
    assert languages == {**{f"w{n}": "fr" for n in range(4)}, "en": "en", "given": "de"}


def test_source_filters_in_queries_see_the_platform(org, make_query, make_source):
    make_query(org, "lumiere source:reddit")
    rss = make_source(org, "rss", {"url": "https://example.org/feed"})
    reddit = make_source(org, "reddit_search", {"query": "lumiere"})
    assert ingest_candidates(source=rss, candidates=[candidate("x", "lumière")]).created == 0
    assert ingest_candidates(source=reddit, candidates=[candidate("x", "lumière")]).created == 1


def test_poll_records_health_and_backs_off_on_failure(org, make_query, make_source, loopback):
    make_query(org, '"Maison Lumière"')
    source = make_source(org, "rss", {"url": f"{loopback.url}/feed.xml"})
    loopback.route("/feed.xml", "down", status=503, content_type="text/plain")
    outcome = poll_source(source)
    source.refresh_from_db()
    assert outcome["failures"] == 1 and source.consecutive_failures == 1
    assert "503" in source.last_error and source.health == "degraded"
    assert source.next_poll_at > timezone.now() + timedelta(minutes=20)  # backed off beyond the interval
    assert poll_source(source)["skipped"] == "not due"

    loopback.route("/feed.xml", fixture_text("feed.rss"), content_type="application/rss+xml")
    outcome = poll_source(source, force=True)
    source.refresh_from_db()
    assert outcome["created"] == 1  # one entry of two names the brand
    assert source.consecutive_failures == 0 and source.last_error == "" and source.health == "healthy"
    assert poll_source(source, force=True)["created"] == 0  # polled again: nothing twice
    assert Mention.objects.filter(source=source).count() == 1


def test_rate_limited_source_waits_as_told(org, make_source, loopback):
    source = make_source(org, "reddit_search", {"query": "x", "base_url": loopback.url})
    loopback.route("/search.json", {"error": 429}, status=429, headers={"Retry-After": "3600"})
    before = timezone.now()
    poll_source(source)
    source.refresh_from_db()
    assert source.next_poll_at >= before + timedelta(seconds=3590)


def test_own_channel_items_are_listened_to_through_analysis(
    org, channel, make_query, ingest, django_capture_on_commit_callbacks
):
    make_query(org, "livraison")
    with django_capture_on_commit_callbacks(execute=True):
        item = ingest(channel, "c1", text="La livraison est encore en retard")
        ingest(channel, "c2", text="Merci pour le conseil !")
    (mention,) = Mention.objects.filter(organisation=org)
    assert mention.item_id == item.pk and mention.source.kind == "own_channels"
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, "c1", text="La livraison est encore en retard (modifié)")
    assert Mention.objects.filter(organisation=org).count() == 1


def test_mentions_of_one_organisation_never_reach_another(org, make_org, make_query, make_source):
    other = make_org("Autre")
    make_query(other, "lumiere")
    source = make_source(org, "rss", {"url": "https://example.org/feed"})
    # org has no query: nothing kept, even though another organisation listens to this word
    assert ingest_candidates(source=source, candidates=[candidate("1", "lumière")]).created == 0
    assert not Mention.objects.exists()


@pytest.mark.parametrize("kind", ["rss", "reddit_search"])
def test_due_sources_are_scheduled(org, make_source, kind):
    from palabre.listening.services import due_sources

    source = make_source(org, kind, {"url": "https://example.org/feed", "query": "x"})
    assert source in due_sources(timezone.now() + timedelta(seconds=1))
    ListeningSource.objects.filter(pk=source.pk).update(active=False)
    assert source not in due_sources(timezone.now() + timedelta(seconds=1))


def test_crisis_detection_runs_at_most_once_per_delay_and_once_after_the_last_batch(
    org, make_query, make_source, settings, django_capture_on_commit_callbacks
):
    """Detection after every stored batch mostly re-read what its last run read: an organisation's
    runs at once when none ran in the last DETECT_EVERY seconds, else once after that delay."""
    import time_machine
    from django.core.cache import cache, caches
    from django.core.cache.backends.redis import RedisCache
    from django_tasks_db.models import DBTaskResult

    from palabre.listening.services.ingestion import DETECT_EVERY
    from palabre.listening.tasks import detect_crisis_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    make_query(org, "lumiere")
    source = make_source(org, "rss", {"url": "https://example.org/feed"})
    start = timezone.now().replace(microsecond=0)

    def batch_at(seconds: float, name: str) -> list[tuple]:
        with (
            time_machine.travel(start + timedelta(seconds=seconds), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert ingest_candidates(source=source, candidates=[candidate(name, "Maison Lumière")]).created
        rows = DBTaskResult.objects.filter(task_path=detect_crisis_task.module_path).order_by("enqueued_at")
        return [(row.task_result.args, row.task_result.task.run_after) for row in rows]

    at_once = ([org.pk], None)
    assert batch_at(0, "a") == [at_once]
    later = ([org.pk], start + timedelta(seconds=5 + DETECT_EVERY))
    assert batch_at(5, "b") == [at_once, later]
    assert batch_at(20, "c") == [at_once, later]  # the run asked for after "b" comes after "c" too
    if isinstance(caches["default"], RedisCache):
        # Redis expires keys by its own clock, which the frozen test clock does not move: the
        # first run's key goes as Redis would let it go DETECT_EVERY seconds after "a".
        cache.delete(f"listening:detect:{org.pk}")
    assert batch_at(DETECT_EVERY + 1, "d") == [at_once, later, at_once]
