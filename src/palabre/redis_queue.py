"""Tasks on Redis (`PALABRE_TASKS_BACKEND=rq`): django-tasks-rq keeps them in RQ's queues on the
Redis of `PALABRE_REDIS_URL`; `palabre worker` runs them with `RedisTaskWorker`.

When to choose it (docs/deploy.md): the database backend claims each task with a locked UPDATE of
the task table, so on a busy install the claims of several workers queue up on PostgreSQL; RQ pops
a task from a Redis list instead, and PostgreSQL only does the tasks' own work.

`RedisTaskWorker` is RQ's `SimpleWorker` (each task run in the worker's own process, as the
database worker runs them: the models loaded once, one metrics file per process, no fork per task)
with what `palabre.worker.TaskWorker` adds around the database backend's loop:

- between tasks, and every second while the queue is empty, the schedule's due jobs
  (`palabre.schedule`; each claimed by one worker in the database, whichever backend queues the
  tasks) and the heartbeat file of the worker;
- the database refusing is waited out (1, 2, 4... up to 60 s) before the next task is taken, so
  tasks are not taken only to fail; once it answers again, the tasks that failed because of it
  (the database refused, or their worker died: RQ's `AbandonedJobError`) are queued again, up to
  `MAX_CLAIMS` attempts, then the checked comments and unanalysed items are picked up, as on the
  database backend;
- tasks delayed with `run_after` are moved to the queue when due by RQ's scheduler, which one of
  the workers runs (`with_scheduler`: RQ gives the role to one worker at a time through a lock).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from datetime import UTC, datetime

from palabre.worker import MAX_CLAIMS, SCHEDULE_CHECK_SECONDS, TaskWorker, backoff, remove_state

logger = logging.getLogger(__name__)

# What makes a failed task worth running again: its worker lost the database, or died.
REFUSALS = frozenset(
    {
        "django.db.utils.OperationalError",
        "django.db.utils.InterfaceError",
        "rq.exceptions.AbandonedJobError",
    }
)


def queues() -> list:
    """RQ's queues of Palabre's task backend (its `QUEUES`), with django-tasks-rq's job class."""
    import django_rq
    from django.conf import settings
    from django_tasks_rq import Job

    return [django_rq.get_queue(name, job_class=Job) for name in settings.TASKS["default"]["QUEUES"]]


def queue_state(*, now: datetime) -> dict:
    """`palabre.worker.queue_state` on Redis. Waiting: the queues' lists, and the delayed tasks
    whose time has come that the scheduler has not moved yet. The oldest waited since it was
    queued, or since it was due."""
    waiting = running = 0
    since: list[datetime] = []
    for queue in queues():
        waiting += queue.count
        running += queue.started_job_registry.get_job_count(cleanup=False)
        head = queue.get_job_ids(0, 1)
        job = queue.fetch_job(head[0]) if head else None
        if job is not None and job.enqueued_at is not None:
            since.append(job.enqueued_at.replace(tzinfo=job.enqueued_at.tzinfo or UTC))
        scheduled = queue.scheduled_job_registry
        overdue = queue.connection.zrangebyscore(
            scheduled.key, 0, now.timestamp(), start=0, num=1, withscores=True
        )
        if overdue:
            waiting += queue.connection.zcount(scheduled.key, 0, now.timestamp())
            since.append(datetime.fromtimestamp(overdue[0][1], tz=UTC))
    return {
        "waiting": waiting,
        "running": running,
        "oldest_waiting_seconds": max(0.0, (now - min(since)).total_seconds()) if since else 0.0,
    }


def worker_count() -> int:
    """RQ workers registered on Palabre's queues, on every machine (each renews its entry)."""
    from rq import Worker

    return len({worker.name for queue in queues() for worker in Worker.all(queue=queue)})


def failed_count() -> int:
    return sum(queue.failed_job_registry.get_job_count(cleanup=False) for queue in queues())


def _simple_worker_class():
    from rq.worker import SimpleWorker

    class PalabreRQWorker(SimpleWorker):
        """RQ's loop, which waits for a task at most a second at a time, so that the schedule and
        the heartbeat run between tasks and while the queue is empty."""

        palabre: RedisTaskWorker

        def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
            if timeout is None:  # burst: what is waiting, without waiting
                self.palabre.between_tasks()
                return super().dequeue_job_and_maintain_ttl(None, max_idle_time)
            idle_since = time.monotonic()
            wait = max(1, int(SCHEDULE_CHECK_SECONDS))
            while True:
                self.palabre.between_tasks()
                # With an idle time of `wait`, RQ returns None once it waited that long for nothing.
                found = super().dequeue_job_and_maintain_ttl(wait, wait)
                if found is not None:
                    return found
                if max_idle_time is not None and time.monotonic() - idle_since >= max_idle_time:
                    return None

        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            # RQ's maintenance moves the tasks of dead workers to the failed ones: run them again.
            self.palabre.recover_pending = True

    return PalabreRQWorker


class RedisTaskWorker(TaskWorker):
    """One `palabre worker` process on RQ (see the module's docstring)."""

    recover_pending = True  # at the start: what an earlier worker left

    def _library(self, queues_named: str):
        from django.conf import settings

        names = settings.TASKS["default"]["QUEUES"] if queues_named in ("", "*") else queues_named.split(",")
        from django_rq.queues import get_queues
        from django_tasks_rq import Job

        chosen = get_queues(*names, job_class=Job)
        worker = _simple_worker_class()(
            chosen,
            connection=chosen[0].connection,
            job_class=Job,
            queue_class=type(chosen[0]),
            # RQ names a worker once among the live ones: a worker restarted under the same
            # --worker-id (by `palabre serve`) must not wait for its former self's entry to expire.
            name=f"{self.worker_id}.{os.getpid()}",
            default_result_ttl=settings.RQ_QUEUES[names[0]].get("DEFAULT_RESULT_TTL", 500),
        )
        worker.palabre = self
        worker.push_exc_handler(self._task_failed)
        return worker

    def run(self) -> None:
        from django.db import connections
        from django_tasks.signals import task_started

        uid = f"palabre.worker.{id(self)}"
        task_started.connect(self._task_started, weak=False, dispatch_uid=uid)
        connections.close_all()  # RQ's scheduler is a forked process: it must not share them
        try:
            self.library.work(
                burst=self.batch,
                with_scheduler=True,
                max_jobs=self.max_tasks or None,
                logging_level="WARNING",
            )
        finally:
            task_started.disconnect(dispatch_uid=uid)
            with contextlib.suppress(OSError):
                remove_state(self.worker_id)

    def between_tasks(self) -> None:
        """The schedule, the heartbeat and, after a refusal, the recovery; waits out a database
        that refuses (a signal to stop interrupts the wait: RQ raises StopRequested in it)."""
        from django.db import DatabaseError, close_old_connections, connections
        from redis.exceptions import RedisError

        close_old_connections()  # as Django does between requests: a broken one is opened anew
        while True:
            try:
                if self.recover_pending:
                    self.recover_pending = False
                    self.recover()
                self._answered()
                self.periodic()
                return
            except DatabaseError as error:
                self.failures += 1
                delay = backoff(self.failures)
                self.state, self.error = "waiting_for_database", f"{type(error).__name__}: {error}"[:500]
                logger.warning(
                    "Task worker %s: the database refused (%s); trying again in %.0f s",
                    self.worker_id,
                    self.error,
                    delay,
                )
                self.beat()
                connections.close_all()
                self.recover_pending = True
                with contextlib.suppress(RedisError):
                    self.library.heartbeat()  # RQ's entry on Redis lives on while the database is waited out
                self.sleep(delay)

    def _task_failed(self, job, exc_type, exc_value, traceback) -> bool:
        """RQ's exception handler: a task cut short by the database makes the worker recover."""
        from django.db import InterfaceError, OperationalError

        if exc_type is not None and issubclass(exc_type, (OperationalError, InterfaceError)):
            self.recover_pending = True
        return True  # and RQ's own handling goes on (the task is marked failed)

    def requeue_orphans(self) -> dict[str, int]:
        """The failed tasks whose failure was the database refusing or their worker dying, queued
        again while they have been tried fewer than `MAX_CLAIMS` times."""
        from rq.exceptions import InvalidJobOperation

        requeued = failed = 0
        for queue in self.library.queues:
            registry = queue.failed_job_registry
            for job_id in registry.get_job_ids(cleanup=False):
                job = queue.fetch_job(job_id)
                if job is None:
                    continue
                causes = job.meta.get("_django_tasks_rq_exceptions", [])
                if not causes or causes[-1] not in REFUSALS:
                    continue
                if len(causes) >= MAX_CLAIMS:
                    failed += 1
                    continue
                try:
                    registry.requeue(job)
                except InvalidJobOperation:
                    continue  # another worker requeued it first
                requeued += 1
        if requeued:
            logger.warning(
                "Task worker %s: %s task(s) cut short by the database or a dead worker queued again "
                "(%s left failed after %s attempts)",
                self.worker_id,
                requeued,
                failed,
                MAX_CLAIMS,
            )
        return {"requeued": requeued, "failed": failed}
