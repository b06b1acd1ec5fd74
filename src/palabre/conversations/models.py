from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.orgs.models import Channel, Organisation, Platform
from palabre.orgs.scoping import OrgScopedQuerySet


class Contact(models.Model):
    """One person, however many handles they use across the brand's channels."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="contacts")
    display_name = models.CharField(_("name"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.JSONField(default=list, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_contacts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class ContactHandle(models.Model):
    """An author identity on one platform (an account, an e-mail address, a commenter name)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="handles")
    platform = models.CharField(max_length=32, choices=Platform.choices)
    handle = models.CharField(max_length=300)
    display_name = models.CharField(max_length=200, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "platform", "handle"], name="contact_handle_unique"
            )
        ]
        # Analytics: the handles named as the organisation's channels (the brand's), any platform.
        indexes = [models.Index(fields=["organisation", "handle"], name="contact_handle_by_handle")]

    def __str__(self) -> str:
        return f"{self.handle} ({self.platform})"


class ItemKind(models.TextChoices):
    POST = "post", _("Post")
    COMMENT = "comment", _("Comment")
    REPLY = "reply", _("Reply")
    MENTION = "mention", _("Mention")
    DIRECT_MESSAGE = "direct_message", _("Direct message")
    REVIEW = "review", _("Review")


class Item(models.Model):
    """A normalised conversation item from any channel, keyed by (channel, external id)."""

    # No index of their own on organisation, channel, author and contact: each leads a composite
    # index below (or the unique key), which serves the same lookups and the foreign keys' checks;
    # every index is one more entry written for each item stored.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="items", db_index=False)
    external_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=32, choices=ItemKind.choices)
    author = models.ForeignKey(
        ContactHandle, null=True, blank=True, on_delete=models.SET_NULL, related_name="items", db_index=False
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="items", db_index=False
    )
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    # Kept so a reply that arrives before its parent is linked once the parent comes in.
    parent_external_id = models.CharField(max_length=300, blank=True)
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_items"
    )
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    metrics = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # In no index and no index's condition, so that marking an item analysed is a HOT update on
    # PostgreSQL (no index written again; the table keeps room in its pages for it: fill factor
    # 50, migration 0009). The items waiting for their analysis are listed in `PendingAnalysis`.
    analysed_at = models.DateTimeField(null=True, blank=True)
    # Deleting the item deletes what people corrected about it (and the copy of its text).
    corrections = GenericRelation("Correction")
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="item_external_id_unique_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "-created_at", "-id"]),
            models.Index(fields=["channel", "parent_external_id"]),
            # Analytics' returning contributors: has this contact written before the period (and
            # not as the brand)? On PostgreSQL the probe reads the index alone (no row fetched).
            models.Index(
                fields=["contact", "created_at"],
                include=["organisation", "author", "channel"],
                name="item_contact_created",
            ),
            # Analytics: the brand's answers of a period (by its handles), its posts of a period.
            # The team's figures read the answers from this index alone on PostgreSQL (no row
            # fetched): it carries what they test and count (conversations migration 0010).
            models.Index(
                fields=["author", "created_at"],
                include=["organisation", "channel", "kind", "thread_root"],
                name="item_author_created",
            ),
            models.Index(
                fields=["organisation", "created_at"],
                condition=models.Q(kind="post"),
                name="item_posts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}: {self.text[:60]}"

    @property
    def thread(self) -> Item:
        return self.thread_root or self


class PendingAnalysis(models.Model):
    """An item stored and not analysed yet: written with the item, deleted with the analysis mark
    (`Item.analysed_at`) in the transaction that analyses it. The workers' sweep reads this small
    table to find what a stopped worker left, instead of an index on the items' analysis mark,
    which made every mark a second write of all the items' indexes."""

    item = models.OneToOneField(Item, primary_key=True, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"item {self.item_id} waiting since {self.received_at:%Y-%m-%d %H:%M:%S}"


class CorrectedField(models.TextChoices):
    SENTIMENT = "sentiment", _("Sentiment")
    INTENT = "intent", _("Intent")


class Correction(models.Model):
    """A person's correction of what the analysis said about a text (its sentiment or its intent).

    The subject is an inbox item or a listening mention (any model that declares a
    ``GenericRelation`` to this one, so that deleting the subject deletes its corrections). The text
    and its language are copied so that `palabre train --include-feedback` learns from them; the
    copy lives exactly as long as the subject and its organisation.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    field = models.CharField(max_length=16, choices=CorrectedField.choices)
    old_value = models.CharField(max_length=16, blank=True)
    new_value = models.CharField(max_length=16)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_by_label = models.CharField(max_length=200, blank=True)
    corrected_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-corrected_at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "field", "-corrected_at", "-id"],
                name="correction_subject_latest",
            ),
            models.Index(fields=["organisation", "-corrected_at"], name="correction_org_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value or '?'} -> {self.new_value}"
