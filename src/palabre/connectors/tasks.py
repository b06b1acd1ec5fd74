"""Background work of the connectors: deliveries, pulls, webhooks, and the periodic tick (run by the
schedule, `palabre.schedule.jobs`)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def enqueue_at(a_task, when: datetime | None, *args) -> None:
    """Enqueue now, or at `when` where the backend can defer; otherwise the tick picks it up."""
    if when is None or when <= timezone.now():
        a_task.enqueue(*args)
    elif a_task.get_backend().supports_defer:
        a_task.using(run_after=when).enqueue(*args)


@task()
def deliver_action(action_id: int) -> dict:
    from palabre.connectors.services.delivery import deliver

    step = deliver(action_id)
    return {"action": action_id, "outcome": step.outcome}


@task()
def poll_channel(channel_id: int) -> dict:
    from palabre.connectors.sync import pull_channel

    return pull_channel(channel_id)


@task()
def process_webhook(delivery_id: int) -> dict:
    from palabre.connectors.sync import process_webhook_delivery

    return process_webhook_delivery(delivery_id)


@task()
def check_channel_health(channel_id: int) -> dict:
    from palabre.connectors.registry import connector_class_for
    from palabre.connectors.services.health import refresh_health
    from palabre.orgs.models import Channel

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or connector_class_for(channel.platform) is None:
        return {"channel": channel_id, "outcome": "skipped"}
    sync = refresh_health(channel)
    return {"channel": channel_id, "outcome": "failed" if sync.health_checked_at is None else "checked"}


@task()
def connectors_tick() -> dict:
    """Due deliveries, due pulls, token alerts: the schedule's `connectors.tick`, every
    PALABRE_CONNECTORS_POLL_SECONDS."""
    from palabre.connectors.alerts import check_token_alerts
    from palabre.connectors.services.delivery import due_action_ids, due_health_ids
    from palabre.connectors.sync import due_channel_ids

    actions = due_action_ids()
    for action_id in actions:
        deliver_action.enqueue(action_id)
    channels = due_channel_ids()
    for channel_id in channels:
        poll_channel.enqueue(channel_id)
    checks = [c for c in due_health_ids() if c not in channels]
    for channel_id in checks:
        check_channel_health.enqueue(channel_id)
    alerts = check_token_alerts()
    return {"actions": len(actions), "channels": len(channels), "checks": len(checks), "token_alerts": alerts}
