"""The author of a thread's first inbox reply, kept on its row for analytics' team figures, follows
the replies: written, deleted, moved into the real thread when a reply came before its root."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palabre.inbox import services
from palabre.inbox.models import Conversation, Reply


@pytest.fixture
def bruno(org, make_member, actor_for):
    from palabre.orgs.permissions import Role

    return actor_for(make_member(org, Role.COMMUNITY_MANAGER, username="bruno").user, org)


def reply(actor, row, key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.send_reply(
            actor=actor,
            conversation=row,
            text=f"Bonjour Camille, c'est noté ({key}).",
            idempotency_key=key,
            confirmed=True,
        )


def first_author(row: Conversation) -> int | None:
    row.refresh_from_db()
    return row.first_reply_author_id


def test_the_first_replys_author_through_replies_written_and_deleted(
    channel, post, conversation_of, cm_actor, bruno, django_capture_on_commit_callbacks
):
    root = post(channel, "Ma commande 4512 n'arrive pas", ago=timedelta(hours=2))
    row = conversation_of(root)
    assert first_author(row) is None
    first = reply(cm_actor, row, "k-first-one", django_capture_on_commit_callbacks)
    assert first_author(row) == cm_actor.user.pk
    reply(bruno, conversation_of(root), "k-second-one", django_capture_on_commit_callbacks)
    assert first_author(row) == cm_actor.user.pk  # still the first one's
    first.delete()
    assert first_author(row) == bruno.user.pk
    Reply.objects.all().delete()
    assert first_author(row) is None


def test_replies_moved_into_the_real_thread_bring_their_author(
    channel, post, conversation_of, cm_actor, django_capture_on_commit_callbacks
):
    early = post(channel, "Moi aussi j'attends", parent="late", external_id="early", ago=timedelta(hours=1))
    reply(cm_actor, conversation_of(early), "k-early-one", django_capture_on_commit_callbacks)
    root = post(channel, "Commande jamais reçue", external_id="late", ago=timedelta(hours=2))
    row = Conversation.objects.get()
    assert row.root_id == root.pk and row.replies.count() == 1
    assert first_author(row) == cm_actor.user.pk
