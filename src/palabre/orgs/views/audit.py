"""The audit log page, each event as a sentence in the reader's language."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from palabre.orgs import queries
from palabre.orgs.forms import (
    AuditFilterForm,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor
from palabre.orgs.views.pages import (
    action_labels,
    audit_sentence,
    member_view,
    paginate,
    target_labels,
    wants_partial,
)


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, indent=1 if isinstance(value, dict | list) else None)


def _audit_row(event) -> dict[str, Any]:
    before = (
        event.before if isinstance(event.before, dict) else ({"value": event.before} if event.before else {})
    )
    after = event.after if isinstance(event.after, dict) else ({"value": event.after} if event.after else {})
    keys = list(dict.fromkeys([*before, *after]))
    changes = [
        {
            "key": key,
            "before": _readable(before.get(key)) if key in before else "",
            "after": _readable(after.get(key)) if key in after else "",
            "changed": before.get(key) != after.get(key) and key in before and key in after,
        }
        for key in keys
    ]
    return {
        "event": event,
        "sentence": audit_sentence(event),
        "action": action_labels().get(event.action, event.action),
        "target_type": target_labels().get(event.target_type, event.target_type),
        "changes": changes,
        "has_before": bool(before),
    }


@member_view(Perm.AUDIT_VIEW)
def audit(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = AuditFilterForm(
        request.GET or None, facets=queries.audit_facets(actor), action_labels=action_labels()
    )
    page = paginate(request, queries.audit_events(actor, form.as_filter()), 50)
    context = {"form": form, "page": page, "rows": [_audit_row(event) for event in page]}
    template = "orgs/_audit_results.html" if wants_partial(request) else "orgs/audit.html"
    return render(request, template, context)
