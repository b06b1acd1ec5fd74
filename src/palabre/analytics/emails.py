"""The weekly and monthly report e-mails: which period is due, the claim that sends it once, and
the message (the key figures in the mail, the charts in the PDF report attached).

A period is due from SEND_HOUR (local time of the organisation) on the day after it ends: the
week (Monday to Sunday) on Monday morning, the month on the first of the next one. Only the last
period ended is ever sent: a worker that was stopped for a day sends it late, never an older one.
It goes to the recipients added before it was due: a person added on a Wednesday gets the next
week's report, not last week's at once.
The schedule's `analytics.reports` job enqueues a task for each due period not sent yet; the task
claims it by inserting its `ReportDispatch` row (unique per organisation, frequency and first
day), so that however many workers run it, one sends it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from palabre.analytics import report
from palabre.analytics.metrics import Period
from palabre.analytics.models import Frequency, ReportDispatch, ReportRecipient
from palabre.orgs.models import Membership, Organisation
from palabre.orgs.permissions import Perm, role_has

logger = logging.getLogger(__name__)

SEND_HOUR = 7
# A claim whose worker has not finished within this long is taken again (a killed worker).
LEASE = timedelta(minutes=30)
MAX_ATTEMPTS = 5


def last_period(frequency: str, today: date) -> tuple[date, date]:
    """The last whole week (Monday to Sunday) or month that ended before `today`."""
    if frequency == Frequency.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    first_of_month = today.replace(day=1)
    last = first_of_month - timedelta(days=1)
    return last.replace(day=1), last


def due_period(organisation: Organisation, frequency: str, now: datetime) -> Period | None:
    """The period whose report is due at `now`, or None before SEND_HOUR on the day after it."""
    zone = ZoneInfo(organisation.time_zone)
    local = now.astimezone(zone)
    first, last = last_period(frequency, local.date())
    period = Period(first, last, organisation.time_zone)
    return period if local >= due_at(period) else None


def due_at(period: Period) -> datetime:
    """When the period's report is due: SEND_HOUR on the day after it ends, local time."""
    return datetime.combine(
        period.last + timedelta(days=1), time(SEND_HOUR), tzinfo=ZoneInfo(period.time_zone)
    )


def _subscribed(frequency: str) -> dict[str, bool]:
    return {"weekly": True} if frequency == Frequency.WEEKLY else {"monthly": True}


def enqueue_due(now: datetime) -> dict[str, int]:
    """The schedule's job: a task for each organisation's due period not sent yet (three queries)."""
    from palabre.analytics.tasks import send_report_task

    # The first recipient of each organisation's weekly and monthly report: when they were added.
    wanted: dict[int, dict[str, datetime]] = {}
    for organisation_id, weekly, monthly, added in ReportRecipient.objects.values_list(
        "organisation_id", "weekly", "monthly", "created_at"
    ):
        for frequency, subscribed in ((Frequency.WEEKLY, weekly), (Frequency.MONTHLY, monthly)):
            first_added = wanted.setdefault(organisation_id, {}).get(frequency)
            if subscribed and (first_added is None or added < first_added):
                wanted[organisation_id][frequency] = added
    if not wanted:
        return {"enqueued": 0}
    due: list[tuple[int, str, Period]] = []
    for organisation in Organisation.objects.filter(pk__in=wanted):
        for frequency, first_added in sorted(wanted[organisation.pk].items()):
            period = due_period(organisation, frequency, now)
            if period is not None and first_added <= due_at(period):
                due.append((organisation.pk, frequency, period))
    done = set(
        ReportDispatch.objects.filter(
            organisation_id__in={organisation_id for organisation_id, _f, _p in due},
            first__in={period.first for _o, _f, period in due},
        )
        .exclude(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .values_list("organisation_id", "frequency", "first")
    )
    enqueued = 0
    for organisation_id, frequency, period in due:
        if (organisation_id, frequency, period.first) in done:
            continue
        send_report_task.enqueue(organisation_id, frequency, period.first.isoformat())
        enqueued += 1
    return {"enqueued": enqueued}


def claim(
    organisation: Organisation, frequency: str, period: Period, *, now: datetime
) -> ReportDispatch | None:
    """The period's dispatch row if this worker may send it now, else None: the row is inserted by
    one worker only; an unfinished one is taken again once its lease is over."""
    try:
        with transaction.atomic():
            return ReportDispatch.objects.create(
                organisation=organisation,
                frequency=frequency,
                first=period.first,
                last=period.last,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    stale = ReportDispatch.objects.for_org(organisation).filter(
        frequency=frequency,
        first=period.first,
        sent_at__isnull=True,
        claimed_at__lt=now - LEASE,
        attempts__lt=MAX_ATTEMPTS,
    )
    dispatch = stale.first()
    if dispatch is None:
        return None
    # Conditional on the claim read: of two workers taking it again, one changes the row.
    taken = stale.filter(pk=dispatch.pk, claimed_at=dispatch.claimed_at).update(
        claimed_at=now, attempts=dispatch.attempts + 1
    )
    if not taken:
        return None
    dispatch.refresh_from_db()
    return dispatch


def recipients(organisation: Organisation, frequency: str, period: Period) -> list[tuple[str, str]]:
    """(address, language) of each recipient of this period's report (added before it was due): a
    member while they are an active member with an address and a role that may see analytics, an
    address outside Palabre as typed."""
    rows = (
        ReportRecipient.objects.for_org(organisation)
        .filter(**_subscribed(frequency), created_at__lte=due_at(period))
        .select_related("user")
    )
    roles = dict(Membership.objects.active().for_org(organisation).values_list("user_id", "role"))
    found: list[tuple[str, str]] = []
    for row in rows.order_by("pk"):
        if row.user_id is None:
            found.append((row.email, row.language))
        elif row.user_id not in roles or not row.user.email:
            continue
        elif not role_has(roles[row.user_id], Perm.ANALYTICS_VIEW):
            # A member whose role changed since they were added: the report is no longer theirs.
            logger.warning(
                "report mail of %s not sent to member %s: their role no longer allows analytics",
                organisation.slug,
                row.user_id,
            )
        else:
            found.append((row.user.email, row.language))
    return found


def send_period_report(
    organisation: Organisation, frequency: str, period: Period, *, now: datetime | None = None
) -> dict[str, Any]:
    """Claim the period and send its report to each recipient not served yet, one message each (in
    their language: the report is built once per language)."""
    now = now or timezone.now()
    dispatch = claim(organisation, frequency, period, now=now)
    if dispatch is None:
        return {"skipped": "claimed by another worker or sent"}
    served = set(dispatch.sent_to)
    messages: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for address, language in recipients(organisation, frequency, period):
        if address.lower() in served:
            continue
        if language not in messages:
            messages[language] = compose(organisation, frequency, period, language, now=now)
        parts = messages[language]
        message = EmailMultiAlternatives(parts["subject"], parts["text"], to=[address])
        message.attach_alternative(parts["html"], "text/html")
        if parts["pdf"] is not None:
            message.attach(parts["filename"], parts["pdf"], "application/pdf")
        try:
            message.send(fail_silently=False)
        except OSError as error:
            logger.exception("report mail to %s failed", address)
            errors.append(f"{address}: {error}"[:500])
            continue
        served.add(address.lower())
        # Kept at once: a worker killed after this message leaves a claim that skips the address.
        ReportDispatch.objects.filter(pk=dispatch.pk).update(sent_to=sorted(served))
    fields: dict[str, Any] = {"sent_to": sorted(served), "last_error": "\n".join(errors)}
    if not errors:
        fields["sent_at"] = timezone.now()
    ReportDispatch.objects.filter(pk=dispatch.pk).update(**fields)
    return {"sent": len(served) - len(dispatch.sent_to), "failed": len(errors)}


def compose(
    organisation: Organisation, frequency: str, period: Period, language: str, *, now: datetime
) -> dict[str, Any]:
    """The subject, text and HTML of the mail and the PDF report, in `language`."""
    with translation.override(language):
        data = report.build(organisation, period, now=now)
        html_report = report.render_html(data, organisation)
        first = formats.date_format(period.first, "DATE_FORMAT", use_l10n=True)
        last = formats.date_format(period.last, "DATE_FORMAT", use_l10n=True)
        values = {"name": organisation.name, "first": first, "last": last}
        subject = (
            _("Weekly report of %(name)s, %(first)s to %(last)s")
            if frequency == Frequency.WEEKLY
            else _("Monthly report of %(name)s, %(first)s to %(last)s")
        ) % values
        context = {"report": data, "organisation": organisation, "subject": subject, "frequency": frequency}
        text = render_to_string("analytics/email/report.txt", context)
        html = render_to_string("analytics/email/report.html", context)
    try:
        pdf: bytes | None = report.render_pdf(html_report)
    except report.PdfUnavailable:
        # The figures are in the mail itself: it goes without its attachment rather than not at all.
        logger.exception("report mail of %s sent without its PDF", organisation.slug)
        pdf = None
    return {
        "subject": subject,
        "text": text,
        "html": html,
        "pdf": pdf,
        "filename": f"palabre-{organisation.slug}-{period.first.isoformat()}-{period.last.isoformat()}.pdf",
    }
