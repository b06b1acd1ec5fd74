"""A new or edited query searches what was already collected (stored mentions and the own channels'
items of the last days) in the background, with its progress; a preview shows what a query being
written matches, with the parser's errors at their position. One organisation's posts only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.listening import backfill
from palabre.listening.models import ListeningQuery, Mention, MentionMatch, QueryBackfill
from palabre.listening.services import create_query, ingest_candidates, update_query
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token

pytestmark = pytest.mark.clock


def _collect(organisation, make_query, make_source, texts):
    make_query(organisation, '"Maison Lumière"', name="Marque")
    source = make_source(organisation, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    now = timezone.now()
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id=f"{organisation.pk}-{n}",
                text=text,
                author="lea",
                published_at=now - timedelta(days=days),
                url=f"https://blog.example.fr/{n}",
            )
            for n, (text, days) in enumerate(texts)
        ],
    )
    return source


TEXTS = [
    ("Maison Lumière : livraison en retard de trois semaines", 1),
    ("Maison Lumière, le canapé Oslo est superbe", 2),
    ("Maison Lumière livraison rapide, merci", 45),  # older than the 30 days searched
]


@pytest.fixture
def collected(org, make_query, make_source, channel, ingest):
    source = _collect(org, make_query, make_source, TEXTS)
    # An own channel's item that no query matched when it came: not a mention yet.
    item = ingest(
        channel, "c-1", text="Ma livraison est arrivée cassée", created_at=timezone.now() - timedelta(hours=3)
    )
    assert not Mention.objects.filter(item=item).exists()
    return source, item


def test_a_new_query_finds_what_was_already_collected(org, collected, django_capture_on_commit_callbacks):
    _source, item = collected
    with django_capture_on_commit_callbacks(execute=True):
        query = create_query(actor=Actor.palabre(org), name="Livraison", query="livraison", kind="topic")
    row = backfill.latest(query)
    assert row.status == "done" and row.days == 30
    assert row.scanned == row.total == 3  # two mentions in the window, one item
    assert row.matched == 2 and row.percent == 100
    texts = set(MentionMatch.objects.filter(query=query).values_list("mention__text", flat=True))
    assert texts == {
        "Maison Lumière : livraison en retard de trois semaines",
        "Ma livraison est arrivée cassée",
    }
    assert Mention.objects.get(item=item).matches.filter(query=query).exists()
    assert AuditEvent.objects.filter(action="listening.backfill_started", target_id=str(query.pk)).exists()
    # Run again: nothing duplicated.
    backfill.run(backfill.start(actor=Actor.palabre(org), listening_query=query).pk)
    assert MentionMatch.objects.filter(query=query).count() == 2


def test_an_edited_query_searches_again_and_a_rename_does_not(
    org, collected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        query = create_query(actor=Actor.palabre(org), name="Canapé", query="canapé", kind="topic")
        update_query(actor=Actor.palabre(org), listening_query=query, name="Canapés")
    assert QueryBackfill.objects.filter(query=query).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        update_query(actor=Actor.palabre(org), listening_query=query, query="canapé OR livraison")
    assert QueryBackfill.objects.filter(query=query).count() == 2
    assert MentionMatch.objects.filter(query=query).count() == 3


def test_another_organisations_posts_are_neither_read_nor_matched(
    org, collected, make_org, make_query, make_source, django_capture_on_commit_callbacks
):
    other = make_org("Autre marque")
    _collect(other, make_query, make_source, [("Maison Lumière livraison express", 1)])
    with django_capture_on_commit_callbacks(execute=True):
        query = create_query(actor=Actor.palabre(org), name="Livraison", query="livraison", kind="topic")
    assert backfill.latest(query).scanned == 3
    assert not MentionMatch.objects.filter(query=query, mention__organisation=other).exists()
    found = backfill.preview(actor=Actor.palabre(org), text="express")
    assert found.count == 0


def test_preview_counts_shows_samples_and_errors_at_their_position(org, collected):
    actor = Actor.palabre(org)
    found = backfill.preview(actor=actor, text="livraison")
    assert (found.count, found.scanned) == (2, 3)
    first = found.samples[0]
    assert first["text"] == "Ma livraison est arrivée cassée"  # newest first
    assert [p["text"] for p in first["parts"] if p["hit"]] == ["livraison"]
    assert backfill.preview(actor=actor, text="livraison", days=90).count == 3
    with pytest.raises(ValidationError) as refused:
        backfill.preview(actor=actor, text="livraison AND (retard")
    assert refused.value.position == 14 and "query" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        backfill.preview(actor=actor, text="livraison", days=400)
    assert "days" in refused.value.message_dict
    assert not ListeningQuery.objects.filter(name="preview").exists()


def test_pages_in_french_preview_and_progress(
    org, owner, collected, client, settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "fr"
    client.force_login(owner)
    page = client.post(reverse("listening:query_preview"), {"query": "livraison"}).content.decode()
    assert "2 publications sur les 3 stockées ces 30 derniers jours correspondent." in page
    assert "<mark>livraison</mark>" in page
    wrong = client.post(
        reverse("listening:query_preview"), {"query": "livraison AND (retard"}
    ).content.decode()
    assert "Caractère 15" in wrong and 'class="query-caret-preview"' in wrong
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("listening:queries"),
            {"name": "Livraison", "query": "livraison", "kind": "topic", "active": "on"},
        )
    query = ListeningQuery.objects.get(organisation=org, name="Livraison")
    assert response.status_code == 302 and response["Location"] == reverse(
        "listening:query_edit", args=[query.pk]
    )
    edit = client.get(response["Location"]).content.decode()
    assert "Ce qui était déjà collecté" in edit and "3 publications lues sur 3, 2 trouvées." in edit
    assert 'hx-trigger="every 2s"' not in edit  # done: no more polling
    QueryBackfill.objects.filter(query=query).update(status="running", scanned=1, matched=0)
    partial = client.get(reverse("listening:query_backfill", args=[query.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in partial.content.decode() and "<html" not in partial.content.decode()


def test_api_preview_and_backfill(
    org, owner_actor, collected, client, make_org, django_capture_on_commit_callbacks
):
    _token, secret = create_api_token(actor=owner_actor, name="bf", scopes=[p.value for p in Perm])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = client.post(
        "/api/listening/queries/preview", {"query": "livraison"}, content_type="application/json", **auth
    ).json()
    assert body["count"] == 2 and body["samples"][0]["spans"] == [[3, 12]]
    bad = client.post(
        "/api/listening/queries/preview", {"query": "livraison AND"}, content_type="application/json", **auth
    )
    assert bad.status_code == 422 and "query" in bad.json()["fields"]
    # Paused: no backfill of its own waits (a waiting one would serve the ask below).
    query = create_query(actor=owner_actor, name="Oslo", query="Oslo", kind="topic", active=False)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"/api/listening/queries/{query.pk}/backfill",
            {"days": 7},
            content_type="application/json",
            **auth,
        )
    assert started.status_code == 202 and started.json()["days"] == 7
    status = client.get(f"/api/listening/queries/{query.pk}/backfill", **auth).json()
    assert status["status"] == "done" and status["matched"] == 1
    other = make_org("Autre")
    foreign = create_query(actor=Actor.palabre(other), name="X", query="x", kind="topic")
    assert (
        client.post(
            f"/api/listening/queries/{foreign.pk}/backfill", {}, content_type="application/json", **auth
        ).status_code
        == 404
    )
