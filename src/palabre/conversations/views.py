"""Conversation pages: the items of the active organisation, and one item with its thread."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre.conversations.models import Item, ItemKind
from palabre.conversations.services import get_item, items_for
from palabre.orgs import queries
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, paginate, wants_partial

LANGUAGES = [("fr", gettext_lazy("French")), ("en", gettext_lazy("English"))]


class ItemFilterForm(forms.Form):
    channel = forms.TypedChoiceField(
        label=gettext_lazy("Channel"), required=False, coerce=int, empty_value=None
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("Any kind")), *ItemKind.choices],
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("Any language")), *LANGUAGES],
    )
    q = forms.CharField(
        label=gettext_lazy("Text"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("Search…")}),
    )

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("Any channel"))] + [(c.pk, str(c)) for c in channels]

    def filter(self, items):
        if not self.is_valid():
            return items
        data = self.cleaned_data
        if data["channel"]:
            items = items.filter(channel_id=data["channel"])
        if data["kind"]:
            items = items.filter(kind=data["kind"])
        if data["language"]:
            items = items.filter(language=data["language"])
        text = data["q"].strip()
        if text:
            items = items.filter(
                Q(text__icontains=text)
                | Q(author__handle__icontains=text)
                | Q(contact__display_name__icontains=text)
            )
        return items


@member_view(Perm.ITEMS_VIEW)
def items(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ItemFilterForm(request.GET or None, channels=queries.channels(actor))
    page = paginate(request, form.filter(items_for(actor)).order_by("-created_at", "-id"), 30)
    context = {"form": form, "page": page}
    template = "conversations/_item_results.html" if wants_partial(request) else "conversations/items.html"
    return render(request, template, context)


def _thread(actor: Actor, item: Item) -> list[dict[str, Any]]:
    """The whole thread, in reading order, each item with its depth under the root."""
    root = item.thread
    members = list(items_for(actor).filter(Q(pk=root.pk) | Q(thread_root=root)).order_by("created_at", "id"))
    children: dict[int | None, list[Item]] = {}
    for member in members:
        parent = member.parent_id if member.pk != root.pk else None
        children.setdefault(parent, []).append(member)
    ordered: list[dict[str, Any]] = []
    pending = [(root, 0)] if any(m.pk == root.pk for m in members) else []
    seen = set()
    while pending:
        current, depth = pending.pop()
        if current.pk in seen:
            continue
        seen.add(current.pk)
        ordered.append({"item": current, "depth": min(depth, 6), "current": current.pk == item.pk})
        pending.extend((child, depth + 1) for child in reversed(children.get(current.pk, [])))
    # Replies whose parent is outside the thread still show, at the end.
    ordered.extend({"item": m, "depth": 1, "current": m.pk == item.pk} for m in members if m.pk not in seen)
    return ordered


@member_view(Perm.ITEMS_VIEW)
def item_detail(request: HttpRequest, actor: Actor, item_id: int) -> HttpResponse:
    item = get_item(actor=actor, item_id=item_id)
    context = {
        "item": item,
        "thread": _thread(actor, item),
        "replies": items_for(actor).filter(parent=item).order_by("created_at", "id"),
        "metrics": sorted((item.metrics or {}).items()),
    }
    return render(request, "conversations/item_detail.html", context)


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.ITEMS_VIEW):
        return None
    recent = items_for(actor)
    since = timezone.now() - timedelta(days=7)
    return {
        "counts": [
            {
                "label": _("Items, last 7 days"),
                "value": recent.filter(created_at__gte=since).count(),
                "url": reverse("conversations:items"),
            }
        ],
        "template": "conversations/_dashboard_items.html",
        "items": recent.order_by("-created_at", "-id")[:8],
    }
