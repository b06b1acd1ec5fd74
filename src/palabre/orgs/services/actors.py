"""Who acts: a person or an API token inside one organisation, with the role that decides what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.utils.translation import gettext as _

from palabre.orgs.models import (
    ApiToken,
    Membership,
    Organisation,
)
from palabre.orgs.permissions import MATRIX, Perm, Role


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
            Membership.objects.active().for_org(organisation).filter(user=user).first()
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
            .for_org(token.organisation_id)
            .filter(user_id=token.on_behalf_of_id)
            .values_list("role", flat=True)
            .first()
        )
    return role


def _require_same_organisation(actor: Actor, organisation_id: int) -> None:
    if actor.organisation.pk != organisation_id:
        # Same answer as a missing object: another organisation's data does not exist for you.
        raise NotInOrganisation
