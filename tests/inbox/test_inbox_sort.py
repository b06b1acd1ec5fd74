"""The inbox sorted by priority and by longest waiting, on the page and in the API: the most urgent
threads first under the Urgent filter, keyset pages that follow each other, bounded queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palabre.inbox.models import Conversation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.clock


@pytest.fixture
def signed_in(client, cm):
    client.force_login(cm)
    return client


@pytest.fixture
def ranked(channel, post, conversation_of):
    """Four threads, newest first: a question, a crisis, a complaint, an older crisis. The analysis
    sets a priority from the text; the test pins it so the expected order is exact."""
    rows = {}
    for name, text, minutes, priority in [
        ("nina", "Vous livrez le samedi ?", 5, 0),
        ("omar", "Rappel produit : la lampe Lumi a pris feu chez moi", 10, 100),
        ("paul", "Toujours pas remboursé, c'est long", 20, 40),
        ("rita", "Danger : le câble de la lampe fond", 60, 100),
    ]:
        conversation = conversation_of(post(channel, text, author=name, ago=timedelta(minutes=minutes)))
        Conversation.objects.filter(pk=conversation.pk).update(priority=priority)
        rows[name.title()] = conversation
    return rows


def _authors(response) -> list[str]:
    return re.findall(r'class="inbox-open"[^>]*><strong>([^<]*)</strong>', response.content.decode())


def test_priority_sort_puts_crisis_threads_first_and_urgent_filter_uses_it(signed_in, ranked):
    assert _authors(signed_in.get("/inbox/")) == ["Nina", "Omar", "Paul", "Rita"]
    assert _authors(signed_in.get("/inbox/", {"sort": "priority"})) == ["Omar", "Rita", "Paul", "Nina"]
    assert _authors(signed_in.get("/inbox/", {"priority": "high"})) == ["Omar", "Rita", "Paul"]
    assert _authors(signed_in.get("/inbox/", {"priority": "high", "sort": "recent"})) == [
        "Omar",
        "Paul",
        "Rita",
    ]
    page = signed_in.get("/inbox/", {"sort": "priority"}).content.decode()
    assert re.search(r'<select name="sort"[^>]*>.*<option value="priority" selected>', page, re.S)


def test_oldest_sort_puts_the_longest_waiting_first_and_answered_threads_last(
    signed_in, ranked, cm_actor, django_capture_on_commit_callbacks
):
    from palabre.inbox import services

    with django_capture_on_commit_callbacks(execute=True):
        services.send_reply(
            actor=cm_actor,
            conversation=ranked["Rita"],
            text="Bonjour Rita, nous vous appelons tout de suite pour le câble.",
            idempotency_key="k-sort-rita",
        )
    assert not Conversation.objects.get(pk=ranked["Rita"].pk).awaiting_reply
    assert _authors(signed_in.get("/inbox/", {"sort": "oldest", "status": "all"})) == [
        "Paul",
        "Omar",
        "Nina",
        "Rita",
    ]


def test_sorted_keyset_pages_follow_each_other_in_the_api(ranked, org, owner_actor, client):
    _token, secret = create_api_token(actor=owner_actor, name="sort", scopes=[p.value for p in Perm])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    for sort, expected in [
        ("priority", ["Omar", "Rita", "Paul", "Nina"]),
        ("oldest", ["Rita", "Paul", "Omar", "Nina"]),
        ("recent", ["Nina", "Omar", "Paul", "Rita"]),
    ]:
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/inbox/threads", params, **auth).json()
            seen += [row["author"] for row in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected, sort
    bad = client.get("/api/inbox/threads", {"sort": "loudest"}, **auth)
    assert bad.status_code == 422 and "sort" in bad.json()["fields"]
    forged = client.get("/api/inbox/threads", {"sort": "priority", "cursor": "bm9wZQ"}, **auth)
    assert forged.status_code == 422 and "cursor" in forged.json()["fields"]


def test_sorted_list_query_count_does_not_grow_with_threads(signed_in, channel, post, ranked):
    for sort in ("priority", "oldest"):
        with CaptureQueriesContext(connection) as before:
            signed_in.get("/inbox/", {"status": "all", "sort": sort})
        for n in range(6):
            post(channel, f"Question {sort} {n} sur la livraison ?", author=f"{sort}{n}")
        with CaptureQueriesContext(connection) as after:
            response = signed_in.get("/inbox/", {"status": "all", "sort": sort})
        assert response.content.count(b'class="inbox-row') == len(Conversation.objects.all())
        assert len(after.captured_queries) == len(before.captured_queries)
