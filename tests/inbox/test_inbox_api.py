"""The inbox API over a real server on loopback: threads, assignment, status, notes, replies once,
saved replies, knowledge base; 4xx with field names; another organisation sees nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.inbox.models import Conversation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token, create_channel, create_organisation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def english():
    """JSON answers need no language (and the live server's thread shares no settings override)."""


def _org(name: str):
    owner = get_user_model().objects.create_user(username=f"owner-{name}", password="pw-123456789")
    organisation = create_organisation(name=name, owner=owner)
    actor = Actor.for_user(owner, organisation)
    channel = create_channel(actor=actor, platform="site", handle=f"blog.{name}.fr", name=f"Blog {name}")
    _token, secret = create_api_token(actor=actor, name="all", scopes=[p.value for p in Perm])
    return organisation, actor, channel, secret


def _comment(channel, external_id, text, author="lea"):
    ingest_item(
        channel=channel,
        incoming=IncomingItem(
            external_id=external_id,
            kind="comment",
            text=text,
            created_at=timezone.now() - timedelta(minutes=10),
            author=IncomingAuthor(handle=author, display_name=author.title()),
            language="fr",
        ),
    )
    return Conversation.objects.get(root__channel=channel, root__external_id=external_id)


@pytest.fixture
def world(live_server):
    org_a, owner_a, channel_a, token_a = _org("alpha")
    _org_b, _owner_b, channel_b, token_b = _org("beta")
    base = live_server.url + "/api"
    return {
        "a": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_a}"}, timeout=30),
        "b": httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token_b}"}, timeout=30),
        "owner_a": owner_a,
        "channel_a": channel_a,
        "channel_b": channel_b,
    }


def test_threads_list_filter_and_detail(world):
    question = _comment(world["channel_a"], "c1", "La table Bergen existe-t-elle en 220 cm ?")
    _comment(
        world["channel_a"], "c2", "Commande jamais reçue, c'est une honte, remboursez-moi", author="marc"
    )
    listed = world["a"].get("/inbox/threads", params={"limit": 1})
    assert listed.status_code == 200
    page = listed.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = world["a"].get("/inbox/threads", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == set(
        Conversation.objects.values_list("pk", flat=True)
    )
    complaints = world["a"].get("/inbox/threads", params={"intent": "complaint"}).json()["items"]
    assert [t["author"] for t in complaints] == ["Marc"]
    detail = world["a"].get(f"/inbox/threads/{question.pk}").json()
    assert detail["items"][0]["text"].startswith("La table Bergen") and detail["priority_reasons"]
    bad = world["a"].get("/inbox/threads", params={"intent": "gossip", "limit": 0})
    assert bad.status_code == 422 and {"intent", "limit"} <= set(bad.json()["fields"])


def test_assign_status_notes_and_a_reply_sent_once(world):
    thread = _comment(world["channel_a"], "c1", "La table Bergen existe-t-elle en 220 cm ?")
    owner_id = world["owner_a"].user.pk
    a = world["a"]
    assert (
        a.post(f"/inbox/threads/{thread.pk}/assign", json={"assignee": owner_id}).json()["assignee"]
        == "owner-alpha"
    )
    refused = a.post(f"/inbox/threads/{thread.pk}/assign", json={"assignee": 999999})
    assert refused.status_code == 422 and "assignee" in refused.json()["fields"]
    note = a.post(f"/inbox/threads/{thread.pk}/notes", json={"text": "@owner-alpha à voir"})
    assert note.status_code == 201 and note.json()["mentions"] == ["owner-alpha"]
    canned = {"text": "Merci pour votre message, nous transmettons.", "idempotency_key": "api-key-0001"}
    warned = a.post(f"/inbox/threads/{thread.pk}/replies", json=canned)
    assert warned.status_code == 409 and warned.json()["warnings"][0]["code"] == "no_overlap"
    good = {"text": "Oui, la Bergen existe en 220 cm, livrée en 6 semaines."}
    sent = a.post(
        f"/inbox/threads/{thread.pk}/replies", json=good, headers={"Idempotency-Key": "api-key-0002"}
    )
    again = a.post(
        f"/inbox/threads/{thread.pk}/replies", json=good, headers={"Idempotency-Key": "api-key-0002"}
    )
    assert sent.status_code == 201 and again.json()["id"] == sent.json()["id"]
    assert sent.json()["delivery_status"] in {"queued", "sending", "sent"}
    detail = a.get(f"/inbox/threads/{thread.pk}").json()
    assert len(detail["replies"]) == 1 and detail["replies"][0]["delivery_status"] == "sent"
    assert any(i["brand"] for i in detail["items"])
    closed = a.post(f"/inbox/threads/{thread.pk}/status", json={"status": "closed"})
    assert closed.json()["status"] == "closed"
    bad = a.post(f"/inbox/threads/{thread.pk}/status", json={"status": "done"})
    assert bad.status_code == 422 and "status" in bad.json()["fields"]
    empty = a.post(f"/inbox/threads/{thread.pk}/replies", json={"text": "", "idempotency_key": "k"})
    assert empty.status_code == 422 and {"text", "idempotency_key"} <= set(empty.json()["fields"])


def test_saved_replies_and_knowledge_base(world):
    a = world["a"]
    created = a.post(
        "/inbox/saved-replies", json={"title": "Délai", "text": "Bonjour {first_name}", "language": "fr"}
    )
    assert created.status_code == 201
    assert a.post("/inbox/saved-replies", json={"title": "", "text": ""}).json()["fields"].keys() >= {
        "title",
        "text",
    }
    article = a.post(
        "/inbox/knowledge",
        json={
            "title": "Retours et remboursements",
            "body": "30 jours pour retourner un article.",
            "category": "policy",
        },
    )
    assert article.status_code == 201
    a.post(
        "/inbox/knowledge",
        json={"title": "Notre histoire", "body": "Atelier des Vosges depuis 1987.", "category": "history"},
    )
    found = a.get(
        "/inbox/knowledge/suggest", params={"text": "Je voudrais retourner ma lampe et être remboursée"}
    ).json()
    assert [s["article"]["title"] for s in found] == ["Retours et remboursements"]
    assert world["b"].get("/inbox/saved-replies").json() == []
    assert world["b"].delete(f"/inbox/saved-replies/{created.json()['id']}").status_code == 404
    assert a.delete(f"/inbox/saved-replies/{created.json()['id']}").status_code == 204


def test_another_organisation_cannot_reach_a_thread(world):
    thread = _comment(world["channel_a"], "c1", "Bonjour ?")
    b = world["b"]
    assert b.get("/inbox/threads", params={"status": "all"}).json()["items"] == []
    assert b.get(f"/inbox/threads/{thread.pk}").status_code == 404
    assert b.post(f"/inbox/threads/{thread.pk}/status", json={"status": "closed"}).status_code == 404
    assert (
        b.post(
            f"/inbox/threads/{thread.pk}/replies", json={"text": "x", "idempotency_key": "abcdefgh1"}
        ).status_code
        == 404
    )
    thread.refresh_from_db()
    assert thread.status == "open"
