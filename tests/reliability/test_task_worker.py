"""`palabre worker` waits out a database that refuses, picks up what a stopped worker left (checked
comments not stored, items stored and not analysed), and says where it stands in a heartbeat file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from palabre.conversations.models import Item
from palabre.conversations.services import analyse_unanalysed, ingest_item, unanalysed_item_ids
from palabre.inbox.models import Conversation
from palabre.worker import backoff, remove_state, worker_states, write_state


def test_backoff_doubles_up_to_a_minute():
    assert [backoff(n) for n in (1, 2, 3, 4, 7, 8, 50)] == [1, 2, 4, 8, 60, 60, 60]


def test_a_heartbeat_older_than_three_intervals_is_stale(settings, monkeypatch):
    monkeypatch.setenv("PALABRE_WORKER_HEARTBEAT_SECONDS", "5")
    write_state("w-fresh", {"kind": "worker", "worker_id": "w-fresh", "beat_at": 1000.0})
    write_state("w-gone", {"kind": "worker", "worker_id": "w-gone", "beat_at": 980.0})
    try:
        states = {
            s["worker_id"]: s for s in worker_states(now=1010.0) if s.get("worker_id", "").startswith("w-")
        }
        assert states["w-fresh"]["stale"] is False
        assert states["w-gone"]["stale"] is True
    finally:
        remove_state("w-fresh")
        remove_state("w-gone")


# --- items stored and never analysed ------------------------------------------------------------


def test_the_sweep_analyses_what_a_killed_worker_left_each_item_once(org, make_channel, incoming_item, clock):
    channel = make_channel(org, "discourse", handle="forum.maison-dupont.fr", name="Forum")
    start = timezone.now()  # the sweeps are given their instant: the analysis takes real time
    # What a worker killed between storing a batch and analysing it leaves: items, no analysis.
    left = [
        ingest_item(channel=channel, incoming=incoming_item(f"topic-{n}", author=f"lou{n}"), analyse=False)[0]
        for n in range(3)
    ]
    clock.shift(timedelta(seconds=30))
    recent = ingest_item(channel=channel, incoming=incoming_item("topic-9"), analyse=False)[0]
    assert not Conversation.objects.filter(root__in=left).exists()

    grace = timedelta(seconds=60)
    then = start + timedelta(seconds=75)
    # `recent` may still have its analysis task queued: the sweep leaves it to that task for now.
    assert unanalysed_item_ids(older_than=grace, now=then) == [item.pk for item in left]
    assert analyse_unanalysed(older_than=grace, now=then) == {"found": 3, "analysed": 3, "failed": 0}

    for item in Item.objects.filter(pk__in=[i.pk for i in left]):
        assert item.analysed_at is not None and item.language == "fr"
        assert Conversation.objects.filter(root=item).count() == 1  # its inbox thread
    assert Item.objects.get(pk=recent.pk).analysed_at is None
    # Idempotent: a second sweep finds nothing left; the recent one is swept once old enough.
    assert analyse_unanalysed(older_than=grace, now=then)["found"] == 0
    assert analyse_unanalysed(older_than=grace, now=start + timedelta(seconds=150))["analysed"] == 1
    assert Conversation.objects.filter(root__in=[*left, recent]).count() == 4


# --- a real worker process and a database that refuses ----------------------------------------

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django_tasks_db.models import DBTaskResult
from palabre.compat.akismet import check
from palabre.moderation.services import create_moderation_site
from palabre.orgs.services import Actor, create_organisation
owner = get_user_model().objects.create_user(username="owner", password="Worker-tests-2024!")
organisation = create_organisation(name="Maison Worker", owner=owner)
site, key = create_moderation_site(actor=Actor.palabre(organisation), name="Blog", url="https://blog.example/")
for n in range(3):
    check.check_comment(site, {"comment_content": f"Merci pour la recette {n}", "comment_author": f"Lou {n}",
                                 "user_ip": "203.0.113.9"})
DBTaskResult.objects.all().delete()  # answered, not stored: what a stopped worker leaves
"""

COUNT = """
import django
django.setup()
from palabre.conversations.models import Item
from palabre.compat.models import CheckedComment
print(CheckedComment.objects.count(), Item.objects.filter(external_id__startswith="akismet-", analysed_at__isnull=False).count())
"""


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="uses its own SQLite files: once per suite is enough"
)
def test_a_worker_waits_for_a_database_that_refuses_then_stores_what_was_left(
    tmp_path: Path, migrated_sqlite
):
    data = tmp_path / "data"
    database = tmp_path / "palabre.sqlite3"
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(data),
        "PALABRE_TASKS_BACKEND": "database",
        "PALABRE_WORKER_HEARTBEAT_SECONDS": "0.5",
    }
    # A database in working order, with three comments answered for and not stored...
    ready = migrated_sqlite(tmp_path / "ready.sqlite3")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SETUP)],
        env={**env, "PALABRE_DATABASE_URL": f"sqlite:///{ready}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # ...and a worker started on an empty one: every query fails ("no such table").
    env["PALABRE_DATABASE_URL"] = f"sqlite:///{database}"
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "palabre", "worker", "--worker-id", "w-refused", "--interval", "0.2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    heartbeat = data / "workers" / "w-refused.json"
    try:

        def waiting() -> bool:
            assert worker.poll() is None, log_path.read_text()[-3000:]
            try:
                return json.loads(heartbeat.read_text())["state"] == "waiting_for_database"
            except (OSError, ValueError):
                return False

        _wait_for(waiting, 60, "the worker to say it waits for the database")
        state = json.loads(heartbeat.read_text())
        assert "no such table" in state["error"] and state["database_failures"] >= 1
        assert "the database refused" in log_path.read_text()

        time.sleep(0.3)  # its connection is closed while it waits: the database can be swapped
        for leftover in tmp_path.glob("palabre.sqlite3-*"):
            leftover.unlink()
        os.replace(ready, database)

        def count() -> list[str]:
            counted = subprocess.run(
                [sys.executable, "-c", textwrap.dedent(COUNT)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert counted.returncode == 0, counted.stderr[-3000:]
            return counted.stdout.split()

        _wait_for(lambda: count() == ["0", "3"], 60, "the three comments stored and analysed")
        _wait_for(lambda: json.loads(heartbeat.read_text())["state"] == "running", 10, "a running heartbeat")
        assert "the database answers again" in log_path.read_text()

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log_path.read_text()[-3000:]
        assert not heartbeat.exists()  # stopped cleanly: no stale heartbeat left
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)


# --- tasks a dead worker left running ------------------------------------------------------------


def test_tasks_a_dead_worker_left_running_are_made_ready_again(db, settings):
    import socket

    from django_tasks_db.models import DBTaskResult

    from palabre.conversations.tasks import analyse_item
    from palabre.worker import TaskWorker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)  # a process that has exited
    write_state(
        "w-dead",
        {
            "kind": "worker",
            "worker_id": "w-dead",
            "pid": dead_pid,
            "host": socket.gethostname(),
            "beat_at": 0.0,
        },
    )
    write_state(
        "w-alive",
        {
            "kind": "worker",
            "worker_id": "w-alive",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "beat_at": 0.0,
        },
    )

    def running(worker_ids: list[str]) -> DBTaskResult:
        result = analyse_item.enqueue(1)
        DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", worker_ids=worker_ids)
        return DBTaskResult.objects.get(pk=result.id)

    of_dead = running(["w-dead"])
    of_my_former_self = running(["serve-1-0"])
    of_a_live_worker = running(["w-alive"])
    thrice_lost = running(["serve-1-0", "w-dead", "serve-1-0"])
    try:
        assert TaskWorker(worker_id="serve-1-0").requeue_orphans() == {"requeued": 2, "failed": 1}
        status = dict(DBTaskResult.objects.values_list("pk", "status"))
        assert status[of_dead.pk] == "READY" and status[of_my_former_self.pk] == "READY"
        assert status[of_a_live_worker.pk] == "RUNNING"  # its process still runs it
        assert status[thrice_lost.pk] == "FAILED"
        lost = DBTaskResult.objects.get(pk=thrice_lost.pk)
        assert lost.exception_class_path == "palabre.worker.WorkerLost"
        assert DBTaskResult.objects.ready().filter(pk__in=[of_dead.pk, of_my_former_self.pk]).count() == 2
        names = {s.get("worker_id") for s in worker_states()}
        assert "w-dead" not in names and "w-alive" in names  # the dead one's file is gone
    finally:
        remove_state("w-dead")
        remove_state("w-alive")


def test_a_heartbeat_that_cannot_be_written_does_not_stop_the_worker(db, tmp_path, monkeypatch, caplog):
    from palabre.worker import TaskWorker

    (tmp_path / "workers").write_text("not a folder")  # as a full or read-only disk would refuse it
    monkeypatch.setenv("PALABRE_DATA_DIR", str(tmp_path))
    worker = TaskWorker(worker_id="w-no-disk")
    worker.beat()
    assert worker.requeue_orphans() == {"requeued": 0, "failed": 0}
    assert "could not write its heartbeat" in caplog.text
