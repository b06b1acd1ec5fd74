"""Inbox background work: re-rank waiting threads, warn of overdue responses, the morning digest.

Run them from a scheduler (cron, systemd timer) through `palabre inbox tick` and `palabre inbox digest`.
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
