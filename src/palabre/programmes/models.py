"""Community programmes (DESIGN.md M8): contests with a verifiable draw, and polls counted from replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.conversations.models import Contact, Item
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


class ContestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed, entries frozen")
    DRAWN = "drawn", _("Drawn")


class Contest(models.Model):
    """Entries are the comments and replies under `posts`; the draw follows programmes/draw.py."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="contests")
    title = models.CharField(_("title"), max_length=200)
    rules = models.TextField(_("rules"), blank=True)
    posts = models.ManyToManyField(Item, related_name="contests", blank=True)
    closes_at = models.DateTimeField(_("closes at"))
    winners_wanted = models.PositiveSmallIntegerField(_("number of winners"), default=1)
    # The seed stays secret until the draw: encrypted like channel credentials (orgs.crypto).
    seed_ciphertext = models.TextField()
    commitment = models.CharField(max_length=64)
    entries_digest = models.CharField(max_length=64, blank=True)
    seed_revealed = models.CharField(max_length=64, blank=True)
    winners = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=ContestStatus.choices, default=ContestStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class EntryReview(models.TextChoices):
    PENDING = "", _("Not reviewed")
    KEPT = "kept", _("Kept")
    EXCLUDED = "excluded", _("Excluded")


class ContestEntry(models.Model):
    """One entry per person: the merged contact's first comment under the contest's posts."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="entries")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    # What the published list shows: the platform and the public handle, as the entrant knows it.
    reference = models.CharField(max_length=320)
    hunter_score = models.FloatField(default=0)
    hunter_reasons = models.JSONField(default=list, blank=True)
    review = models.CharField(
        max_length=16, choices=EntryReview.choices, default=EntryReview.PENDING, blank=True
    )
    review_note = models.CharField(max_length=300, blank=True)
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "contact"], name="one_entry_per_person"),
            models.UniqueConstraint(fields=["contest", "reference"], name="one_entry_per_reference"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def eligible(self) -> bool:
        return self.review != EntryReview.EXCLUDED

    def reasons_in_words(self) -> list[str]:
        from palabre.programmes.hunters import reason_words

        return [reason_words(r.get("signal", ""), r.get("figures") or {}) for r in self.hunter_reasons]


class Poll(models.Model):
    """A question asked in a post; the replies under it are the votes (programmes/polls.py)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="polls")
    post = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="polls")
    question = models.CharField(_("question"), max_length=300)
    options = models.JSONField(default=list)  # [{"label": ..., "emoji": ...}]
    closes_at = models.DateTimeField(_("closes at"))
    result = models.JSONField(default=dict, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.question


class IdeaStatus(models.TextChoices):
    NEW = "new", _("New")
    UNDER_REVIEW = "under_review", _("Under review")
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


class Idea(models.Model):
    """Suggestions from the community on one theme (programmes/ideas.py groups them)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(max_length=16, choices=IdeaStatus.choices, default=IdeaStatus.NEW)
    # People who asked or backed it (distinct merged contacts), kept up to date by collect_ideas.
    supporters = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The status last announced back to the people who asked: announcing twice sends nothing new.
    announced_status = models.CharField(max_length=16, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-supporters", "-created_at"]

    def __str__(self) -> str:
        return self.title


class IdeaSuggestion(models.Model):
    """A message that suggested the idea, or backed a suggestion ("+1", "moi aussi")."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="suggestions")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="idea_suggestion")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    backs = models.BooleanField(default=False)  # a "+1" under a suggestion, not a suggestion itself
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.idea}: {self.item_id}"


class Ambassador(models.Model):
    """An employee who chose to share the brand's approved posts on their own, approved account."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="ambassadors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    # Said in every share, as the law on commercial communication asks of an employee.
    disclosure = models.CharField(_("disclosure"), max_length=120)
    opted_in_at = models.DateTimeField(default=timezone.now)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_ambassador_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.channel}"

    @property
    def active(self) -> bool:
        return self.opted_out_at is None


class AmbassadorShare(models.Model):
    """A brand post an ambassador chose to share, and the draft of it on their own account."""

    ambassador = models.ForeignKey(Ambassador, on_delete=models.CASCADE, related_name="shares")
    source = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="+")
    draft = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ambassador", "source"], name="one_share_per_post")]

    def __str__(self) -> str:
        return f"{self.ambassador}: {self.source_id}"
