"""Analytics pages: the dashboard, the report of the same filters as HTML, PDF or CSV, the crisis
timeline, and who receives the report e-mails."""

from __future__ import annotations

import io
import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.analytics import charts, crisis, emails, queries, report, services
from palabre.analytics.forms import RecipientForm, ReportFilterForm
from palabre.analytics.metrics import Filters, Period
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


def _filters(request: HttpRequest, actor: Actor) -> tuple[ReportFilterForm, Period, Filters]:
    form = ReportFilterForm(
        request.GET or None,
        channels=queries.channel_choices(actor),
        members=queries.member_choices(actor),
        campaigns=queries.campaign_choices(actor),
    )
    organisation = actor.organisation
    period, filters = report.default_period(organisation), Filters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        first = data.get("from") or period.first
        last = data.get("to") or max(first, period.last)
        if last >= first and (last - first).days < 366:
            period = Period(first, last, organisation.time_zone)
        filters = Filters(
            channel_id=data.get("channel"), member_id=data.get("member"), campaign_id=data.get("campaign")
        )
    return form, period, filters


@member_view(Perm.ANALYTICS_VIEW)
def dashboard(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, period, filters = _filters(request, actor)
    data = report.build(actor.organisation, period, filters, now=timezone.now())
    status = 400 if form.is_bound and not form.is_valid() else 200
    campaign = dict(form.fields["campaign"].choices).get(filters.campaign_id) if filters.campaign_id else None
    return render(
        request,
        "analytics/dashboard.html",
        {"form": form, "report": data, "querystring": request.GET.urlencode(), "campaign": campaign},
        status=status,
    )


@member_view(Perm.ANALYTICS_VIEW)
def download(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    form, period, filters = _filters(request, actor)
    if form.is_bound and not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    organisation = actor.organisation
    data = report.build(organisation, period, filters, now=timezone.now(), with_charts=fmt != "csv")
    if fmt == "csv":
        buffer = io.StringIO()
        report.write_csv(data, buffer)
        body: str | bytes = buffer.getvalue()
    else:
        body = report.render_html(data, organisation)
        if fmt == "pdf":
            try:
                body = report.render_pdf(body)
            except report.PdfUnavailable:
                logger.exception("PDF report unavailable")
                return HttpResponse(
                    _(
                        "The PDF report cannot be drawn on this server: Pango is missing (on Debian: "
                        "apt install libpango-1.0-0 libpangoft2-1.0-0). The HTML and CSV reports work."
                    ),
                    status=503,
                    content_type="text/plain; charset=utf-8",
                )
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    name = f"palabre-{organisation.slug}-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
    response["Content-Disposition"] = f'{"inline" if fmt == "html" else "attachment"}; filename="{name}"'
    return response


@member_view(Perm.ANALYTICS_VIEW)
def crisis_timeline(request: HttpRequest, actor: Actor, alert_id: int) -> HttpResponse:
    """The post-mortem of one crisis alert: first signal, alert, first answer, curve, posts held."""
    timeline = crisis.crisis_timeline(actor.organisation, alert_id)
    return render(
        request,
        "analytics/crisis.html",
        {
            "timeline": timeline,
            "alert": timeline.alert,
            "chart": charts.crisis_chart(timeline),
            "compact_chart": charts.crisis_chart(timeline, compact=True),
        },
    )


def _emails_context(actor: Actor, form: RecipientForm | None = None) -> dict:
    return {
        "recipients": queries.report_recipients(actor),
        "dispatches": queries.report_dispatches(actor),
        "form": form
        or RecipientForm(
            members=queries.active_member_choices(actor),
            initial={"language": actor.organisation.language, "weekly": True},
        ),
        "send_hour": emails.SEND_HOUR,
    }


@member_view(Perm.ANALYTICS_VIEW)
def report_emails(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Who receives the weekly and monthly reports, and the last ones sent."""
    return render(request, "analytics/emails.html", _emails_context(actor))


@require_POST
@member_view(Perm.ANALYTICS_VIEW)
def recipient_add(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = RecipientForm(request.POST, members=queries.active_member_choices(actor))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_recipient(
                actor=actor,
                member_id=data["member"],
                email=data["email"],
                language=data["language"],
                weekly=data["weekly"],
                monthly=data["monthly"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Report recipient added."))
            return redirect("analytics:emails")
    # Re-rendered with what was typed and the errors next to the fields.
    return render(request, "analytics/emails.html", _emails_context(actor, form), status=400)


@require_POST
@member_view(Perm.ANALYTICS_VIEW)
def recipient_remove(request: HttpRequest, actor: Actor, recipient_id: int) -> HttpResponse:
    services.remove_recipient(actor=actor, recipient=queries.report_recipient(actor, recipient_id))
    messages.success(request, _("Report recipient removed."))
    return redirect("analytics:emails")
