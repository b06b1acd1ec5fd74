"""What the analytics pages read: the filters' choices (channels, members, campaigns), the
recipients of the report e-mails and the last ones sent."""

from __future__ import annotations

from palabre.analytics.models import ReportDispatch, ReportRecipient
from palabre.orgs.models import Channel, Membership
from palabre.orgs.permissions import Perm, roles_with
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.publishing.models import Campaign


def channel_choices(actor: Actor) -> list[tuple[int, str]]:
    actor.require(Perm.ANALYTICS_VIEW)
    return list(Channel.objects.visible_to(actor).order_by("name").values_list("pk", "name"))


def member_choices(actor: Actor) -> list[tuple[int, str]]:
    """Members past and present: a report on last year names who answered then."""
    actor.require(Perm.ANALYTICS_VIEW)
    rows = (
        Membership.objects.visible_to(actor)
        .order_by("user__username")
        .values_list("user_id", "user__username", "user__first_name", "user__last_name")
        .distinct()
    )
    return [(pk, _name(login, first, last)) for pk, login, first, last in rows]


def _name(login: str, first: str, last: str) -> str:
    """A member as colleagues know them: their name, else their login."""
    return f"{first} {last}".strip() or login


def campaign_choices(actor: Actor) -> list[tuple[int, str]]:
    actor.require(Perm.ANALYTICS_VIEW)
    return list(Campaign.objects.visible_to(actor).order_by("-created_at", "pk").values_list("pk", "name"))


def active_member_choices(actor: Actor) -> list[tuple[int, str]]:
    """The members who may receive the report e-mails: today's whose role may see analytics, with
    the address they receive it at."""
    actor.require(Perm.ANALYTICS_VIEW)
    rows = (
        Membership.objects.active()
        .visible_to(actor)
        .filter(role__in=roles_with(Perm.ANALYTICS_VIEW))
        .order_by("user__username")
        .values_list("user_id", "user__username", "user__first_name", "user__last_name", "user__email")
    )
    return [
        (pk, f"{_name(login, first, last)} <{email}>" if email else _name(login, first, last))
        for pk, login, first, last, email in rows
    ]


def report_recipients(actor: Actor) -> list[ReportRecipient]:
    actor.require(Perm.ANALYTICS_VIEW)
    return list(
        ReportRecipient.objects.visible_to(actor)
        .select_related("user", "created_by")
        .order_by("created_at", "pk")
    )


def report_recipient(actor: Actor, recipient_id: int) -> ReportRecipient:
    actor.require(Perm.ANALYTICS_VIEW)
    found = ReportRecipient.objects.visible_to(actor).filter(pk=recipient_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def report_dispatches(actor: Actor, limit: int = 10) -> list[ReportDispatch]:
    """The last report e-mails sent (or being sent)."""
    actor.require(Perm.ANALYTICS_VIEW)
    return list(ReportDispatch.objects.visible_to(actor).order_by("-claimed_at", "-pk")[:limit])
