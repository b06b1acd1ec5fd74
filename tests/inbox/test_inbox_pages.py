"""The inbox pages: list with filters in a bounded number of queries, a thread with its panels,
replying (once), the personalisation warning, presence, saved views, settings, knowledge base."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palabre.inbox import services
from palabre.inbox.models import Conversation, Reply, SavedView
from palabre.orgs.permissions import Role

pytestmark = pytest.mark.clock


@pytest.fixture
def signed_in(client, cm):
    client.force_login(cm)
    return client


@pytest.fixture
def threads(channel, post, conversation_of, make_channel, org):
    mastodon = make_channel(org, "mastodon", handle="@maison@example.social", name="Mastodon")
    rows = [
        conversation_of(post(channel, "La table Bergen existe-t-elle en 220 cm ?", author="lea")),
        conversation_of(
            post(channel, "Commande jamais reçue, une honte, remboursez-moi", author="marc", followers=40_000)
        ),
        conversation_of(
            post(mastodon, "Do you ship to Canada?", author="@ann@example.social", language="en")
        ),
        conversation_of(post(channel, "Bravo pour la nouvelle collection, magnifique !", author="ines")),
    ]
    return rows


def _authors(response) -> list[str]:
    import re

    return re.findall(r'class="inbox-open"[^>]*><strong>([^<]*)</strong>', response.content.decode())


def test_the_list_filters(signed_in, threads):
    page = signed_in.get("/inbox/")
    assert page.status_code == 200
    assert sorted(_authors(page)) == ["@Ann@Example.Social", "Ines", "Lea", "Marc"]
    assert _authors(signed_in.get("/inbox/", {"intent": "complaint"})) == ["Marc"]
    assert _authors(signed_in.get("/inbox/", {"sentiment": "positive"})) == ["Ines"]
    assert _authors(signed_in.get("/inbox/", {"assignee": "none", "priority": "high"})) == ["Marc"]
    english = signed_in.get("/inbox/", {"language": "en"}, HTTP_HX_REQUEST="true")
    assert _authors(english) == ["@Ann@Example.Social"] and b"<html" not in english.content
    assert _authors(signed_in.get("/inbox/", {"status": "closed"})) == []
    bad = signed_in.get("/inbox/", {"intent": "gossip"})
    assert bad.status_code == 200 and _authors(bad) == [] and b'role="alert"' in bad.content


def test_list_query_count_does_not_grow_with_threads(signed_in, channel, post, threads):
    with CaptureQueriesContext(connection) as before:
        signed_in.get("/inbox/", {"status": "all"})
    for n in range(12):
        post(channel, f"Question numéro {n} sur la livraison ?", author=f"p{n}")
    with CaptureQueriesContext(connection) as after:
        response = signed_in.get("/inbox/", {"status": "all"})
    assert response.content.count(b'class="inbox-row') == 16
    assert len(after.captured_queries) == len(before.captured_queries)


def test_keyset_pages_follow_each_other(signed_in, threads):
    from palabre.inbox.views import PER_PAGE

    assert len(threads) < PER_PAGE
    first = signed_in.get("/inbox/", {"status": "all"})
    assert b"inbox-more" not in first.content


def test_the_thread_page_shows_conversation_contact_and_knowledge(signed_in, threads, cm_actor):
    services.save_article(
        actor=cm_actor, title="La table Bergen", body="Table en chêne, 180 ou 220 cm.", category="product"
    )
    bergen = threads[0]
    page = signed_in.get(f"/inbox/t/{bergen.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "La table Bergen existe-t-elle" in text and "History across channels" in text
    assert "Table en chêne" in text  # suggested article
    assert "unanswered question" in text  # why the priority


def test_replying_twice_with_the_same_form_sends_once(signed_in, threads, django_capture_on_commit_callbacks):
    bergen = threads[0]
    form = {"text": "Bonjour Léa, oui la Bergen existe en 220 cm.", "idempotency_key": "form-key-0001"}
    with django_capture_on_commit_callbacks(execute=True):
        first = signed_in.post(f"/inbox/t/{bergen.pk}/reply/", form)
        second = signed_in.post(f"/inbox/t/{bergen.pk}/reply/", form)
    assert first.status_code == second.status_code == 302
    assert Reply.objects.count() == 1
    page = signed_in.get(f"/inbox/t/{bergen.pk}/").content.decode()
    assert 'data-delivery="sent"' in page


def test_a_canned_reply_is_held_back_with_its_reason_and_the_text_kept(signed_in, threads):
    bergen = threads[0]
    canned = "Merci pour votre message, nous transmettons à l'équipe concernée."
    page = signed_in.post(
        f"/inbox/t/{bergen.pk}/reply/", {"text": canned, "idempotency_key": "form-key-0002"}
    )
    text = page.content.decode()
    assert "data-personalisation-warning" in text and "takes up nothing" in text
    assert canned.replace("'", "&#x27;") in text and "Send anyway" in text
    assert not Reply.objects.exists()
    sent = signed_in.post(
        f"/inbox/t/{bergen.pk}/reply/",
        {"text": canned, "idempotency_key": "form-key-0002", "confirmed": "true"},
    )
    assert sent.status_code == 302 and Reply.objects.count() == 1
    check = signed_in.post(f"/inbox/t/{bergen.pk}/check/", {"text": canned})
    assert b"takes up nothing" in check.content


def test_presence_warns_of_a_colleague_replying(signed_in, client, threads, org, make_member):
    from django.test import Client

    bergen = threads[0]
    colleague = make_member(org, Role.MODERATOR, username="nadia").user
    other = Client()
    other.force_login(colleague)
    other.post(f"/inbox/t/{bergen.pk}/presence/", {"state": "replying"})
    seen = signed_in.post(f"/inbox/t/{bergen.pk}/presence/", {"state": "viewing"})
    assert b"nadia is replying" in seen.content
    alone = other.post(f"/inbox/t/{bergen.pk}/presence/", {"state": "viewing"})
    assert b"sarah is viewing" in alone.content


def test_assign_close_and_notes_from_the_page(signed_in, threads, cm):
    marc = threads[1]
    signed_in.post(f"/inbox/t/{marc.pk}/assign/", {"assignee": "me"})
    signed_in.post(f"/inbox/t/{marc.pk}/status/", {"status": "closed", "next": "https://evil.example/"})
    marc.refresh_from_db()
    assert marc.assignee_id == cm.pk and marc.status == "closed"
    empty = signed_in.post(f"/inbox/t/{marc.pk}/notes/", {"text": ""})
    assert empty.status_code == 422
    assert (
        signed_in.get("/inbox/", {"assignee": "me", "status": "closed"}).content.count(b'class="inbox-row')
        == 1
    )


def test_saved_views_are_personal_unless_shared(signed_in, threads, client, org, make_member):
    from django.test import Client

    made = signed_in.post("/inbox/views/", {"name": "Plaintes", "intent": "complaint", "status": "open"})
    view = SavedView.objects.get()
    assert made.status_code == 302 and view.filters == {"intent": "complaint", "status": "open"}
    followed = signed_in.get(f"/inbox/?view={view.pk}", follow=True)
    assert _authors(followed) == ["Marc"]
    colleague = Client()
    colleague.force_login(make_member(org, Role.MODERATOR, username="nadia").user)
    assert colleague.get(f"/inbox/?view={view.pk}").status_code == 404
    signed_in.post("/inbox/views/", {"name": "Tous", "status": "all", "shared": "on"})
    assert b"Tous" in colleague.get("/inbox/").content


def test_settings_form_keeps_the_input_on_errors(client, owner, threads):
    client.force_login(owner)
    data = {
        "time_zone": "Mars/Olympus",
        "first_response_minutes": "90",
        "holidays": "2024-12-25",
        "on_call": "",
        "day_0": "09:00-18:00",
        "day_1": "nine to five",
    }
    page = client.post("/inbox/settings/", data)
    text = page.content.decode()
    assert page.status_code == 422 and "nine to five" in text and "Write hours as" in text
    data.update(day_1="09:00-12:00, 14:00-18:00", time_zone="Europe/Paris")
    assert client.post("/inbox/settings/", data).status_code == 302
    saved = services.settings_for(owner.memberships.first().organisation)
    assert saved.weekly_hours == {"0": [["09:00", "18:00"]], "1": [["09:00", "12:00"], ["14:00", "18:00"]]}


def test_articles_and_saved_replies_pages(signed_in):
    bad = signed_in.post("/inbox/knowledge/", {"title": "Retours", "category": "faq", "body": ""})
    assert bad.status_code == 422 and b"Retours" in bad.content
    assert (
        signed_in.post(
            "/inbox/knowledge/", {"title": "Retours", "category": "faq", "body": "30 jours"}
        ).status_code
        == 302
    )
    assert (
        signed_in.post(
            "/inbox/saved-replies/", {"title": "Merci", "text": "Merci {first_name} !"}
        ).status_code
        == 302
    )
    assert b"Merci {first_name}" in signed_in.get("/inbox/saved-replies/").content


def test_another_organisation_gets_404(threads, make_org, owner_of, client):
    other = make_org("Concurrent")
    client.force_login(owner_of(other))
    thread = threads[0]
    assert client.get(f"/inbox/t/{thread.pk}/").status_code == 404
    assert client.post(f"/inbox/t/{thread.pk}/status/", {"status": "closed"}).status_code == 404
    assert (
        client.post(f"/inbox/t/{thread.pk}/reply/", {"text": "x", "idempotency_key": "abcdefgh1"}).status_code
        == 404
    )
    assert b"inbox-row" not in client.get("/inbox/", {"status": "all"}).content
    assert Conversation.objects.get(pk=thread.pk).status == "open"


def test_digest_and_notifications_pages(signed_in, threads, org):
    assert signed_in.get("/inbox/digest/").status_code == 200
    assert services.send_digest(org) >= 1
    assert services.send_digest(org) == 0  # once a day
    page = signed_in.get("/inbox/notifications/")
    assert b"Overnight:" in page.content


def test_thread_page_queries_do_not_grow_with_the_thread(signed_in, channel, post, conversation_of, cm_actor):
    root = post(channel, "Ma commande Bergen est en retard", external_id="long")
    thread = conversation_of(root)
    with CaptureQueriesContext(connection) as short:
        signed_in.get(f"/inbox/t/{thread.pk}/")
    for n in range(8):
        post(channel, f"Toujours rien, relance {n}", parent="long", author=f"voisin{n}")
    services.add_note(actor=cm_actor, conversation=thread, text="Vu avec l'entrepôt")
    with CaptureQueriesContext(connection) as long:
        page = signed_in.get(f"/inbox/t/{thread.pk}/")
    assert page.content.count(b'<li class="inbox-item') == 9
    assert len(long.captured_queries) <= len(short.captured_queries) + 1  # the notes' query only


def test_a_colleague_gone_for_a_while_is_no_longer_shown(signed_in, threads, org, make_member):
    from datetime import timedelta

    from django.utils import timezone

    from palabre.inbox.models import Presence

    bergen = threads[0]
    colleague = make_member(org, Role.MODERATOR, username="nadia").user
    Presence.objects.create(
        conversation=bergen, user=colleague, state="replying", seen_at=timezone.now() - timedelta(minutes=5)
    )
    assert b"nadia" not in signed_in.post(f"/inbox/t/{bergen.pk}/presence/", {"state": "viewing"}).content


def test_a_failed_reply_shows_its_error_and_a_retry_button(
    signed_in, threads, cm_actor, django_capture_on_commit_callbacks
):
    from palabre.connectors.models import ActionStatus, OutboundAction

    bergen = threads[0]
    reply = services.send_reply(
        actor=cm_actor,
        conversation=bergen,
        text="Oui, la Bergen existe en 220 cm.",
        idempotency_key="k-failed-ui",
    )
    OutboundAction.objects.filter(pk=reply.action_id).update(
        status=ActionStatus.FAILED, last_error="HTTP 503 from the platform"
    )
    page = signed_in.get(f"/inbox/t/{bergen.pk}/").content.decode()
    assert 'data-delivery="failed"' in page and "HTTP 503 from the platform" in page
    assert f"/inbox/replies/{reply.pk}/retry/" in page
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(f"/inbox/replies/{reply.pk}/retry/")
    assert OutboundAction.objects.get(pk=reply.action_id).status == ActionStatus.SENT


def test_the_contact_panel_follows_merged_contacts(
    signed_in, channel, post, conversation_of, make_channel, org, owner_actor
):
    from palabre.conversations.services import merge_contacts

    mastodon = make_channel(org, "mastodon", handle="@maison@example.social", name="Mastodon")
    on_blog = post(channel, "Ma commande Bergen est en retard", author="lea")
    on_mastodon = post(mastodon, "Toujours pas de nouvelles de ma table", author="@lea@example.social")
    merge_contacts(actor=owner_actor, target=on_mastodon.contact, sources=[on_blog.contact])
    page = signed_in.get(f"/inbox/t/{conversation_of(on_blog).pk}/").content.decode()
    assert "Toujours pas de nouvelles de ma table" in page and "@lea@example.social" in page


def test_a_saved_view_is_removed_by_its_owner(signed_in, threads):
    signed_in.post("/inbox/views/", {"name": "Plaintes", "intent": "complaint"})
    view = SavedView.objects.get()
    assert f"/inbox/views/{view.pk}/delete/".encode() in signed_in.get("/inbox/").content
    signed_in.post(f"/inbox/views/{view.pk}/delete/")
    assert not SavedView.objects.exists()
