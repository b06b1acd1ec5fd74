"""Each channel's connection record: the polling settings, the rate-limit slot shared by every call, holds asked by the platform, successes and failures."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre import config
from palabre.connectors import polling
from palabre.connectors.base import (
    TokenExpired,
)
from palabre.connectors.models import (
    ChannelSync,
)
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

logger = logging.getLogger(__name__)


MAX_ERROR_CHARS = polling.MAX_ERROR_CHARS


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
    """Exponential from the configured first delay, capped, with ±20% jitter so failed deliveries
    and pulls do not come back together."""
    return polling.retry_delay(
        attempts,
        first=_float(config.CONNECTORS_RETRY_BASE_SECONDS),
        cap=_float(config.CONNECTORS_RETRY_MAX_SECONDS),
    )


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


def record_success(channel: Channel, **also) -> None:
    """A call or a poll worked (`also`: columns of the channel's record set with it)."""
    sync = sync_for(channel)
    now = timezone.now()
    polling.record_success(
        ChannelSync.objects.filter(pk=sync.pk), now=now, failing_alert_sent_at=None, **also
    )
    # It works: a token marked expired has been replaced.
    ChannelSync.objects.filter(pk=sync.pk, token_expires_at__lte=now).update(token_expires_at=None)


def record_failure(channel: Channel, error: Exception, *, counts: bool = True) -> ChannelSync:
    """Note what went wrong. `counts`: a real failure (a rate limit is not the channel failing)."""
    sync = sync_for(channel)
    now = timezone.now()
    failure = polling.PollFailure(message=str(error), code=getattr(error, "code", "error"), counts=counts)
    # An expired token is shown, and alerted, as one until the channel works again.
    also: dict[str, Any] = {"token_expires_at": now} if isinstance(error, TokenExpired) else {}
    polling.record_failure(ChannelSync.objects.filter(pk=sync.pk), failure, now=now, **also)
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


def _same_org(actor: Actor, organisation_id: int) -> None:
    if actor.organisation.pk != organisation_id:
        raise NotInOrganisation
