from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.connectors.models import OutboundAction
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


class PublishingPolicy(models.Model):
    """An organisation's guardrail settings: its own sensitive topics, its charter, the ratio."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="publishing_policy"
    )
    sensitive_terms = models.JSONField(default=list, blank=True)
    charter_words = models.JSONField(default=list, blank=True)
    competitor_texts = models.JSONField(default=list, blank=True)
    promotion_window = models.PositiveSmallIntegerField(
        _("posts looked at for the promotion ratio"), default=10
    )
    promotion_share = models.FloatField(_("most promotional share"), default=0.5)
    # An approver who only moves an approved post keeps its approval (as Hootsuite and Agorapulse
    # do); off, any new time sends the post back for approval.
    reschedule_keeps_approval = models.BooleanField(
        _("an approver's new time keeps the approval"), default=True
    )
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"publishing policy of {self.organisation}"


class Campaign(models.Model):
    class Kind(models.TextChoices):
        EXCLUSIVE_OFFER = "exclusive_offer", _("Exclusive offer")
        EVENT = "event", _("Event")
        CONTEST = "contest", _("Contest")
        PHOTO_CONTEST = "photo_contest", _("Photo contest")
        POLL = "poll", _("Poll")
        CO_DESIGN = "co_design", _("Product co-design")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Post(models.Model):
    """One message of the brand, written once and adapted per channel (its variants)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(_("title"), max_length=200)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    # None: decided by the guardrails from the campaign and the words.
    promotional = models.BooleanField(_("promotional"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    # The warnings an approver read and accepted, as (guardrail, words) pairs, kept for the record.
    acknowledged = models.JSONField(default=list, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return self.title


class VariantState(models.TextChoices):
    DRAFT = "draft", _("Not scheduled")
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    BLOCKED = "blocked", _("Blocked by a guardrail")
    HANDED_OVER = "handed_over", _("Handed to the channel")
    CANCELLED = "cancelled", _("Cancelled")


class PostVariant(models.Model):
    """The post as one channel gets it: its text, media, time, and delivery."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="post_variants")
    text = models.TextField(_("text"), blank=True)
    # [{"url" or "name", "mime_type", "description"}]: what the post carries, checked against limits.
    media = models.JSONField(default=list, blank=True)
    scheduled_at = models.DateTimeField(_("publication time"), null=True, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=VariantState.choices, default=VariantState.DRAFT)
    held_reason = models.CharField(max_length=32, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    guardrail_verdict = models.CharField(max_length=8, default="pass")
    guardrail_findings = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    action = models.ForeignKey(
        OutboundAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handed_over_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="one_variant_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.post} → {self.channel}"

    @property
    def idempotency_key(self) -> str:
        return f"post-variant-{self.pk}"

    @property
    def delivery_status(self) -> str:
        """What the outbox says, once handed over; otherwise the variant's own state."""
        if self.action_id is not None and self.action is not None:
            return self.action.status
        return self.state


class PostComment(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_label = models.CharField(max_length=200)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author_label}: {self.text[:40]}"


def _media_path(instance: PostMedia, filename: str) -> str:
    return f"publishing/{instance.organisation_id}/{instance.post_id}/{filename}"


class PostMedia(models.Model):
    """A picture or video attached to a post: to every variant, or to one (`variant` set).

    Stored under the data directory through Django's storage, checked by its content when
    uploaded; `description` is the alternative text the platforms show to screen readers."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    variant = models.ForeignKey(
        PostVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=_media_path, max_length=300)
    thumbnail = models.FileField(upload_to=_media_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    mime_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(_("alternative text"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")

    def as_limits_entry(self) -> dict:
        return {
            "mime_type": self.mime_type,
            "description": self.description,
            "filename": self.original_name,
            "size": self.size,
        }
