"""Running the schedule: a due job is claimed by one worker, run, and its outcome recorded."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from palabre.schedule.jobs import JOBS, Job
from palabre.schedule.models import ScheduledJob

logger = logging.getLogger(__name__)


def ensure_rows(jobs: Iterable[Job] = JOBS, *, now: datetime | None = None) -> None:
    """A row for each job of the table, due at once where it was missing (two workers creating them
    together is harmless: the second insert is ignored)."""
    now = now or timezone.now()
    ScheduledJob.objects.bulk_create(
        [ScheduledJob(name=job.name, due_at=now) for job in jobs], ignore_conflicts=True
    )


def claim(job: Job, *, now: datetime, worker: str) -> bool:
    """Move the job's next run on by its interval if it is due: one conditional UPDATE, so that of
    several workers asking at once exactly one gets True (on PostgreSQL the others wait for its row
    lock, then find it no longer due; SQLite writes one at a time)."""
    claimed = ScheduledJob.objects.filter(name=job.name, due_at__lte=now).update(
        due_at=now + timedelta(seconds=job.every()),
        last_started_at=now,
        last_worker=worker[:100],
        runs=F("runs") + 1,
    )
    return claimed == 1


def run_due(*, worker: str, now: datetime | None = None, jobs: Iterable[Job] = JOBS) -> dict[str, dict]:
    """Run each job of the table that is due and that this worker claims; {job name: outcome}.
    A job that fails is logged and recorded; it runs again at its next due time."""
    now = now or timezone.now()
    jobs = list(jobs)
    rows = dict(ScheduledJob.objects.values_list("name", "due_at"))  # one query when nothing is due
    missing = [job for job in jobs if job.name not in rows]
    if missing:
        ensure_rows(missing, now=now)
    due = {name for name, due_at in rows.items() if due_at <= now} | {job.name for job in missing}
    ran: dict[str, dict] = {}
    for job in jobs:
        if job.name not in due or not claim(job, now=now, worker=worker):
            continue
        outcome, error = {}, ""
        try:
            outcome = job.run(now) or {}
        except Exception as failure:  # one job's fault must not stop the others, nor the worker
            logger.exception("Scheduled job %s failed", job.name)
            error = f"{type(failure).__name__}: {failure}"[:2000]
        ScheduledJob.objects.filter(name=job.name).update(
            last_finished_at=timezone.now(), last_outcome=outcome, last_error=error
        )
        ran[job.name] = {"error": error} if error else outcome
    return ran
