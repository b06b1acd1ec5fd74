from __future__ import annotations

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.conversations.models import Item
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


def new_public_id() -> str:
    return secrets.token_urlsafe(18)


class ChannelSync(models.Model):
    """What Palabre knows of a channel's connection: cursor, schedule, health, rate limit.

    One per channel, created on first use; `orgs.Channel` stays the organisation's record.
    """

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="sync")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # In the webhook address: not guessable, not the database id.
    public_id = models.CharField(max_length=40, unique=True, default=new_public_id)
    cursor = models.TextField(blank=True)
    poll_enabled = models.BooleanField(default=True)
    poll_interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_alert_sent_at = models.DateTimeField(null=True, blank=True)
    account = models.CharField(max_length=300, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    token_alert_sent_for = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    # How far the last successful check covered the channel's permissions ("verified", "partial",
    # "": nothing to check), and, when partial, why (English detail, as `last_error`).
    permissions_checked = models.CharField(max_length=16, blank=True)
    permissions_note = models.TextField(blank=True)
    # What the platform told at the last check beyond the account: a daily quota spent, an access
    # tier, a rate limit's state (the connector's `ChannelHealthInfo.details`).
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    # Per-channel rate limit: no platform call before this time.
    next_call_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life of the connector's long-lived process (the IRC bot), where it has one.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # What a connector keeps between calls that is a secret (a session, a refreshed token): encrypted.
    state_ciphertext = models.TextField(blank=True, editable=False)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel connection")

    def __str__(self) -> str:
        return f"sync of {self.channel}"

    @property
    def is_failing(self) -> bool:
        return self.consecutive_failures > 0


class ActionKind(models.TextChoices):
    REPLY = "reply", _("Reply")
    PUBLISH = "publish", _("Publication")
    HIDE = "hide", _("Hide")
    DELETE = "delete", _("Delete")
    UNHIDE = "unhide", _("Show again")
    BAN_AUTHOR = "ban_author", _("Ban the author")
    PRIVATE_REPLY = "private_reply", _("Private reply")


class ActionStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NEEDS_CHECK = "needs_check", _("To check")
    CANCELLED = "cancelled", _("Cancelled")


class OutboundActionQuerySet(OrgScopedQuerySet):
    def for_key(self, channel: Channel, idempotency_key: str) -> OutboundActionQuerySet:
        """The action asked with this key in the channel's organisation (keys are unique there): an
        interrupted delivery's connector finds what it was sending by it."""
        return self.for_org(channel.organisation_id).filter(idempotency_key=idempotency_key)


class OutboundAction(models.Model):
    """One thing to do on a platform (reply, publish, hide, delete), delivered exactly once.

    Never deleted: a failed action stays visible and can be retried by hand.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="outbound_actions")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="outbound_actions")
    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_actions"
    )
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=ActionStatus.choices, default=ActionStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    # The brand's reply as stored in the conversation, once sent.
    result_item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"], name="outbound_idempotency_key_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["organisation", "-created_at", "-id"]),
            models.Index(fields=["channel", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in {ActionStatus.QUEUED, ActionStatus.SENDING}


class WebhookDelivery(models.Model):
    """A verified webhook body, kept until processed: accepted means never lost."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} for {self.channel}"


class QuotaUsage(models.Model):
    """The units of a platform's daily quota a channel spent on one of the platform's days
    (YouTube's resets at midnight Pacific time). Counted before each call, so the last units of a
    day are never overspent; `exhausted` keeps the platform's own word that the day's quota is gone."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    units = models.PositiveIntegerField(default=0)
    exhausted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("platform quota usage")
        constraints = [models.UniqueConstraint(fields=["channel", "day"], name="connectors_quota_one_a_day")]

    def __str__(self) -> str:
        return f"{self.units} units on {self.day} for {self.channel}"
