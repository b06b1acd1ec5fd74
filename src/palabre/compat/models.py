"""The drop-in protocols' own rows, each about one moderation site: the per-minute request counts and
monthly usage of an Akismet key, the comments answered for and not stored yet, the widget's form
tokens that served their comment. They were moderation's: their tables keep moderation's names (no
table was renamed, `compat/0002`)."""

from __future__ import annotations

from django.db import models

from palabre.moderation.models import ModerationSite


class SiteRequestCount(models.Model):
    """Requests of a site's key in one minute: the rate limit, shared by every server process."""

    site = models.ForeignKey(ModerationSite, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()  # minutes since the Unix epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "moderation_siterequestcount"  # the table it had in moderation, kept
        constraints = [models.UniqueConstraint(fields=["site", "minute"], name="one_count_per_site_minute")]

    def __str__(self) -> str:
        return f"{self.count} requests of site {self.site_id} in minute {self.minute}"


class SiteMonthlyUsage(models.Model):
    """comment-check calls of a site's key in one month (UTC), as Akismet's usage-limit counts
    them: each call answered for, re-checks included, counted once when its journal row is stored
    (the rows still waiting are added at reading)."""

    site = models.ForeignKey(ModerationSite, on_delete=models.CASCADE, related_name="+")
    month = models.PositiveIntegerField()  # year * 100 + month, e.g. 202612
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "moderation_sitemonthlyusage"  # the table it had in moderation, kept
        constraints = [models.UniqueConstraint(fields=["site", "month"], name="one_usage_per_site_month")]

    def __str__(self) -> str:
        return f"{self.calls} calls of site {self.site_id} in {self.month}"


class CheckedComment(models.Model):
    """A comment the Akismet-compatible API answered for, not stored yet.

    The request writes this one row, with one INSERT, before it answers; a task stores such rows in
    batches as items with the very decision answered (`palabre.compat.journal`), then deletes
    them. A row that could not be stored stays, with its error."""

    site = models.ForeignKey(ModerationSite, on_delete=models.CASCADE, related_name="+")
    guid = models.CharField(max_length=64)
    params = models.TextField()  # the call's fields the item needs, as JSON
    decision = models.TextField(blank=True)  # the engine's decision as JSON; "" when a moderator's stood
    checked_at = models.DateTimeField()
    error = models.TextField(blank=True)

    class Meta:
        db_table = "moderation_checkedcomment"  # the table it had in moderation, kept

    def __str__(self) -> str:
        return f"comment {self.guid} checked for site {self.site_id}, not stored yet"


class UsedFormToken(models.Model):
    """A comment form's token that served its comment: a token serves one (`compat.widget.comments.claim_form_token`).
    The unique constraint makes two concurrent posts with one token store one comment. Rows older
    than a token's lifetime are deleted as new ones come: such a token is refused as expired anyway."""

    site = models.ForeignKey(ModerationSite, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)  # sha256 of the token
    used_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "moderation_usedformtoken"  # the table it had in moderation, kept
        constraints = [models.UniqueConstraint(fields=["site", "digest"], name="one_use_per_form_token")]

    def __str__(self) -> str:
        return f"form token {self.digest[:8]} of site {self.site_id}, used {self.used_at}"
