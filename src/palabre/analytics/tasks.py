"""Background work of analytics: the report e-mail of one organisation's period."""

from __future__ import annotations

from datetime import date

from django_tasks import task


@task()
def send_report_task(organisation_id: int, frequency: str, first: str) -> dict:
    """Send the weekly or monthly report of the period that starts on `first` (ISO date), if it
    is still the one due and no other worker claimed it."""
    from django.utils import timezone

    from palabre.analytics.emails import due_period, send_period_report
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return {"organisation": organisation_id, "skipped": "gone"}
    period = due_period(organisation, frequency, timezone.now())
    if period is None or period.first != date.fromisoformat(first):
        return {"organisation": organisation_id, "skipped": "not due"}
    return {"organisation": organisation_id, **send_period_report(organisation, frequency, period)}
