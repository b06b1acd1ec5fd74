"""What the health pages and the API read: a fixed number of queries whatever the number of channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from palabre.connectors.alerts import failure_threshold, token_alert_days
from palabre.connectors.base import Capability
from palabre.connectors.connection import Connection, connection_of
from palabre.connectors.models import ActionStatus, ChannelSync, OutboundAction
from palabre.connectors.registry import connector_class_for
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor

# The details a connector's check may tell (`ChannelHealthInfo.details`) that the channel page shows.
DETAIL_LABELS = {
    "tier": gettext_lazy("Access tier"),
    "quota_used": gettext_lazy("Quota units spent today"),
    "quota_limit": gettext_lazy("Daily quota (units)"),
    "quota_left": gettext_lazy("Quota units left today"),
    "quota_resets_at": gettext_lazy("Quota renewed at"),
    "rate_limit_remaining": gettext_lazy("Calls left in the rate-limit window"),
    "max_characters": gettext_lazy("Longest post allowed (characters)"),
}

WAITING = (ActionStatus.QUEUED, ActionStatus.SENDING, ActionStatus.FAILED, ActionStatus.NEEDS_CHECK)


@dataclass
class ChannelHealth:
    channel: Channel
    sync: ChannelSync | None
    capabilities: frozenset[Capability]
    waiting: dict[str, int] = field(default_factory=dict)
    now: datetime = field(default_factory=timezone.now)

    @property
    def has_connector(self) -> bool:
        return bool(self.capabilities)

    @cached_property
    def connection(self) -> Connection:
        """Connected, or why not and the next step (`connectors.connection`)."""
        return connection_of(self.channel, self.sync)

    @property
    def state(self) -> str:
        """ok, failing, token_expired, token_expiring, attention, unknown or no_connector."""
        if not self.has_connector:
            return "no_connector"
        sync = self.sync
        if sync is not None and sync.token_expires_at is not None:
            if sync.token_expires_at <= self.now:
                return "token_expired"
            if sync.token_expires_at <= self.now + timedelta(days=token_alert_days()):
                return "token_expiring"
        if sync is not None and sync.consecutive_failures >= failure_threshold():
            return "failing"
        if self.waiting.get(ActionStatus.FAILED) or self.waiting.get(ActionStatus.NEEDS_CHECK):
            return "attention"
        if sync is not None and sync.consecutive_failures:
            return "attention"
        if sync is None or sync.last_success_at is None:
            return "unknown"
        return "ok"

    @property
    def explanation(self) -> str:
        """What the last error means and what to do, in the active language, while it is the
        latest news of the channel ("" once a success came after it)."""
        sync = self.sync
        if sync is None or not sync.last_error_at or not sync.last_error_code:
            return ""
        if sync.last_success_at and sync.last_success_at > sync.last_error_at:
            return ""
        from palabre.connectors.explain import explain

        return explain(sync.last_error_code)

    @property
    def details_shown(self) -> list[tuple[str, object]]:
        """What the platform told at the last check (a quota, an access tier, a rate limit), each
        with its label in the reader's language; what has no label here is not shown."""
        details = (self.sync.details if self.sync is not None else None) or {}
        shown = []
        for key, label in DETAIL_LABELS.items():
            value = details.get(key)
            if value is None or value == "":
                continue
            if key.endswith("_at") and isinstance(value, str):
                try:
                    value = datetime.fromisoformat(value)
                except ValueError:
                    continue
            shown.append((label, value))
        return shown

    @property
    def needs_attention(self) -> bool:
        return self.state in {"failing", "token_expired", "token_expiring", "attention"}

    @property
    def queued(self) -> int:
        return self.waiting.get(ActionStatus.QUEUED, 0) + self.waiting.get(ActionStatus.SENDING, 0)

    @property
    def failed(self) -> int:
        return self.waiting.get(ActionStatus.FAILED, 0)

    @property
    def to_check(self) -> int:
        return self.waiting.get(ActionStatus.NEEDS_CHECK, 0)


def _waiting_counts(actor: Actor, channel_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    rows = OutboundAction.objects.visible_to(actor).filter(status__in=WAITING)
    if channel_ids is not None:
        rows = rows.filter(channel_id__in=channel_ids)
    counts: dict[int, dict[str, int]] = {}
    for row in rows.values("channel_id", "status").annotate(n=Count("pk")).order_by():
        counts.setdefault(row["channel_id"], {})[row["status"]] = row["n"]
    return counts


def _health(channel: Channel, waiting: dict[str, int]) -> ChannelHealth:
    connector_class = connector_class_for(channel.platform)
    try:
        sync = channel.sync
    except ChannelSync.DoesNotExist:
        sync = None
    return ChannelHealth(
        channel=channel,
        sync=sync,
        capabilities=connector_class.capabilities if connector_class else frozenset(),
        waiting=waiting,
    )


def channel_health(actor: Actor) -> list[ChannelHealth]:
    """Every channel of the organisation (archived ones left out), with its connection's health."""
    actor.require(Perm.CHANNELS_VIEW)
    channels = list(
        Channel.objects.visible_to(actor)
        .exclude(status=Channel.Status.ARCHIVED)
        .select_related("sync")
        .order_by("platform", "name", "pk")
    )
    counts = _waiting_counts(actor)
    return [_health(channel, counts.get(channel.pk, {})) for channel in channels]


def health_of(actor: Actor, channel: Channel) -> ChannelHealth:
    actor.require(Perm.CHANNELS_VIEW)
    channel = Channel.objects.select_related("sync").visible_to(actor).get(pk=channel.pk)
    return _health(channel, _waiting_counts(actor, [channel.pk]).get(channel.pk, {}))


def outbox(actor: Actor, *, status: str = "", channel_id: int | None = None) -> QuerySet[OutboundAction]:
    actor.require(Perm.CHANNELS_VIEW)
    rows = OutboundAction.objects.visible_to(actor).select_related(
        "channel", "item", "item__author", "created_by"
    )
    if status:
        rows = rows.filter(status=status)
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    return rows
