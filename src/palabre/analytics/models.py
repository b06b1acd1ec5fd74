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
