"""The report e-mails: who receives the weekly and monthly reports, and each period's sending."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.orgs.models import Organisation
from palabre.orgs.scoping import OrgScopedQuerySet


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ReportRecipient(models.Model):
    """A person who receives the organisation's report by e-mail: a member (at the address of
    their account, while they are a member) or an address outside Palabre, in their language."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    weekly = models.BooleanField(_("weekly report"), default=True)
    monthly = models.BooleanField(_("monthly report"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(email="")) | (Q(user__isnull=True) & ~Q(email="")),
                name="report_recipient_member_or_address",
            ),
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(user__isnull=False),
                name="report_recipient_one_per_member",
            ),
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=~Q(email=""),
                name="report_recipient_one_per_address",
            ),
        ]

    def __str__(self) -> str:
        return self.email or str(self.user)


class ReportDispatch(models.Model):
    """The sending of one period's report of an organisation. The row is the claim: a worker that
    inserts it sends the report; any other finds it and leaves it. A claim whose worker died
    before finishing is taken again after a lease; the addresses already served are kept, so
    that nobody receives a period twice."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    first = models.DateField()
    last = models.DateField()
    claimed_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=1)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-first", "frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "frequency", "first"], name="report_dispatch_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.frequency} report {self.first}..{self.last} of {self.organisation_id}"


class CommentDay(models.Model):
    """The customers' items (the comment kinds of the figures) of one UTC day, counted per
    channel, author and contact: the conversation quality's comments, substantive comments and
    contributors read from these rows for the whole UTC days of a period instead of from one index
    entry per comment (metrics/conversation.py).

    Kept by the database itself, on PostgreSQL only: triggers on the items' table (analytics
    migration 0002) count each item inserted, moved (contact, author, channel, day, kind or text
    changed, as a contacts' merge does) and deleted, whatever wrote it (the pipeline, a bulk
    update, a cascade). Plain integers, no foreign keys: the rows follow the items, not the
    deletion of what they name. The brand's items are counted too (under their author and channel)
    and left out when read, so that a change of the brand's handles needs no recount. SQLite keeps
    no rows: its figures are read from the items."""

    organisation_id = models.BigIntegerField()
    day = models.DateField()
    channel_id = models.BigIntegerField()
    author_id = models.BigIntegerField(null=True)
    contact_id = models.BigIntegerField(null=True)
    comments = models.IntegerField()
    substantive = models.IntegerField()
    # The organisation by its id (no foreign key): `for_org(organisation.pk)`.
    organisation_path = "organisation_id"
    objects = OrgScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.day} contact {self.contact_id}: {self.comments}"
