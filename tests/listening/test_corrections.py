"""A person corrects a mention's sentiment or intent: kept, audited, shown (the sentiment becomes the
mention's own, so the charts count it), scoped to the organisation, gone with the mention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from palabre.connectors.search import Candidate
from palabre.conversations.models import Correction
from palabre.listening.models import Mention
from palabre.listening.services import ingest_candidates
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import Actor, create_api_token

TEXT = "Maison Lumière : trois semaines sans nouvelles de ma commande, je suis furieux"


@pytest.fixture
def mention(org, make_query, make_source):
    make_query(org, '"Maison Lumière"', name="Marque")
    source = make_source(org, "rss", {"url": "https://blog.example.fr/feed"}, name="Blog")
    ingest_candidates(
        source=source,
        candidates=[
            Candidate(
                external_id="1",
                text=TEXT,
                author="lea",
                published_at=timezone.now() - timedelta(hours=1),
                url="https://blog.example.fr/1",
            )
        ],
    )
    return Mention.objects.get(organisation=org)


@pytest.fixture
def moderator(org, make_member):
    return make_member(org, Role.MODERATOR, username="nora").user


def _auth(organisation) -> dict[str, str]:
    _token, secret = create_api_token(
        actor=Actor.palabre(organisation), name="ops", scopes=[p.value for p in Perm]
    )
    return {"Authorization": f"Bearer {secret}"}


def test_a_moderator_corrects_a_mention_in_one_select(client, org, moderator, mention):
    client.force_login(moderator)
    page = client.get("/listening/mentions/")
    assert page.status_code == 200 and f'id="mention-triage-{mention.pk}"'.encode() in page.content
    wrong = "positive" if mention.sentiment != "positive" else "negative"
    answer = client.post(
        f"/listening/mentions/{mention.pk}/correct/",
        {"sentiment": wrong, "intent": "praise"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 200 and b"<html" not in answer.content
    rows = {c.field: c for c in Correction.objects.filter(organisation=org)}
    assert rows["sentiment"].new_value == wrong and rows["sentiment"].old_value == mention.sentiment
    assert rows["sentiment"].corrected_by == moderator and rows["sentiment"].text == TEXT
    assert rows["intent"].new_value == "praise" and rows["intent"].old_value != "praise"
    mention.refresh_from_db()
    assert mention.sentiment == wrong  # the dashboards count the person's reading
    assert AuditEvent.objects.filter(organisation=org, action="sentiment.corrected").count() == 1
    assert "data-corrected" in answer.content.decode()
    # The sentiment badge of the mention's line follows, out of band.
    assert f'id="mention-tone-{mention.pk}" hx-swap-oob="true"' in answer.content.decode()


def test_no_javascript_fallback_redirects_back_to_the_list(client, org, moderator, mention):
    client.force_login(moderator)
    answer = client.post(
        f"/listening/mentions/{mention.pk}/correct/",
        {"intent": "crisis", "next": "/listening/mentions/?sentiment=negative"},
    )
    assert answer.status_code == 302 and answer["Location"] == "/listening/mentions/?sentiment=negative"
    assert Correction.objects.get(organisation=org).new_value == "crisis"
    evil = client.post(
        f"/listening/mentions/{mention.pk}/correct/", {"intent": "lead", "next": "https://x.example"}
    )
    assert evil["Location"] == "/listening/mentions/"


def test_the_api_corrects_and_names_the_wrong_field(client, org, mention):
    auth = _auth(org)
    url = f"/api/listening/mentions/{mention.pk}/corrections"
    bad = client.post(
        url, {"field": "intent", "value": "angry"}, content_type="application/json", headers=auth
    )
    assert bad.status_code == 422 and "value" in bad.content.decode()
    done = client.post(
        url, {"field": "intent", "value": "lead"}, content_type="application/json", headers=auth
    )
    assert done.status_code == 201, done.content
    assert done.json()["intent"] == "lead" and done.json()["corrections"][0]["new_value"] == "lead"
    read = client.get(f"/api/listening/mentions/{mention.pk}/triage", headers=auth).json()
    assert read["intent"] == "lead" and read["detected_intent"] == done.json()["detected_intent"]


def test_another_organisation_gets_404_and_deleting_removes_the_corrections(client, org, make_org, mention):
    other = make_org("Autre")
    auth = _auth(other)
    url = f"/api/listening/mentions/{mention.pk}/corrections"
    posted = client.post(
        url, {"field": "intent", "value": "lead"}, content_type="application/json", headers=auth
    )
    assert posted.status_code == 404
    assert client.get(f"/api/listening/mentions/{mention.pk}/triage", headers=auth).status_code == 404
    assert not Correction.objects.exists()
    done = client.post(
        url, {"field": "intent", "value": "lead"}, content_type="application/json", headers=_auth(org)
    )
    assert done.status_code == 201 and Correction.objects.count() == 1
    mention.source.delete()  # the mention goes with its source, and its corrections with it
    assert not Correction.objects.exists()
