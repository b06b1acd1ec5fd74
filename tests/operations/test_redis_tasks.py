"""Tasks on Redis (PALABRE_TASKS_BACKEND=rq): tasks enqueued through Django's task API run in real
`palabre worker` processes and their results are read back; the schedule still runs each due job
once; /readyz and /metrics read the queue on Redis; a task cut short by the database is run again.
Against the Redis that scripts/test.sh starts (PALABRE_TEST_REDIS_URL), else one of our own."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.test import override_settings
from django.utils import timezone
from prometheus_client import CollectorRegistry, multiprocess
from rq.exceptions import NoSuchJobError

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def rq_url(redis_url):
    """A Redis database of this test process (as test_shared_state's), emptied of RQ's keys only:
    the caches' keys in it are not ours."""
    url = (
        f"{redis_url.rsplit('/', 1)[0]}/{8 + int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0) % 8}"
    )
    client = redis.Redis.from_url(url)

    def empty() -> None:
        keys = list(client.scan_iter("rq:*"))
        if keys:
            client.delete(*keys)

    empty()
    yield url
    empty()
    client.close()


@contextmanager
def on_redis(url: str):
    """This process's settings as PALABRE_TASKS_BACKEND=rq makes them (palabre/settings.py)."""
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        RQ_QUEUES={"default": {"URL": url, "DEFAULT_TIMEOUT": 3600, "DEFAULT_RESULT_TTL": 86400}},
    ):
        yield


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.own_sqlite
def test_tasks_enqueued_through_django_run_in_two_palabre_workers_on_redis(tmp_path, rq_url, migrated_sqlite):
    from palabre import health, worker
    from palabre.schedule.jobs import JOBS
    from worker_tasks import note_run

    data = tmp_path / "data"
    database = migrated_sqlite(tmp_path / "palabre.sqlite3")
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(data),
        "PALABRE_DATABASE_URL": f"sqlite:///{database}",
        "PALABRE_TASKS_BACKEND": "rq",
        "PALABRE_REDIS_URL": rq_url,
        "PALABRE_WORKER_HEARTBEAT_SECONDS": "0.5",
        # The schedule's jobs are due at the workers' start, then not again during the test.
        "PALABRE_ANALYSIS_SWEEP_SECONDS": "3600",
        "PALABRE_CONNECTORS_POLL_SECONDS": "3600",
        "PALABRE_PUBLISHING_TICK_SECONDS": "3600",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
    }
    runs = tmp_path / "runs.txt"
    with on_redis(rq_url):
        results = [note_run.enqueue(number, str(runs)) for number in range(20)]
        later = note_run.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue(99, str(runs))
        assert worker.queue_state()["waiting"] == 20  # the delayed one is not due yet
        assert all(result.status == "READY" for result in results)

        logs, workers = [], []
        for name in ("rq-a", "rq-b"):
            log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115  (closed below)
            logs.append(log)
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "palabre", "worker", "--worker-id", name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        try:

            def all_done() -> bool:
                for process, log in zip(workers, logs, strict=True):
                    assert process.poll() is None, Path(log.name).read_text()[-3000:]
                try:
                    for result in [*results, later]:
                        result.refresh()
                except NoSuchJobError:
                    # The delayed task was read as scheduled while RQ's scheduler moved it to the
                    # queue (django-tasks-rq reads its status, then its scheduled time): read again.
                    return False
                return all(result.status == "SUCCESSFUL" for result in [*results, later])

            _wait_for(all_done, 90, "the 21 tasks run by the workers")
            assert [result.return_value for result in results] == list(range(20))
            assert later.return_value == 99  # moved to the queue when due by RQ's scheduler
            ran_by = {result.worker_ids[-1].split(".")[0] for result in [*results, later]}
            assert ran_by <= {"rq-a", "rq-b"}
            assert all(result.started_at >= result.enqueued_at for result in results)
            # Each task ran once, in one of the two worker processes.
            lines = [line.split() for line in runs.read_text().splitlines()]
            assert sorted(int(number) for number, _pid in lines) == [*range(20), 99]
            assert {int(pid) for _number, pid in lines} <= {process.pid for process in workers}

            # /readyz reads the queue on Redis and the workers RQ lists there, of every machine.
            tasks = health._tasks()
            assert tasks == {
                "ok": True,
                "backend": "rq",
                "waiting": 0,
                "running": 0,
                "oldest_waiting_seconds": 0.0,
            }
            assert health._workers(queue_moving=True)["registered"] == 2

            # The schedule ran each due job once, whichever of the two workers claimed it.
            def schedule_rows() -> list[tuple]:
                with sqlite3.connect(database) as sql:
                    return sql.execute("SELECT name, runs, last_worker FROM schedule_scheduledjob").fetchall()

            rows = _wait_for(lambda: len(schedule_rows()) == len(JOBS) and schedule_rows(), 30, "the rows")
            assert {name for name, _runs, _worker in rows} == {job.name for job in JOBS}
            assert {runs for _name, runs, _worker in rows} == {1}
            assert {worker_id for _name, _runs, worker_id in rows} <= {"rq-a", "rq-b"}
            for name in ("rq-a", "rq-b"):
                beat = _wait_for(lambda n=name: _state(data, n), 30, f"{name}'s heartbeat")
                assert beat["state"] == "running" and beat["kind"] == "worker"

            for process in workers:
                process.send_signal(signal.SIGTERM)
            for process, log in zip(workers, logs, strict=True):
                assert process.wait(timeout=30) == 0, Path(log.name).read_text()[-3000:]
            # The task metrics the workers wrote (their machine's metrics folder): each task counted
            # once, with the time it waited for a worker.
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(data / "metrics"))
            task = {"task": "worker_tasks.note_run"}
            assert (
                registry.get_sample_value("palabre_tasks_finished_total", {**task, "status": "SUCCESSFUL"})
                == len(results) + 1
            )
            assert registry.get_sample_value("palabre_task_wait_seconds_count", task) == len(results) + 1
            assert registry.get_sample_value("palabre_task_wait_seconds_sum", task) > 0
            assert not list((data / "workers").glob("rq-*.json"))  # stopped cleanly
            assert health._workers(queue_moving=True)["registered"] == 0
        finally:
            for process in workers:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
            for log in logs:
                log.close()


def _state(data: Path, name: str) -> dict | None:
    try:
        return json.loads((data / "workers" / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


# The worker closes its database connections (before RQ forks its scheduler, between tasks), as
# it must: no test transaction around it.
@pytest.mark.django_db(transaction=True)
def test_a_task_cut_short_by_the_database_is_queued_again_and_runs(tmp_path, rq_url, monkeypatch):
    from redis_tasks import refused_once

    from palabre.redis_queue import RedisTaskWorker

    scheduled = []
    monkeypatch.setattr("palabre.schedule.services.run_due", lambda **kwargs: scheduled.append(kwargs))
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    flag = tmp_path / "refused"
    try:
        with on_redis(rq_url):
            result = refused_once.enqueue(str(flag))
            # RQ's loop in this process, in burst mode: what is queued, then it returns.
            RedisTaskWorker(worker_id="rq-refused", batch=True).run()
            result.refresh()
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)  # RQ installed its own
    assert flag.read_text() == "stored"  # refused, then run again to its end
    # (django-tasks-rq 0.12 reads a retried task's return value from its first attempt: RQ lists
    # results newest first; the status and the errors are right.)
    assert result.status == "SUCCESSFUL"
    # The first attempt's failure is kept: the database refused.
    assert [error.exception_class_path for error in result.errors] == ["django.db.utils.OperationalError"]
    assert result.worker_ids == [f"rq-refused.{os.getpid()}"] * 2
    assert scheduled and scheduled[0] == {"worker": "rq-refused"}  # the schedule ran between tasks


def test_readyz_and_metrics_read_the_queue_on_redis(client, db, rq_url, clock, monkeypatch):
    from worker_tasks import note_run

    monkeypatch.setenv("PALABRE_READY_TASK_DELAY_SECONDS", "300")
    with on_redis(rq_url):
        note_run.enqueue(1, "/nonexistent/runs.txt")
        note_run.enqueue(2, "/nonexistent/runs.txt")
        note_run.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(3, "/nonexistent/runs.txt")
        clock.shift(timedelta(seconds=200))
        fresh = client.get("/readyz")
        tasks = fresh.json()["checks"]["tasks"]
        assert tasks["ok"] is True and tasks["backend"] == "rq" and tasks["waiting"] == 2
        assert 199 <= tasks["oldest_waiting_seconds"] <= 260
        # Nobody registered on Redis, nobody beating here: no worker.
        assert fresh.json()["checks"]["workers"]["registered"] == 0
        assert fresh.status_code == 503

        metrics = client.get("/metrics").content.decode()
        assert 'palabre_task_queue{state="waiting"} 2.0' in metrics
        assert 'palabre_task_queue{state="running"} 0.0' in metrics

        clock.shift(timedelta(seconds=200))
        stalled = client.get("/readyz").json()["checks"]["tasks"]
        assert stalled["ok"] is False and 399 <= stalled["oldest_waiting_seconds"] <= 460

        clock.shift(timedelta(hours=1))  # the delayed task is due too, not yet moved by a scheduler
        assert client.get("/readyz").json()["checks"]["tasks"]["waiting"] == 3


def test_the_rq_backend_without_redis_is_refused_with_the_setting_named(tmp_path):
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(tmp_path),
        "PALABRE_TASKS_BACKEND": "rq",
        "DJANGO_SETTINGS_MODULE": "palabre.settings",
    }
    env.pop("PALABRE_REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "PALABRE_TASKS_BACKEND=rq needs PALABRE_REDIS_URL" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_a_task_the_database_keeps_refusing_is_left_failed_after_three_attempts(
    tmp_path, rq_url, monkeypatch
):
    from redis_tasks import always_refused

    from palabre.redis_queue import RedisTaskWorker

    monkeypatch.setattr("palabre.schedule.services.run_due", lambda **kwargs: None)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    attempts = tmp_path / "attempts"
    try:
        with on_redis(rq_url):
            result = always_refused.enqueue(str(attempts))
            worker = RedisTaskWorker(worker_id="rq-refused-always", batch=True)
            worker.run()
            result.refresh()
            # It may be what takes its workers down: not queued again by a later recovery either.
            assert worker.requeue_orphans() == {"requeued": 0, "failed": 1}
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert attempts.read_text() == "xxx"
    assert result.status == "FAILED" and len(result.errors) == 3


def test_a_worker_on_rq_without_an_answering_redis_says_so_in_one_line(tmp_path):
    import socket

    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PALABRE_DATA_DIR": str(tmp_path),
        "PALABRE_TASKS_BACKEND": "rq",
        "PALABRE_REDIS_URL": f"redis://127.0.0.1:{port}/0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "palabre", "worker", "--batch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("palabre worker: Redis (PALABRE_REDIS_URL) does not answer")
    assert "Traceback" not in done.stderr
