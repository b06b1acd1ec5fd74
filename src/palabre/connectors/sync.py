"""Items in: pulling channels since their saved cursor, and processing verified webhooks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from palabre.connectors import polling
from palabre.connectors.base import Capability, ConnectorError, RateLimited, TransientError
from palabre.connectors.models import ChannelSync, WebhookDelivery
from palabre.connectors.oauth import fresh_credentials
from palabre.connectors.registry import connector_class_for, connector_for, registered
from palabre.connectors.services.pacing import (
    backoff_seconds,
    hold_calls,
    record_failure,
    record_success,
    sync_for,
    take_call_slot,
)
from palabre.conversations.pipeline import ingest_items
from palabre.orgs.models import Channel

logger = logging.getLogger(__name__)


def _interval(sync: ChannelSync, channel: Channel) -> float:
    if sync.poll_interval_seconds:
        return float(sync.poll_interval_seconds)
    connector_class = connector_class_for(channel.platform)
    return connector_class.poll_interval if connector_class else 300.0


def pullable_platforms() -> list[str]:
    return [p for p, c in registered().items() if Capability.PULL in c.capabilities]


def due_channel_ids(*, now: datetime | None = None) -> list[int]:
    """Active channels of pullable platforms whose next pull time has come (or never pulled)."""
    now = now or timezone.now()
    channels = Channel.objects.filter(
        platform__in=pullable_platforms(), status__in=[Channel.Status.ACTIVE, Channel.Status.FAILING]
    ).exclude(sync__poll_enabled=False)
    due = channels.filter(
        models.Q(sync__isnull=True)
        | models.Q(sync__next_poll_at__isnull=True)
        | models.Q(sync__next_poll_at__lte=now)
    )
    return list(due.values_list("pk", flat=True)[:1000])


def pull_channel(channel_id: int, *, force: bool = False) -> dict:
    """Pull the channel's new items since its cursor, ingest them, save the new cursor: the polling
    routine of `connectors.polling` on the channel's record."""
    channel = Channel.objects.select_related("organisation").filter(pk=channel_id).first()
    if channel is None:
        return {"channel": channel_id, "outcome": "gone"}
    connector = connector_for(channel)
    if not connector.supports(Capability.PULL):
        return {"channel": channel_id, "outcome": "not_pullable"}
    sync = sync_for(channel)
    record = ChannelSync.objects.filter(pk=sync.pk)
    now = timezone.now()
    interval = _interval(sync, channel)
    if not polling.claim(record, now=now, until=now + timedelta(seconds=interval), force=force):
        return {"channel": channel_id, "outcome": "not_due"}
    wait = take_call_slot(channel, now=now)
    if wait > 0:
        record.update(next_poll_at=now + timedelta(seconds=wait))
        return {"channel": channel_id, "outcome": "rate_limited_locally"}
    try:
        fresh_credentials(channel)
        result = connector.pull(channel, sync.cursor)
    except ConnectorError as error:
        return _pull_failed(channel, sync, error)
    except Exception as error:
        logger.exception("connectors: pulling channel %s failed", channel_id)
        return _pull_failed(channel, sync, TransientError(repr(error)))
    # One batch through the pipeline; one bad item must not stop the others nor move the cursor
    # past them silently.
    batch = ingest_items(channel=channel, incoming=result.items, skip_invalid=True)
    for refused in batch.refused:
        logger.warning(
            "connectors: item %s of channel %s refused: %s",
            refused.incoming.external_id,
            channel_id,
            refused.error,
        )
    stored, rejected = len(result.items) - len(batch.refused), len(batch.refused)
    record_success(channel, cursor=result.cursor, last_polled_at=timezone.now())
    return {"channel": channel_id, "outcome": "pulled", "items": stored, "rejected": rejected}


def _pull_failed(channel: Channel, sync: ChannelSync, error: ConnectorError) -> dict:
    with transaction.atomic():
        sync = record_failure(channel, error, counts=not isinstance(error, RateLimited))
        if isinstance(error, RateLimited):
            delay = error.retry_after
            hold_calls(channel, delay)
        elif error.retryable:
            delay = backoff_seconds(sync.consecutive_failures)
        else:
            delay = max(_interval(sync, channel), backoff_seconds(sync.consecutive_failures))
        ChannelSync.objects.filter(pk=sync.pk).update(
            next_poll_at=timezone.now() + timedelta(seconds=delay), last_polled_at=timezone.now()
        )
    return {"channel": channel.pk, "outcome": "failed", "error": error.code}


def store_webhook(*, channel: Channel, body: bytes) -> WebhookDelivery:
    """A verified webhook body: stored first (never lost), processed by a task."""
    from palabre.connectors.tasks import process_webhook

    delivery = WebhookDelivery.objects.create(
        organisation_id=channel.organisation_id, channel=channel, body=body
    )
    pk = delivery.pk
    transaction.on_commit(lambda: process_webhook.enqueue(pk))
    return delivery


def process_webhook_delivery(delivery_id: int) -> dict:
    delivery = WebhookDelivery.objects.select_related("channel").filter(pk=delivery_id).first()
    if delivery is None or delivery.processed_at is not None:
        return {"delivery": delivery_id, "outcome": "skipped"}
    channel = delivery.channel
    try:
        items = connector_for(channel).parse_webhook(channel, bytes(delivery.body))
        refused = ingest_items(channel=channel, incoming=items, skip_invalid=True).refused
        if refused:  # the valid ones are stored; the delivery says what was refused
            raise refused[0].error
    except (ConnectorError, ValidationError) as error:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            processed_at=timezone.now(), error=str(error)[:2000]
        )
        record_failure(channel, error if isinstance(error, ConnectorError) else ConnectorError(str(error)))
        return {"delivery": delivery_id, "outcome": "failed"}
    WebhookDelivery.objects.filter(pk=delivery_id).update(processed_at=timezone.now(), items=len(items))
    record_success(channel)
    return {"delivery": delivery_id, "outcome": "processed", "items": len(items)}
