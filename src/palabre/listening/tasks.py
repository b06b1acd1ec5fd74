"""Background work of listening: polling sources, detecting spikes, delivering alerts."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def poll_source_task(source_id: int) -> dict:
    """Poll one source if it is due, then schedule its next poll (chains converge: a poll that is
    not due does nothing, so a duplicate chain dies out)."""
    from palabre.listening.models import ListeningSource
    from palabre.listening.services import _enqueue_poll, poll_source

    source = ListeningSource.objects.filter(pk=source_id, active=True).first()
    if source is None:
        return {"source": source_id, "skipped": "gone or paused"}
    outcome = poll_source(source)
    if "skipped" not in outcome:
        source.refresh_from_db(fields=["next_poll_at"])
        _enqueue_poll(poll_source_task, source.pk, source.next_poll_at)
    return outcome


@task()
def poll_due_sources_task() -> dict:
    """Poll every source that is due (the sweep `palabre listening poll` runs too)."""
    from palabre.listening.services import due_sources, poll_source

    outcomes = [poll_source(source) for source in due_sources(timezone.now())]
    return {"polled": len(outcomes)}


@task()
def detect_crisis_task(organisation_id: int) -> dict:
    from palabre.listening.crisis import detect_for_organisation
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return {"organisation": organisation_id, "skipped": "gone"}
    alerts = detect_for_organisation(organisation)
    return {"organisation": organisation_id, "alerts": [alert.pk for alert in alerts]}


@task()
def deliver_alert_task(alert_id: int) -> dict:
    from palabre.listening.delivery import deliver_alert

    return deliver_alert(alert_id)


@task()
def backfill_query_task(backfill_id: int) -> dict:
    """Run a query over what was already collected (see listening.backfill)."""
    from palabre.listening.backfill import run

    row = run(backfill_id)
    if row is None:
        return {"backfill": backfill_id, "skipped": "gone"}
    return {"backfill": row.pk, "scanned": row.scanned, "matched": row.matched}
