"""Listening (M5) and crisis (M6): queries, sources, mentions, alerts and crisis mode."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.conversations.models import Item
from palabre.orgs.models import Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


class QueryKind(models.TextChoices):
    BRAND = "brand", _("Brand")
    COMPETITOR = "competitor", _("Competitor")
    TOPIC = "topic", _("Topic")


class ListeningQuery(models.Model):
    """A boolean query (palabre.nlp.query syntax) that selects the mentions worth keeping."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="listening_queries")
    name = models.CharField(_("name"), max_length=120)
    query = models.TextField(_("query"))
    kind = models.CharField(_("kind"), max_length=16, choices=QueryKind.choices, default=QueryKind.BRAND)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="listening_query_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    RSS = "rss", _("RSS/Atom feed")
    MASTODON_HASHTAG = "mastodon_hashtag", _("Mastodon hashtag")
    MASTODON_TIMELINE = "mastodon_timeline", _("Mastodon public timeline")
    BLUESKY_JETSTREAM = "bluesky_jetstream", _("Bluesky Jetstream")
    REDDIT_SEARCH = "reddit_search", _("Reddit search")
    WEB_PAGE = "web_page", _("Web page")
    OWN_CHANNELS = "own_channels", _("Our own channels")


class ListeningSource(models.Model):
    """Where mentions come from, polled on a schedule from a cursor, with its health."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="listening_sources")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=32, choices=SourceKind.choices)
    config = models.JSONField(default=dict, blank=True)
    interval_minutes = models.PositiveIntegerField(_("polling interval (minutes)"), default=15)
    active = models.BooleanField(_("active"), default=True)
    cursor = models.JSONField(default=dict, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Why the last search failed, as a word (connectors.search.SearchError.code): the page says it in the
    # reader's language; `last_error` keeps the technical detail.
    last_error_code = models.CharField(max_length=20, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    mentions_ingested = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="listening_source_name_unique")
        ]
        indexes = [models.Index(fields=["active", "next_poll_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def health(self) -> str:
        if not self.active:
            return "paused"
        if self.consecutive_failures >= 3:
            return "failing"
        if self.consecutive_failures:
            return "degraded"
        if self.last_success_at is None:
            return "pending"
        return "healthy"

    @property
    def error_words(self) -> str:
        """The last failure in a sentence of the reader's language, with what to do."""
        return source_error_words(self.last_error_code)


def source_error_words(code: str) -> str:
    texts = {
        "unreachable": _(
            "The source could not be reached (unknown address, connection refused or no answer in "
            "time). Palabre tries again by itself; check the address if it lasts."
        ),
        "http_error": _(
            "The source answered with an error. Palabre tries again by itself; check the address "
            "and the settings if it lasts."
        ),
        "rate_limited": _(
            "The source asked Palabre to slow down: Palabre waits as long as asked, then tries again."
        ),
        "malformed": _(
            "The source answered something Palabre cannot read (not a feed, too large or broken). "
            "Check that the address leads to what this kind of source expects."
        ),
        "refused": _("The platform refused the request. Check the source's settings and its access."),
    }
    return str(texts.get(code, _("The last fetch failed.")))


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class Mention(models.Model):
    """One post, article or comment from a source that matched at least one query."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="mentions")
    source = models.ForeignKey(ListeningSource, on_delete=models.CASCADE, related_name="mentions")
    external_id = models.CharField(max_length=500)
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    author = models.CharField(max_length=300, blank=True)
    author_name = models.CharField(max_length=300, blank=True)
    author_reach = models.PositiveIntegerField(null=True, blank=True)
    domain = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=8, blank=True)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, blank=True)
    negative_score = models.FloatField(default=0.0)
    published_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    queries = models.ManyToManyField(ListeningQuery, through="MentionMatch", related_name="mentions")
    objects = OrgScopedQuerySet.as_manager()
    # Deleting the mention deletes what people corrected about it (and the copy of its text).
    corrections = GenericRelation("conversations.Correction")

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="mention_external_id_unique")
        ]
        indexes = [models.Index(fields=["organisation", "-published_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.author or self.domain}: {self.text[:60]}"


class MentionMatch(models.Model):
    """Which query a mention matched, where in its text; the publication time is kept for series."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="matches")
    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="matches")
    spans = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField()
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mention", "query"], name="mention_match_unique")]
        indexes = [models.Index(fields=["query", "published_at"])]

    def __str__(self) -> str:
        return f"{self.query_id} ~ {self.mention_id}"


class AlertMetric(models.TextChoices):
    VOLUME = "volume", _("Mention volume")
    NEGATIVE_SHARE = "negative_share", _("Share of negative mentions")


class CrisisAlert(models.Model):
    """A spike on a query's volume or negative share, with why it was raised."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISMISSED = "dismissed", _("Dismissed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="crisis_alerts")
    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="alerts")
    metric = models.CharField(max_length=32, choices=AlertMetric.choices)
    bucket_minutes = models.PositiveIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    observed = models.FloatField()
    expected = models.FloatField()
    score = models.FloatField()
    explanation = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same spike is never alerted twice, however often detection runs.
            models.UniqueConstraint(
                fields=["query", "metric", "bucket_minutes", "window_start"], name="crisis_alert_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.query} · {self.get_metric_display()} · {self.window_start:%Y-%m-%d %H:%M}"


class AlertSubscription(models.Model):
    """Who hears of an alert: an e-mail address or a webhook URL (signed with its secret)."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="alert_subscriptions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(_("address or URL"), max_length=500)
    secret = models.CharField(max_length=128, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "target"], name="alert_subscription_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target}"


class AlertDelivery(models.Model):
    """One alert sent to one subscription: retried with backoff, and visible when it fails."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(CrisisAlert, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(AlertSubscription, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "subscription"], name="alert_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} -> {self.subscription_id}: {self.status}"


class CrisisMode(models.Model):
    """One crisis episode: open while `ended_at` is empty; its playbook checklist travels with it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="crisis_modes")
    alert = models.ForeignKey(CrisisAlert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.CharField(max_length=200, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=200, blank=True)
    # [{"text": str, "done": bool, "by": str, "at": iso}]
    checklist = models.JSONField(default=list, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(ended_at__isnull=True), name="one_open_crisis_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"Crisis {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.ended_at is None

    @property
    def duration(self) -> timedelta:
        return (self.ended_at or timezone.now()) - self.started_at


class CrisisPlaybook(models.Model):
    """The organisation's own checklist for a crisis (one step a line); the default applies without it."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="crisis_playbook"
    )
    steps = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return "Crisis playbook"

    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]


class QueryBackfill(models.Model):
    """A query run over what was already collected (the organisation's stored mentions and its own
    channels' items of the last days), in the background, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Searching")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="backfills")
    query_text = models.TextField()  # the text it ran, so an edit since does not mislabel it
    days = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    scanned = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["query", "-created_at"])]

    def __str__(self) -> str:
        return f"backfill of {self.query_id}: {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, round(100 * self.scanned / self.total)) if self.total else 0
