"""Background work of publishing: hand each variant to the outbox at its time, and make sure an
interrupted hand-over or delivery is picked up again (a worker may be killed at any moment)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import default_task_backend, task

from palabre import config

logger = logging.getLogger(__name__)


def _defer(a_task, seconds: float, *args) -> None:
    if a_task.get_backend().supports_defer:
        a_task.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue(*args)


@task()
def publish_variant(variant_id: int) -> dict:
    """Publish one variant when due. Before working, it leaves a follow-up check behind (committed
    at once), so that a worker killed in the middle leaves the work to the next one; the follow-up
    finds the variant settled and stops."""
    from palabre.connectors.tasks import deliver_action
    from palabre.publishing.models import PostVariant, VariantState
    from palabre.publishing.services import _settled, check_seconds, delivery_due, publish_due

    variant = PostVariant.objects.select_related("action").filter(pk=variant_id).first()
    if variant is None:
        return {"variant": variant_id, "outcome": "gone"}
    now = timezone.now()
    if variant.state == VariantState.SCHEDULED and variant.scheduled_at and variant.scheduled_at > now:
        return {"variant": variant_id, "outcome": "not_due"}  # moved later: its own task is waiting
    if not _settled(variant):
        _defer(publish_variant, check_seconds(), variant_id)
    outcome = publish_due(variant_id, now=now)
    variant.refresh_from_db()
    action_id = delivery_due(variant)
    if action_id is not None and outcome != "handed_over":
        # Handed over earlier and its delivery never finished (the worker died): deliver again;
        # the outbox locks and re-checks the action, so this never sends twice.
        deliver_action.enqueue(action_id)
    return {"variant": variant_id, "outcome": outcome}


@task()
def publishing_tick() -> dict:
    """Every PALABRE_PUBLISHING_TICK_SECONDS: anything due that no task is taking care of."""
    from palabre.publishing.services import due_variant_ids

    due = due_variant_ids()
    for variant_id in due:
        publish_variant.enqueue(variant_id)
    _defer(publishing_tick, tick_interval())
    return {"variants": len(due)}


def tick_interval() -> float:
    try:
        return max(float(config.PUBLISHING_TICK_SECONDS.raw()), 1.0)
    except ValueError:
        return 60.0


def ensure_publishing_tick() -> bool:
    """Start the periodic tick if none is waiting (database backend only). True if started."""
    if not default_task_backend.supports_defer:
        return False
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult

    # A tick that has been running for minutes belongs to a worker that died.
    recent = timezone.now() - timedelta(minutes=5)
    waiting = DBTaskResult.objects.filter(task_path=publishing_tick.module_path).filter(
        Q(status="READY") | Q(status="RUNNING", started_at__gte=recent)
    )
    if waiting.exists():
        return False
    _defer(publishing_tick, tick_interval())
    return True
