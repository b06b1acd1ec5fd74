"""Who receives the report e-mails: recipients added and removed, each change in the audit log."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils.translation import gettext as _

from palabre.analytics.models import ReportRecipient
from palabre.orgs.models import Membership
from palabre.orgs.permissions import Perm, role_has
from palabre.orgs.services import Actor, NotInOrganisation, record


def add_recipient(
    *,
    actor: Actor,
    member_id: int | None = None,
    email: str = "",
    language: str,
    weekly: bool,
    monthly: bool,
) -> ReportRecipient:
    """A member of the organisation (at their account's address) or an address, weekly and/or
    monthly, in one of Palabre's languages."""
    actor.require(Perm.ANALYTICS_VIEW)
    email = (email or "").strip()
    errors: dict[str, list[str]] = {}
    if bool(member_id) == bool(email):
        errors["member"] = [_("Choose a member or type an address, not both.")]
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if member_id:
        role = (
            Membership.objects.active()
            .for_org(actor.organisation)
            .filter(user_id=member_id)
            .values_list("role", flat=True)
            .first()
        )
        if role is None:
            errors["member"] = [_("No such member in this organisation.")]
        elif not role_has(role, Perm.ANALYTICS_VIEW):
            # The reports hold the figures of every channel and member: only for those who may see them.
            errors["member"] = [_("This member's role does not allow seeing analytics and reports.")]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of the languages offered.")]
    if not (weekly or monthly):
        errors["weekly"] = [_("Choose the weekly report, the monthly report or both.")]
    if not errors:
        taken = ReportRecipient.objects.visible_to(actor)
        if member_id and taken.filter(user_id=member_id).exists():
            errors["member"] = [_("This member already receives the reports.")]
        elif email and taken.filter(email__iexact=email).exists():
            errors["email"] = [_("This address already receives the reports.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        recipient = ReportRecipient.objects.create(
            organisation=actor.organisation,
            user_id=member_id or None,
            email=email,
            language=language,
            weekly=weekly,
            monthly=monthly,
            created_by=actor.user,
        )
        record(
            actor,
            "analytics.report_recipient_added",
            recipient,
            after={
                "member": member_id,
                "email": email,
                "language": language,
                "weekly": weekly,
                "monthly": monthly,
            },
        )
    return recipient


def remove_recipient(*, actor: Actor, recipient: ReportRecipient) -> None:
    actor.require(Perm.ANALYTICS_VIEW)
    if recipient.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    with transaction.atomic():
        record(
            actor,
            "analytics.report_recipient_removed",
            recipient,
            before={"member": recipient.user_id, "email": recipient.email},
        )
        recipient.delete()
