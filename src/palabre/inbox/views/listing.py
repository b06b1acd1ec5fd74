"""The list of threads: filters, saved views, and bulk actions with their undo."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from palabre.inbox import bulk as bulk_actions
from palabre.inbox import queries, services
from palabre.inbox.forms import (
    InboxFilterForm,
    SavedViewForm,
)
from palabre.inbox.models import Intent, Sentiment, Status
from palabre.inbox.queries import InboxFilter
from palabre.inbox.views.common import PER_PAGE, _members
from palabre.orgs import queries as org_queries
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, wants_partial


def _filter_fields(form: InboxFilterForm) -> list[dict[str, Any]]:
    """The filter form as plain data: Django renders each <option> through a template, which costs
    more than the thread rows themselves on a page redrawn at every filter change."""
    fields = []
    for bound in form:
        current = str(bound.value() or "")
        choices = getattr(bound.field, "choices", None)
        fields.append(
            {
                "name": bound.name,
                "id": bound.id_for_label,
                "label": str(bound.label),
                "value": current,
                "errors": list(bound.errors),
                "placeholder": str(bound.field.widget.attrs.get("placeholder", "")),
                "options": [(str(v), str(label), str(v) == current) for v, label in choices]
                if choices
                else None,
            }
        )
    return fields


def _list_rows(conversations: list) -> list[dict[str, Any]]:
    """Flat, ready-to-print rows: the list page renders 30 of them on every keystroke of a filter,
    so labels, links and durations are computed once here rather than looked up in the template."""
    now = timezone.now()
    labels = {
        "status": {k: str(v) for k, v in Status.choices},
        "intent": {k: str(v) for k, v in Intent.choices},
        "sentiment": {k: str(v) for k, v in Sentiment.choices},
    }
    base = reverse("inbox:list")
    rows = []
    for c in conversations:
        url = f"{base}t/{c.pk}/"
        breached = c.sla_breached(now)
        assignee = c.assignee
        rows.append(
            {
                "pk": c.pk,
                "url": url,
                "author": c.author_label or "?",
                "channel": c.channel.name,
                "ago": timesince(c.last_activity_at, now, depth=1),
                "preview": c.preview[:180],
                "status": c.status,
                "status_label": labels["status"].get(c.status, c.status),
                "intent": c.intent,
                "intent_label": labels["intent"].get(c.intent, c.intent),
                "sentiment": c.sentiment,
                "sentiment_label": labels["sentiment"].get(c.sentiment, c.sentiment),
                "language": c.language.upper(),
                "priority": str(c.priority),
                "breached": breached,
                "due": timeuntil(c.first_response_due_at, now, depth=1)
                if c.awaiting_reply and c.first_response_due_at and not breached
                else "",
                "assignee": (assignee.get_full_name() or assignee.get_username()) if assignee else "",
                "tags": c.tags,
            }
        )
    return rows


@member_view(Perm.ITEMS_VIEW)
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.GET.get("view"):
        view = queries.saved_view(actor, int(request.GET["view"]) if request.GET["view"].isdigit() else 0)
        return redirect(
            f"{reverse('inbox:list')}?{urlencode({**view.filters, 'status': view.filters.get('status', 'open')})}"
        )
    members = _members(actor)
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "open"
    form = InboxFilterForm(data, channels=org_queries.channels(actor), members=members)
    f = InboxFilter.from_mapping(data)
    try:
        page = queries.conversation_page(actor, f, cursor=request.GET.get("cursor") or None, limit=PER_PAGE)
        error = ""
    except ValidationError as failure:
        apply_service_errors(form, failure)
        page, error = None, " ".join(failure.messages)
    rows = _list_rows(page.rows if page else [])
    params = {k: v for k, v in request.GET.items() if k != "cursor"}
    context = {
        "form": form,
        "filter_fields": _filter_fields(form),
        "rows": rows,
        "next_url": f"?{urlencode({**params, 'cursor': page.next_cursor})}"
        if page and page.next_cursor
        else "",
        "error": error,
        "views": queries.views_for(actor).select_related("owner"),
        "view_form": SavedViewForm(),
        "filters": f.as_dict(),
        "can_reply": actor.can(Perm.INBOX_REPLY),
        "can_moderate": actor.can(Perm.MODERATION_ACT),
        "appending": bool(request.GET.get("cursor")),
        "bulk_done": request.session.pop(BULK_DONE, None),
        "members": members,
    }
    if wants_partial(request):
        template = "inbox/_rows.html" if context["appending"] else "inbox/_results.html"
        return render(request, template, context)
    return render(request, "inbox/list.html", context)


@require_POST
@member_view(Perm.ITEMS_VIEW)
def view_save(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SavedViewForm(request.POST)
    filters = InboxFilter.from_mapping(request.POST).as_dict()
    if form.is_valid():
        try:
            view = services.save_view(
                actor=actor,
                name=form.cleaned_data["name"],
                filters=filters,
                shared=form.cleaned_data["shared"],
            )
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(f"{reverse('inbox:list')}?view={view.pk}")
        except ValidationError as failure:
            messages.error(request, " ".join(failure.messages))
    else:
        messages.error(request, _("Name the view."))
    return redirect(f"{reverse('inbox:list')}?{urlencode(filters)}")


@require_POST
@member_view(Perm.ITEMS_VIEW)
def view_delete(request: HttpRequest, actor: Actor, view_id: int) -> HttpResponse:
    try:
        services.delete_view(actor=actor, view=queries.saved_view(actor, view_id))
        messages.success(request, _("View removed."))
    except ValidationError as failure:
        messages.error(request, " ".join(failure.messages))
    return redirect("inbox:list")


# --- bulk actions ------------------------------------------------------------------------------

BULK_DONE = "inbox_bulk_done"


def _list_url(request: HttpRequest) -> str:
    """Back to the list as the person sees it: the filters htmx sent along, else the page's `next`."""
    if "status" in request.POST:
        return f"{reverse('inbox:list')}?{urlencode(InboxFilter.from_mapping(request.POST).as_dict())}"
    target = request.POST.get("next") or ""
    return target if target.startswith("/inbox/") else reverse("inbox:list")


def _bulk_value(request: HttpRequest, action: str) -> str:
    field = {"assign": "assign_to", "tag": "tag", "untag": "tag", "priority": "level"}.get(action)
    return request.POST.get(field, "") if field else ""


@require_POST
@member_view(Perm.INBOX_REPLY)
def bulk(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The list's bulk bar. The result and its undo show above the list it redirects to (htmx
    follows the redirect and swaps the list; without JavaScript the whole page comes back)."""
    action = request.POST.get("action", "")
    try:
        result = bulk_actions.apply(
            actor=actor, action=action, ids=request.POST.getlist("ids"), value=_bulk_value(request, action)
        )
    except ValidationError as failure:
        request.session[BULK_DONE] = {"error": " ".join(failure.messages)}
    else:
        request.session[BULK_DONE] = {
            "message": result.message,
            "field": result.restore_field,
            "values": json.dumps({str(k): v for k, v in result.before.items()})
            if result.restore_field
            else "",
        }
    return redirect(_list_url(request))


@require_POST
@member_view(Perm.INBOX_REPLY)
def bulk_restore(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        values = json.loads(request.POST.get("values") or "{}")
        count = bulk_actions.restore(actor=actor, restore_field=request.POST.get("field", ""), values=values)
    except json.JSONDecodeError:
        request.session[BULK_DONE] = {"error": _("Nothing to put back.")}
    except ValidationError as failure:
        request.session[BULK_DONE] = {"error": " ".join(failure.messages)}
    else:
        request.session[BULK_DONE] = {
            "message": ngettext(
                "%(count)s conversation put back as it was",
                "%(count)s conversations put back as they were",
                count,
            )
            % {"count": count}
        }
    return redirect(_list_url(request))
