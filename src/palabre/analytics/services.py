"""Who receives the report e-mails: recipients added and removed, each change in the audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from palabre.analytics.models import ReportRecipient
from palabre.orgs.models import Membership
from palabre.orgs.permissions import Perm, role_has
from palabre.orgs.services import Actor, NotInOrganisation, record


def outside_address_refusal() -> str:
    """Why this person cannot add an address outside the organisation (in the active language)."""
    return _(
        "Only a member who may change the organisation's settings adds an address outside it; "
        "choose a member."
    )


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
        else:
            if not actor.can(Perm.ORG_MANAGE):
                # An address outside the organisation is a standing export of its figures; it goes
                # when the person who added it leaves (see remove_outside_recipients_of).
                errors["email"] = [outside_address_refusal()]
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
            # The person behind a token too: what they add leaves with them.
            created_by_id=actor.human_id,
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


def _remove_outside(recipients, *, actor_of, reason: str, added_by: str) -> list[tuple[int, str]]:
    """Remove these outside recipients, each written in its organisation's audit log; their (id,
    address) as they were."""
    removed = []
    for recipient in recipients:
        record(
            actor_of(recipient),
            "analytics.report_recipient_removed",
            recipient,
            before={"member": None, "email": recipient.email},
            after={"reason": reason, "added_by": added_by},
        )
        removed.append((recipient.pk, recipient.email))
        recipient.delete()
    return removed


def remove_outside_recipients_of(
    *, actor: Actor, membership: Membership, reason: str = "added_by_member_left", **_kwargs: Any
) -> list[dict[str, Any]]:
    """A member leaves: the outside addresses they added stop receiving the organisation's figures
    (orgs sends `member_leaving`; the answer is listed in the offboarding report)."""
    recipients = (
        ReportRecipient.objects.for_org(membership.organisation)
        .filter(user__isnull=True, created_by=membership.user)
        .order_by("created_at", "pk")
    )
    removed = _remove_outside(
        recipients, actor_of=lambda _r: actor, reason=reason, added_by=membership.user.get_username()
    )
    return [
        {"kind": "report_recipient", "id": pk, "label": email, "url": reverse("analytics:emails"), "to": None}
        for pk, email in removed
    ]


def remove_outside_recipients_of_deleted_account(*, instance, **_kwargs: Any) -> None:
    """An account deleted outright (Django's admin, a shell) never left its organisations: the outside
    addresses it added would stay with no one accountable for them (`created_by` emptied). They go
    first, each written in its organisation's audit log as Palabre's own work."""
    recipients = ReportRecipient.objects.filter(user__isnull=True, created_by=instance).select_related(
        "organisation"
    )
    _remove_outside(
        recipients.order_by("organisation_id", "created_at", "pk"),
        actor_of=lambda recipient: Actor.palabre(recipient.organisation),
        reason="added_by_account_deleted",
        added_by=instance.get_username(),
    )


def remove_outside_recipients_on_demotion(
    *, actor: Actor, membership: Membership, before: str, **_kwargs: Any
) -> None:
    """A member whose new role may no longer name outside addresses (`org.manage`) no longer keeps
    the ones they named: otherwise a demotion would leave a standing export that its author could not
    set up any more (orgs sends `member_role_changed`)."""
    if role_has(membership.role, Perm.ORG_MANAGE) or not role_has(before, Perm.ORG_MANAGE):
        return
    remove_outside_recipients_of(actor=actor, membership=membership, reason="added_by_lost_permission")
