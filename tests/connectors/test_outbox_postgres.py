"""Exactly once with concurrent workers, on a real PostgreSQL server (row locks).

Skipped unless PALABRE_TEST_POSTGRES_URL is set and the suite runs on PostgreSQL (scripts/test.sh).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections
from fake_platform import SlowConnector

from palabre.connectors import services
from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.conversations.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 8


@pytest.fixture(autouse=True)
def queued_not_run(settings):
    """Tasks wait in the database: the test's threads play the workers."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _together(target, count: int = WORKERS) -> list:
    results: list = []
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait()
            results.append(target())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_workers_deliver_a_reply_once(use_connector, owner_actor, forum_item):
    slow = use_connector(SlowConnector)
    action = services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour Camille")
    outcomes = Counter(step.outcome for step in _together(lambda: services.deliver(action.pk)))
    action.refresh_from_db()
    assert outcomes["sent"] == 1, (outcomes, action.status, action.last_error)
    assert len(slow.calls) == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    assert Item.objects.filter(channel=forum_item.channel, kind="reply").count() == 1


def test_concurrent_requests_with_one_key_make_one_publication(counting, owner_actor, forum):
    def queue():
        return services.queue_publication(
            actor=owner_actor, channel=forum, text="Soldes d'été", idempotency_key="summer-sale"
        ).pk

    ids = set(_together(queue))
    assert len(ids) == 1
    assert OutboundAction.objects.filter(idempotency_key="summer-sale").count() == 1
