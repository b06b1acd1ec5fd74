"""Read-only questions about an organisation, asked on behalf of an actor.

Each function checks the actor's permission and keeps to the actor's organisation: another
organisation's object raises NotInOrganisation, as if it did not exist. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from palabre.orgs.models import ApiToken, AuditEvent, Channel, Invitation, Membership
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor, NotInOrganisation

# --- channels ---------------------------------------------------------------------------------


def channels(actor: Actor) -> models.QuerySet[Channel]:
    actor.require(Perm.CHANNELS_VIEW)
    return Channel.objects.visible_to(actor).select_related("spokesperson", "spokesperson_approved_by")


def channel(actor: Actor, channel_id: int) -> Channel:
    found = channels(actor).filter(pk=channel_id).first()
    if found is None:
        raise NotInOrganisation
    return found


# --- members ----------------------------------------------------------------------------------


def members(actor: Actor) -> models.QuerySet[Membership]:
    actor.require(Perm.MEMBERS_VIEW)
    return Membership.objects.active().visible_to(actor).select_related("user").order_by("user__username")


def former_members(actor: Actor) -> models.QuerySet[Membership]:
    actor.require(Perm.MEMBERS_VIEW)
    return (
        Membership.objects.visible_to(actor)
        .filter(removed_at__isnull=False)
        .select_related("user", "removed_by")
        .order_by("-removed_at")
    )


def membership(actor: Actor, membership_id: int) -> Membership:
    """Any membership of the actor's organisation, present or former."""
    actor.require(Perm.MEMBERS_VIEW)
    found = (
        Membership.objects.visible_to(actor)
        .filter(pk=membership_id)
        .select_related("user", "organisation", "removed_by")
        .first()
    )
    if found is None:
        raise NotInOrganisation
    return found


def invitations(actor: Actor) -> models.QuerySet[Invitation]:
    """The organisation's invitations, newest first, whatever their state."""
    actor.require(Perm.MEMBERS_MANAGE)
    return Invitation.objects.visible_to(actor).select_related("invited_by", "accepted_by")


def pending_invitations(actor: Actor) -> models.QuerySet[Invitation]:
    return invitations(actor).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def invitation(actor: Actor, invitation_id: int) -> Invitation:
    found = invitations(actor).filter(pk=invitation_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def grantable_roles(actor: Actor) -> list[str]:
    """Roles the actor may give: an owner is made only by an owner."""
    from palabre.orgs.permissions import Role

    if not actor.can(Perm.MEMBERS_MANAGE):
        return []
    return [role.value for role in Role if role != Role.OWNER or actor.can(Perm.OWNERS_MANAGE)]


# --- API tokens -------------------------------------------------------------------------------


def api_tokens(actor: Actor) -> models.QuerySet[ApiToken]:
    actor.require(Perm.TOKENS_MANAGE)
    return ApiToken.objects.visible_to(actor).select_related("on_behalf_of")


def api_token(actor: Actor, token_id: int) -> ApiToken:
    found = api_tokens(actor).filter(pk=token_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def grantable_scopes(actor: Actor) -> list[Perm]:
    """A token never does more than its creator."""
    return [perm for perm in Perm if actor.can(perm)]


# --- audit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(actor: Actor, where: AuditFilter | None = None) -> models.QuerySet[AuditEvent]:
    actor.require(Perm.AUDIT_VIEW)
    events = AuditEvent.objects.visible_to(actor).select_related("actor", "actor_token")
    if where is None:
        return events
    if where.actor:
        events = events.filter(actor_label=where.actor)
    if where.action:
        events = events.filter(action=where.action)
    if where.target_type:
        events = events.filter(target_type=where.target_type)
    if where.date_from:
        events = events.filter(created_at__gte=_start_of(where.date_from))
    if where.date_to:
        # The day given is included, whole.
        events = events.filter(created_at__lt=_start_of(where.date_to + timedelta(days=1)))
    if where.text:
        text = where.text
        events = events.filter(
            Q(actor_label__icontains=text)
            | Q(action__icontains=text)
            | Q(target_label__icontains=text)
            | Q(before__icontains=text)
            | Q(after__icontains=text)
        )
    return events


def audit_facets(actor: Actor) -> dict[str, list[str]]:
    """The values the audit log can be filtered by: who acted, which actions, which targets."""
    events = audit_events(actor).order_by()
    return {
        name: sorted(v for v in events.values_list(name, flat=True).distinct() if v)
        for name in ("actor_label", "action", "target_type")
    }


# --- dashboard --------------------------------------------------------------------------------


def dashboard_counts(actor: Actor) -> dict[str, int | None]:
    """The home page's figures; None where the actor's role may not see them."""
    counts: dict[str, int | None] = {"channels": None, "members": None}
    if actor.can(Perm.CHANNELS_VIEW):
        counts["channels"] = channels(actor).exclude(status=Channel.Status.ARCHIVED).count()
    if actor.can(Perm.MEMBERS_VIEW):
        counts["members"] = members(actor).count()
    return counts
