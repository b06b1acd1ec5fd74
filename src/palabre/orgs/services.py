"""Every state change of organisations, members, channels and tokens: checks, write, audit entry.

Views and API handlers call these functions; they never write the models themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from palabre.orgs import crypto
from palabre.orgs.models import (
    ApiToken,
    AuditEvent,
    Channel,
    Invitation,
    LoginSession,
    Membership,
    Organisation,
    Platform,
    UserPreference,
)
from palabre.orgs.permissions import MATRIX, Perm, Role
from palabre.orgs.signals import member_leaving

User = get_user_model()
logger = logging.getLogger(__name__)
TOKEN_PREFIX = "plb"


class NotInOrganisation(ObjectDoesNotExist):
    """Raised for another organisation's objects: to the caller, they do not exist."""


# --- who acts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who performs a change, in which organisation: a member, an API token, or Palabre itself."""

    organisation: Organisation
    user: AbstractBaseUser | None = None
    membership: Membership | None = None
    token: ApiToken | None = None
    system: bool = False
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: AbstractBaseUser, organisation: Organisation) -> Actor:
        membership = (
            Membership.objects.active().filter(user=user, organisation=organisation).first()
            if user.is_authenticated
            else None
        )
        if membership is None:
            raise PermissionDenied(_("You are not a member of this organisation."))
        return cls(
            organisation=organisation,
            user=user,
            membership=membership,
            permissions=frozenset(p.value for p in MATRIX[Role(membership.role)]),
        )

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        """The token's scopes, capped at each use by the current role of the person behind it."""
        if not token.is_usable:
            raise PermissionDenied(_("This API token is revoked or expired."))
        scopes = frozenset(token.scopes)
        if token.on_behalf_of_id is not None:
            role = _human_role(token)
            if role is None:
                raise PermissionDenied(_("The person behind this API token is no longer a member."))
            scopes &= frozenset(p.value for p in MATRIX[Role(role)])
        return cls(organisation=token.organisation, token=token, permissions=scopes)

    @classmethod
    def palabre(cls, organisation: Organisation) -> Actor:
        """Palabre's own work (tasks, demo set-up): allowed everything, recorded as such."""
        return cls(organisation=organisation, system=True, permissions=frozenset(p.value for p in Perm))

    def can(self, perm: Perm | str) -> bool:
        return str(perm) in self.permissions

    def require(self, perm: Perm | str) -> None:
        if not self.can(perm):
            raise PermissionDenied(_("Your role does not allow this (%(perm)s).") % {"perm": str(perm)})

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.token is not None:
            return f"token:{self.token.name}"
        return "Palabre"

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def human_id(self) -> int | None:
        """The person behind the change: the member, or the one a token acts for."""
        if self.user is not None:
            return self.user.pk
        if self.token is not None:
            return self.token.on_behalf_of_id
        return None


_UNREAD = object()


def _human_role(token: ApiToken) -> str | None:
    """The current role of the person behind a token; read with the token when it was authenticated."""
    role = getattr(token, "human_role", _UNREAD)
    if role is _UNREAD:
        role = (
            Membership.objects.active()
            .filter(organisation_id=token.organisation_id, user_id=token.on_behalf_of_id)
            .values_list("role", flat=True)
            .first()
        )
    return role


# --- audit ------------------------------------------------------------------------------------


def record(
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    label: str = "",
) -> AuditEvent:
    if target is not None and not label:
        # Stored language-neutral: the log is read in whatever language its reader chose.
        with translation.override(None):
            label = str(target)
    return AuditEvent.objects.create(
        organisation=actor.organisation,
        actor=actor.user,
        actor_token=actor.token,
        actor_label=actor.label,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=label,
        before=before,
        after=after,
    )


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        values[name] = value
    return values


# --- organisations and members ----------------------------------------------------------------


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
    if Membership.objects.active().filter(organisation=actor.organisation, user=user).exists():
        raise ValidationError({"username": _("%(name)s is already a member.") % {"name": username}})
    membership = Membership.objects.create(organisation=actor.organisation, user=user, role=role)
    record(actor, "member.added", user, after={"role": role})
    return membership


def _remaining_owners(organisation: Organisation, excluding: Membership) -> int:
    return (
        Membership.objects.active()
        .filter(organisation=organisation, role=Role.OWNER)
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
    return membership


def access_report(membership: Membership) -> dict[str, Any]:
    """What a member could reach, shown when they leave (so nothing is forgotten)."""
    from palabre.orgs.permissions import PERM_LABELS

    organisation = membership.organisation
    role = Role(membership.role)
    perms = sorted(p.value for p in MATRIX[role])
    channels = list(
        Channel.objects.filter(organisation=organisation)
        .exclude(status=Channel.Status.ARCHIVED)
        .values("id", "name", "platform")
    )
    tokens = list(
        ApiToken.objects.filter(organisation=organisation)
        .filter(models.Q(on_behalf_of=membership.user) | models.Q(created_by=membership.user))
        .values("id", "name", "prefix", "revoked_at")
    )
    spokesperson_channels = list(
        Channel.objects.filter(organisation=organisation, spokesperson=membership.user).values("id", "name")
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
        ApiToken.objects.filter(organisation=membership.organisation, revoked_at__isnull=True)
        .filter(models.Q(on_behalf_of=user) | models.Q(created_by=user))
        .update(revoked_at=now)
    )
    revoked_invitations = Invitation.objects.filter(
        organisation=membership.organisation,
        invited_by=user,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).update(revoked_at=now, revoked_by=actor.user)
    # A personal account must not keep speaking for the brand once its owner has left.
    # The approval goes too: the channel can only speak again after a new owner's approval.
    paused = []
    for channel in Channel.objects.filter(organisation=membership.organisation, spokesperson=user).exclude(
        status=Channel.Status.ARCHIVED
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


# --- invitations --------------------------------------------------------------------------------

INVITATION_LIFETIME = timedelta(days=7)
INVITATION_PREFIX = "plbinv"


@dataclass(frozen=True)
class InvitationIssued:
    """A new invitation, its code and link: shown this once, only the code's hash is kept."""

    invitation: Invitation
    code: str
    link: str
    mailed: bool


def invitation_path(code: str) -> str:
    return reverse("invitation", args=[code])


def _invitation_mail(invitation: Invitation, link: str, inviter: str) -> tuple[str, str]:
    with translation.override(invitation.organisation.language):
        subject = _("Invitation to join %(organisation)s on Palabre") % {
            "organisation": invitation.organisation.name
        }
        body = _(
            "%(inviter)s invites you to join %(organisation)s on Palabre as %(role)s.\n\n"
            "Accept the invitation here (sign in, or create your account):\n%(link)s\n\n"
            "The link works once, until %(expires)s (UTC). "
            "If you did not expect this invitation, ignore this message."
        ) % {
            "inviter": inviter,
            "organisation": invitation.organisation.name,
            "role": invitation.role_label,
            "link": link,
            "expires": invitation.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        }
    return subject, body


def invite_member(*, actor: Actor, email: str, role: str, site_url: str) -> InvitationIssued:
    """Invite someone by e-mail: they join once they accept, signed in. `site_url` is this install's
    public address (the link in the mail is absolute).

    Nothing about existing accounts is read: the inviter learns nothing of who has one.
    """
    _check_role_change_allowed(actor, role)
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    email = User.objects.normalize_email(email)
    code = f"{INVITATION_PREFIX}_{secrets.token_urlsafe(24)}"
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=actor.organisation,
            email=email,
            role=role,
            code_hash=_hash_secret(code),
            invited_by_id=actor.human_id,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        record(
            actor,
            "invitation.created",
            invitation,
            label=email,
            after={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat()},
        )
    link = site_url.rstrip("/") + invitation_path(code)
    subject, body = _invitation_mail(invitation, link, actor.label)
    try:
        send_mail(subject, body, None, [email])
    except (OSError, smtplib.SMTPException):
        # The invitation stands: the inviter hands the code over instead.
        logger.warning("The invitation mail to %s could not be sent.", email, exc_info=True)
        mailed = False
    else:
        mailed = True
        Invitation.objects.filter(pk=invitation.pk).update(mailed=True)
        invitation.mailed = True
    return InvitationIssued(invitation=invitation, code=code, link=link, mailed=mailed)


def find_invitation(code: str) -> Invitation | None:
    """The invitation a code opens, whatever its state; None for a code that opens nothing."""
    code = (code or "").strip()
    if not code.startswith(f"{INVITATION_PREFIX}_") or len(code) > 100:
        return None
    return Invitation.objects.select_related("organisation").filter(code_hash=_hash_secret(code)).first()


def _open_invitation(code: str) -> Invitation:
    found = find_invitation(code)
    if found is None:
        raise ValidationError({"code": _("This invitation code is not valid.")})
    invitation = Invitation.objects.select_for_update().select_related("organisation").get(pk=found.pk)
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        raise ValidationError({"code": _("This invitation has already been used.")})
    if status == Invitation.Status.REVOKED:
        raise ValidationError({"code": _("This invitation has been withdrawn.")})
    if status == Invitation.Status.EXPIRED:
        raise ValidationError({"code": _("This invitation has expired; ask for a new one.")})
    return invitation


@transaction.atomic
def accept_invitation(*, user: AbstractBaseUser, code: str) -> Membership:
    """The signed-in person joins the organisation with the invitation's role; the code is used up."""
    if not user.is_authenticated:
        raise PermissionDenied(_("Sign in to accept an invitation."))
    invitation = _open_invitation(code)
    organisation = invitation.organisation
    if Membership.objects.active().filter(organisation=organisation, user=user).exists():
        raise ValidationError(
            {"code": _("You are already a member of %(name)s.") % {"name": organisation.name}}
        )
    now = timezone.now()
    membership = Membership.objects.create(organisation=organisation, user=user, role=invitation.role)
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    actor = Actor(organisation=organisation, user=user, membership=membership)
    record(actor, "invitation.accepted", invitation, label=invitation.email, after={"role": invitation.role})
    record(actor, "member.added", user, after={"role": invitation.role, "invitation": invitation.pk})
    return membership


@transaction.atomic
def join_with_new_account(*, code: str, username: str, password: str, email: str = "") -> Membership:
    """Create one's account through an invitation, and join at once."""
    _open_invitation(code)  # a bad code creates no account
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [_("Choose a user name.")]
    else:
        try:
            User._meta.get_field(User.USERNAME_FIELD).clean(username, None)
        except ValidationError as error:
            errors["username"] = list(error.messages)
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = [_("This user name is taken; sign in if it is yours.")]
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        username=username, email=User.objects.normalize_email(email), password=password
    )
    return accept_invitation(user=user, code=code)


@transaction.atomic
def revoke_invitation(*, actor: Actor, invitation: Invitation) -> Invitation:
    _require_same_organisation(actor, invitation.organisation_id)
    actor.require(Perm.MEMBERS_MANAGE)
    if invitation.role == Role.OWNER and not actor.can(Perm.OWNERS_MANAGE):
        raise PermissionDenied(_("Only an owner can withdraw an invitation to become an owner."))
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError({"invitation": _("Only a pending invitation can be withdrawn.")})
    invitation.revoked_at = timezone.now()
    invitation.revoked_by_id = actor.user_id
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    record(
        actor,
        "invitation.revoked",
        invitation,
        label=invitation.email,
        before={"status": Invitation.Status.PENDING.value},
        after={"status": Invitation.Status.REVOKED.value},
    )
    return invitation


def set_language(*, user: AbstractBaseUser, language: str) -> None:
    UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def set_active_organisation(*, user: AbstractBaseUser, organisation: Organisation) -> None:
    if not Membership.objects.active().filter(user=user, organisation=organisation).exists():
        raise PermissionDenied(_("You are not a member of this organisation."))
    UserPreference.objects.update_or_create(user=user, defaults={"active_organisation": organisation})


# --- channels ---------------------------------------------------------------------------------

CHANNEL_FIELDS = ("platform", "handle", "name", "status", "kind")


def _require_same_organisation(actor: Actor, organisation_id: int) -> None:
    if actor.organisation.pk != organisation_id:
        # Same answer as a missing object: another organisation's data does not exist for you.
        raise NotInOrganisation


def _validate_channel_fields(platform: str, handle: str, name: str) -> None:
    errors = {}
    if platform not in Platform.values:
        errors["platform"] = _("Unknown platform: %(platform)s") % {"platform": platform}
    if not handle.strip():
        errors["handle"] = _("A channel needs a handle (account name, address or URL).")
    if not name.strip():
        errors["name"] = _("A channel needs a name.")
    if errors:
        raise ValidationError(errors)


def _checked_credentials(platform: str, credentials: dict) -> dict:
    """The credentials as the platform's connector accepts them (its hook, `credentials_entered`)."""
    from palabre.orgs.signals import credentials_entered

    for _receiver, tidied in credentials_entered.send(
        sender=Channel, platform=platform, credentials=credentials
    ):
        if tidied is not None:
            credentials = tidied
    return credentials


def _check_handle_free(organisation: Organisation, platform: str, handle: str, exclude_pk=None) -> None:
    clash = Channel.objects.filter(organisation=organisation, platform=platform, handle=handle)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"handle": _("This organisation already has this channel.")})


@transaction.atomic
def create_channel(
    *,
    actor: Actor,
    platform: str,
    handle: str,
    name: str,
    credentials: dict | None = None,
    spokesperson: bool = False,
) -> Channel:
    """Connect a brand channel, or (spokesperson=True) the acting person's own account.

    A personal account only ever joins as a spokesperson channel, inactive until an owner approves.
    """
    actor.require(Perm.CHANNELS_MANAGE)
    handle, name = handle.strip(), name.strip()
    _validate_channel_fields(platform, handle, name)
    _check_handle_free(actor.organisation, platform, handle)
    channel = Channel(organisation=actor.organisation, platform=platform, handle=handle, name=name)
    channel.created_by = actor.user
    if spokesperson:
        if actor.user is None:
            raise ValidationError({"spokesperson": _("Only a person can connect their own account.")})
        channel.kind = Channel.Kind.SPOKESPERSON
        channel.spokesperson = actor.user
        channel.status = Channel.Status.AWAITING_APPROVAL
    if credentials:
        credentials = _checked_credentials(platform, credentials)
        channel.credentials_ciphertext = crypto.encrypt_json(credentials)
        channel.credentials_updated_at = timezone.now()
    channel.save()
    after = snapshot(channel, CHANNEL_FIELDS) | {"credentials": bool(credentials)}
    record(actor, "channel.created", channel, after=after)
    return channel


@transaction.atomic
def update_channel(*, actor: Actor, channel: Channel, **changes: str) -> Channel:
    _require_same_organisation(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    allowed = {"handle", "name", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    before = snapshot(channel, CHANNEL_FIELDS)
    handle = changes.get("handle", channel.handle).strip()
    name = changes.get("name", channel.name).strip()
    _validate_channel_fields(channel.platform, handle, name)
    _check_handle_free(channel.organisation, channel.platform, handle, exclude_pk=channel.pk)
    status = changes.get("status", channel.status)
    if status not in Channel.Status.values:
        raise ValidationError({"status": _("Unknown status: %(status)s") % {"status": status}})
    if (
        channel.kind == Channel.Kind.SPOKESPERSON
        and channel.spokesperson_approved_at is None
        and status == Channel.Status.ACTIVE
    ):
        raise ValidationError({"status": _("A spokesperson channel needs an owner's approval first.")})
    channel.handle, channel.name, channel.status = handle, name, status
    channel.save(update_fields=["handle", "name", "status"])
    record(actor, "channel.updated", channel, before=before, after=snapshot(channel, CHANNEL_FIELDS))
    return channel


@transaction.atomic
def set_channel_credentials(*, actor: Actor, channel: Channel, credentials: dict) -> Channel:
    """Replace the credentials. They are never shown again; the audit notes that they changed."""
    _require_same_organisation(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    if not isinstance(credentials, dict) or not credentials:
        raise ValidationError({"credentials": _("Give at least one credential field.")})
    credentials = _checked_credentials(channel.platform, credentials)
    had = channel.has_credentials
    channel.credentials_ciphertext = crypto.encrypt_json(credentials)
    channel.credentials_updated_at = timezone.now()
    channel.save(update_fields=["credentials_ciphertext", "credentials_updated_at"])
    record(
        actor,
        "channel.credentials_replaced",
        channel,
        before={"credentials": had},
        after={"credentials": True, "fields": sorted(credentials)},
    )
    return channel


def check_connection(*, actor: Actor, channel: Channel) -> dict | None:
    """Try the channel's stored credentials on its platform now (the connectors app's hook,
    `connection_check`): what it found as plain data, or None where nothing could be tried.
    Called once the credentials are committed, outside any transaction: it waits for the platform."""
    from palabre.orgs.signals import connection_check

    _require_same_organisation(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    for _receiver, result in connection_check.send(sender=Channel, actor=actor, channel=channel):
        if result is not None:
            return result
    return None


@transaction.atomic
def approve_spokesperson_channel(*, actor: Actor, channel: Channel) -> Channel:
    _require_same_organisation(actor, channel.organisation_id)
    actor.require(Perm.SPOKESPERSON_APPROVE)
    if channel.kind != Channel.Kind.SPOKESPERSON:
        raise ValidationError({"kind": _("Only a spokesperson channel needs this approval.")})
    if (
        not Membership.objects.active()
        .filter(organisation=channel.organisation, user=channel.spokesperson)
        .exists()
    ):
        raise ValidationError({"spokesperson": _("This person is no longer a member of the organisation.")})
    before = snapshot(channel, ("status",))
    channel.spokesperson_approved_by = actor.user
    channel.spokesperson_approved_at = timezone.now()
    channel.status = Channel.Status.ACTIVE
    channel.save(update_fields=["spokesperson_approved_by", "spokesperson_approved_at", "status"])
    record(
        actor,
        "channel.spokesperson_approved",
        channel,
        before=before,
        after={"status": channel.status, "spokesperson": str(channel.spokesperson)},
    )
    return channel


def rotate_credential_keys() -> int:
    """Re-encrypt every channel's credentials with the current secret key. Returns how many moved."""
    current = crypto.current_key().key_id
    moved = 0
    for channel in Channel.objects.exclude(credentials_ciphertext="").iterator():
        if crypto.key_id_of(channel.credentials_ciphertext) == current:
            continue
        with transaction.atomic():
            locked = Channel.objects.select_for_update().get(pk=channel.pk)
            locked.credentials_ciphertext = crypto.encrypt_json(locked.read_credentials())
            locked.save(update_fields=["credentials_ciphertext"])
            record(Actor.palabre(locked.organisation), "channel.credentials_reencrypted", locked)
        moved += 1
    return moved


# --- API tokens -------------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, actor: Actor, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token and its plain value, which is shown this once and never stored."""
    actor.require(Perm.TOKENS_MANAGE)
    if not name.strip():
        raise ValidationError({"name": _("Name the token after what uses it.")})
    valid = {p.value for p in Perm}
    unknown = [s for s in scopes if s not in valid]
    if unknown or not scopes:
        raise ValidationError({"scopes": _("Unknown or missing scopes: %(s)s") % {"s": ", ".join(unknown)}})
    beyond = [s for s in scopes if not actor.can(s)]
    if beyond:
        raise PermissionDenied(_("A token cannot do more than its creator: %(s)s") % {"s": ", ".join(beyond)})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry date is in the past.")})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organisation=actor.organisation,
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=sorted(set(scopes)),
        created_by=actor.user,
        # A token made by a token acts for the same person, so it leaves with them.
        on_behalf_of_id=actor.human_id,
        expires_at=expires_at,
    )
    record(actor, "token.created", token, after={"scopes": token.scopes, "name": token.name})
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def authenticate_token(raw: str) -> ApiToken | None:
    try:
        kind, prefix, secret = raw.strip().split("_", 2)
    except ValueError:
        return None
    if kind != TOKEN_PREFIX:
        return None
    # The role of the person behind the token comes in the same read: it caps the token's scopes.
    human_role = (
        Membership.objects.active()
        .filter(organisation=models.OuterRef("organisation"), user=models.OuterRef("on_behalf_of"))
        .values("role")[:1]
    )
    token = (
        ApiToken.objects.select_related("organisation")
        .annotate(human_role=models.Subquery(human_role))
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_secret(secret)):
        return None
    if not token.is_usable:
        return None
    if token.on_behalf_of_id is not None and token.human_role is None:
        # The person behind it has left: the token is as good as revoked.
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def revoke_api_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    _require_same_organisation(actor, token.organisation_id)
    actor.require(Perm.TOKENS_MANAGE)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "token.revoked", token, before={"revoked": False}, after={"revoked": True})
    return token
