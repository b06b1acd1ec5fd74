"""Managing the team's library (saved replies, knowledge base) and handing threads to others is
`inbox.manage` (owner, administrator, community manager); an agency guest answers with the library
and takes threads for itself, through the services, the pages and the API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from palabre.inbox import services
from palabre.inbox.models import KnowledgeArticle, SavedReply
from palabre.orgs.permissions import Perm, Role, roles_with

pytestmark = pytest.mark.clock


@pytest.fixture
def guest(org, make_member):
    return make_member(org, Role.AGENCY_GUEST, username="agence").user


@pytest.fixture
def guest_actor(guest, org, actor_for):
    return actor_for(guest, org)


@pytest.fixture
def library(cm_actor):
    saved = services.save_saved_reply(actor=cm_actor, title="Délais", text="Livraison en 6 semaines.")
    article = services.save_article(
        actor=cm_actor, title="Bergen", body="Table en 220 cm.", category="product"
    )
    return saved, article


@pytest.fixture
def question(channel, post, conversation_of):
    return conversation_of(post(channel, "Bonjour, la table Bergen existe-t-elle en 220 cm ?"))


def test_only_owners_administrators_and_community_managers_manage_the_library():
    assert roles_with(Perm.INBOX_MANAGE) == [Role.OWNER, Role.ADMIN, Role.COMMUNITY_MANAGER]


def test_a_guest_cannot_change_the_library_through_the_services(guest_actor, library):
    saved, article = library
    attempts = [
        lambda: services.save_saved_reply(actor=guest_actor, title="x", text="y"),
        lambda: services.save_saved_reply(actor=guest_actor, title="x", text="y", saved=saved),
        lambda: services.delete_saved_reply(actor=guest_actor, saved=saved),
        lambda: services.save_article(actor=guest_actor, title="x", body="y", category="product"),
        lambda: services.save_article(
            actor=guest_actor, title="x", body="y", category="product", article=article
        ),
        lambda: services.delete_article(actor=guest_actor, article=article),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert SavedReply.objects.get().title == "Délais" and KnowledgeArticle.objects.get().title == "Bergen"


def test_a_guest_cannot_change_the_library_through_the_api(client, guest, library):
    saved, article = library
    client.force_login(guest)
    body = {"title": "x", "text": "y", "language": ""}
    article_body = {"title": "x", "body": "y", "category": "product", "language": ""}
    answers = [
        client.post("/api/inbox/saved-replies", body, content_type="application/json"),
        client.put(f"/api/inbox/saved-replies/{saved.pk}", body, content_type="application/json"),
        client.delete(f"/api/inbox/saved-replies/{saved.pk}"),
        client.post("/api/inbox/knowledge", article_body, content_type="application/json"),
        client.put(f"/api/inbox/knowledge/{article.pk}", article_body, content_type="application/json"),
        client.delete(f"/api/inbox/knowledge/{article.pk}"),
    ]
    assert [a.status_code for a in answers] == [403] * 6
    # Using the library stays with answering.
    assert client.get("/api/inbox/saved-replies").status_code == 200
    assert client.get("/api/inbox/knowledge").status_code == 200
    assert SavedReply.objects.get().title == "Délais" and KnowledgeArticle.objects.get().title == "Bergen"


def test_a_guest_reads_the_library_pages_without_their_buttons(client, guest, library):
    saved, article = library
    client.force_login(guest)
    page = client.get(reverse("inbox:saved_replies"))
    assert page.status_code == 200 and "Délais" in page.content.decode()
    assert reverse("inbox:saved_reply_delete", args=[saved.pk]) not in page.content.decode()
    assert 'name="title"' not in page.content.decode()
    articles = client.get(reverse("inbox:articles")).content.decode()
    assert "Bergen" in articles and 'name="title"' not in articles
    assert reverse("inbox:article_delete", args=[article.pk]) not in articles
    posts = [
        client.post(reverse("inbox:saved_replies"), {"title": "x", "text": "y", "language": ""}),
        client.post(reverse("inbox:saved_reply_edit", args=[saved.pk]), {"title": "x", "text": "y"}),
        client.post(reverse("inbox:saved_reply_delete", args=[saved.pk])),
        client.post(reverse("inbox:articles"), {"title": "x", "body": "y", "category": "product"}),
        client.post(reverse("inbox:article_edit", args=[article.pk]), {"title": "x", "body": "y"}),
        client.post(reverse("inbox:article_delete", args=[article.pk])),
    ]
    assert [p.status_code for p in posts] == [403] * 6
    assert SavedReply.objects.get().title == "Délais" and KnowledgeArticle.objects.get().title == "Bergen"


def test_a_community_manager_still_manages_the_library_pages(client, cm, library):
    saved, _article = library
    client.force_login(cm)
    page = client.get(reverse("inbox:saved_replies")).content.decode()
    assert reverse("inbox:saved_reply_delete", args=[saved.pk]) in page and 'name="title"' in page
    client.post(reverse("inbox:saved_reply_edit", args=[saved.pk]), {"title": "Délai", "text": "6 semaines."})
    assert SavedReply.objects.get().title == "Délai"


def test_a_guest_takes_a_thread_for_itself_but_hands_none_to_others(guest_actor, guest, cm, question):
    services.assign(actor=guest_actor, conversation=question, assignee_id=guest.pk)
    services.assign(actor=guest_actor, conversation=question, assignee_id=None)
    with pytest.raises(PermissionDenied):
        services.assign(actor=guest_actor, conversation=question, assignee_id=cm.pk)
    with pytest.raises(PermissionDenied):
        services.auto_assign(actor=guest_actor, conversation=question)
    question.assignee = cm
    question.save(update_fields=["assignee"])
    for taken in (guest.pk, None):
        with pytest.raises(PermissionDenied):
            services.assign(actor=guest_actor, conversation=question, assignee_id=taken)
    question.refresh_from_db()
    assert question.assignee_id == cm.pk


def test_the_guest_thread_page_offers_only_assign_to_me(client, guest, cm, question):
    client.force_login(guest)
    page = client.get(reverse("inbox:thread", args=[question.pk])).content.decode()
    assert "Assign to me" in page and 'id="assignee-select"' not in page
    client.force_login(cm)
    page = client.get(reverse("inbox:thread", args=[question.pk])).content.decode()
    assert 'id="assignee-select"' in page


def test_tokens_that_answered_keep_managing_the_library_after_the_migration(owner_actor, client):
    """Tokens store scopes: one made with inbox.reply before inbox.manage existed keeps the library."""
    import importlib

    from django.apps import apps

    from palabre.orgs.models import ApiToken
    from palabre.orgs.services import create_api_token

    migration = importlib.import_module("palabre.orgs.migrations.0004_tokens_inbox_manage")
    answering, raw = create_api_token(
        actor=owner_actor, name="helpdesk", scopes=["inbox.reply", "items.view"]
    )
    reading, _raw = create_api_token(actor=owner_actor, name="reader", scopes=["items.view"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = {"title": "Délais", "text": "6 semaines.", "language": ""}
    assert (
        client.post("/api/inbox/saved-replies", body, content_type="application/json", **headers).status_code
        == 403
    )
    migration.give_tokens_inbox_manage(apps, None)
    assert ApiToken.objects.get(pk=answering.pk).scopes == ["inbox.manage", "inbox.reply", "items.view"]
    assert ApiToken.objects.get(pk=reading.pk).scopes == ["items.view"]
    assert (
        client.post("/api/inbox/saved-replies", body, content_type="application/json", **headers).status_code
        == 201
    )


def test_a_remover_without_inbox_manage_still_offboards_a_member_holding_threads(
    org, owner_actor, make_member, question
):
    """A token with members.manage and inbox.reply but not inbox.manage removes a member: their
    threads are handed over as Palabre's own work rather than refused."""
    from palabre.orgs.models import ApiToken
    from palabre.orgs.services import Actor, create_api_token, offboard_member

    leaving = make_member(org, Role.COMMUNITY_MANAGER, username="partant")
    services.assign(actor=owner_actor, conversation=question, assignee_id=leaving.user_id)
    token, _raw = create_api_token(actor=owner_actor, name="rh", scopes=["members.manage", "inbox.reply"])
    remover = Actor.for_token(ApiToken.objects.select_related("on_behalf_of").get(pk=token.pk))
    report = offboard_member(actor=remover, membership=leaving)
    question.refresh_from_db()
    assert question.assignee_id is None
    assert [w["id"] for w in report["handover"]["work"] if w["kind"] == "thread"] == [question.pk]
