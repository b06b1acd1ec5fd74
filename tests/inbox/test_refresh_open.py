"""The periodic re-ranking of the threads waiting for an answer (`inbox.tasks.tick`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palabre.inbox import services
from palabre.inbox.models import Conversation
from palabre.inbox.services import background

pytestmark = pytest.mark.django_db


def _waiting_hours(row: Conversation) -> float | None:
    return next((r["params"]["hours"] for r in row.priority_reasons if r["code"] == "waiting"), None)


def test_waiting_threads_rise_in_batches_whose_queries_do_not_grow_with_the_threads(
    org, channel, post, clock, monkeypatch
):
    """A site with thousands of comments waiting: re-ranked a batch at a time, not one thread per
    transaction (a dozen queries each held the only worker for minutes at 171,000 threads)."""
    for n in range(12):
        post(channel, f"Bonjour, une question sur la commande {n} ?", author=f"client{n}")
    clock.shift(timedelta(hours=3))
    monkeypatch.setattr(background, "REFRESH_BATCH", 5)
    with CaptureQueriesContext(connection) as three_batches:
        assert services.refresh_open(org) == 12
    rows = list(Conversation.objects.filter(organisation=org))
    assert len(rows) == 12 and all(
        _waiting_hours(row) is not None and _waiting_hours(row) >= 3 for row in rows
    )
    monkeypatch.setattr(background, "REFRESH_BATCH", 12)
    with CaptureQueriesContext(connection) as one_batch:
        services.refresh_open(org)
    # 12 threads in one batch cost what one of the three batches of 5 did: no query per thread
    assert len(one_batch) * 3 <= len(three_batches) + 6


def test_a_batch_that_fails_is_done_again_a_thread_at_a_time(org, channel, post, clock, monkeypatch):
    from django.db import OperationalError

    for n in range(3):
        post(channel, f"Où en est ma livraison {n} ?", author=f"client{n}")
    clock.shift(timedelta(hours=2))

    def deadlock(*args, **kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(background, "refresh_conversations", deadlock)
    assert services.refresh_open(org) == 3
    assert all(_waiting_hours(row) >= 2 for row in Conversation.objects.filter(organisation=org))
