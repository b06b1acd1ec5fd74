"""Inbox background work: re-rank waiting threads, warn of overdue responses, the morning digest.

The workers' schedule enqueues `tick` for every organisation (`palabre.schedule.jobs`, `inbox.tick`);
cron or a systemd timer runs the digest at its time of day (`palabre inbox digest`).
"""

from django_tasks import task

from palabre.inbox import services
from palabre.orgs.models import Organisation


@task()
def tick(organisation_id: int) -> dict:
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return {"skipped": "gone"}
    return {"refreshed": services.refresh_open(organisation), "warned": services.warn_breaches(organisation)}


@task()
def morning_digest(organisation_id: int) -> dict:
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return {"skipped": "gone"}
    return {"sent": services.send_digest(organisation)}


@task()
def recount_durations(organisation_id: int) -> dict:
    """The threads' stored business durations counted again after a change of business hours."""
    from palabre.inbox.durations import recount_organisation

    return {"written": recount_organisation(organisation_id)}
