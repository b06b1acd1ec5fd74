"""`/healthz` and `/readyz` (docs/operations.md): what a load balancer and a monitor are told."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from palabre import worker

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def no_heartbeats():
    def clear():
        for path in worker.heartbeat_dir().glob("*.json"):
            path.unlink()

    clear()
    yield
    clear()


@pytest.fixture
def database_tasks(settings, no_heartbeats):
    settings.TASKS = DATABASE_TASKS


def beat(worker_id: str, *, state: str = "running", ago: float = 0.0) -> None:
    worker.write_state(
        worker_id, {"kind": "worker", "worker_id": worker_id, "state": state, "beat_at": time.time() - ago}
    )


def test_healthz_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "alive"}
    assert "no-cache" in answer["Cache-Control"]


def test_readyz_with_tasks_run_inline_checks_the_database_and_caches(client, db):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"] == {"ok": True}
    assert body["checks"]["tasks"] == {"ok": True, "backend": "immediate"}


def test_an_empty_queue_and_no_heartbeat_here_is_ready(client, db, database_tasks):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    checks = answer.json()["checks"]
    assert checks["tasks"] == {"ok": True, "waiting": 0, "running": 0, "oldest_waiting_seconds": 0.0}
    assert checks["workers"] == {"ok": True, "beating": 0, "stale": 0, "waiting_for_database": 0}


def test_a_task_due_too_long_without_a_worker_is_a_stalled_queue(
    client, db, database_tasks, clock, monkeypatch
):
    from palabre.conversations.tasks import analyse_item

    monkeypatch.setenv("PALABRE_READY_TASK_DELAY_SECONDS", "300")
    analyse_item.enqueue(1)
    clock.shift(timedelta(seconds=200))
    fresh = client.get("/readyz")
    assert fresh.status_code == 200
    assert fresh.json()["checks"]["tasks"]["waiting"] == 1

    clock.shift(timedelta(seconds=200))
    stalled = client.get("/readyz")
    assert stalled.status_code == 503
    body = stalled.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["tasks"]["ok"] is False
    assert 399 <= body["checks"]["tasks"]["oldest_waiting_seconds"] <= 460
    # No heartbeat in this data folder and a queue that does not move: nobody works.
    assert body["checks"]["workers"]["ok"] is False


def test_a_task_delayed_to_later_is_not_waiting_yet(client, db, database_tasks, clock):
    from django.utils import timezone

    from palabre.conversations.tasks import analyse_item

    analyse_item.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(1)
    clock.shift(timedelta(minutes=30))
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["tasks"]["waiting"] == 0


def test_workers_beating_here_make_it_ready_and_stale_ones_do_not(client, db, database_tasks):
    beat("w-gone", ago=3600)
    only_stale = client.get("/readyz")
    assert only_stale.status_code == 503
    assert only_stale.json()["checks"]["workers"] == {
        "ok": False,
        "beating": 0,
        "stale": 1,
        "waiting_for_database": 0,
    }

    beat("w-waiting", state="waiting_for_database")
    assert client.get("/readyz").status_code == 503

    beat("w-running")
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["workers"] == {
        "ok": True,
        "beating": 2,
        "stale": 1,
        "waiting_for_database": 1,
    }


def test_a_real_worker_heartbeat_counts(client, db, database_tasks):
    task_worker = worker.TaskWorker(worker_id="w-real")
    task_worker.state = "running"
    task_worker.beat()
    assert client.get("/readyz").json()["checks"]["workers"]["beating"] == 1


def test_a_cache_that_cannot_keep_anything_is_not_ready(client, db, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache wants its folder")
    settings.CACHES = {
        **settings.CACHES,
        "broken": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(blocked / "x"),
        },
    }
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["cache"] == {"ok": False, "failing": ["broken"]}


def test_the_answers_name_no_host_or_process(client, db, database_tasks):
    beat("w-secret-name")
    text = client.get("/readyz").content.decode()
    assert "w-secret-name" not in text
    assert "pid" not in text and "host" not in text


def test_only_get(client, db):
    assert client.post("/readyz").status_code == 405
