"""The outbox, delivering: each action sent exactly once under a lease, retried with backoff, a lost call looked up before sending again, a sent reply ingested into its thread; what the periodic jobs find due."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.base import (
    ConnectorError,
    Delivered,
    NotSupported,
    PermanentError,
    RateLimited,
    TransientError,
)
from palabre.connectors.models import (
    ActionKind,
    ActionStatus,
    ChannelSync,
    OutboundAction,
)
from palabre.connectors.oauth import fresh_credentials
from palabre.connectors.registry import connector_for
from palabre.connectors.services.outbox import _enqueue_delivery, _media_of
from palabre.connectors.services.pacing import (
    MAX_ERROR_CHARS,
    _locked,
    backoff_seconds,
    hold_calls,
    lease_seconds,
    max_attempts,
    record_failure,
    record_success,
    take_call_slot,
)
from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.orgs.models import Channel
from palabre.orgs.services import Actor, record

logger = logging.getLogger(__name__)


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
        fresh_credentials(action.channel)
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
    if action.kind == ActionKind.PRIVATE_REPLY:
        return connector.private_reply(
            channel, in_reply_to=action.item, text=action.text, idempotency_key=action.idempotency_key
        )
    moderate = {
        ActionKind.HIDE: connector.hide,
        ActionKind.UNHIDE: connector.unhide,
        ActionKind.DELETE: connector.delete,
        ActionKind.BAN_AUTHOR: connector.ban_author,
    }[ActionKind(action.kind)]
    moderate(channel, action.item)
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
