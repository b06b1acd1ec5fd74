"""Listening sources: list, edit, pause, poll now, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.listening import queries, services
from palabre.listening.forms import (
    CONFIG_ALIASES,
    SourceForm,
)
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view


@member_view(Perm.ITEMS_VIEW)
def source_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SourceForm(request.POST or None, initial={"interval_minutes": 15})
    if request.method == "POST":
        actor.require(Perm.LISTENING_MANAGE)
        if form.is_valid():
            try:
                created = services.create_source(
                    actor=actor,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    config=form.config(),
                    interval_minutes=form.cleaned_data["interval_minutes"],
                )
            except ValidationError as error:
                apply_service_errors(form, error, CONFIG_ALIASES)
            else:
                messages.success(request, _("Source “%(name)s” added.") % {"name": created.name})
                return redirect("listening:sources")
    context = {"sources": queries.sources(actor), "form": form, "now": timezone.now()}
    return render(request, "listening/sources.html", context, status=400 if form.errors else 200)


def _source_initial(source) -> dict[str, Any]:
    config = source.config or {}
    return {
        "name": source.name,
        "kind": source.kind,
        "interval_minutes": source.interval_minutes,
        "url": config.get("url", ""),
        "instance": config.get("instance", ""),
        "hashtag": config.get("hashtag", ""),
        "local": config.get("local", False),
        "endpoint": config.get("endpoint", ""),
        "search": config.get("query", ""),
        "subreddit": config.get("subreddit", ""),
    }


@member_view(Perm.LISTENING_MANAGE)
def source_edit(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    form = SourceForm(request.POST or None, initial=_source_initial(source), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_source(
                actor=actor,
                source=source,
                name=form.cleaned_data["name"],
                config=form.config(),
                interval_minutes=form.cleaned_data["interval_minutes"],
            )
        except ValidationError as error:
            apply_service_errors(form, error, CONFIG_ALIASES)
        else:
            messages.success(request, _("Source saved."))
            return redirect("listening:sources")
    return render(
        request,
        "listening/source_edit.html",
        {"source": source, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def source_toggle(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    services.update_source(actor=actor, source=source, active=not source.active)
    return redirect("listening:sources")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def source_poll(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    try:
        services.request_poll(actor=actor, source=source)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
    else:
        messages.success(request, _("The source will be polled in a moment; refresh to see its health."))
    return redirect("listening:sources")


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def source_delete(request: HttpRequest, actor: Actor, source_id: int) -> HttpResponse:
    source = queries.source(actor, source_id)
    services.delete_source(actor=actor, source=source)
    messages.success(request, _("Source “%(name)s” removed.") % {"name": source.name})
    return redirect("listening:sources")
