"""A person corrects a message's sentiment or intent in the inbox: kept with who, when, the old and
new value and the language, audited, shown, used by the thread's priority, scoped to the organisation."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from palabre.conversations.models import Correction
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import Actor, create_api_token

pytestmark = pytest.mark.clock

QUESTION = "Bonjour, vous livrez le samedi ?"


@pytest.fixture
def moderator(org, make_member):
    return make_member(org, Role.MODERATOR, username="nora").user


@pytest.fixture
def thread(channel, post, conversation_of):
    item = post(channel, QUESTION, author="lea")
    return item, conversation_of(item)


def _corrections(item):
    return list(
        Correction.objects.filter(content_type=ContentType.objects.get_for_model(item), object_id=item.pk)
    )


def test_a_moderator_corrects_the_intent_with_one_select_and_the_thread_follows(client, moderator, thread):
    item, conversation = thread
    assert conversation.intent == "question"
    before = conversation.priority
    client.force_login(moderator)
    page = client.get(f"/inbox/t/{conversation.pk}/")
    assert page.status_code == 200 and f'id="item-triage-{item.pk}"'.encode() in page.content
    answer = client.post(
        f"/inbox/t/{conversation.pk}/items/{item.pk}/correct/",
        {"sentiment": conversation.sentiment, "intent": "crisis"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200 and b"<html" not in answer.content
    assert b"Intent corrected by nora" in answer.content
    [correction] = _corrections(item)
    assert (correction.field, correction.old_value, correction.new_value) == ("intent", "question", "crisis")
    assert correction.corrected_by == moderator and correction.language == "fr"
    assert correction.text == QUESTION and correction.organisation_id == item.organisation_id
    conversation.refresh_from_db()
    assert conversation.intent == "crisis" and conversation.priority > before
    # The thread's head comes along out of band, with the new priority and why.
    assert 'id="thread-triage" hx-swap-oob="true"' in answer.content.decode()
    assert (
        f"Priority {conversation.priority}" in answer.content.decode() and b"crisis words" in answer.content
    )
    assert "crisis" in [r["code"] for r in conversation.priority_reasons]
    audit = AuditEvent.objects.get(action="intent.corrected")
    assert audit.before == {"intent": "question"} and audit.after["intent"] == "crisis"
    assert "livrez" not in audit.target_label  # the log outlives the message: no copy of its text
    # The thread page says a person corrected it; the next analysis keeps the correction.
    page = client.get(f"/inbox/t/{conversation.pk}/")
    assert b"Intent corrected by nora" in page.content and b"intent-crisis" in page.content
    from palabre.inbox.services import refresh_conversation

    refresh_conversation(item.organisation, item.pk)
    conversation.refresh_from_db()
    assert conversation.intent == "crisis"


def test_without_javascript_the_form_redirects_and_a_bad_value_is_refused(client, moderator, thread):
    item, conversation = thread
    client.force_login(moderator)
    url = f"/inbox/t/{conversation.pk}/items/{item.pk}/correct/"
    answer = client.post(url, {"sentiment": "negative", "intent": conversation.intent})
    assert answer.status_code == 302 and answer["Location"] == f"/inbox/t/{conversation.pk}/"
    [correction] = _corrections(item)
    assert (correction.field, correction.new_value) == ("sentiment", "negative")
    bad = client.post(url, {"intent": "gossip"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and b"Choose one of" in bad.content
    assert len(_corrections(item)) == 1


def test_roles_without_moderation_cannot_correct(client, org, make_member, thread):
    item, conversation = thread
    analyst = make_member(org, Role.ANALYST, username="ana").user
    client.force_login(analyst)
    page = client.get(f"/inbox/t/{conversation.pk}/")
    assert page.status_code == 200 and b'name="intent"' not in page.content
    answer = client.post(f"/inbox/t/{conversation.pk}/items/{item.pk}/correct/", {"intent": "praise"})
    assert answer.status_code == 403 and not _corrections(item)


def test_another_organisation_can_neither_correct_nor_read(client, make_org, make_member, thread):
    item, conversation = thread
    other = make_org("Autre")
    stranger = make_member(other, Role.MODERATOR, username="eve").user
    client.force_login(stranger)
    answer = client.post(f"/inbox/t/{conversation.pk}/items/{item.pk}/correct/", {"intent": "praise"})
    assert answer.status_code == 404
    _token, secret = create_api_token(actor=Actor.palabre(other), name="eve", scopes=[p.value for p in Perm])
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/inbox/items/{item.pk}/triage", headers=auth).status_code == 404
    posted = client.post(
        f"/api/inbox/items/{item.pk}/corrections",
        {"field": "intent", "value": "praise"},
        content_type="application/json",
        headers=auth,
    )
    assert posted.status_code == 404 and not _corrections(item)


def _actor_of(user, organisation):
    return Actor.for_user(user, organisation)


def test_the_api_corrects_and_reads_back_with_the_field_named_on_bad_input(client, org, owner, thread):
    item, conversation = thread
    _token, secret = create_api_token(actor=_actor_of(owner, org), name="ops", scopes=[p.value for p in Perm])
    auth = {"Authorization": f"Bearer {secret}"}
    url = f"/api/inbox/items/{item.pk}/corrections"
    bad = client.post(url, {"field": "mood", "value": "happy"}, content_type="application/json", headers=auth)
    assert bad.status_code == 422 and "field" in bad.content.decode()
    wrong = client.post(
        url, {"field": "sentiment", "value": "crisis"}, content_type="application/json", headers=auth
    )
    assert wrong.status_code == 422 and "value" in wrong.json()["fields"]
    done = client.post(
        url, {"field": "intent", "value": "complaint"}, content_type="application/json", headers=auth
    )
    assert done.status_code == 201, done.content
    body = done.json()
    assert body["intent"] == "complaint" and body["detected_intent"] == "question"
    assert body["corrections"][0]["old_value"] == "question"
    again = client.post(
        url, {"field": "intent", "value": "lead"}, content_type="application/json", headers=auth
    )
    assert again.json()["corrections"][0]["old_value"] == "complaint"
    read = client.get(f"/api/inbox/items/{item.pk}/triage", headers=auth).json()
    assert read["intent"] == "lead" and len(read["corrections"]) == 2
    conversation.refresh_from_db()
    assert conversation.intent == "lead"
    [listed] = client.get(f"/api/inbox/threads/{conversation.pk}", headers=auth).json()["items"]
    assert (listed["intent"], listed["corrected"]) == ("lead", True)


def test_deleting_the_item_or_the_organisation_removes_its_corrections(client, org, owner, thread):
    from palabre.inbox.corrections import correct_item

    item, _conversation = thread
    correct_item(actor=_actor_of(owner, org), item=item, field="sentiment", value="positive")
    assert Correction.objects.count() == 1
    item.delete()
    assert Correction.objects.count() == 0


def test_in_french_the_controls_and_the_mark_read_in_french(client, moderator, thread, settings):
    settings.LANGUAGE_CODE = "fr"
    item, conversation = thread
    client.force_login(moderator)
    answer = client.post(
        f"/inbox/t/{conversation.pk}/items/{item.pk}/correct/",
        {"intent": "complaint"},
        HTTP_HX_REQUEST="true",
    )
    page = answer.content.decode()
    assert "Corriger" in page and "Intention corrigée par nora (lu\u00a0: Question)" in page
    assert '<option value="complaint" selected>Réclamation</option>' in page or "Réclamation" in page
