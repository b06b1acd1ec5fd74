"""Inbox data: one row per thread (denormalised for the list), and what the team adds around it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.conversations.models import Contact, Item
from palabre.inbox.hours import BusinessHours
from palabre.inbox.priority import waiting_reason
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    CLOSED = "closed", _("Closed")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Intent(models.TextChoices):
    QUESTION = "question", _("Question")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    LEAD = "lead", _("Lead")
    CRISIS = "crisis", _("Crisis")
    OTHER = "other", _("Other")


# The row's moments analytics' stored durations are counted from, and those durations.
DURATION_MOMENTS = ("began_at", "first_responded_at", "status_changed_at")
DURATION_FIELDS = (
    "business_to_first_response",
    "business_to_status_change",
    "first_response_out_of_hours",
    "hours_key",
)


class Conversation(models.Model):
    """A thread as the inbox sees it: one row per thread root, kept up to date by the analyser.

    Everything the list shows or filters on lives here, so the list is one indexed query.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    root = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="inbox_conversation")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(default=0)
    priority_reasons = models.JSONField(default=list, blank=True)
    # A priority the team set by hand (bulk action): it wins over the computed one until cleared.
    manual_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)  # the team's labels: ["refund", "vip"]
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    intent = models.CharField(max_length=16, choices=Intent.choices, blank=True)
    language = models.CharField(max_length=8, blank=True)
    author_label = models.CharField(max_length=200, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    preview = models.CharField(max_length=280, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    awaiting_reply = models.BooleanField(default=False)
    last_customer_item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    # Since when the thread waits: its first customer message after the brand's last answer (None
    # when nothing waits). The periodic re-ranking reads it to touch only the threads whose waiting
    # points have moved since the row was computed (`updated_at`), not every waiting thread.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # When the team was told this wait's answer is overdue (`warn_breaches`); a new wait clears it.
    sla_warned_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    out_of_hours = models.BooleanField(default=False)
    on_call_notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the thread began: its root's `created_at`, kept here so that analytics finds the threads
    # begun in a period through an index instead of joining every thread to its root.
    began_at = models.DateTimeField(null=True, blank=True)
    # Analytics' business time, counted when the moments below change (`keep_durations`) instead of
    # at every report: business seconds from `began_at` to the first response and to the last
    # status change, whether the first response came out of hours, and the calendar they were
    # counted with (`BusinessHours.key`; analytics counts again where it is not the current one).
    business_to_first_response = models.FloatField(null=True, blank=True)
    business_to_status_change = models.FloatField(null=True, blank=True)
    first_response_out_of_hours = models.BooleanField(null=True, blank=True)
    hours_key = models.BigIntegerField(null=True, blank=True)
    # The author of the thread's first inbox reply (by date, then id; None when it has none or its
    # author is gone), kept by `keep_first_reply_authors` when a reply is written, moved or deleted:
    # analytics' team figures credit the brand's answers to them without looking the reply up.
    first_reply_author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(
                fields=["organisation", "status", "-last_activity_at", "-id"], name="inbox_conv_status"
            ),
            models.Index(
                fields=["organisation", "assignee", "status", "-last_activity_at", "-id"],
                name="inbox_conv_assignee",
            ),
            models.Index(
                fields=["organisation", "status", "first_response_due_at"],
                condition=Q(awaiting_reply=True),
                name="inbox_conv_sla",
            ),
            models.Index(fields=["organisation", "-last_activity_at", "-id"], name="inbox_conv_recent"),
            # The breaches nobody was told of yet: the tick reads these, not every thread that has
            # waited past its target (a busy site's comments may wait forever; inbox migration 0010).
            models.Index(
                fields=["organisation", "first_response_due_at"],
                condition=Q(awaiting_reply=True, sla_warned_at=None),
                name="inbox_conv_unwarned",
            ),
            # Analytics' care: the period's threads by when they began, read from the index alone
            # on PostgreSQL (it carries every column care reads; inbox migration 0007), and the
            # team's: the members of the threads begun around the period (root, first reply
            # author and assignee; inbox migration 0008).
            models.Index(
                fields=["organisation", "began_at"],
                include=[
                    "channel",
                    "assignee",
                    "intent",
                    "status",
                    "first_responded_at",
                    "status_changed_at",
                    *DURATION_FIELDS,
                    "root",
                    "first_reply_author",
                ],
                name="inbox_conv_began",
            ),
            # Analytics' team: each answer's thread row found by its root, its member read from
            # the index alone on PostgreSQL (inbox migration 0006).
            models.Index(
                fields=["root"], include=["first_reply_author", "assignee"], name="inbox_conv_root_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_label}: {self.preview[:60]}"

    def save(self, *args, **kwargs) -> None:
        if self.began_at is None and self.root_id:
            self.began_at = self.root.created_at
        fields = kwargs.get("update_fields")
        if fields is None or set(fields) & set(DURATION_MOMENTS):
            from palabre.inbox.durations import organisation_hours

            self.keep_durations(
                organisation_hours(
                    InboxSettings.objects.for_org(self.organisation_id), Organisation, self.organisation_id
                )
            )
            if fields is not None:
                kwargs["update_fields"] = list({*fields, *DURATION_FIELDS})
        super().save(*args, **kwargs)

    def keep_durations(self, hours: BusinessHours) -> None:
        """Count the stored business durations from the row's moments with these hours."""
        began = self.began_at
        first, changed = self.first_responded_at, self.status_changed_at
        self.business_to_first_response = hours.business_seconds(began, first) if began and first else None
        self.business_to_status_change = hours.business_seconds(began, changed) if began and changed else None
        self.first_response_out_of_hours = hours.closed_at(first) if first else None
        self.hours_key = hours.key

    def reasons_now(self, now=None) -> list[dict]:
        """The priority's reasons with the wait counted until now: the row keeps those of its last
        computation, and the periodic re-ranking computes it again only when the points move."""
        if not (self.awaiting_reply and self.waiting_since):
            return self.priority_reasons
        minutes = ((now or timezone.now()) - self.waiting_since).total_seconds() / 60
        waited = waiting_reason(minutes)
        return [
            waited.as_dict() if reason["code"] == "waiting" and waited is not None else reason
            for reason in self.priority_reasons
        ]

    def sla_breached(self, now=None) -> bool:
        now = now or timezone.now()
        return bool(self.awaiting_reply and self.first_response_due_at and self.first_response_due_at < now)


class InboxSettings(models.Model):
    """An organisation's business hours, response target, on-call person and after-hours replies."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="inbox_settings")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    # {"0": [["09:00", "18:00"]], ...}: Monday is 0; a day without hours is closed.
    weekly_hours = models.JSONField(default=dict, blank=True)
    holidays = models.JSONField(default=list, blank=True)  # ["2024-12-25", ...]
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (business minutes)"), default=120
    )
    on_call = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_assign = models.BooleanField(_("assign new threads automatically"), default=False)
    # {"<channel id>": "text"}: sent once per thread that arrives out of hours.
    acknowledgements = models.JSONField(default=dict, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"inbox settings of {self.organisation}"


class MemberProfile(models.Model):
    """What a member handles (languages, skills) and how their replies are signed."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    languages = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)  # intents: question, complaint...
    auto_assign = models.BooleanField(default=True)
    sign_replies = models.BooleanField(default=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="inbox_profile_unique")]

    def __str__(self) -> str:
        return f"inbox profile of {self.user}"


class InternalNote(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    mentions = models.JSONField(default=list, blank=True)  # user names
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention", _("Mention")
        ASSIGNED = "assigned", _("Assignment")
        ON_CALL = "on_call", _("On-call alert")
        SLA = "sla", _("Response overdue")
        DIGEST = "digest", _("Morning digest")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.CharField(max_length=500)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "user", "read_at"])]

    def __str__(self) -> str:
        return self.text[:60]


class SavedReply(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    language = models.CharField(_("language"), max_length=8, blank=True)
    text = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class SavedView(models.Model):
    """A named set of inbox filters, for one person or shared with the team."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    filters = models.JSONField(default=dict)
    shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Reply(models.Model):
    """A reply written in the inbox; delivery is the connectors' outbound action it queued."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="replies")
    in_reply_to = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    idempotency_key = models.CharField(max_length=80)
    saved_reply = models.ForeignKey(
        SavedReply, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    warnings = models.JSONField(default=list, blank=True)
    action_id = models.PositiveBigIntegerField(null=True, blank=True)  # connectors' OutboundAction
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "idempotency_key"], name="inbox_reply_once")
        ]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if fields is None or {"conversation", "conversation_id", "author", "author_id", "created_at"} & set(
            fields
        ):
            keep_first_reply_authors([self.conversation_id])
            if Reply.conversation.is_cached(self):  # the caller's row, saved after (send_reply)
                self.conversation.first_reply_author_id = (
                    Conversation.objects.filter(pk=self.conversation_id)
                    .values_list("first_reply_author_id", flat=True)
                    .first()
                )


def keep_first_reply_authors(conversation_ids) -> None:
    """Write on these threads' rows the author of their first inbox reply (see
    `Conversation.first_reply_author`): after a reply is saved or deleted, or moved by a merge."""
    first = (
        Reply.objects.filter(conversation_id=OuterRef("pk"))
        .order_by("created_at", "pk")
        .values("author_id")[:1]
    )
    Conversation.objects.filter(pk__in=list(conversation_ids)).update(first_reply_author_id=Subquery(first))


@receiver(post_delete, sender=Reply, dispatch_uid="inbox.reply_deleted")
def _reply_deleted(sender, instance: Reply, **kwargs) -> None:
    keep_first_reply_authors([instance.conversation_id])


class Presence(models.Model):
    """Who has a thread open, or is typing a reply in it; rows older than a few seconds are stale."""

    class State(models.TextChoices):
        VIEWING = "viewing", _("viewing")
        REPLYING = "replying", _("replying")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.VIEWING)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="inbox_presence_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.state}"


class KnowledgeArticle(models.Model):
    class Category(models.TextChoices):
        PRODUCT = "product", _("Product")
        HISTORY = "history", _("History")
        POLICY = "policy", _("Policy")
        FAQ = "faq", _("FAQ")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.FAQ)
    language = models.CharField(_("language"), max_length=8, blank=True)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title
