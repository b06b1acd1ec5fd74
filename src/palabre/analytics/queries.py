"""What the analytics pages offer to filter on: the organisation's channels and members."""

from __future__ import annotations

from palabre.orgs.models import Channel, Membership
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor


def channel_choices(actor: Actor) -> list[tuple[int, str]]:
    actor.require(Perm.ANALYTICS_VIEW)
    return list(Channel.objects.visible_to(actor).order_by("name").values_list("pk", "name"))


def member_choices(actor: Actor) -> list[tuple[int, str]]:
    """Members past and present: a report on last year names who answered then."""
    actor.require(Perm.ANALYTICS_VIEW)
    rows = (
        Membership.objects.visible_to(actor)
        .order_by("user__username")
        .values_list("user_id", "user__username")
        .distinct()
    )
    return list(rows)
