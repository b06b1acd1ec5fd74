"""Health checks for load balancers, orchestrators and monitoring.

`/healthz` says the process answers (nothing else is touched: a slow database must not get a
healthy process restarted). `/readyz` says whether this install can do its work: the database
answers, the caches keep what they are given, the task queue moves, and the task workers of this
data folder beat. Both answer JSON; `/readyz` answers 503 when a check fails. They name no host,
process or error text: they are open to anyone who reaches the server.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from palabre import config, worker


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def readyz(request):
    checks = {
        "database": _database(),
        "cache": _caches(),
    }
    checks["tasks"] = _tasks() if checks["database"]["ok"] else {"ok": False, "reason": "database"}
    checks["workers"] = _workers(queue_moving=checks["tasks"]["ok"])
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503
    )


def _database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "milliseconds": round((time.perf_counter() - started) * 1000, 1)}


def _caches() -> dict:
    """Each configured cache must give back what it was given (a full disk or a lost Redis does not)."""
    failing = []
    for alias in settings.CACHES:
        key = f"palabre:readyz:{secrets.token_hex(8)}"
        try:
            cache = caches[alias]
            cache.set(key, 1, timeout=10)
            kept = cache.get(key) == 1
            cache.delete(key)
        except Exception:  # any backend's failure (OSError, a client's own errors) means not ready
            kept = False
        if not kept:
            failing.append(alias)
    return {"ok": not failing, "failing": failing} if failing else {"ok": True}


def _uses_task_database() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def _ready_delay() -> timedelta:
    try:
        seconds = max(1.0, float(config.READY_TASK_DELAY_SECONDS.raw()))
    except ValueError:
        seconds = float(config.READY_TASK_DELAY_SECONDS.default)
    return timedelta(seconds=seconds)


def _tasks() -> dict:
    """Tasks due and not taken: a queue whose oldest due task waited longer than the allowed delay
    has no worker taking it (or too few)."""
    if not _uses_task_database():
        return {"ok": True, "backend": "immediate"}
    from django.db.models import Min
    from django_tasks_db.models import DBTaskResult, get_date_max

    try:
        due = DBTaskResult.objects.ready()
        # A task is due from its `run_after`, or, without one (the library stores its farthest
        # date then), from when it was enqueued.
        undelayed = due.filter(run_after=get_date_max()).aggregate(since=Min("enqueued_at"))["since"]
        delayed = due.exclude(run_after=get_date_max()).aggregate(since=Min("run_after"))["since"]
        waiting = due.count()
        running = DBTaskResult.objects.filter(status="RUNNING").count()
    except DatabaseError as error:
        return {"ok": False, "error": type(error).__name__}
    now = timezone.now()
    oldest = min((moment for moment in (undelayed, delayed) if moment), default=now)
    waited = max(0.0, (now - oldest).total_seconds())
    return {
        "ok": waited <= _ready_delay().total_seconds(),
        "waiting": waiting,
        "running": running,
        "oldest_waiting_seconds": round(waited, 1),
    }


def _workers(*, queue_moving: bool) -> dict:
    """The heartbeats in this data folder. Workers on other machines write theirs elsewhere: with
    no heartbeat here at all, a moving queue is what says someone works."""
    if not _uses_task_database():
        return {"ok": True, "backend": "immediate"}
    states = [state for state in worker.worker_states() if state.get("kind") == "worker"]
    alive = [state for state in states if not state["stale"]]
    working = [state for state in alive if state.get("state") == "running"]
    summary = {
        "beating": len(alive),
        "stale": len(states) - len(alive),
        "waiting_for_database": sum(1 for state in alive if state.get("state") == "waiting_for_database"),
    }
    ok = bool(working) if states else queue_moving
    return {"ok": ok, **summary}
