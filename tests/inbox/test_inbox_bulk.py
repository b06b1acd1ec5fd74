"""Bulk actions on inbox threads: one service for the page and the API, all threads or none, one audit
entry per thread, an organisation's threads only, an undo that puts each thread back as it was."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from palabre.inbox import bulk
from palabre.inbox.models import Conversation
from palabre.moderation.models import ItemModeration
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import NotInOrganisation, create_api_token

pytestmark = pytest.mark.clock


@pytest.fixture
def threads(channel, post, conversation_of):
    return [
        conversation_of(post(channel, text, author=name))
        for name, text in [
            ("nina", "Vous livrez le samedi ?"),
            ("omar", "Ma lampe Lumi ne s'allume plus"),
            ("paul", "Toujours pas remboursé, c'est long"),
        ]
    ]


@pytest.fixture
def foreign_thread(make_org, make_channel, post, conversation_of):
    other = make_org("Autre marque")
    return conversation_of(post(make_channel(other), "Bonjour, une question", author="zoe"))


def _ids(rows):
    return [c.pk for c in rows]


def test_close_several_threads_with_one_audit_entry_each_and_undo(cm_actor, threads):
    result = bulk.apply(actor=cm_actor, action="close", ids=_ids(threads))
    assert result.count == 3 and result.message == "3 conversations closed"
    assert set(Conversation.objects.filter(pk__in=_ids(threads)).values_list("status", flat=True)) == {
        "closed"
    }
    events = AuditEvent.objects.filter(action="inbox.status", target_id__in=[str(i) for i in _ids(threads)])
    assert events.count() == 3
    assert bulk.restore(actor=cm_actor, restore_field=result.restore_field, values=result.before) == 3
    assert set(Conversation.objects.filter(pk__in=_ids(threads)).values_list("status", flat=True)) == {"open"}


def test_a_thread_of_another_organisation_refuses_the_whole_batch(cm_actor, threads, foreign_thread):
    with pytest.raises(NotInOrganisation):
        bulk.apply(actor=cm_actor, action="close", ids=[*_ids(threads), foreign_thread.pk])
    assert not Conversation.objects.filter(status="closed").exists()
    assert not AuditEvent.objects.filter(action="inbox.status").exists()


def test_tag_assign_and_priority_survive_a_new_message(cm_actor, cm, threads, channel, post):
    bulk.apply(actor=cm_actor, action="tag", ids=_ids(threads[:2]), value=" Remboursement ")
    bulk.apply(actor=cm_actor, action="assign", ids=_ids(threads[:2]), value="me")
    result = bulk.apply(actor=cm_actor, action="priority", ids=_ids(threads[:1]), value="urgent")
    first = Conversation.objects.get(pk=threads[0].pk)
    assert first.tags == ["remboursement"] and first.assignee_id == cm.pk and first.priority == 70
    post(channel, "Alors, c'est pour quand ?", author="nina", parent=threads[0].root.external_id)
    first.refresh_from_db()
    assert first.priority == 70, "a priority set by hand stays when the thread is analysed again"
    bulk.restore(actor=cm_actor, restore_field="priority", values=result.before)
    first.refresh_from_db()
    assert first.manual_priority is None and first.priority != 70
    bulk.apply(actor=cm_actor, action="untag", ids=_ids(threads[:1]), value="remboursement")
    assert Conversation.objects.get(pk=threads[0].pk).tags == []
    assert Conversation.objects.get(pk=threads[1].pk).tags == ["remboursement"]


def test_mark_spam_rejects_the_messages_and_closes(owner_actor, threads):
    bulk.apply(actor=owner_actor, action="spam", ids=_ids(threads[:1]))
    state = ItemModeration.objects.get(item_id=threads[0].root_id)
    assert state.rejected_as_spam
    assert Conversation.objects.get(pk=threads[0].pk).status == "closed"
    assert Conversation.objects.get(pk=threads[1].pk).status == "open"


def test_bad_input_names_the_field(cm_actor, threads):
    for action, ids, value, field in [
        ("explode", _ids(threads), None, "action"),
        ("close", [], None, "ids"),
        ("close", ["abc"], None, "ids"),
        ("tag", _ids(threads), "", "value"),
        ("priority", _ids(threads), "loud", "value"),
        ("assign", _ids(threads), 999999, "assignee"),
    ]:
        with pytest.raises(ValidationError) as refused:
            bulk.apply(actor=cm_actor, action=action, ids=ids, value=value)
        assert field in refused.value.message_dict, action
    assert not Conversation.objects.exclude(status="open").exists()


def test_a_role_without_the_permission_is_refused(org, make_member, actor_for, threads):
    from django.core.exceptions import PermissionDenied

    analyst = actor_for(make_member(org, Role.ANALYST, username="ana").user, org)
    with pytest.raises(PermissionDenied):
        bulk.apply(actor=analyst, action="close", ids=_ids(threads))


def test_api_bulk_and_restore(client, owner_actor, threads, foreign_thread):
    _token, secret = create_api_token(actor=owner_actor, name="bulk", scopes=[p.value for p in Perm])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    done = client.post(
        "/api/inbox/threads/bulk",
        {"action": "close", "ids": _ids(threads)},
        content_type="application/json",
        **auth,
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["count"] == 3 and body["restore"]["field"] == "status"
    foreign = client.post(
        "/api/inbox/threads/bulk",
        {"action": "reopen", "ids": [*_ids(threads), foreign_thread.pk]},
        content_type="application/json",
        **auth,
    )
    assert foreign.status_code == 404
    assert set(Conversation.objects.filter(pk__in=_ids(threads)).values_list("status", flat=True)) == {
        "closed"
    }
    bad = client.post(
        "/api/inbox/threads/bulk",
        {"action": "tag", "ids": _ids(threads)},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 422 and "value" in bad.json()["fields"]
    undone = client.post(
        "/api/inbox/threads/bulk/restore", body["restore"], content_type="application/json", **auth
    )
    assert undone.status_code == 200 and undone.json() == {"count": 3}
    listed = client.get("/api/inbox/threads", {"status": "open"}, **auth).json()
    assert {row["id"] for row in listed["items"]} == set(_ids(threads))


def test_page_bulk_close_in_french_with_undo(client, cm, threads, settings):
    settings.LANGUAGE_CODE = "fr"
    client.force_login(cm)
    page = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'form="inbox-bulk"' in page and "Tout sélectionner sur cette page" in page
    response = client.post(
        "/inbox/bulk/",
        {"action": "close", "ids": _ids(threads[:2]), "next": "/inbox/?status=open"},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )
    html = response.content.decode()
    assert "2 conversations fermées" in html and 'id="bulk-undo"' in html
    values = json.loads(response.context["bulk_done"]["values"])
    assert values == {str(pk): "open" for pk in _ids(threads[:2])}
    assert html.count('class="inbox-row') == 1
    undone = client.post(
        "/inbox/bulk/restore/",
        {"field": "status", "values": json.dumps(values), "next": "/inbox/"},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    ).content.decode()
    assert "2 conversations remises comme avant" in undone and undone.count('class="inbox-row') == 3


def test_page_bulk_through_htmx_returns_the_list_fragment(client, cm, threads):
    client.force_login(cm)
    response = client.post(
        "/inbox/bulk/",
        {"action": "close", "ids": _ids(threads[:1]), "status": "open", "sort": "priority"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 302 and response["Location"] == "/inbox/?status=open&sort=priority"
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "1 conversation closed" in fragment
    assert fragment.count('class="inbox-row') == 2
