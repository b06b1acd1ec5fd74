"""The inbox settings, a member's profile, notifications, the overnight digest and the dashboard panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from palabre.inbox import queries, services
from palabre.inbox.forms import (
    ProfileForm,
    SettingsForm,
)
from palabre.inbox.models import Intent
from palabre.inbox.queries import InboxFilter
from palabre.inbox.views.common import _members
from palabre.orgs import queries as org_queries
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view


def _settings_initial(actor: Actor) -> dict[str, Any]:
    s = services.settings_for(actor.organisation)
    initial = {
        "time_zone": s.time_zone,
        "first_response_minutes": s.first_response_minutes,
        "holidays": "\n".join(s.holidays),
        "on_call": str(s.on_call_id or ""),
        "auto_assign": s.auto_assign,
    }
    for day in range(7):
        initial[f"day_{day}"] = ", ".join(f"{a}-{b}" for a, b in (s.weekly_hours or {}).get(str(day), []))
    for key, text in (s.acknowledgements or {}).items():
        initial[f"ack_{key}"] = text
    return initial


@member_view(Perm.ORG_MANAGE)
def inbox_settings(request: HttpRequest, actor: Actor) -> HttpResponse:
    channels = org_queries.channels(actor)
    form = SettingsForm(
        request.POST or None, initial=_settings_initial(actor), members=_members(actor), channels=channels
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            week = services.parse_week({str(day): data[f"day_{day}"] for day in range(7)})
            services.update_settings(
                actor=actor,
                time_zone=data["time_zone"].strip(),
                weekly_hours=week,
                holidays=[line.strip() for line in data["holidays"].splitlines() if line.strip()],
                first_response_minutes=data["first_response_minutes"],
                on_call_id=int(data["on_call"]) if data["on_call"] else None,
                auto_assign=data["auto_assign"],
                acknowledgements={name.removeprefix("ack_"): data[name] for name in form.channel_fields},
            )
            messages.success(request, _("Inbox settings saved."))
            return redirect("inbox:settings")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    return render(request, "inbox/settings.html", {"form": form}, status=422 if form.errors else 200)


@member_view(Perm.ITEMS_VIEW)
def profile(request: HttpRequest, actor: Actor) -> HttpResponse:
    mine = services.profile_for(actor.organisation, actor.user)
    initial = {
        "languages": mine.languages,
        "skills": mine.skills,
        "auto_assign": mine.auto_assign,
        "sign_replies": mine.sign_replies,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(actor=actor, **form.cleaned_data)
            messages.success(request, _("Profile saved."))
            return redirect("inbox:profile")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    context = {"form": form, "signature": services.signature_of(actor)}
    return render(request, "inbox/profile.html", context, status=422 if form.errors else 200)


@member_view(Perm.ITEMS_VIEW)
def notifications(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        services.mark_notifications_read(actor=actor)
        return redirect("inbox:notifications")
    return render(request, "inbox/notifications.html", {"rows": queries.notifications(actor)})


@member_view(Perm.ITEMS_VIEW)
def digest(request: HttpRequest, actor: Actor) -> HttpResponse:
    summary = services.overnight(actor.organisation)
    labels = dict(Intent.choices)
    summary["intents"] = [(labels.get(k, k or "—"), v) for k, v in sorted(summary["by_intent"].items())]
    return render(request, "inbox/digest.html", {"summary": summary})


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.ITEMS_VIEW):
        return None
    base = queries.filtered(actor, InboxFilter())
    return {
        "counts": [
            {"label": _("Open threads"), "value": base.count(), "url": reverse("inbox:list")},
            {
                "label": _("Overdue responses"),
                "value": queries.filtered(actor, InboxFilter(sla="breached")).count(),
                "url": f"{reverse('inbox:list')}?{QueryDict('sla=breached').urlencode()}",
            },
        ]
    }
