"""One scheduler: the table of periodic jobs, run by the workers, each due job run by one worker."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection, connections

from palabre.schedule import jobs as schedule_jobs
from palabre.schedule.jobs import JOBS, Job
from palabre.schedule.models import ScheduledJob
from palabre.schedule.services import claim, run_due

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def recorder(name: str, seconds: float, calls: list, *, fails: bool = False) -> Job:
    def run(now):
        calls.append((name, now))
        if fails:
            raise RuntimeError("boom")
        return {"ran": name}

    return Job(name, lambda: seconds, run, "a test job")


def test_every_job_of_the_table_is_documented():
    names = [job.name for job in JOBS]
    assert len(set(names)) == len(names)
    module_doc = schedule_jobs.__doc__
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = re.search(r"^## Schedule\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "docs/architecture.md has no '## Schedule' section"
    for name in names:
        assert re.search(rf"^{re.escape(name)}\s", module_doc, re.M), f"jobs.py's table lacks {name}"
        assert f"`{name}`" in section.group(1), f"docs/architecture.md's Schedule lacks `{name}`"


@pytest.mark.django_db
def test_due_jobs_run_at_their_interval_on_a_frozen_clock(clock):
    calls: list = []
    table = [recorder("fast", 60, calls), recorder("slow", 300, calls)]
    assert set(run_due(worker="w1", jobs=table)) == {"fast", "slow"}  # new rows are due at once
    assert run_due(worker="w1", jobs=table) == {}
    clock.shift(timedelta(seconds=59))
    assert run_due(worker="w1", jobs=table) == {}
    clock.shift(timedelta(seconds=1))
    assert run_due(worker="w1", jobs=table) == {"fast": {"ran": "fast"}}
    clock.shift(timedelta(seconds=240))
    assert set(run_due(worker="w1", jobs=table)) == {"fast", "slow"}
    assert [name for name, _at in calls] == ["fast", "slow", "fast", "fast", "slow"]
    row = ScheduledJob.objects.get(name="slow")
    assert row.runs == 2 and row.last_worker == "w1" and row.last_outcome == {"ran": "slow"}
    assert row.due_at == START + timedelta(seconds=600)


@pytest.mark.django_db
def test_a_due_job_is_claimed_by_one_worker_only(clock):
    calls: list = []
    table = [recorder("once", 60, calls)]
    run_due(worker="first", jobs=table)
    assert run_due(worker="second", jobs=table) == {}
    clock.shift(timedelta(seconds=60))
    assert claim(table[0], now=START + timedelta(seconds=60), worker="a") is True
    assert claim(table[0], now=START + timedelta(seconds=60), worker="b") is False
    assert len(calls) == 1


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_the_others_still_run(clock, caplog):
    calls: list = []
    table = [recorder("broken", 60, calls, fails=True), recorder("fine", 60, calls)]
    ran = run_due(worker="w", jobs=table)
    assert ran["broken"] == {"error": "RuntimeError: boom"} and ran["fine"] == {"ran": "fine"}
    assert ScheduledJob.objects.get(name="broken").last_error == "RuntimeError: boom"
    assert "Scheduled job broken failed" in caplog.text
    clock.shift(timedelta(seconds=60))
    assert "broken" in run_due(worker="w", jobs=table)  # tried again at its next time


@pytest.mark.django_db
def test_the_intervals_follow_the_settings(clock, monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_POLL_SECONDS", "120")
    assert schedule_jobs.job_named("connectors.tick").every() == 120
    monkeypatch.setenv("PALABRE_CONNECTORS_POLL_SECONDS", "1")
    assert schedule_jobs.job_named("connectors.tick").every() == 5  # its floor
    monkeypatch.setenv("PALABRE_PUBLISHING_TICK_SECONDS", "nonsense")
    assert schedule_jobs.job_named("publishing.tick").every() == 60


@pytest.mark.django_db
def test_the_real_table_runs_each_job_once_and_records_it(clock, org):
    ran = run_due(worker="w")
    assert set(ran) == {job.name for job in JOBS}
    assert {name: outcome for name, outcome in ran.items() if "error" in outcome} == {}
    assert ran["inbox.tick"] == {"organisations": 1} and ran["listening.detect"] == {"organisations": 1}
    assert run_due(worker="w") == {}


@pytest.mark.django_db
def test_a_worker_looks_at_the_schedule_at_most_once_a_second(clock, monkeypatch, tmp_path):
    from palabre import worker as worker_module

    looked: list = []
    monkeypatch.setattr("palabre.schedule.services.run_due", lambda *, worker: looked.append(worker))
    monkeypatch.setenv("PALABRE_DATA_DIR", str(tmp_path))
    task_worker = worker_module.TaskWorker(worker_id="w1", sleep=lambda seconds: None)
    task_worker.periodic()
    task_worker.periodic()
    clock.shift(timedelta(seconds=worker_module.SCHEDULE_CHECK_SECONDS))
    task_worker.periodic()
    assert looked == ["w1", "w1"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_instant_run_a_job_once_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the row lock of a conditional update on a real server")
    calls: list = []
    table = [recorder("shared", 60, calls)]
    now = START  # given to each worker: no clock is read
    ScheduledJob.objects.create(name="shared", due_at=now - timedelta(seconds=1))
    barrier = threading.Barrier(8)
    results: list = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            results.append(run_due(worker=f"w{n}", jobs=table, now=now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and sum(1 for result in results if result) == 1
