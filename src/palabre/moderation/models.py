from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.conversations.models import Contact, Item
from palabre.moderation import engine
from palabre.orgs.models import Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


class ModerationPolicy(models.Model):
    """An organisation's thresholds and author rules. Defaults are the engine's."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="moderation_policy"
    )
    hold_thresholds = models.JSONField(default=dict, blank=True)
    reject_thresholds = models.JSONField(default=dict, blank=True)
    # Learned from moderators' corrections: added to the hold thresholds, per label.
    learned_offsets = models.JSONField(default=dict, blank=True)
    max_links = models.PositiveSmallIntegerField(_("most links per comment"), default=2)
    first_time_hold_until = models.PositiveSmallIntegerField(
        _("hold new authors until this many approved comments"), default=0
    )
    rate_limit_per_hour = models.PositiveSmallIntegerField(_("most comments per author per hour"), default=0)
    # Stricter outside the inbox's business hours, while nobody reads (engine.OffHours).
    off_hours_enabled = models.BooleanField(_("stricter outside business hours"), default=False)
    off_hours_tightening = models.FloatField(_("lower the hold thresholds by"), default=0.15)
    off_hours_hold_first_messages = models.BooleanField(
        _("hold first messages of new authors outside business hours"), default=False
    )
    rules_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"moderation policy of {self.organisation}"

    def thresholds(self) -> engine.Thresholds:
        hold = {**engine.DEFAULT_HOLD, **self.hold_thresholds}
        for label, offset in self.learned_offsets.items():
            if label in hold:
                hold[label] = min(max(hold[label] + offset, 0.05), 0.99)
        return engine.Thresholds(
            hold=hold,
            reject={**engine.DEFAULT_REJECT, **self.reject_thresholds},
            max_links=self.max_links,
            first_time_hold_until=self.first_time_hold_until,
            rate_limit_per_hour=self.rate_limit_per_hour,
        )

    def off_hours(self) -> engine.OffHours | None:
        """The stricter policy to apply outside business hours, or None when it is off."""
        if not self.off_hours_enabled:
            return None
        return engine.OffHours(
            tightening=self.off_hours_tightening, hold_first_messages=self.off_hours_hold_first_messages
        )


class ModerationRule(models.Model):
    class Kind(models.TextChoices):
        BANNED_WORD = "banned_word", _("Banned word (reject)")
        SUSPECT_WORD = "suspect_word", _("Suspect word (hold)")
        ALLOWED_WORD = "allowed_word", _("Allowed word")
        REGEX = "regex", _("Regular expression")
        BLOCKED_DOMAIN = "blocked_domain", _("Blocked site")
        ALLOWED_DOMAIN = "allowed_domain", _("Allowed site")
        KNOWN_SPAMMER = "known_spammer", _("Known spammer (name, handle, e-mail or IP)")

    class Action(models.TextChoices):
        HOLD = engine.HOLD, _("Hold for review")
        REJECT = engine.REJECT, _("Reject")

    class State(models.TextChoices):
        SIMULATING = "simulating", _("Simulation")
        ENABLED = "enabled", _("Enabled")
        DISABLED = "disabled", _("Disabled")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="moderation_rules")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    pattern = models.CharField(_("word, pattern, site or author"), max_length=500)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, default=Action.HOLD)
    note = models.CharField(_("note"), max_length=300, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Word rules catch plurals and simple inflections ("escroc" → "escrocs", "voleur" → "voleuse")
    # unless the rule asks for the word exactly as written.
    exact_match = models.BooleanField(_("exact word only"), default=False)
    # When the rule was first enabled: a rule never enabled is still being simulated.
    enabled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "pattern"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.pattern}"

    @property
    def state(self) -> str:
        """simulating (created, never enabled: it decides nothing yet), enabled or disabled."""
        if self.enabled:
            return self.State.ENABLED
        return self.State.SIMULATING if self.enabled_at is None else self.State.DISABLED

    def get_state_display(self) -> str:
        return str(self.State(self.state).label)

    def as_engine_rule(self) -> engine.Rule:
        return engine.Rule(
            id=f"rule:{self.pk}",
            kind=self.kind,
            pattern=self.pattern,
            action=self.action,
            note=self.note,
            exact=self.exact_match,
        )


class ModerationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PUBLISHED = "published", _("Published")
    HELD = "held", _("Held")
    REPORTED = "reported", _("Reported")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")


class ItemModeration(models.Model):
    """Where an item stands in moderation now; its history is in ModerationDecision."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="moderation")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    is_spam = models.BooleanField(default=False)
    reports = models.PositiveIntegerField(default=0)
    last_decision = models.ForeignKey(
        "ModerationDecision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "status", "-updated_at"])]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.status}"

    @property
    def rejected_as_spam(self) -> bool:
        """Rejected as spam, by a moderator or blatantly by the machine: nobody answers it."""
        if self.status != ModerationStatus.REJECTED:
            return False
        if self.is_spam:
            return True
        decision = self.last_decision
        return decision is not None and engine.is_blatant_spam(decision.action, decision.reasons)


class ModerationDecision(models.Model):
    """One decision on one item, automatic or by a person, with everything that led to it."""

    class Source(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        MODERATOR = "moderator", _("Moderator")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="moderation_decisions")
    source = models.CharField(max_length=16, choices=Source.choices)
    action = models.CharField(
        max_length=16
    )  # publish/hold/reject, or a moderator's approve/reject/spam/ham/restore
    status_after = models.CharField(max_length=16, choices=ModerationStatus.choices)
    scores = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    rules_fired = models.JSONField(default=list)
    spans = models.JSONField(default=list)
    model_version = models.CharField(max_length=80, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=500, blank=True)
    # Where the item stood before a moderator's decision, so that it can be undone exactly
    # (a reported or pending item has no decision of its own to go back to).
    status_before = models.CharField(max_length=16, choices=ModerationStatus.choices, blank=True)
    spam_before = models.BooleanField(null=True, blank=True)
    replaced = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A moderator's "undo": the decision this one took back (this row's action is "undo").
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undone_by"
    )
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.action} ({self.source})"


class AuthorTrust(models.Model):
    """What moderators said of a contact's messages (karma, in the manner of Coral)."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="trust")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    approved = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    spam = models.PositiveIntegerField(default=0)
    objects = OrgScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"trust of {self.contact}: +{self.approved} -{self.rejected}"

    @property
    def karma(self) -> int:
        return self.approved - self.rejected - 2 * self.spam


class MessageFingerprint(models.Model):
    """A message a moderator marked as spam (or as fine): later copies are decided alike."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=16)
    is_spam = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fingerprint"], name="one_fingerprint_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint} ({'spam' if self.is_spam else 'ham'})"


class ToxicAnswer(models.TextChoices):
    """How the Akismet-compatible API answers a comment held or rejected as toxic, not as spam."""

    HOLD = "hold", _("Hold it in Palabre and answer “not spam”, with the header X-Palabre-Held: toxic")
    SPAM = "spam", _("Answer “spam”, so that the site files it with its spam")


class ModerationSite(models.Model):
    """A website of the organisation whose comments Palabre moderates: through the
    Akismet-compatible API (its key) or the embeddable comment form (its public id).
    Comments it sends become items of its site-comments channel."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="moderation_sites")
    channel = models.ForeignKey("orgs.Channel", on_delete=models.PROTECT, related_name="moderation_sites")
    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("address"), max_length=500, help_text=_("The blog or forum's home page."))
    # Akismet clients send the key in clear on every call: only its hash is kept.
    api_key_hash = models.CharField(max_length=64, unique=True)
    api_key_hint = models.CharField(max_length=8, blank=True)
    # Public: written into the page that embeds the comment form.
    public_id = models.CharField(max_length=32, unique=True)
    allowed_origins = models.JSONField(default=list, blank=True)
    # Akismet's `true` means spam: what a comment that is toxic and not spam is answered.
    toxic_answer = models.CharField(
        _("toxic comments that are not spam"),
        max_length=8,
        choices=ToxicAnswer.choices,
        default=ToxicAnswer.HOLD,
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
