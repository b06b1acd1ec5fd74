"""The outbox, asking: a reply (public or private), publication, hide, unhide, delete or ban stored as an outbound action and enqueued once the transaction commits; retry, cancel and confirmation by a person."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.base import (
    Capability,
    Media,
)
from palabre.connectors.connection import require_connected
from palabre.connectors.models import (
    ActionKind,
    ActionStatus,
    OutboundAction,
)
from palabre.connectors.registry import connector_class_for
from palabre.connectors.services.pacing import _locked, _same_org
from palabre.conversations.models import Item
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

MAX_TEXT_CHARS = 20_000
MAX_MEDIA = 4
MAX_MEDIA_BYTES = 8 * 1024 * 1024

# Who may ask for which kind of action.
KIND_PERMS = {
    ActionKind.REPLY: Perm.INBOX_REPLY,
    ActionKind.PUBLISH: Perm.POSTS_APPROVE,
    ActionKind.HIDE: Perm.MODERATION_ACT,
    ActionKind.DELETE: Perm.MODERATION_ACT,
    ActionKind.UNHIDE: Perm.MODERATION_ACT,
    ActionKind.BAN_AUTHOR: Perm.MODERATION_ACT,
    ActionKind.PRIVATE_REPLY: Perm.INBOX_REPLY,
}
KIND_CAPABILITIES = {
    ActionKind.REPLY: Capability.REPLY,
    ActionKind.PUBLISH: Capability.PUBLISH,
    ActionKind.HIDE: Capability.HIDE,
    ActionKind.DELETE: Capability.DELETE,
    ActionKind.UNHIDE: Capability.UNHIDE,
    ActionKind.BAN_AUTHOR: Capability.BAN_AUTHOR,
    ActionKind.PRIVATE_REPLY: Capability.PRIVATE_REPLY,
}


# --- the outbox: asking -------------------------------------------------------------------------


def _check_channel(channel: Channel, kind: str) -> None:
    connector_class = connector_class_for(channel.platform)
    capability = KIND_CAPABILITIES[ActionKind(kind)]
    if connector_class is None or capability not in connector_class.capabilities:
        raise ValidationError(
            {"channel": _("This channel cannot do this (%(what)s).") % {"what": capability.value}}
        )
    if channel.status in {Channel.Status.ARCHIVED, Channel.Status.AWAITING_APPROVAL}:
        raise ValidationError({"channel": _("This channel is archived or awaits approval.")})
    if channel.kind == Channel.Kind.SPOKESPERSON and channel.spokesperson_approved_at is None:
        raise ValidationError({"channel": _("A personal account needs an owner's approval first.")})
    # Queued on a channel that is not connected, the action could only fail: say why and what to do.
    require_connected(channel)


def _clean_text(text: str, *, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError({"text": _("Write something to send.")})
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(
            {"text": _("The text is longer than %(n)s characters.") % {"n": MAX_TEXT_CHARS}}
        )
    if "\x00" in text:
        raise ValidationError({"text": _("The text contains a NUL character.")})
    return text


def _media_payload(media: Sequence[Media | dict]) -> list[dict]:
    if len(media) > MAX_MEDIA:
        raise ValidationError({"media": _("At most %(n)s files per post.") % {"n": MAX_MEDIA}})
    stored = []
    for one in media:
        if isinstance(one, dict):
            one = Media(
                content=base64.b64decode(one.get("content_b64", "")),
                mime_type=str(one.get("mime_type", "")),
                description=str(one.get("description", "")),
                filename=str(one.get("filename", "")),
            )
        if not one.content or len(one.content) > MAX_MEDIA_BYTES or "/" not in one.mime_type:
            raise ValidationError({"media": _("Each file must be non-empty, at most 8 MB, with its type.")})
        stored.append(
            {
                "content_b64": base64.b64encode(one.content).decode(),
                "mime_type": one.mime_type,
                "description": one.description,
                "filename": one.filename,
            }
        )
    return stored


def _media_of(action: OutboundAction) -> list[Media]:
    return [
        Media(
            content=base64.b64decode(m["content_b64"]),
            mime_type=m["mime_type"],
            description=m.get("description", ""),
            filename=m.get("filename", ""),
        )
        for m in action.payload.get("media", [])
    ]


def _enqueue_delivery(action: OutboundAction, when: datetime | None = None) -> None:
    from palabre.connectors.tasks import deliver_action, enqueue_at

    pk = action.pk
    transaction.on_commit(lambda: enqueue_at(deliver_action, when, pk))


def _create(
    *,
    actor: Actor,
    channel: Channel,
    kind: str,
    item: Item | None,
    text: str,
    idempotency_key: str,
    payload: dict | None = None,
    not_before: datetime | None = None,
) -> tuple[OutboundAction, bool]:
    """Store the action, or return the one already stored under this key (and False)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError({"idempotency_key": _("Give a key of 1 to 200 characters.")})
    existing = OutboundAction.objects.visible_to(actor).filter(idempotency_key=key).first()
    if existing is not None:
        return _same_request(existing, channel=channel, kind=kind, item=item), False
    try:
        with transaction.atomic():
            action = OutboundAction.objects.create(
                organisation=actor.organisation,
                channel=channel,
                kind=kind,
                item=item,
                text=text,
                payload=payload or {},
                idempotency_key=key,
                next_attempt_at=not_before or timezone.now(),
                created_by=actor.user,
            )
    except IntegrityError:  # the same key, queued concurrently
        existing = OutboundAction.objects.visible_to(actor).get(idempotency_key=key)
        return _same_request(existing, channel=channel, kind=kind, item=item), False
    record(
        actor,
        f"outbound.{kind}_queued",
        action,
        after={"channel": str(channel), "item": item.pk if item else None, "text": text[:500]},
    )
    _enqueue_delivery(action, not_before)
    return action, True


def _same_request(
    existing: OutboundAction, *, channel: Channel, kind: str, item: Item | None = None
) -> OutboundAction:
    if (
        existing.channel_id != channel.pk
        or existing.kind != kind
        or (item is not None and existing.item_id != item.pk)
    ):
        raise ValidationError({"idempotency_key": _("This key was already used for another action.")})
    return existing


@transaction.atomic
def queue_reply(*, actor: Actor, item: Item, text: str, idempotency_key: str = "") -> OutboundAction:
    """Answer an item on its own channel. The same key (e.g. a form's token) never answers twice."""
    actor.require(Perm.INBOX_REPLY)
    _same_org(actor, item.organisation_id)
    channel = item.channel
    _check_channel(channel, ActionKind.REPLY)
    text = _clean_text(text)
    action, _created = _create(
        actor=actor,
        channel=channel,
        kind=ActionKind.REPLY,
        item=item,
        text=text,
        idempotency_key=idempotency_key or f"reply-{uuid.uuid4().hex}",
    )
    return action


@transaction.atomic
def queue_private_reply(*, actor: Actor, item: Item, text: str, idempotency_key: str = "") -> OutboundAction:
    """Answer an item's author in private (a direct message), where the platform allows it."""
    actor.require(Perm.INBOX_REPLY)
    _same_org(actor, item.organisation_id)
    _check_channel(item.channel, ActionKind.PRIVATE_REPLY)
    action, _created = _create(
        actor=actor,
        channel=item.channel,
        kind=ActionKind.PRIVATE_REPLY,
        item=item,
        text=_clean_text(text),
        idempotency_key=idempotency_key or f"private-reply-{uuid.uuid4().hex}",
    )
    return action


@transaction.atomic
def queue_publication(
    *,
    actor: Actor,
    channel: Channel,
    text: str,
    idempotency_key: str,
    media: Sequence[Media | dict] = (),
    not_before: datetime | None = None,
) -> OutboundAction:
    """Publish on a channel, now or not before a time. Idempotent on the key: the same key returns
    the same action, never a second one."""
    actor.require(Perm.POSTS_APPROVE)
    _same_org(actor, channel.organisation_id)
    existing = (
        OutboundAction.objects.visible_to(actor)
        .filter(idempotency_key=(idempotency_key or "").strip())
        .first()
    )
    if existing is not None:
        return _same_request(existing, channel=channel, kind=ActionKind.PUBLISH)
    _check_channel(channel, ActionKind.PUBLISH)
    if not_before is not None and timezone.is_naive(not_before):
        raise ValidationError({"not_before": _("The time needs a time zone.")})
    text = _clean_text(text, required=not media)
    action, _created = _create(
        actor=actor,
        channel=channel,
        kind=ActionKind.PUBLISH,
        item=None,
        text=text,
        idempotency_key=idempotency_key,
        payload={"media": _media_payload(media)} if media else {},
        not_before=not_before,
    )
    return action


def _queue_on_item(actor: Actor, item: Item, kind: str) -> OutboundAction:
    actor.require(KIND_PERMS[ActionKind(kind)])
    _same_org(actor, item.organisation_id)
    _check_channel(item.channel, kind)
    # One open hide (or delete) per item: asking twice while it is on its way changes nothing.
    open_one = OutboundAction.objects.filter(
        item=item, kind=kind, status__in=[ActionStatus.QUEUED, ActionStatus.SENDING]
    ).first()
    if open_one is not None:
        return open_one
    action, _created = _create(
        actor=actor,
        channel=item.channel,
        kind=kind,
        item=item,
        text="",
        idempotency_key=f"{kind}-{item.pk}-{uuid.uuid4().hex[:12]}",
    )
    return action


@transaction.atomic
def queue_hide(*, actor: Actor, item: Item) -> OutboundAction:
    """Hide the item on its platform (moderation)."""
    return _queue_on_item(actor, item, ActionKind.HIDE)


@transaction.atomic
def queue_delete(*, actor: Actor, item: Item) -> OutboundAction:
    """Delete the item on its platform (moderation)."""
    return _queue_on_item(actor, item, ActionKind.DELETE)


@transaction.atomic
def queue_unhide(*, actor: Actor, item: Item) -> OutboundAction:
    """Show again on its platform an item hidden there (a moderator restored it)."""
    return _queue_on_item(actor, item, ActionKind.UNHIDE)


@transaction.atomic
def queue_ban_author(*, actor: Actor, item: Item) -> OutboundAction:
    """Keep the item's author out of the channel (ban, silence, timeout, as the platform offers)."""
    if item.author_id is None:
        raise ValidationError({"item": _("This item has no known author to ban.")})
    return _queue_on_item(actor, item, ActionKind.BAN_AUTHOR)


def _lock_action(actor: Actor, action: OutboundAction) -> OutboundAction:
    _same_org(actor, action.organisation_id)
    actor.require(KIND_PERMS[ActionKind(action.kind)])
    return _locked(OutboundAction.objects.filter(pk=action.pk)).select_related("channel").get()


@transaction.atomic
def retry_action(*, actor: Actor, action: OutboundAction) -> OutboundAction:
    """Send a failed action again, or one a person checked and found not delivered."""
    action = _lock_action(actor, action)
    if action.status not in {ActionStatus.FAILED, ActionStatus.NEEDS_CHECK, ActionStatus.CANCELLED}:
        raise ValidationError({"status": _("Only a failed, cancelled or checked action can be sent again.")})
    before = {"status": action.status, "attempts": action.attempts, "last_error": action.last_error}
    action.status = ActionStatus.QUEUED
    action.attempts = 0
    action.next_attempt_at = timezone.now()
    action.lease_until = None
    action.updated_at = timezone.now()
    action.save()
    record(actor, "outbound.retried", action, before=before, after={"status": action.status})
    _enqueue_delivery(action)
    return action


@transaction.atomic
def cancel_action(*, actor: Actor, action: OutboundAction) -> OutboundAction:
    """Give up an action not sent yet (a `sending` one may already be on the platform)."""
    action = _lock_action(actor, action)
    if action.status not in {ActionStatus.QUEUED, ActionStatus.FAILED, ActionStatus.NEEDS_CHECK}:
        raise ValidationError({"status": _("This action can no longer be cancelled.")})
    before = {"status": action.status}
    action.status = ActionStatus.CANCELLED
    action.updated_at = timezone.now()
    action.save(update_fields=["status", "updated_at"])
    record(actor, "outbound.cancelled", action, before=before, after={"status": action.status})
    return action


@transaction.atomic
def confirm_delivered(*, actor: Actor, action: OutboundAction, url: str = "") -> OutboundAction:
    """A person checked the platform: the action in `needs_check` did go out."""
    action = _lock_action(actor, action)
    if action.status != ActionStatus.NEEDS_CHECK:
        raise ValidationError({"status": _("Only an action to check can be confirmed.")})
    if url and not url.startswith(("http://", "https://")):
        raise ValidationError({"url": _("Give the address (http or https) where it was published.")})
    action.status = ActionStatus.SENT
    action.url = url
    action.sent_at = action.updated_at = timezone.now()
    action.save()
    record(
        actor, "outbound.confirmed", action, before={"status": ActionStatus.NEEDS_CHECK}, after={"url": url}
    )
    return action


def actions_for(actor: Actor) -> models.QuerySet[OutboundAction]:
    actor.require(Perm.CHANNELS_VIEW)
    return OutboundAction.objects.visible_to(actor).select_related("channel", "item")


def get_action(*, actor: Actor, action_id: int) -> OutboundAction:
    action = actions_for(actor).filter(pk=action_id).first()
    if action is None:
        raise NotInOrganisation
    return action
