"""The pipeline's inbox stage: a batch's thread rows are what analysing its items one by one gives,
in a number of queries (the on-commit follow-ups included) that does not grow with the batch."""

from __future__ import annotations

import pytest
from django.test.utils import CaptureQueriesContext

from palabre.conversations.models import Item
from palabre.conversations.pipeline import analyse_items, ingest_items
from palabre.inbox.models import Conversation

pytestmark = pytest.mark.django_db

TEXTS = [
    "Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?",
    "Thanks a lot, the table is beautiful!",
    "Vous êtes des voleurs, remboursez-moi !",
    "Cheap watches!!! buy now http://spam.example/x",
    "Merci pour la réponse rapide.",
]


def _batch(incoming_item, start: int, size: int, *, brand: str) -> list:
    """Threads of a few messages, a reply of the brand, a reply stored before its parent, spam."""
    items = []
    for n in range(start, start + size):
        parent = f"q{n - 1}" if n % 3 else ""
        author = brand if n % 6 == 5 else f"person{n % 7}"
        items.append(incoming_item(f"q{n}", text=TEXTS[n % len(TEXTS)], author=author, parent=parent))
    if size > 2:
        items[1], items[2] = items[2], items[1]  # a reply before its parent
    return items


@pytest.fixture
def inbox_only(monkeypatch):
    from palabre.conversations import pipeline

    kept = [stage for stage in pipeline.stages() if stage.name in {"language", "moderation", "inbox"}]
    monkeypatch.setattr(pipeline, "stages", lambda: kept)


def _analyse_batch(channel, incoming, capture) -> int:
    stored = ingest_items(channel=channel, incoming=incoming, analyse=False)
    with capture(execute=True):
        analyse_items([i.pk for i, _c in stored.items], stored.created_ids)
    return len(stored.items)


def _rows(channel) -> list[tuple]:
    external = dict(Item.objects.filter(channel=channel).values_list("pk", "external_id"))
    return sorted(
        (
            external[c.root_id],
            external.get(c.last_customer_item_id),
            c.item_count,
            c.awaiting_reply,
            c.sentiment,
            c.intent,
            c.priority,
            c.language,
            c.preview,
            c.status,
        )
        for c in Conversation.objects.filter(channel=channel)
    )


def test_a_batch_projects_the_thread_rows_that_one_by_one_analysis_projects(
    org, make_channel, incoming_item, inbox_only, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to("2024-05-06 12:00:00+02:00", tick=False)
    batched = make_channel(org, "site", handle="blog.maison-dupont.fr", name="Blog")
    single = make_channel(org, "site", handle="forum.maison-dupont.fr", name="Forum")
    _analyse_batch(
        batched, _batch(incoming_item, 0, 18, brand=batched.handle), django_capture_on_commit_callbacks
    )
    for incoming in _batch(incoming_item, 0, 18, brand=single.handle):
        _analyse_batch(single, [incoming], django_capture_on_commit_callbacks)
    rows = _rows(batched)
    assert rows == _rows(single)
    assert len(rows) >= 4
    assert any(row[3] for row in rows) and any(not row[3] for row in rows)  # awaiting and answered


def test_the_inbox_stage_and_its_follow_ups_cost_queries_that_do_not_grow_with_the_batch(
    channel, incoming_item, inbox_only, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from django.db import connection

    def analysis(size: int, start: int) -> tuple[CaptureQueriesContext, list[int]]:
        stored = ingest_items(
            channel=channel, incoming=_batch(incoming_item, start, size, brand=channel.handle), analyse=False
        )
        ids = [i.pk for i, _c in stored.items]
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            analyse_items(ids, stored.created_ids)
        return queries, ids

    analysis(6, 0)  # the first batch creates the organisation's rows
    small, _ids = analysis(6, 15)  # spam that starts a thread, a reply before its parent
    large, ids = analysis(60, 200)
    assert len(large) <= len(small)
    # The same threads again: rows to update, not to create.
    with django_assert_max_num_queries(len(small)), django_capture_on_commit_callbacks(execute=True):
        analyse_items(ids, ())
    assert Conversation.objects.filter(channel=channel).count() >= 20
