"""Organisations and their members: creation, roles, access reports, offboarding that revokes a person and leaves the organisation's channels intact; a person's language and active organisation."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from palabre.orgs.models import (
    ApiToken,
    Channel,
    Invitation,
    LoginSession,
    Membership,
    Organisation,
    UserPreference,
)
from palabre.orgs.permissions import MATRIX, Perm, Role
from palabre.orgs.services.actors import Actor, _require_same_organisation
from palabre.orgs.services.audit import record
from palabre.orgs.signals import member_leaving, member_role_changed

User = get_user_model()


@transaction.atomic
def create_organisation(*, name: str, owner: AbstractBaseUser, slug: str = "") -> Organisation:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("An organisation needs a name.")})
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationError({"slug": _("Choose a short name made of letters or digits.")})
    if Organisation.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This short name is taken.")})
    organisation = Organisation.objects.create(name=name, slug=slug)
    Membership.objects.create(organisation=organisation, user=owner, role=Role.OWNER)
    actor = Actor(organisation=organisation, user=owner)
    record(actor, "organisation.created", organisation, after={"name": name, "slug": slug})
    record(actor, "member.added", owner, after={"role": Role.OWNER.value})
    return organisation


def memberships_of(user: AbstractBaseUser) -> models.QuerySet[Membership]:
    return Membership.objects.active().filter(user=user).select_related("organisation")


def _check_role_change_allowed(actor: Actor, role: str) -> None:
    actor.require(Perm.MEMBERS_MANAGE)
    if role not in {r.value for r in Role}:
        raise ValidationError({"role": _("Unknown role: %(role)s") % {"role": role}})
    if role == Role.OWNER and not actor.can(Perm.OWNERS_MANAGE):
        raise PermissionDenied(_("Only an owner can make someone an owner."))


@transaction.atomic
def add_member(
    *,
    actor: Actor,
    username: str,
    role: str,
    email: str = "",
    password: str | None = None,
) -> Membership:
    """Palabre's own way in (demo, set-up, test fixtures): add an account by user name, creating it
    when missing.

    Never reachable by a member or a token: it names an existing account, so an organisation's people
    join through an invitation they accept (`invite_member`, `accept_invitation`).
    """
    if not actor.system:
        raise PermissionDenied(_("Members join by accepting an invitation."))
    _check_role_change_allowed(actor, role)
    username = username.strip()
    if not username:
        raise ValidationError({"username": _("A member needs a user name.")})
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, email=email.strip(), password=password)
    if Membership.objects.active().visible_to(actor).filter(user=user).exists():
        raise ValidationError({"username": _("%(name)s is already a member.") % {"name": username}})
    membership = Membership.objects.create(organisation=actor.organisation, user=user, role=role)
    record(actor, "member.added", user, after={"role": role})
    return membership


def _remaining_owners(organisation: Organisation, excluding: Membership) -> int:
    return (
        Membership.objects.active()
        .for_org(organisation)
        .filter(role=Role.OWNER)
        .exclude(pk=excluding.pk)
        .count()
    )


@transaction.atomic
def change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    _require_same_organisation(actor, membership.organisation_id)
    _check_role_change_allowed(actor, role)
    if membership.role == Role.OWNER and role != Role.OWNER:
        if not actor.can(Perm.OWNERS_MANAGE):
            raise PermissionDenied(_("Only an owner can change an owner's role."))
        if _remaining_owners(membership.organisation, membership) == 0:
            raise ValidationError({"role": _("An organisation keeps at least one owner.")})
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    record(actor, "member.role_changed", membership.user, before=before, after={"role": role})
    member_role_changed.send(sender=Membership, actor=actor, membership=membership, before=before["role"])
    return membership


def access_report(membership: Membership) -> dict[str, Any]:
    """What a member could reach, shown when they leave (so nothing is forgotten)."""
    from palabre.orgs.permissions import PERM_LABELS

    organisation = membership.organisation
    role = Role(membership.role)
    perms = sorted(p.value for p in MATRIX[role])
    channels = list(
        Channel.objects.for_org(organisation)
        .exclude(status=Channel.Status.ARCHIVED)
        .values("id", "name", "platform")
    )
    tokens = list(
        ApiToken.objects.for_org(organisation)
        .filter(models.Q(on_behalf_of=membership.user) | models.Q(created_by=membership.user))
        .values("id", "name", "prefix", "revoked_at")
    )
    spokesperson_channels = list(
        Channel.objects.for_org(organisation).filter(spokesperson=membership.user).values("id", "name")
    )
    return {
        "role": role.value,
        "permissions": perms,
        "permission_labels": [str(PERM_LABELS[Perm(p)]) for p in perms],
        "channels": channels if Perm.CHANNELS_VIEW.value in perms else [],
        "could_manage_channels": Perm.CHANNELS_MANAGE.value in perms,
        "api_tokens": [
            {**t, "revoked_at": t["revoked_at"].isoformat() if t["revoked_at"] else None} for t in tokens
        ],
        "spokesperson_channels": spokesperson_channels,
    }


def revoke_sessions(user: AbstractBaseUser) -> int:
    """Log the person out everywhere, now."""
    keys = list(LoginSession.objects.filter(user=user).values_list("session_key", flat=True))
    deleted, _details = Session.objects.filter(session_key__in=keys).delete()
    LoginSession.objects.filter(user=user).delete()
    return deleted


def _end_sessions_if_no_organisation_left(membership: Membership) -> int:
    """Leaving one organisation ends that organisation's access only: every request checks the
    person's active memberships, so their sessions stay good for their other organisations. A person
    left with none (and no install-wide role) is signed out everywhere."""
    user = membership.user
    others = Membership.objects.active().filter(user=user).exclude(pk=membership.pk)
    if others.exists() or user.is_superuser or user.is_staff:
        return 0
    return revoke_sessions(user)


@transaction.atomic
def offboard_member(
    *, actor: Actor, membership: Membership, successor: Membership | None = None
) -> dict[str, Any]:
    """Remove a member: access ends at once, everything they worked on stays with the organisation.
    Their open threads and drafts go to `successor` (another active member), or are left
    unassigned, listed in the report for someone to pick up."""
    _require_same_organisation(actor, membership.organisation_id)
    actor.require(Perm.MEMBERS_MANAGE)
    if not membership.is_active:
        raise ValidationError({"membership": _("This person has already left.")})
    if successor is not None and (
        successor.organisation_id != membership.organisation_id
        or not successor.is_active
        or successor.pk == membership.pk
    ):
        raise ValidationError({"successor": _("Choose another active member of this organisation.")})
    if membership.role == Role.OWNER:
        if not actor.can(Perm.OWNERS_MANAGE):
            raise PermissionDenied(_("Only an owner can remove an owner."))
        if _remaining_owners(membership.organisation, membership) == 0:
            raise ValidationError({"membership": _("An organisation keeps at least one owner.")})
    now = timezone.now()
    report = access_report(membership)
    user = membership.user
    # Every token acting for the person in this organisation, also those made by their tokens.
    revoked_tokens = (
        ApiToken.objects.for_org(membership.organisation)
        .filter(revoked_at__isnull=True)
        .filter(models.Q(on_behalf_of=user) | models.Q(created_by=user))
        .update(revoked_at=now)
    )
    revoked_invitations = (
        Invitation.objects.for_org(membership.organisation)
        .filter(invited_by=user, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .update(revoked_at=now, revoked_by=actor.user)
    )
    # A personal account must not keep speaking for the brand once its owner has left.
    # The approval goes too: the channel can only speak again after a new owner's approval.
    paused = []
    for channel in (
        Channel.objects.for_org(membership.organisation)
        .filter(spokesperson=user)
        .exclude(status=Channel.Status.ARCHIVED)
    ):
        channel.status = Channel.Status.PAUSED
        channel.spokesperson_approved_at = None
        channel.spokesperson_approved_by = None
        channel.save(update_fields=["status", "spokesperson_approved_at", "spokesperson_approved_by"])
        paused.append(channel.name)
    handed_over = [
        work
        for _receiver, answer in member_leaving.send(
            sender=Membership, actor=actor, membership=membership, successor=successor
        )
        for work in (answer or [])
    ]
    report.update(
        {
            "handover": {
                "to": successor.user.get_username() if successor else None,
                "work": handed_over,
            },
            "api_tokens_revoked": revoked_tokens,
            "invitations_revoked": revoked_invitations,
            "sessions_revoked": _end_sessions_if_no_organisation_left(membership),
            "spokesperson_channels_paused": paused,
            "removed_at": now.isoformat(),
        }
    )
    membership.removed_at = now
    membership.removed_by = actor.user
    membership.offboarding_report = report
    membership.save(update_fields=["removed_at", "removed_by", "offboarding_report"])
    record(actor, "member.removed", user, before={"role": membership.role}, after=report)
    return report


def set_language(*, user: AbstractBaseUser, language: str) -> None:
    UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def set_active_organisation(*, user: AbstractBaseUser, organisation: Organisation) -> None:
    if not Membership.objects.active().for_org(organisation).filter(user=user).exists():
        raise PermissionDenied(_("You are not a member of this organisation."))
    UserPreference.objects.update_or_create(user=user, defaults={"active_organisation": organisation})
