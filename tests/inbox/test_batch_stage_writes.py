"""What the pipeline's inbox stage writes on the thread rows it already has: the computed fields,
in one upsert (no CASE per field and row), the team's own fields kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palabre.conversations.pipeline import analyse_items, ingest_items
from palabre.inbox.models import Conversation, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox_only(monkeypatch):
    from palabre.conversations import pipeline

    kept = [stage for stage in pipeline.stages() if stage.name in {"language", "moderation", "inbox"}]
    monkeypatch.setattr(pipeline, "stages", lambda: kept)


def _analyse(channel, incoming, capture) -> CaptureQueriesContext:
    stored = ingest_items(channel=channel, incoming=incoming, analyse=False)
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        analyse_items([i.pk for i, _c in stored.items], stored.created_ids)
    return queries


def test_rows_of_known_threads_get_their_computed_fields_and_keep_the_teams(
    channel, make_member, incoming_item, inbox_only, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to("2024-05-06 12:00:00+02:00", tick=False)
    start = timezone.now() - timedelta(hours=2)
    first = [
        incoming_item(f"t{n}", text="Ma commande n'est pas arrivée.", created_at=start, author=f"person{n}")
        for n in range(4)
    ]
    _analyse(channel, first, django_capture_on_commit_callbacks)
    rows = list(Conversation.objects.filter(channel=channel).order_by("pk"))
    assert len(rows) == 4
    agent = make_member(channel.organisation, "community_manager").user
    Conversation.objects.filter(pk__in=[row.pk for row in rows]).update(
        assignee=agent,
        tags=["livraison"],
        manual_priority=7,
        status=Status.CLOSED,
        status_changed_at=timezone.now() - timedelta(hours=1),
    )
    replies = [
        incoming_item(
            f"r{n}",
            text="Toujours rien reçu, vous êtes des voleurs !",
            kind="reply",
            parent=f"t{n}",
            created_at=start + timedelta(minutes=90),
            author=f"person{n}",
        )
        for n in range(4)
    ]
    queries = _analyse(channel, replies, django_capture_on_commit_callbacks)

    writes = [q["sql"] for q in queries.captured_queries if "inbox_conversation" in q["sql"]]
    assert writes and not any("CASE" in sql for sql in writes)
    for row in Conversation.objects.filter(channel=channel).order_by("pk"):
        assert row.item_count == 2
        assert row.preview.startswith("Toujours rien reçu")
        assert row.last_customer_item.external_id.startswith("r")
        assert (row.assignee_id, row.tags, row.priority) == (agent.pk, ["livraison"], 7)
        assert row.status == Status.OPEN  # the person wrote again after the thread was closed
