"""A leaving member's open threads go to the colleague chosen at their removal (orgs sends
`member_leaving`; the inbox answers what it handed over, for the offboarding report)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from palabre.inbox.models import Conversation, Status
from palabre.inbox.services.assignment import assign
from palabre.inbox.services.reading import _repliers
from palabre.orgs.models import Membership
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor


def hand_over_threads(
    *, actor: Actor, membership: Membership, successor: Membership | None, **_kwargs: Any
) -> list[dict[str, Any]]:
    """Reassign the leaving member's threads that are not closed, through the inbox's own
    `assign` (audited, the successor notified). A successor who may not reply in the inbox gets
    none: the threads are left unassigned and listed."""
    organisation = membership.organisation
    # The remover may lack the permission to hand threads to others (an admin of members only, a
    # token without inbox.manage): the handover is then Palabre's own work, recorded as such.
    acting = actor if actor.can(Perm.INBOX_MANAGE) else Actor.palabre(organisation)
    may_reply = successor is not None and any(m.pk == successor.pk for m in _repliers(organisation))
    to = successor.user if may_reply else None
    handed = []
    threads = (
        Conversation.objects.for_org(organisation)
        .filter(assignee=membership.user)
        .exclude(status=Status.CLOSED)
        .select_related("assignee")
        .order_by("-priority", "last_activity_at", "pk")
    )
    for conversation in threads:
        assign(actor=acting, conversation=conversation, assignee_id=to.pk if to else None)
        handed.append(
            {
                "kind": "thread",
                "id": conversation.pk,
                "label": (conversation.preview or "")[:120],
                "url": reverse("inbox:thread", args=[conversation.pk]),
                "to": to.get_username() if to else None,
            }
        )
    return handed
