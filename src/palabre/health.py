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


def _ready_delay() -> timedelta:
    try:
        seconds = max(1.0, float(config.READY_TASK_DELAY_SECONDS.raw()))
    except ValueError:
        seconds = float(config.READY_TASK_DELAY_SECONDS.default)
    return timedelta(seconds=seconds)


def _tasks() -> dict:
    """Tasks due and not taken: a queue whose oldest due task waited longer than the allowed delay
    has no worker taking it (or too few). On the database or on Redis (PALABRE_TASKS_BACKEND=rq)."""
    backend = worker.tasks_backend()
    if backend == "immediate":
        return {"ok": True, "backend": "immediate"}
    named = {"backend": backend} if backend != "database" else {}
    try:
        state = worker.queue_state()
    except Exception as error:  # DatabaseError, or the Redis client's own errors: not ready
        return {"ok": False, **named, "error": type(error).__name__}
    return {
        "ok": state["oldest_waiting_seconds"] <= _ready_delay().total_seconds(),
        **named,
        "waiting": state["waiting"],
        "running": state["running"],
        "oldest_waiting_seconds": round(state["oldest_waiting_seconds"], 1),
    }


def _workers(*, queue_moving: bool) -> dict:
    """The heartbeats in this data folder. Workers on other machines write theirs elsewhere: with
    no heartbeat here at all, a moving queue is what says someone works."""
    backend = worker.tasks_backend()
    if backend == "immediate":
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
    if backend == "rq":
        # RQ keeps the list of its live workers on Redis: those of every machine, not only here.
        from palabre import redis_queue

        try:
            summary["registered"] = redis_queue.worker_count()
        except Exception:  # the tasks check says Redis fails; here, no worker is known
            summary["registered"] = 0
        ok = bool(working) or (summary["registered"] > 0 and queue_moving)
    return {"ok": ok, **summary}
