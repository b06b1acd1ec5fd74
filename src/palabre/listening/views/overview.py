"""The listening dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from palabre.listening import queries, services
from palabre.listening.models import CrisisAlert
from palabre.listening.views.common import _bars, _filter_form, _ranked
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view


@member_view(Perm.ITEMS_VIEW)
def overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, where = _filter_form(request, actor)
    data = queries.dashboard(actor, where)
    context = {
        "form": form,
        "data": data,
        "chart": _bars(data["buckets"], data["hourly"], trim=where.since is None),
        "top_authors": _ranked(data["top_authors"]),
        "top_sources": _ranked(data["top_sources"]),
        "top_domains": _ranked(data["top_domains"]),
        "top_terms": _ranked([{"term": t, "n": n} for t, n in data["top_terms"]]),
        "share_of_voice": data["share_of_voice"],
        "crisis": services.current_crisis(actor.organisation),
        "open_alerts": queries.alerts(actor).filter(status=CrisisAlert.Status.OPEN)[:5],
        "querystring": request.GET.urlencode(),
    }
    return render(request, "listening/overview.html", context)
