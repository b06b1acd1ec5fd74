"""Listening queries: list, edit, preview, backfill, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.listening import backfill, queries, services
from palabre.listening.forms import (
    QueryForm,
)
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, wants_partial


def _query_error_context(form: QueryForm, error: ValidationError) -> dict[str, Any]:
    position = getattr(error, "position", None)
    if position is None:
        return {}
    text = form.data.get("query", "")
    return {
        "caret": {
            "before": text[:position],
            "at": text[position : position + 1] or " ",
            "after": text[position + 1 :],
        }
    }


@member_view(Perm.ITEMS_VIEW)
def query_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = QueryForm(request.POST or None, initial={"kind": "brand", "active": True})
    extra: dict[str, Any] = {}
    if request.method == "POST":
        actor.require(Perm.LISTENING_MANAGE)
        if form.is_valid():
            try:
                created = services.create_query(actor=actor, **form.cleaned_data)
            except ValidationError as error:
                apply_service_errors(form, error)
                extra = _query_error_context(form, error)
            else:
                messages.success(
                    request,
                    _("Query “%(name)s” created: it is being run over what was already collected.")
                    % {"name": created.name},
                )
                return redirect("listening:query_edit", query_id=created.pk)
    context = {"queries": queries.listening_queries(actor), "form": form, **extra}
    return render(request, "listening/queries.html", context, status=400 if form.errors else 200)


@member_view(Perm.LISTENING_MANAGE)
def query_edit(request: HttpRequest, actor: Actor, query_id: int) -> HttpResponse:
    row = queries.listening_query(actor, query_id)
    initial = {"name": row.name, "query": row.query, "kind": row.kind, "active": row.active}
    form = QueryForm(request.POST or None, initial=initial)
    extra: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        try:
            services.update_query(actor=actor, listening_query=row, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
            extra = _query_error_context(form, error)
        else:
            messages.success(request, _("Query saved."))
            return redirect("listening:queries")
    return render(
        request,
        "listening/query_edit.html",
        {"row": row, "form": form, "backfill": backfill.latest(row), "days": backfill.DEFAULT_DAYS, **extra},
        status=400 if form.errors else 200,
    )


@member_view(Perm.ITEMS_VIEW)
def query_backfill(request: HttpRequest, actor: Actor, query_id: int) -> HttpResponse:
    """The backfill's progress (polled by htmx while it runs); POST starts a new one."""
    row = queries.listening_query(actor, query_id)
    if request.method == "POST":
        try:
            backfill.start(
                actor=actor, listening_query=row, days=request.POST.get("days", backfill.DEFAULT_DAYS)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        if not wants_partial(request):
            return redirect("listening:query_edit", query_id=row.pk)
    return render(request, "listening/_backfill.html", {"row": row, "backfill": backfill.latest(row)})


@member_view(Perm.ITEMS_VIEW)
def query_preview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What the query being written would match in recent stored posts (htmx, debounced)."""
    data = request.POST if request.method == "POST" else request.GET
    text = data.get("query", "")
    context: dict[str, Any] = {"empty": not text.strip()}
    if text.strip():
        try:
            context["preview"] = backfill.preview(
                actor=actor, text=text, days=data.get("days") or backfill.DEFAULT_DAYS
            )
        except ValidationError as error:
            context["errors"] = error.messages
            position = getattr(error, "position", None)
            if position is not None:
                context["caret"] = {
                    "before": text[:position],
                    "at": text[position : position + 1] or " ",
                    "after": text[position + 1 :],
                }
    return render(request, "listening/_query_preview.html", context)


@require_POST
@member_view(Perm.LISTENING_MANAGE)
def query_delete(request: HttpRequest, actor: Actor, query_id: int) -> HttpResponse:
    row = queries.listening_query(actor, query_id)
    services.delete_query(actor=actor, listening_query=row)
    messages.success(request, _("Query “%(name)s” deleted.") % {"name": row.name})
    return redirect("listening:queries")
