"""Listening pages: dashboard, mentions (with CSV export), queries, sources, alerts and crisis mode.

Thin on purpose: reads through `queries`, every change through `services`. Another organisation's
object answers 404; a page the role may not use answers 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.listening import queries
from palabre.listening.models import CrisisAlert
from palabre.listening.views.crisis import (
    alert_detail,
    alert_list,
    alert_status,
    crisis,
    crisis_step,
    crisis_switch,
    playbook,
    subscription_add,
    subscription_remove,
)
from palabre.listening.views.mentions import mention_correct, mentions, mentions_csv
from palabre.listening.views.overview import overview
from palabre.listening.views.query_pages import (
    query_backfill,
    query_delete,
    query_edit,
    query_list,
    query_preview,
)
from palabre.listening.views.sources import (
    source_delete,
    source_edit,
    source_list,
    source_poll,
    source_toggle,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor

__all__ = [
    "alert_detail",
    "alert_list",
    "alert_status",
    "crisis",
    "crisis_step",
    "crisis_switch",
    "dashboard_panel",
    "mention_correct",
    "mentions",
    "mentions_csv",
    "overview",
    "playbook",
    "query_backfill",
    "query_delete",
    "query_edit",
    "query_list",
    "query_preview",
    "source_delete",
    "source_edit",
    "source_list",
    "source_poll",
    "source_toggle",
    "subscription_add",
    "subscription_remove",
]


# The home page's panel stays here: the dashboard hook names it by this module.
def dashboard_panel(request: HttpRequest, actor: Actor) -> dict[str, Any] | None:
    if not actor.can(Perm.ITEMS_VIEW):
        return None
    from django.urls import reverse

    since = timezone.now() - timezone.timedelta(days=1)
    counts = [
        {
            "label": _("Mentions in the last 24 hours"),
            "value": queries.mentions(actor).filter(published_at__gte=since).count(),
            "url": reverse("listening:mentions"),
        },
        {
            "label": _("Open crisis alerts"),
            "value": queries.alerts(actor).filter(status=CrisisAlert.Status.OPEN).count(),
            "url": reverse("listening:alerts"),
        },
    ]
    return {"counts": counts}
