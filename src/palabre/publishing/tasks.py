"""Background work of publishing: hand each variant to the outbox at its time, and make sure an
interrupted hand-over or delivery is picked up again (a worker may be killed at any moment)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def _defer(a_task, seconds: float, *args) -> None:
    if a_task.get_backend().supports_defer:
        a_task.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue(*args)


@task()
def publish_variant(variant_id: int) -> dict:
    """Publish one variant at its time. Before working, it leaves one follow-up check behind
    (committed at once), so that a worker killed in the middle leaves the work to the next one."""
    from palabre.publishing.models import PostVariant, VariantState

    variant = PostVariant.objects.filter(pk=variant_id).only("state", "scheduled_at").first()
    if variant is None:
        return {"variant": variant_id, "outcome": "gone"}
    if (
        variant.state == VariantState.SCHEDULED
        and variant.scheduled_at
        and variant.scheduled_at > timezone.now()
    ):
        return {"variant": variant_id, "outcome": "not_due"}  # moved later: its own task is waiting
    if variant.state != VariantState.SCHEDULED:
        return {"variant": variant_id, "outcome": variant.state}
    _defer(check_publication, _follow_up_delay(1), variant_id, 1)
    return {"variant": variant_id, "outcome": _work(variant_id)}


@task()
def check_publication(variant_id: int, attempt: int = 1) -> dict:
    """The follow-up: done when the variant is settled (delivered, failed, held, blocked...);
    otherwise it leaves its own follow-up (one chain per variant, spaced out), then redoes what was
    interrupted. Every step is idempotent."""
    from palabre.publishing.models import PostVariant
    from palabre.publishing.services.schedule import _settled

    variant = PostVariant.objects.select_related("action").filter(pk=variant_id).first()
    if variant is None or _settled(variant):
        return {"variant": variant_id, "outcome": "settled"}
    if attempt < MAX_FOLLOW_UPS:
        _defer(check_publication, _follow_up_delay(attempt + 1), variant_id, attempt + 1)
    return {"variant": variant_id, "outcome": _work(variant_id)}


MAX_FOLLOW_UPS = 200


def _follow_up_delay(attempt: int) -> float:
    from palabre.publishing.services.checks import check_seconds

    return check_seconds() * min(attempt, 10)


def _work(variant_id: int) -> str:
    from palabre.connectors.tasks import deliver_action
    from palabre.publishing.models import PostVariant
    from palabre.publishing.services.schedule import delivery_due, publish_due

    outcome = publish_due(variant_id)
    if outcome != "handed_over":
        variant = PostVariant.objects.filter(pk=variant_id).first()
        action_id = delivery_due(variant) if variant is not None else None
        if action_id is not None:
            # Handed over earlier and its delivery never finished (a worker died): deliver again;
            # the outbox locks and re-checks the action, so this never sends twice.
            deliver_action.enqueue(action_id)
            outcome = "redelivered"
    return outcome


@task()
def publishing_tick() -> dict:
    """Anything due that no task took care of: the schedule's `publishing.tick`, every
    PALABRE_PUBLISHING_TICK_SECONDS."""
    from palabre.publishing.services.schedule import due_variant_ids

    due = due_variant_ids()
    outcomes = [_work(variant_id) for variant_id in due]
    return {"variants": len(due), "outcomes": outcomes}
