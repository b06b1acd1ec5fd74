"""What one organisation's listening costs the shared server is bounded: the query matcher reads at
most the first MAX_MATCHED_CHARS characters of a post (a feed entry of megabytes stuffed with a
query's words held a worker for minutes per NEAR), whatever path matches it (a poll, a backfill,
a preview), and the post is kept whole."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening import backfill
from palabre.listening.models import ListeningQuery, Mention, MentionMatch
from palabre.listening.services import ingest_candidates
from palabre.listening.services.search_queries import MAX_MATCHED_CHARS, update_query
from palabre.nlp.matcher import QueryMatcher
from palabre.orgs.services import Actor

pytestmark = pytest.mark.clock

FILLER = "rien à signaler ici " * (MAX_MATCHED_CHARS // 20 + 50)  # past the bound


@pytest.fixture
def seen(monkeypatch):
    """The length of every text the matcher is given."""
    lengths: list[int] = []
    match = QueryMatcher.match

    def recording(self, text, **kwargs):
        lengths.append(len(text))
        return match(self, text, **kwargs)

    monkeypatch.setattr(QueryMatcher, "match", recording)
    return lengths


def _candidate(n: int, text: str) -> Candidate:
    return Candidate(
        external_id=f"entry-{n}",
        text=text,
        published_at=timezone.now() - timedelta(hours=n + 1),
        url=f"https://blog.example.fr/{n}",
    )


def test_ingestion_matches_the_start_of_a_post_and_keeps_it_whole(org, make_query, make_source, seen):
    query = make_query(org, "lumiere NEAR/3 livraison", name="Livraison")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    early = "Maison Lumière : livraison en retard. " + FILLER
    late = FILLER + " Maison Lumière : livraison en retard."
    result = ingest_candidates(source=source, candidates=[_candidate(1, early), _candidate(2, late)])
    assert result.created == 1 and result.unmatched == 1
    stored = Mention.objects.get(external_id="entry-1")
    assert stored.text == early  # stored whole, only the matching stops at the bound
    assert MentionMatch.objects.get(mention=stored).query == query
    assert seen and max(seen) <= MAX_MATCHED_CHARS


def test_backfill_and_preview_match_the_same_start(org, make_query, make_source, seen):
    make_query(org, "lumiere", name="Marque")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    early = "Maison Lumière : livraison en retard. " + FILLER
    late = "Maison Lumière, " + FILLER + " livraison en retard."
    ingest_candidates(source=source, candidates=[_candidate(1, early), _candidate(2, late)])
    actor = Actor.palabre(org)
    found = backfill.preview(actor=actor, text="livraison")
    assert (found.count, found.scanned) == (1, 2)
    query = make_query(org, "livraison", name="Livraison")
    row = backfill.run(backfill.start(actor=actor, listening_query=query).pk)
    assert (row.scanned, row.matched) == (2, 1)
    assert list(MentionMatch.objects.filter(query=query).values_list("mention__external_id", flat=True)) == [
        "entry-1"
    ]
    assert max(seen) <= MAX_MATCHED_CHARS


def test_a_preview_stops_after_its_time_and_says_so(
    org, owner, make_query, make_source, client, settings, monkeypatch
):
    """Any member may ask for a preview, as a query is typed: it used to match the 3,000 latest
    posts whatever it cost (a query of dozens of NEAR over long posts held a web worker for hours).
    It stops after PREVIEW_SECONDS, here none, and says how far it read."""
    make_query(org, "lumiere", name="Marque")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    texts = ["Maison Lumière : livraison en retard", "Maison Lumière, livraison rapide", "Lumière livraison"]
    ingest_candidates(source=source, candidates=[_candidate(n, text) for n, text in enumerate(texts)])
    actor = Actor.palabre(org)
    monkeypatch.setattr(backfill, "PREVIEW_SECONDS", 3600.0)  # no machine is that slow: no wall clock read
    whole = backfill.preview(actor=actor, text="livraison")
    assert (whole.count, whole.scanned, whole.complete) == (3, 3, True)
    monkeypatch.setattr(backfill, "PREVIEW_SECONDS", 0.0)
    cut = backfill.preview(actor=actor, text="livraison")
    assert (cut.count, cut.scanned, cut.complete) == (1, 1, False)
    settings.LANGUAGE_CODE = "fr"
    client.force_login(owner)
    page = client.post(reverse("listening:query_preview"), {"query": "livraison"}).content.decode()
    assert "L’aperçu s’arrête là\u202f: cette requête est longue à appliquer." in page


def _whole_text_reads(queries_run) -> list[str]:
    """The statements that read a mention's whole text (not its head)."""
    column = '"listening_mention"."text"'
    heads = re.compile(r'(SUBSTR|SUBSTRING|LEFT)\("listening_mention"\."text"', re.IGNORECASE)
    return [q["sql"] for q in queries_run if column in heads.sub("", q["sql"])]


def test_pages_read_the_head_of_each_mention(org, owner, make_query, make_source, client):
    """A feed entry may be megabytes long: the mentions page (50 of them) and the dashboard (the
    2,000 latest, for their words) read whole held a web worker for minutes. They read the head
    that is matched; what they show is unchanged."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_query(org, "lumiere", name="Marque")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    long = "Maison Lumière : livraison en retard. " + FILLER + " fauteuil"
    ingest_candidates(
        source=source, candidates=[_candidate(1, long), _candidate(2, "Lumière, canapé superbe")]
    )
    client.force_login(owner)
    with CaptureQueriesContext(connection) as page_queries:
        page = client.get(reverse("listening:mentions"))
    assert page.status_code == 200
    assert "Maison Lumière : livraison en retard." in page.content.decode()
    with CaptureQueriesContext(connection) as dashboard_queries:
        assert client.get(reverse("listening:overview")).status_code == 200
    assert _whole_text_reads(page_queries.captured_queries) == []
    assert _whole_text_reads(dashboard_queries.captured_queries) == []
    # The export and the API still give the text whole.
    export = b"".join(client.get(reverse("listening:mentions_csv")).streaming_content).decode()
    assert "fauteuil" in export


def test_trending_terms_read_the_head_of_each_mention(org, make_query, make_source):
    """Publishing's checks read the trending terms (10,000 mentions) and the competitors' recent
    texts as a post is written: they read the head of each mention too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from palabre.listening.services import recent_competitor_texts, trending_terms

    make_query(org, "lumiere", name="Marque")
    make_query(org, "concurrent", name="Concurrent", kind="competitor")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    texts = ["Lumière, canapé superbe " + FILLER, "Le concurrent livre en retard " + FILLER]
    ingest_candidates(source=source, candidates=[_candidate(n, text) for n, text in enumerate(texts)])
    since = timezone.now() - timedelta(days=1)
    with CaptureQueriesContext(connection) as reads:
        trending_terms(org, since=since)
        competitor = recent_competitor_texts(org, since=since)
    assert _whole_text_reads(reads.captured_queries) == []
    assert [len(text) for text in competitor] == [MAX_MATCHED_CHARS]


def test_a_query_saved_before_near_were_counted_keeps_matching(org, make_query):
    """At most 20 NEAR holds for what is typed (saving, previews); a query saved before the limit
    keeps matching rather than stopping the organisation's whole listening."""
    from palabre.listening.services.search_queries import matcher_for

    many = " OR ".join(f"(lumiere NEAR/3 livraison{n})" for n in range(25))
    query = make_query(org, "lumiere", name="Ancienne")
    ListeningQuery.objects.filter(pk=query.pk).update(query=many)
    matcher, rows = matcher_for(org.pk)
    assert [m.query_id for m in matcher.match("Lumière : livraison7 en retard")] == [query.pk]
    with pytest.raises(ValidationError) as refused:
        update_query(
            actor=Actor.palabre(org), listening_query=ListeningQuery.objects.get(pk=query.pk), query=many
        )
    assert "query" in refused.value.message_dict
