"""The organisation's channels: creation and changes, encrypted credentials and their key rotation, the connection check, spokesperson accounts approved."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.orgs import crypto
from palabre.orgs.models import (
    Channel,
    Membership,
    Organisation,
    Platform,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services.actors import Actor, _require_same_organisation
from palabre.orgs.services.audit import record, snapshot

CHANNEL_FIELDS = ("platform", "handle", "name", "status", "kind")


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
    clash = Channel.objects.for_org(organisation).filter(platform=platform, handle=handle)
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

    A personal account only ever joins as a spokesperson channel, inactive until an owner approves:
    so any member who drafts posts may connect their own (to become an ambassador, for instance).
    """
    actor.require(Perm.POSTS_DRAFT if spokesperson else Perm.CHANNELS_MANAGE)
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
        .for_org(channel.organisation)
        .filter(user=channel.spokesperson)
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
