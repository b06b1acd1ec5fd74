"""Every state change of the connectors: the outbox, deliveries, pulls, webhooks, channel health.

The outbox (`OutboundAction`) is how anything leaves Palabre. `queue_*` stores an action and
enqueues its delivery once the transaction commits; `deliver` (run by the task) sends it exactly
once:

1. lock the row and re-check it (another worker may have taken it); a `sending` row whose lease
   has run out means a worker died mid-call: the platform may or may not have it. It is sent
   again only after `find_delivered` did not find it (when the connector can look), or when that
   is safe (the platform drops repeats of the idempotency key), and otherwise marked
   `needs_check` for a person;
2. take the channel's rate-limit slot (or come back when it frees);
3. mark `sending` with a lease, commit, call the connector outside any transaction;
4. `sent` (a reply is ingested into its thread as the brand's item), or a retry later with
   exponential backoff and jitter (at least what `RateLimited.retry_after` asks), or `failed`:
   visible, and retried by hand with `retry_action`.
"""

from __future__ import annotations

import base64
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre import config
from palabre.connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    Delivered,
    Media,
    NotSupported,
    PermanentError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import explain
from palabre.connectors.models import (
    ActionKind,
    ActionStatus,
    ChannelSync,
    OutboundAction,
)
from palabre.connectors.registry import connector_class_for, connector_for
from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000
MAX_MEDIA = 4
MAX_MEDIA_BYTES = 8 * 1024 * 1024
MAX_ERROR_CHARS = 2000

# Who may ask for which kind of action.
KIND_PERMS = {
    ActionKind.REPLY: Perm.INBOX_REPLY,
    ActionKind.PUBLISH: Perm.POSTS_APPROVE,
    ActionKind.HIDE: Perm.MODERATION_ACT,
    ActionKind.DELETE: Perm.MODERATION_ACT,
}
KIND_CAPABILITIES = {
    ActionKind.REPLY: Capability.REPLY,
    ActionKind.PUBLISH: Capability.PUBLISH,
    ActionKind.HIDE: Capability.HIDE,
    ActionKind.DELETE: Capability.DELETE,
}


# --- settings -----------------------------------------------------------------------------------


def _float(setting: config.Setting) -> float:
    try:
        return float(setting.raw())
    except ValueError:
        return float(setting.default)


def min_interval(platform: str) -> float:
    """Seconds between two calls on one channel of this platform."""
    for pair in config.as_list(config.CONNECTORS_PLATFORM_INTERVALS):
        name, _sep, value = pair.partition("=")
        if name.strip() == platform:
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return max(_float(config.CONNECTORS_MIN_INTERVAL), 0.0)


def max_attempts() -> int:
    return max(int(_float(config.CONNECTORS_MAX_ATTEMPTS)), 1)


def backoff_seconds(attempts: int) -> float:
    """Exponential, capped, with ±20% jitter so failed deliveries do not come back together."""
    base = _float(config.CONNECTORS_RETRY_BASE_SECONDS)
    cap = _float(config.CONNECTORS_RETRY_MAX_SECONDS)
    delay = min(base * (2 ** max(attempts - 1, 0)), cap)
    return delay * random.uniform(0.8, 1.2)


def lease_seconds() -> float:
    return _float(config.CONNECTORS_LEASE_SECONDS)


# --- channels' connection records ---------------------------------------------------------------


def sync_for(channel: Channel) -> ChannelSync:
    """The channel's connection record, created on first use."""
    try:
        return channel.sync
    except ChannelSync.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            sync, _created = ChannelSync.objects.get_or_create(
                channel=channel, defaults={"organisation_id": channel.organisation_id}
            )
    except IntegrityError:  # created meanwhile
        sync = ChannelSync.objects.get(channel=channel)
    channel.sync = sync
    return sync


def connector_state(channel: Channel) -> dict:
    """The connector's private state for this channel (decrypted); {} when none."""
    from palabre.orgs import crypto

    ciphertext = (
        ChannelSync.objects.filter(channel=channel).values_list("state_ciphertext", flat=True).first()
    )
    if not ciphertext:
        return {}
    try:
        return crypto.decrypt_json(ciphertext)
    except crypto.CredentialsUnreadable:  # a retired key: the state is only a cache; start afresh
        logger.warning("connectors: state of channel %s could not be decrypted", channel.pk)
        return {}


def save_connector_state(channel: Channel, state: dict) -> None:
    """Keep a connector's private state (encrypted like the channel's credentials)."""
    from palabre.orgs import crypto

    sync = sync_for(channel)
    ChannelSync.objects.filter(pk=sync.pk).update(
        state_ciphertext=crypto.encrypt_json(state) if state else ""
    )


def _locked(queryset: models.QuerySet) -> models.QuerySet:
    # SQLite locks the whole database for a write transaction; PostgreSQL locks the row.
    # Only the row itself: the related rows joined for reading (an item, a person) stay unlocked,
    # and PostgreSQL refuses FOR UPDATE on the nullable side of an outer join anyway.
    if not connection.features.has_select_for_update:
        return queryset
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()


def take_call_slot(channel: Channel, *, now: datetime | None = None) -> float:
    """Reserve the channel's next platform call. Returns 0 when it may go now, else seconds to wait."""
    now = now or timezone.now()
    sync = sync_for(channel)
    with transaction.atomic():
        sync = _locked(ChannelSync.objects.filter(pk=sync.pk)).get()
        if sync.next_call_at and sync.next_call_at > now:
            return (sync.next_call_at - now).total_seconds()
        sync.next_call_at = now + timedelta(seconds=min_interval(channel.platform))
        sync.save(update_fields=["next_call_at"])
    return 0.0


def hold_calls(channel: Channel, seconds: float) -> None:
    """The platform said to slow down: no call on this channel for that long."""
    until = timezone.now() + timedelta(seconds=seconds)
    ChannelSync.objects.filter(channel=channel).filter(
        models.Q(next_call_at__isnull=True) | models.Q(next_call_at__lt=until)
    ).update(next_call_at=until)


def record_success(channel: Channel) -> None:
    sync = sync_for(channel)
    now = timezone.now()
    ChannelSync.objects.filter(pk=sync.pk).update(
        last_success_at=now, consecutive_failures=0, failing_alert_sent_at=None
    )
    # It works: a token marked expired has been replaced.
    ChannelSync.objects.filter(pk=sync.pk, token_expires_at__lte=now).update(token_expires_at=None)


def record_failure(channel: Channel, error: Exception, *, counts: bool = True) -> ChannelSync:
    """Note what went wrong. `counts`: a real failure (a rate limit is not the channel failing)."""
    sync = sync_for(channel)
    code = getattr(error, "code", "error")
    fields: dict[str, Any] = {
        "last_error_at": timezone.now(),
        "last_error": str(error)[:MAX_ERROR_CHARS],
        "last_error_code": code,
    }
    if counts:
        fields["consecutive_failures"] = models.F("consecutive_failures") + 1
    if isinstance(error, TokenExpired):
        # Shown as an expired token, and alerted as one, until the channel works again.
        fields["token_expires_at"] = fields["last_error_at"]
    ChannelSync.objects.filter(pk=sync.pk).update(**fields)
    sync.refresh_from_db()
    if counts:
        from palabre.connectors.alerts import alert_if_failing

        transaction.on_commit(lambda: alert_if_failing(sync.pk))
    return sync


@transaction.atomic
def update_sync_settings(
    *,
    actor: Actor,
    channel: Channel,
    poll_enabled: bool | None = None,
    poll_interval_seconds: int | None = None,
) -> ChannelSync:
    _same_org(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    sync = sync_for(channel)
    before = {"poll_enabled": sync.poll_enabled, "poll_interval_seconds": sync.poll_interval_seconds}
    if poll_interval_seconds is not None and not 30 <= poll_interval_seconds <= 86_400:
        raise ValidationError({"poll_interval_seconds": _("Choose between 30 seconds and one day.")})
    if poll_enabled is not None:
        sync.poll_enabled = poll_enabled
    if poll_interval_seconds is not None:
        sync.poll_interval_seconds = poll_interval_seconds
    sync.next_poll_at = timezone.now()
    sync.save(update_fields=["poll_enabled", "poll_interval_seconds", "next_poll_at"])
    after = {"poll_enabled": sync.poll_enabled, "poll_interval_seconds": sync.poll_interval_seconds}
    record(actor, "connectors.sync_updated", channel, before=before, after=after)
    return sync


# --- the outbox: asking -------------------------------------------------------------------------


def _same_org(actor: Actor, organisation_id: int) -> None:
    if actor.organisation.pk != organisation_id:
        raise NotInOrganisation


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
    existing = OutboundAction.objects.filter(organisation=actor.organisation, idempotency_key=key).first()
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
        existing = OutboundAction.objects.get(organisation=actor.organisation, idempotency_key=key)
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
    existing = OutboundAction.objects.filter(
        organisation=actor.organisation, idempotency_key=(idempotency_key or "").strip()
    ).first()
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
    return OutboundAction.objects.filter(organisation=actor.organisation).select_related("channel", "item")


def get_action(*, actor: Actor, action_id: int) -> OutboundAction:
    action = actions_for(actor).filter(pk=action_id).first()
    if action is None:
        raise NotInOrganisation
    return action


# --- the outbox: delivering ---------------------------------------------------------------------


@dataclass
class Step:
    """What one run of the delivery task did, for its result and the tests."""

    action_id: int
    outcome: str
    retry_at: datetime | None = None


def _palabre(action: OutboundAction) -> Actor:
    return Actor.palabre(action.organisation)


def _set(action: OutboundAction, **fields: Any) -> None:
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(action, name, value)
    action.save(update_fields=list(fields))


def deliver(action_id: int) -> Step:
    """One delivery attempt. Safe to run any number of times, by any number of workers."""
    now = timezone.now()
    with transaction.atomic():
        action = (
            _locked(OutboundAction.objects.filter(pk=action_id))
            .select_related("channel", "organisation", "item", "item__channel")
            .first()
        )
        if action is None:
            return Step(action_id, "gone")
        if action.status == ActionStatus.SENDING:
            if action.lease_until and action.lease_until > now:
                return Step(action_id, "in_progress")
            # The worker that was sending died: did it reach the platform?
            return _resolve_uncertain(action, reason=_("The delivery was interrupted."))
        if action.status != ActionStatus.QUEUED:
            return Step(action_id, f"skipped:{action.status}")
        if action.next_attempt_at and action.next_attempt_at > now:
            return Step(action_id, "not_due", action.next_attempt_at)
        try:
            connector = connector_for(action.channel)
        except NotSupported as error:
            return _fail(action, error)
        wait = take_call_slot(action.channel, now=now)
        if wait > 0:
            when = now + timedelta(seconds=wait)
            _set(action, next_attempt_at=when)
            _enqueue_delivery(action, when)
            return Step(action_id, "rate_limited_locally", when)
        _set(
            action,
            status=ActionStatus.SENDING,
            attempts=action.attempts + 1,
            lease_until=now + timedelta(seconds=lease_seconds()),
        )
    # Outside any transaction: a slow platform holds no lock and no database connection state.
    try:
        delivered = _call(connector, action)
    except ConnectorError as error:
        return _after_error(action, error)
    except Exception as error:  # a bug or an unforeseen library error: it may have sent
        logger.exception("connectors: delivering action %s failed", action_id)
        return _after_error(action, TransientError(repr(error), maybe_delivered=True))
    return _mark_sent(action, delivered)


def _call(connector, action: OutboundAction) -> Delivered | None:
    channel = action.channel
    if action.kind == ActionKind.REPLY:
        if action.item is None:
            raise PermanentError(_("The item this reply answers no longer exists."))
        return connector.reply(
            channel, in_reply_to=action.item, text=action.text, idempotency_key=action.idempotency_key
        )
    if action.kind == ActionKind.PUBLISH:
        return connector.publish(
            channel, text=action.text, media=_media_of(action), idempotency_key=action.idempotency_key
        )
    if action.item is None:
        raise PermanentError(_("The item no longer exists."))
    if action.kind == ActionKind.HIDE:
        connector.hide(channel, action.item)
    else:
        connector.delete(channel, action.item)
    return None


def _mark_sent(action: OutboundAction, delivered: Delivered | None) -> Step:
    with transaction.atomic():
        action = (
            _locked(OutboundAction.objects.filter(pk=action.pk))
            .select_related("channel", "organisation", "item", "created_by")
            .get()
        )
        return _mark_sent_locked(action, delivered)


def _ingest_reply(action: OutboundAction, delivered: Delivered) -> Item:
    """The brand's reply, stored in the thread so the conversation shows it."""
    channel = action.channel
    by = action.created_by.get_username() if action.created_by else ""
    item, _created = ingest_item(
        channel=channel,
        incoming=IncomingItem(
            external_id=delivered.external_id,
            kind="reply",
            text=action.text,
            created_at=timezone.now(),
            author=IncomingAuthor(handle=channel.handle, display_name=channel.name),
            url=delivered.url,
            parent_external_id=action.item.external_id,
            raw={"palabre_outbound": {"action": action.pk, "by": by}},
        ),
    )
    return item


def _after_error(action: OutboundAction, error: ConnectorError) -> Step:
    with transaction.atomic():
        action = (
            _locked(OutboundAction.objects.filter(pk=action.pk))
            .select_related("channel", "organisation", "item")
            .get()
        )
        if action.status != ActionStatus.SENDING:
            return Step(action.pk, f"skipped:{action.status}")
        _set(action, last_error=str(error)[:MAX_ERROR_CHARS], last_error_code=error.code, lease_until=None)
        record_failure(action.channel, error, counts=not isinstance(error, RateLimited))
        if isinstance(error, RateLimited):
            hold_calls(action.channel, error.retry_after)
        if error.maybe_delivered:
            return _resolve_uncertain(action, reason=str(error), error=error)
        if error.retryable:
            return _retry_later(action, error)
        return _fail(action, error)


def _retry_later(action: OutboundAction, error: ConnectorError) -> Step:
    if action.attempts >= max_attempts():
        return _fail(action, error)
    delay = backoff_seconds(action.attempts)
    if isinstance(error, RateLimited):
        delay = max(delay, error.retry_after + random.uniform(0, 2))
    when = timezone.now() + timedelta(seconds=delay)
    _set(action, status=ActionStatus.QUEUED, next_attempt_at=when, lease_until=None)
    _enqueue_delivery(action, when)
    return Step(action.pk, "retry", when)


def _fail(action: OutboundAction, error: ConnectorError) -> Step:
    _set(
        action,
        status=ActionStatus.FAILED,
        lease_until=None,
        last_error=str(error)[:MAX_ERROR_CHARS],
        last_error_code=error.code,
    )
    record(_palabre(action), f"outbound.{action.kind}_failed", action, after={"error": action.last_error})
    return Step(action.pk, "failed")


def _resolve_uncertain(action: OutboundAction, *, reason: str, error: ConnectorError | None = None) -> Step:
    """The last attempt may have reached the platform. Never send twice blindly."""
    try:
        connector = connector_for(action.channel)
    except NotSupported as missing:
        return _fail(action, missing)
    # Looked up first even where the platform drops a repeated idempotency key: it may keep the
    # key a short while only (Mastodon: one hour) or not at all (servers of the same API).
    if connector.can_find_delivered and action.kind in {ActionKind.REPLY, ActionKind.PUBLISH}:
        try:
            found = connector.find_delivered(action.channel, action.idempotency_key)
        except ConnectorError as lookup_error:
            if connector.idempotent_delivery:
                # Cannot look: the idempotency key is the platform's own guard against a repeat.
                logger.warning("connectors: action %s could not be looked up: %s", action.pk, lookup_error)
                if error is not None and not error.retryable:
                    return _fail(action, error)
                return _retry_later(action, error or TransientError(reason))
            # Cannot tell now: look again later, still without sending.
            when = timezone.now() + timedelta(seconds=backoff_seconds(action.attempts))
            _set(action, status=ActionStatus.SENDING, lease_until=when, last_error=str(lookup_error)[:2000])
            _enqueue_delivery(action, when)
            return Step(action.pk, "lookup_failed", when)
        if found is not None:
            return _mark_sent_locked(action, found, found=True)
        if error is not None and not error.retryable:
            return _fail(action, error)
        return _retry_later(action, error or TransientError(reason))
    if connector.idempotent_delivery:
        # The platform drops a repeat of the same key: sending again is safe.
        if error is not None and not error.retryable:
            return _fail(action, error)
        return _retry_later(action, error or TransientError(reason))
    _set(
        action,
        status=ActionStatus.NEEDS_CHECK,
        lease_until=None,
        last_error=(reason or _("The delivery may or may not have reached the platform."))[:MAX_ERROR_CHARS],
        last_error_code="needs_check",
    )
    record(_palabre(action), "outbound.needs_check", action, after={"reason": reason[:500]})
    return Step(action.pk, "needs_check")


def _mark_sent_locked(action: OutboundAction, delivered: Delivered | None, *, found: bool = False) -> Step:
    """Inside the transaction holding the row."""
    fields: dict[str, Any] = {
        "status": ActionStatus.SENT,
        "sent_at": timezone.now(),
        "lease_until": None,
        "last_error": "",
        "last_error_code": "",
    }
    if delivered is not None:
        fields["external_id"] = delivered.external_id[:300]
        fields["url"] = delivered.url[:1000]
    _set(action, **fields)
    if action.kind == ActionKind.REPLY and delivered is not None and action.item is not None:
        _set(action, result_item=_ingest_reply(action, delivered))
    after = {"url": action.url, "found_after_interruption": True} if found else {"url": action.url}
    record(_palabre(action), f"outbound.{action.kind}_sent", action, after=after)
    record_success(action.channel)
    return Step(action.pk, "sent")


def credentials_replaced(channel: Channel) -> None:
    """New credentials: forget the old session, check the connection and fetch at once."""
    now = timezone.now()
    ChannelSync.objects.filter(channel=channel).update(
        state_ciphertext="", next_poll_at=now, next_call_at=None, health_checked_at=None
    )
    # The expiry shown was the old token's (an expired one: the refusal that marked it): the new
    # credentials are not "expired" before anything has tried them.
    ChannelSync.objects.filter(channel=channel, token_expires_at__lte=now).update(token_expires_at=None)


def due_health_ids(*, now: datetime | None = None, every: timedelta = timedelta(hours=6)) -> list[int]:
    """Active channels whose connection was not checked for a while (token expiry, account)."""
    now = now or timezone.now()
    return list(
        Channel.objects.filter(status__in=[Channel.Status.ACTIVE, Channel.Status.FAILING])
        .filter(
            models.Q(sync__isnull=True)
            | models.Q(sync__health_checked_at__isnull=True)
            | models.Q(sync__health_checked_at__lt=now - every)
        )
        .values_list("pk", flat=True)[:200]
    )


def due_action_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queued actions whose time has come, and sending ones whose worker is presumed dead."""
    now = now or timezone.now()
    return list(
        OutboundAction.objects.filter(
            models.Q(status=ActionStatus.QUEUED, next_attempt_at__lte=now)
            | models.Q(status=ActionStatus.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- channels: checks asked by a person ---------------------------------------------------------


def _channel_in_org(actor: Actor, channel_id: int) -> Channel:
    channel = Channel.objects.filter(pk=channel_id, organisation=actor.organisation).first()
    if channel is None:
        raise NotInOrganisation
    return channel


def get_channel(*, actor: Actor, channel_id: int) -> Channel:
    actor.require(Perm.CHANNELS_VIEW)
    return _channel_in_org(actor, channel_id)


def refresh_health(channel: Channel) -> ChannelSync:
    """Ask the platform about the connection (account, token expiry, scopes) and keep the answer."""
    sync = sync_for(channel)
    try:
        info = connector_for(channel).health(channel)
    except ConnectorError as error:
        return record_failure(channel, error, counts=not isinstance(error, RateLimited))
    fields: dict[str, Any] = {
        "health_checked_at": timezone.now(),
        "scopes": list(info.scopes),
        "permissions_checked": info.permissions_checked,
        "permissions_note": info.permissions_note,
        # The token works; an expiry is kept only when the platform tells one.
        "token_expires_at": info.token_expires_at,
    }
    if info.account:
        fields["account"] = info.account[:300]
    ChannelSync.objects.filter(pk=sync.pk).update(**fields)
    limit = info.details.get("max_characters")
    if isinstance(limit, int) and limit != (channel.options or {}).get("max_characters"):
        # The instance's own length limit (a Mastodon server may raise 500): what replies and
        # posts are checked against.
        channel.options = {**(channel.options or {}), "max_characters": limit}
        type(channel).objects.filter(pk=channel.pk).update(options=channel.options)
    record_success(channel)
    sync.refresh_from_db()
    return sync


def check_channel(*, actor: Actor, channel: Channel) -> ChannelSync:
    """A person asks to check the connection now."""
    _same_org(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    sync = refresh_health(channel)
    record(
        actor, "connectors.checked", channel, after={"error": sync.last_error_code if sync.is_failing else ""}
    )
    return sync


def check_worked(sync: ChannelSync) -> bool:
    """The last call on the channel succeeded (nothing failed since)."""
    return bool(sync.last_success_at) and (
        sync.last_error_at is None or sync.last_success_at >= sync.last_error_at
    )


def connection_result(sync: ChannelSync) -> dict[str, str]:
    """A check's outcome as the person reads it (their language) and the API answers it."""
    account = sync.account
    if not check_worked(sync):
        return {
            "status": "failed",
            "code": sync.last_error_code,
            "account": account,
            "message": explain(sync.last_error_code),
            "detail": sync.last_error,
        }
    named = {"account": account}
    if sync.permissions_checked == "partial":
        message = (
            _(
                "Connected as %(account)s, but what these credentials may do could be checked only in part "
                "(see the detail): the first reply will tell."
            )
            if account
            else _(
                "Connected, but what these credentials may do could be checked only in part (see the detail): "
                "the first reply will tell."
            )
        )
        return {
            "status": "partial",
            "code": "",
            "account": account,
            "message": message % named,
            "detail": sync.permissions_note,
        }
    if sync.permissions_checked == "verified":
        message = _("Connected as %(account)s: the credentials allow what the channel will be asked to do.")
    elif account:
        message = _("Connected as %(account)s.")
    else:
        message = _("The connection works.")
    return {"status": "connected", "code": "", "account": account, "message": message % named, "detail": ""}


def try_credentials(*, actor: Actor, channel: Channel) -> dict[str, str] | None:
    """New credentials tried at once (`check_channel`, within the connectors' HTTP timeout and
    address guard): what was found, or None where nothing can be tried (no connector, no
    credentials, or a connector with no check of its own: saying "connected" would be a guess)."""
    connector_class = connector_class_for(channel.platform)
    if connector_class is None or not channel.has_credentials or connector_class.health is Connector.health:
        return None
    return connection_result(check_channel(actor=actor, channel=channel))


@transaction.atomic
def request_pull(*, actor: Actor, channel: Channel) -> ChannelSync:
    """Pull the channel as soon as a worker is free, whatever its schedule."""
    _same_org(actor, channel.organisation_id)
    actor.require(Perm.CHANNELS_MANAGE)
    connector_class = connector_class_for(channel.platform)
    if connector_class is None or Capability.PULL not in connector_class.capabilities:
        raise ValidationError({"channel": _("This channel has nothing to pull.")})
    sync = sync_for(channel)
    ChannelSync.objects.filter(pk=sync.pk).update(next_poll_at=timezone.now())
    record(actor, "connectors.pull_requested", channel)
    from palabre.connectors.tasks import poll_channel

    channel_id = channel.pk
    transaction.on_commit(lambda: poll_channel.enqueue(channel_id))
    return sync
