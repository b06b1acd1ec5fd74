"""API tokens: created with a secret shown once and stored hashed, authenticated, revoked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.orgs.models import (
    ApiToken,
    Membership,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor, _require_same_organisation
from palabre.orgs.services.audit import record

TOKEN_PREFIX = "plb"


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
        .for_org(models.OuterRef("organisation"))
        .filter(user=models.OuterRef("on_behalf_of"))
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
