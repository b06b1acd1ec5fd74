"""Signing in, the person's language, switching organisation, the home dashboard."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_htmx.http import HttpResponseClientRedirect

from palabre.orgs import queries, services
from palabre.orgs.forms import (
    OrganisationForm,
    apply_service_errors,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor
from palabre.orgs.views.audit import _audit_row
from palabre.orgs.views.pages import dashboard_panels, member_view
from palabre.storable import MAX_ROW_ID


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Remember the person's language (all their devices), and set Django's cookie for this one."""
    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in dict(settings.LANGUAGES):
        services.set_language(user=request.user, language=code)
    return set_language(request)


@require_POST
@login_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("organisation", "").strip()
    if not raw.isdigit() or int(raw) > MAX_ROW_ID:  # no organisation's id: as one not the person's
        raise Http404
    membership = services.memberships_of(request.user).for_org(int(raw)).first()
    if membership is None:
        raise Http404
    services.set_active_organisation(user=request.user, organisation=membership.organisation)
    # Back home: the page left behind showed the other organisation's objects.
    if request.htmx:
        return HttpResponseClientRedirect(reverse("home"))
    return redirect("home")


@login_required
def no_organisation(request: HttpRequest) -> HttpResponse:
    if request.membership:
        return redirect("home")
    form = None
    if request.user.is_superuser:
        form = OrganisationForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                organisation = services.create_organisation(
                    name=form.cleaned_data["name"], slug=form.cleaned_data["slug"], owner=request.user
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                services.set_active_organisation(user=request.user, organisation=organisation)
                return redirect("home")
    return render(request, "orgs/no_organisation.html", {"form": form})


# --- home ---------------------------------------------------------------------------------------


@member_view()
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    counts = queries.dashboard_counts(actor)
    tiles = []
    if counts["channels"] is not None:
        tiles.append({"label": _("Channels"), "value": counts["channels"], "url": reverse("channels")})
    if counts["members"] is not None:
        tiles.append({"label": _("Members"), "value": counts["members"], "url": reverse("members")})
    panels = []
    for panel in dashboard_panels():
        result = panel(request, actor)
        if result:
            tiles.extend(result.get("counts", []))
            if result.get("template"):
                panels.append(result)
    events = None
    if actor.can(Perm.AUDIT_VIEW):
        events = [_audit_row(event) for event in queries.audit_events(actor)[:8]]
    return render(request, "orgs/home.html", {"tiles": tiles, "panels": panels, "events": events})
