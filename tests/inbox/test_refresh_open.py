"""The periodic re-ranking of the threads waiting for an answer (`inbox.tasks.tick`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palabre.inbox import services
from palabre.inbox.models import Conversation
from palabre.inbox.priority import waiting_points
from palabre.inbox.services import background
from palabre.inbox.services.threads import refresh_conversation

pytestmark = pytest.mark.django_db


def _waiting_hours(row: Conversation) -> float | None:
    return next((r["params"]["hours"] for r in row.priority_reasons if r["code"] == "waiting"), None)


def _updates(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


def test_waiting_threads_rise_in_batches_whose_queries_do_not_grow_with_the_threads(
    org, channel, post, clock, monkeypatch
):
    """A site with thousands of comments waiting: re-ranked a batch at a time, not one thread per
    transaction (a dozen queries each held the only worker for minutes at 171,000 threads)."""
    for n in range(12):
        post(channel, f"Bonjour, une question sur la commande {n} ?", author=f"client{n}")
    start = timezone.now()
    monkeypatch.setattr(background, "REFRESH_BATCH", 5)
    with CaptureQueriesContext(connection) as three_batches:
        assert services.refresh_open(org, now=start + timedelta(hours=1)) == 12
    rows = list(Conversation.objects.filter(organisation=org))
    assert len(rows) == 12 and all(_waiting_hours(row) >= 1 for row in rows)
    monkeypatch.setattr(background, "REFRESH_BATCH", 12)
    with CaptureQueriesContext(connection) as one_batch:
        services.refresh_open(org, now=start + timedelta(hours=3))
    assert all(_waiting_hours(row) >= 3 for row in Conversation.objects.filter(organisation=org))
    # 12 threads in one batch cost what one of the three batches of 5 did: no query per thread
    assert len(one_batch) * 3 <= len(three_batches) + 6


def test_only_the_threads_whose_waiting_points_moved_are_touched_and_they_match_a_full_computation(
    org, channel, post
):
    old = post(
        channel,
        "Ma commande n'est jamais arrivée, c'est inadmissible !",
        author="lea",
        ago=timedelta(minutes=40),
    )
    fresh = post(
        channel, "Vous ouvrez le dimanche ?", author="noe", followers=12000, ago=timedelta(minutes=10)
    )
    now = timezone.now()
    row_old = Conversation.objects.get(root=old)
    row_fresh = Conversation.objects.get(root=fresh)
    assert row_old.waiting_since == old.created_at and row_fresh.waiting_since == fresh.created_at
    # Five minutes on, the old thread crossed a step (40 -> 45 minutes: 7 -> 8 points), the fresh
    # one none (10 -> 15 minutes: no points before half an hour).
    later = now + timedelta(minutes=5)
    assert (waiting_points(40), waiting_points(45)) == (7, 8) and waiting_points(15) == waiting_points(
        10
    ) == 0
    with CaptureQueriesContext(connection) as ticked:
        assert services.refresh_open(org, now=later) == 2
    assert len(_updates(ticked)) == 1  # one statement, for the one row that moved
    row_old.refresh_from_db()
    row_fresh_after = Conversation.objects.get(root=fresh)
    assert row_old.updated_at == later
    assert (row_fresh_after.updated_at, row_fresh_after.priority_reasons) == (
        row_fresh.updated_at,
        row_fresh.priority_reasons,
    )
    # The same figures as the analyser computing the thread from its messages at that instant.
    ticked_rank = (row_old.priority, row_old.priority_reasons)
    import time_machine

    with time_machine.travel(later, tick=False):
        refresh_conversation(org, old.pk)
    row_old.refresh_from_db()
    assert (row_old.priority, row_old.priority_reasons) == ticked_rank
    assert [r["code"] for r in ticked_rank[1]][-1] == "waiting"


def test_a_wait_past_its_full_points_is_not_read_again(org, channel, post):
    post(channel, "Toujours pas de réponse à ma réclamation ?", author="lea")
    now = timezone.now()
    services.refresh_open(org, now=now + timedelta(hours=5))
    row = Conversation.objects.get(organisation=org)
    assert next(r for r in row.priority_reasons if r["code"] == "waiting")["points"] == 20
    with CaptureQueriesContext(connection) as ticked:
        assert services.refresh_open(org, now=now + timedelta(hours=9)) == 1
    assert _updates(ticked) == []
    # The pages count the wait until now: the row's hours are those of its last computation.
    assert _waiting_hours(row) == pytest.approx(5.1, abs=0.1)
    shown = next(r for r in row.reasons_now(now + timedelta(hours=9)) if r["code"] == "waiting")
    assert shown["params"]["hours"] == pytest.approx(9.1, abs=0.1) and shown["points"] == 20


def test_a_priority_set_by_hand_stays_while_the_reasons_follow_the_wait(org, channel, post):
    item = post(channel, "Bonjour, une question sur ma facture ?", author="lea")
    Conversation.objects.filter(root=item).update(manual_priority=3, priority=3)
    services.refresh_open(org, now=timezone.now() + timedelta(hours=2))
    row = Conversation.objects.get(root=item)
    assert row.priority == 3 and _waiting_hours(row) >= 2


def test_an_answered_thread_no_longer_waits(org, channel, post, cm_actor):
    item = post(channel, "Bonjour, une question sur ma facture ?", author="lea")
    row = Conversation.objects.get(root=item)
    services.send_reply(
        actor=cm_actor,
        conversation=row,
        text="Bonjour Léa, je regarde votre facture.",
        idempotency_key="k-answered-wait",
    )
    row.refresh_from_db()
    assert (row.awaiting_reply, row.waiting_since) == (False, None)
    assert services.refresh_open(org, now=timezone.now() + timedelta(hours=2)) == 0


def test_rows_from_before_the_wait_was_kept_are_computed_from_their_messages_once(
    org, channel, post, monkeypatch
):
    for n in range(3):
        post(channel, f"Où en est ma livraison {n} ?", author=f"client{n}")
    Conversation.objects.filter(organisation=org).update(waiting_since=None)
    assert services.refresh_open(org, now=timezone.now() + timedelta(hours=2)) == 3
    rows = list(Conversation.objects.filter(organisation=org))
    assert all(row.waiting_since is not None and _waiting_hours(row) >= 2 for row in rows)


def test_a_batch_that_fails_is_done_again_a_thread_at_a_time(org, channel, post, clock, monkeypatch):
    from django.db import OperationalError

    for n in range(3):
        post(channel, f"Où en est ma livraison {n} ?", author=f"client{n}")
    Conversation.objects.filter(organisation=org).update(waiting_since=None)
    clock.shift(timedelta(hours=2))

    def deadlock(*args, **kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(background, "refresh_conversations", deadlock)
    assert services.refresh_open(org) == 3
    assert all(_waiting_hours(row) >= 2 for row in Conversation.objects.filter(organisation=org))
