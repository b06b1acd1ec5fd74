"""The counters and histograms each process writes, and the signal receivers that feed them."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django_tasks.signals import task_finished
from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "palabre_http_requests",
    "HTTP requests answered, by method, view and status code.",
    ["method", "view", "status"],
)
REQUEST_SECONDS = Histogram(
    "palabre_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter(
    "palabre_tasks_finished",
    "Background tasks finished, by task and outcome (SUCCESSFUL or FAILED).",
    ["task", "status"],
)
TASK_WAIT_SECONDS = Histogram(
    "palabre_task_wait_seconds",
    "Time from a task's enqueueing to a worker starting it, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
TASK_RUN_SECONDS = Histogram(
    "palabre_task_run_seconds",
    "Time a worker spent running a task, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
DECISIONS = Counter(
    "palabre_moderation_decisions",
    "Moderation decisions recorded, by source (automatic, moderator) and action.",
    ["source", "action"],
)


def observe_request(*, method: str, view: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method=method, view=view, status=str(status)).inc()
    REQUEST_SECONDS.labels(view=view).observe(seconds)


def _task_finished(sender, task_result, **kwargs) -> None:
    name = task_result.task.module_path
    TASKS.labels(task=name, status=str(task_result.status)).inc()
    started, enqueued, finished = task_result.started_at, task_result.enqueued_at, task_result.finished_at
    if started and enqueued:
        TASK_WAIT_SECONDS.labels(task=name).observe(max(0.0, (started - enqueued).total_seconds()))
    if started and finished:
        TASK_RUN_SECONDS.labels(task=name).observe(max(0.0, (finished - started).total_seconds()))


def _decision_saved(sender, instance, created: bool, **kwargs) -> None:
    if created:
        _count_decisions([instance])


def _decisions_recorded(sender, decisions, **kwargs) -> None:
    _count_decisions(decisions)


def _count_decisions(decisions) -> None:
    labels = [{"source": row.source, "action": row.action} for row in decisions]

    def count() -> None:
        for each in labels:
            DECISIONS.labels(**each).inc()

    # Counted once the decisions are committed: a rolled-back analysis decided nothing.
    transaction.on_commit(count)


def connect() -> None:
    from palabre.moderation.hooks import decisions_recorded
    from palabre.moderation.models import ModerationDecision

    task_finished.connect(_task_finished, dispatch_uid="palabre-metrics-tasks")
    post_save.connect(_decision_saved, sender=ModerationDecision, dispatch_uid="palabre-metrics-decisions")
    decisions_recorded.connect(_decisions_recorded, dispatch_uid="palabre-metrics-decision-batches")
