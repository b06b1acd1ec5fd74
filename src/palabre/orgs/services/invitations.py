"""Invitations: issued by e-mail with a one-time code, accepted by a signed-in person or with a new account, revoked."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from palabre.orgs.models import (
    Invitation,
    Membership,
)
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services.actors import Actor, _require_same_organisation
from palabre.orgs.services.audit import record
from palabre.orgs.services.members import _check_role_change_allowed
from palabre.orgs.services.tokens import _hash_secret

User = get_user_model()


logger = logging.getLogger(__name__)


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
    except OSError:  # smtplib's errors and TLS's are OSErrors, as the mail backends raise them
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
    if Membership.objects.active().for_org(organisation).filter(user=user).exists():
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
