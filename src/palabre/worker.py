"""Task workers that lose nothing: the loop of `palabre worker`, and what `palabre serve` runs to
keep its own workers alive.

`TaskWorker` runs django-tasks-db's worker in passes (every task ready, then a pause of
`--interval`), and around them what the library does not do:

- the database refusing (down, read-only, disk full, not migrated yet) is logged and waited out,
  with a backoff of 1, 2, 4... up to 60 seconds, never a traceback and an exit; once it answers
  again, the worker first picks up what was interrupted;
- at its start and after such a wait, the tasks a dead worker left `RUNNING` (its own earlier
  self, under the same `--worker-id`, or a worker of this host whose heartbeat stopped and whose
  process is gone) are made ready again (tasks are idempotent; one that took its worker down
  three times is marked failed instead), the checked comments a stopped worker left are asked for
  storing, and the items stored and never analysed (a worker killed between the two) are analysed;
- between tasks, at most once a second, it runs the schedule's due jobs (`palabre.schedule`: the
  periodic work of every app, each due job claimed by one worker only);
- it writes a heartbeat file, `workers/<worker id>.json` in the data folder, every
  `PALABRE_WORKER_HEARTBEAT_SECONDS`: its state (`running`, `waiting_for_database`), the last
  database error, the tasks it ran. `worker_states()` reads them for a health check.

`WorkerSupervisor` starts the worker processes of `palabre serve` and starts again one that
exits (killed, crashed, out of memory), after a backoff that grows while it keeps dying; it logs
each exit and restart, and writes `workers/supervisor-<pid>.json` (each worker's pid, restarts,
last exit).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from palabre import config

logger = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
# A task claimed this many times by workers that died is not run again: it may be what kills them.
MAX_CLAIMS = 3
# How often a worker looks for due jobs of the schedule (one query when none is due).
SCHEDULE_CHECK_SECONDS = 1.0


class WorkerLost(Exception):
    """The worker running a task died (killed, out of memory) before the task ended."""


# A beat older than this many intervals says the worker is gone or stuck.
STALE_BEATS = 3


def backoff(failures: int, *, base: float = 1.0, cap: float = MAX_BACKOFF) -> float:
    """Seconds to wait after `failures` failures in a row: 1, 2, 4... up to `cap`."""
    return min(cap, base * 2 ** max(0, min(failures, 32) - 1))


def _seconds(setting: config.Setting, minimum: float) -> float:
    try:
        return max(float(setting.raw()), minimum)
    except ValueError:
        return max(float(setting.default), minimum)


def heartbeat_seconds() -> float:
    return _seconds(config.WORKER_HEARTBEAT_SECONDS, 0.5)


def heartbeat_dir() -> Path:
    path = config.data_dir() / "workers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100] + ".json"


def write_state(name: str, state: dict) -> None:
    """Replace the file at once (a reader never sees half of it)."""
    folder = heartbeat_dir()
    path = folder / _file_name(name)
    partial = folder / f".{path.name}.{os.getpid()}.tmp"
    partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def remove_state(name: str) -> None:
    (heartbeat_dir() / _file_name(name)).unlink(missing_ok=True)


def worker_states(*, now: float | None = None) -> list[dict]:
    """What the task workers and supervisors of this data folder last wrote, each with `stale`:
    True when its heartbeat is older than three heartbeat intervals (the process is gone or
    stuck). A worker that stopped cleanly removed its file."""
    now = time.time() if now is None else now
    limit = STALE_BEATS * heartbeat_seconds()
    states = []
    for path in sorted(heartbeat_dir().glob("*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # removed or replaced while read
        if isinstance(state, dict):
            state["stale"] = now - float(state.get("beat_at") or 0) > limit
            states.append(state)
    return states


def tasks_backend() -> str:
    """`database`, `rq` or `immediate`: where the tasks wait (PALABRE_TASKS_BACKEND)."""
    from django.conf import settings

    return {
        "django_tasks_db.DatabaseBackend": "database",
        "django_tasks_rq.RQBackend": "rq",
    }.get(settings.TASKS["default"]["BACKEND"], "immediate")


def queue_state(*, now: datetime | None = None) -> dict | None:
    """The task queue as the workers find it, whichever backend holds it: `waiting` (due, no worker
    has taken them), `running`, and `oldest_waiting_seconds` (how long the oldest due task has
    waited). None without a queue (the immediate backend). The backend's own errors go up
    (`DatabaseError`, a Redis error): the callers say what a failing queue means to them."""
    from django.utils import timezone

    backend = tasks_backend()
    now = now or timezone.now()
    if backend == "rq":
        from palabre import redis_queue

        return redis_queue.queue_state(now=now)
    if backend != "database":
        return None
    from django.db.models import Min, Q
    from django_tasks_db.models import DBTaskResult, get_date_max

    due = DBTaskResult.objects.ready()
    # A task is due from its `run_after`, or, without one (the library stores its farthest date
    # then), from when it was enqueued.
    oldest = due.aggregate(
        undelayed=Min("enqueued_at", filter=Q(run_after=get_date_max())),
        delayed=Min("run_after", filter=~Q(run_after=get_date_max())),
    )
    moments = [moment for moment in oldest.values() if moment]
    return {
        "waiting": due.count(),
        "running": DBTaskResult.objects.filter(status="RUNNING").count(),
        "oldest_waiting_seconds": max(0.0, (now - min(moments)).total_seconds()) if moments else 0.0,
    }


class TaskWorker:
    """One `palabre worker` process (see the module's docstring)."""

    def __init__(
        self,
        *,
        worker_id: str = "",
        queues: str = "*",
        interval: float = 1.0,
        batch: bool = False,
        max_tasks: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from django.utils.crypto import get_random_string

        self.worker_id = worker_id or get_random_string(32)
        self.batch = batch
        self.max_tasks = max_tasks
        self.interval = interval
        self.sleep = sleep
        self.library = self._library(queues)
        self.started_at = time.time()
        self.tasks_run = 0
        self.failures = 0
        self.state = "starting"
        self.error = ""
        self._last_beat = 0.0
        self._last_schedule = 0.0
        self._recover_pending = False

    def _library(self, queues: str):
        from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
        from django_tasks_db.management.commands.db_worker import Worker

        # The library's loop, one pass at a time: it runs the tasks ready and returns.
        return Worker(
            queue_names=queues.split(","),
            interval=self.interval,
            batch=True,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=self.max_tasks or None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        from django_tasks.signals import task_finished, task_started

        self.library.configure_signals()
        task_started.connect(self._task_started, weak=False, dispatch_uid=f"palabre.worker.{id(self)}")
        task_finished.connect(self._task_finished, weak=False, dispatch_uid=f"palabre.worker.{id(self)}")
        try:
            self._loop()
        finally:
            task_started.disconnect(dispatch_uid=f"palabre.worker.{id(self)}")
            task_finished.disconnect(dispatch_uid=f"palabre.worker.{id(self)}")
            with contextlib.suppress(OSError):
                remove_state(self.worker_id)

    def _loop(self) -> None:
        from django.db import DatabaseError, connections

        recover = True
        while self.library.running:
            try:
                if recover or self._recover_pending:
                    self._recover_pending = False
                    self.recover()
                    recover = False
                self._answered()
                self.library.run()
                self.periodic()
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
                connections.close_all()  # a broken connection is opened anew
                self.sleep(delay)
                recover = True  # a task may have been cut short: pick up what it left
                continue
            if self.batch or (self.max_tasks and self.tasks_run >= self.max_tasks):
                return
            self.sleep(self.interval)

    def _answered(self) -> None:
        if self.failures:
            logger.warning(
                "Task worker %s: the database answers again after %s failure(s)",
                self.worker_id,
                self.failures,
            )
            self.failures, self.error = 0, ""
        if self.state != "running":
            self.state = "running"
            self.beat()

    def recover(self) -> None:
        """What a worker that stopped (or this one, cut off from the database) left undone."""
        from django.utils import timezone

        from palabre.compat import journal
        from palabre.schedule import jobs

        self.requeue_orphans()
        if journal.waiting_count():  # checked comments answered for and not stored yet
            journal.ask_for_storing(now=True)
        jobs.sweep(timezone.now())  # and the items stored without analysis, now
        self.periodic()

    def requeue_orphans(self) -> dict[str, int]:
        """Tasks left `RUNNING` by a worker that is gone: ready again, or failed after
        `MAX_CLAIMS` claims. Gone: this worker's own id (nothing of it runs while it recovers),
        or a worker of this host whose heartbeat is stale and whose process no longer exists."""
        from django.utils import timezone
        from django_tasks_db.models import DBTaskResult

        dead = self._dead_workers_here()
        gone = {self.worker_id} | set(dead)
        requeued = failed = 0
        running = DBTaskResult.objects.filter(status="RUNNING").only("pk", "worker_ids", "task_path")
        for task in running:
            if not task.worker_ids or task.worker_ids[-1] not in gone:
                continue
            still = DBTaskResult.objects.filter(pk=task.pk, status="RUNNING")
            if len(task.worker_ids) >= MAX_CLAIMS:
                failed += still.update(
                    status="FAILED",
                    finished_at=timezone.now(),
                    exception_class_path=f"{__name__}.WorkerLost",
                    traceback=f"{len(task.worker_ids)} workers died running this task; not run again.",
                )
            else:
                requeued += still.update(status="READY")
        if requeued or failed:
            logger.warning(
                "Task worker %s: %s task(s) left running by a dead worker made ready again, %s failed",
                self.worker_id,
                requeued,
                failed,
            )
        for name in dead:
            with contextlib.suppress(OSError):
                remove_state(name)
        return {"requeued": requeued, "failed": failed}

    @staticmethod
    def _dead_workers_here() -> list[str]:
        host, dead = socket.gethostname(), []
        try:
            states = worker_states()
        except OSError:  # no heartbeat folder to read (a full or read-only disk): nobody to judge
            return []
        for state in states:
            if state.get("kind") != "worker" or state.get("host") != host or not state["stale"]:
                continue
            pid = state.get("pid")
            if not isinstance(pid, int) or pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                dead.append(str(state.get("worker_id")))
            except PermissionError:
                pass  # a live process (another user's): not ours to judge
        return dead

    def periodic(self) -> None:
        clock = time.time()
        if clock - self._last_schedule >= SCHEDULE_CHECK_SECONDS:
            from palabre.schedule.services import run_due

            self._last_schedule = clock
            run_due(worker=self.worker_id)
        if clock - self._last_beat >= heartbeat_seconds():
            self.beat()

    # --- between tasks ---------------------------------------------------------------------------

    def _task_started(self, **_kwargs) -> None:
        self.tasks_run += 1

    def _task_finished(self, task_result=None, **_kwargs) -> None:
        from django.db import DatabaseError, InterfaceError, OperationalError

        if task_result is not None and task_result.errors:
            try:
                refused = issubclass(
                    task_result.errors[-1].exception_class, (OperationalError, InterfaceError)
                )
            except (ImportError, ValueError):
                refused = False
            if refused:  # the task was cut short by the database: what it left is picked up again
                self._recover_pending = True
        # A busy queue never ends a pass: beat and sweep between its tasks too.
        try:
            self.periodic()
        except DatabaseError:
            pass  # the loop meets the same refusal at its next read and waits it out
        except Exception:
            logger.exception("Task worker %s: the periodic work failed", self.worker_id)

    # --- the heartbeat ---------------------------------------------------------------------------

    def beat(self) -> None:
        """Write the heartbeat file. A full or read-only disk must not stop the work: the failure
        is logged, and the heartbeat goes stale, which is what a health check should see."""
        self._last_beat = time.time()
        state = {
            "kind": "worker",
            "worker_id": self.worker_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": self.started_at,
            "beat_at": self._last_beat,
            "state": self.state,
            "error": self.error,
            "database_failures": self.failures,
            "tasks_run": self.tasks_run,
        }
        try:
            write_state(self.worker_id, state)
        except OSError as error:
            logger.warning("Task worker %s: could not write its heartbeat (%s)", self.worker_id, error)


@dataclass
class _Slot:
    command: list[str]
    name: str
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0
    last_exit_code: int | None = None
    last_exit_at: float | None = None
    next_start_at: float | None = None


class WorkerSupervisor:
    """Keeps the task worker processes of `palabre serve` running (see the module's docstring).
    A worker that ran `stable_after` seconds before it exited starts again after one second;
    one that keeps dying waits 2, 4... up to 60 seconds."""

    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        poll: float = 0.5,
        stable_after: float = 60.0,
        start: Callable[[list[str]], subprocess.Popen] = subprocess.Popen,
    ) -> None:
        self.slots = [_Slot(command=command, name=name) for name, command in commands.items()]
        self.poll = poll
        self.stable_after = stable_after
        self._start = start
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="palabre-worker-supervisor", daemon=True)
        self.name = f"supervisor-{os.getpid()}"
        self._last_written = 0.0

    def start(self, *, watch: bool = True) -> None:
        """Start the workers and, with `watch`, a thread that checks them every `poll` seconds."""
        for slot in self.slots:
            self._launch(slot)
        self._write()
        if watch:
            self._thread.start()

    def _launch(self, slot: _Slot) -> None:
        slot.process = self._start(slot.command)
        slot.started_at = time.time()
        slot.next_start_at = None

    def check(self, now: float | None = None) -> None:
        """One look at the workers: note those that exited, start those whose wait is over."""
        now = time.time() if now is None else now
        changed = False
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is not None:
                code = slot.process.returncode
                slot.failures = 1 if now - slot.started_at >= self.stable_after else slot.failures + 1
                delay = backoff(slot.failures)
                slot.process, slot.last_exit_code, slot.last_exit_at = None, code, now
                slot.next_start_at = now + delay
                logger.error(
                    "Task worker %s exited (code %s); starting it again in %.0f s",
                    slot.name,
                    code,
                    delay,
                )
                changed = True
            if slot.process is None and slot.next_start_at is not None and now >= slot.next_start_at:
                if self._stopping.is_set():
                    continue
                self._launch(slot)
                slot.restarts += 1
                logger.warning(
                    "Task worker %s started again (pid %s, restart %s)",
                    slot.name,
                    slot.process.pid,
                    slot.restarts,
                )
                changed = True
        if changed or now - self._last_written >= heartbeat_seconds():
            self._write(now)

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll):
            try:
                self.check()
            except Exception:  # the supervisor itself must not die of a passing fault
                logger.exception("The task worker supervisor failed to check its workers")

    def _write(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._last_written = now
        try:
            write_state(
                self.name,
                {
                    "kind": "supervisor",
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "beat_at": now,
                    "workers": [
                        {
                            "worker_id": slot.name,
                            "pid": slot.process.pid if slot.process is not None else None,
                            "running": slot.process is not None,
                            "restarts": slot.restarts,
                            "last_exit_code": slot.last_exit_code,
                            "last_exit_at": slot.last_exit_at,
                            "next_start_at": slot.next_start_at,
                        }
                        for slot in self.slots
                    ],
                },
            )
        except OSError:
            logger.exception("The task worker supervisor could not write its state")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop watching, then stop the workers (SIGTERM: each finishes its task), killing those
        still there after `timeout`."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        running = [slot.process for slot in self.slots if slot.process is not None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        remove_state(self.name)
