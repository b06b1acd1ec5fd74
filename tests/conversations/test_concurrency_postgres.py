"""What only a real PostgreSQL server shows: several workers and concurrent ingestion.

Skipped unless PALABRE_TEST_POSTGRES_URL is set and the suite runs on PostgreSQL
(scripts/test.sh does both).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, connections

from palabre.conversations.models import Contact, ContactHandle, Item
from palabre.conversations.services import ingest_item

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TESTS_DIR = Path(__file__).resolve().parent.parent
TASKS = 200


def test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name> database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def test_two_worker_processes_run_every_task_exactly_once(settings, tmp_path):
    from worker_tasks import note_run

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    log = tmp_path / "runs.log"
    for number in range(TASKS):
        note_run.enqueue(number, str(log))

    env = {
        **os.environ,
        "PALABRE_DATABASE_URL": test_database_url(),
        "PALABRE_TASKS_BACKEND": "database",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")])),
    }
    palabre = [sys.executable, "-m", "palabre"]
    workers = [
        subprocess.Popen(
            [*palabre, "worker", "--batch", "--interval", "0.1", "--worker-id", f"test-worker-{n}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(2)
    ]
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=180)[0])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [w.returncode for w in workers] == [0, 0], outputs

    lines = [line.split() for line in log.read_text().splitlines()]
    runs = Counter(int(number) for number, _pid in lines)
    assert set(runs) == set(range(TASKS)), "some tasks never ran"
    assert [n for n, count in runs.items() if count > 1] == [], "some tasks ran twice"
    by_process = Counter(pid for _number, pid in lines)
    assert set(by_process) == {str(w.pid) for w in workers}, f"one worker did everything: {by_process}"

    from django_tasks_db.models import DBTaskResult

    statuses = Counter(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {"SUCCESSFUL": TASKS}


def test_concurrent_ingestion_of_one_item_stores_it_once(channel, incoming_item, monkeypatch):
    from palabre.conversations import pipeline

    monkeypatch.setattr(pipeline, "stages", list)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def deliver(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            item, created = ingest_item(
                channel=channel,
                incoming=incoming_item("same-id", text=f"version {n}", author="@same_author", language="fr"),
            )
            results.append((item.pk, created))
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Item.objects.filter(channel=channel, external_id="same-id").count() == 1
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert ContactHandle.objects.filter(handle="@same_author").count() == 1
    assert Contact.objects.filter(organisation=channel.organisation).count() == 1


def test_concurrent_ingestion_of_many_items_loses_none(channel, incoming_item, monkeypatch):
    from palabre.conversations import pipeline

    monkeypatch.setattr(pipeline, "stages", list)
    errors = []

    def deliver(worker: int) -> None:
        try:
            # Every thread delivers every item (as retried webhooks do), in its own order.
            numbers = list(range(30))
            for number in numbers[worker::3] + numbers:
                parent = f"m-{number - 1}" if number else ""
                ingest_item(
                    channel=channel,
                    incoming=incoming_item(
                        f"m-{number}",
                        kind="reply" if number else "post",
                        parent=parent,
                        author=f"@a{number % 5}",
                    ),
                )
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Item.objects.filter(channel=channel).count() == 30
    assert ContactHandle.objects.count() == 5


def test_concurrent_batches_of_the_same_items_store_each_once(channel, incoming_item, monkeypatch):
    from palabre.conversations import pipeline

    monkeypatch.setattr(pipeline, "stages", list)
    workers = 4
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def deliver(worker: int) -> None:
        try:
            numbers = list(range(40))
            order = numbers[worker::2] + numbers  # each worker in its own order, some twice
            batch = [
                incoming_item(
                    f"b-{n}",
                    kind="reply" if n % 4 else "post",
                    parent=f"b-{n - 1}" if n % 4 else "",
                    text=f"version {worker}",
                    author=f"@b{n % 6}",
                )
                for n in order
            ]
            barrier.wait(timeout=30)
            stored = pipeline.ingest_items(channel=channel, incoming=batch, analyse=False)
            results.append([(item.external_id, item.pk, created) for item, created in stored.items])
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Item.objects.filter(channel=channel).count() == 40
    assert ContactHandle.objects.filter(organisation=channel.organisation).count() == 6
    assert Contact.objects.filter(organisation=channel.organisation).count() == 6
    created = Counter(ext for result in results for ext, _pk, was_created in result if was_created)
    assert set(created) == {f"b-{n}" for n in range(40)} and set(created.values()) == {1}
    items = {i.external_id: i for i in Item.objects.filter(channel=channel)}
    for n in range(40):
        item = items[f"b-{n}"]
        assert item.parent_id == (items[f"b-{n - 1}"].pk if n % 4 else None)
        assert item.thread_root_id == (items[f"b-{n - n % 4}"].pk if n % 4 else None)


def test_a_reply_ingested_while_its_parent_is_linked_gets_the_right_thread(
    channel, incoming_item, monkeypatch
):
    from django.db import transaction

    from palabre.conversations import pipeline

    monkeypatch.setattr(pipeline, "stages", list)
    ingest_item(
        channel=channel, incoming=incoming_item("b", kind="reply", parent="a")
    )  # parent not there yet
    reply_written, root_written = threading.Event(), threading.Event()
    errors = []

    def reply_to_b() -> None:
        try:
            with transaction.atomic():  # held open, as a slow connector's transaction would be
                ingest_item(channel=channel, incoming=incoming_item("c", kind="reply", parent="b"))
                reply_written.set()
                root_written.wait(timeout=5)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    def the_root_arrives() -> None:
        try:
            reply_written.wait(timeout=30)
            ingest_item(channel=channel, incoming=incoming_item("a", kind="post"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            root_written.set()
            connections.close_all()

    threads = [threading.Thread(target=reply_to_b), threading.Thread(target=the_root_arrives)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    root = Item.objects.get(external_id="a")
    assert Item.objects.get(external_id="b").thread_root == root
    assert Item.objects.get(external_id="c").thread_root == root
