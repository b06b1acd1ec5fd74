"""The organisation's inbox settings (business hours, SLA, on-call, acknowledgement) and each member's inbox profile."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palabre.inbox import hours
from palabre.inbox.models import (
    InboxSettings,
    Intent,
    MemberProfile,
)
from palabre.inbox.services.reading import (
    _repliers,
    business_hours,
    forget_cached_hours,
    profile_for,
    settings_for,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_week(text_by_day: dict[str, str]) -> dict[str, list[list[str]]]:
    """{"0": "09:00-12:30, 14:00-18:00", ...} -> weekly hours; errors name the day field."""
    week: dict[str, list[list[str]]] = {}
    errors = {}
    for day, text in text_by_day.items():
        intervals = []
        for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
            bounds = [b.strip() for b in part.split("-")]
            if len(bounds) != 2 or not all(_HHMM.match(b) for b in bounds) or bounds[0] >= bounds[1]:
                errors[f"day_{day}"] = _("Write hours as 09:00-12:30, 14:00-18:00.")
                break
            intervals.append(bounds)
        if intervals:
            week[day] = intervals
    if errors:
        raise ValidationError(errors)
    return week


@transaction.atomic
def update_settings(
    *,
    actor: Actor,
    time_zone: str,
    weekly_hours: dict[str, list[list[str]]],
    holidays: list[str],
    first_response_minutes: int,
    on_call_id: int | None,
    auto_assign: bool,
    acknowledgements: dict[str, str],
) -> InboxSettings:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    actor.require(Perm.ORG_MANAGE)
    errors = {}
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = _("Unknown time zone: %(zone)s") % {"zone": time_zone}
    try:
        hours.BusinessHours.of("UTC", weekly_hours, holidays)
    except (ValueError, TypeError):
        errors["holidays"] = _("Write holidays as dates, one a line (2024-12-25).")
    if not 1 <= first_response_minutes <= 60 * 24 * 14:
        errors["first_response_minutes"] = _("Choose between 1 minute and 14 days.")
    on_call = None
    if on_call_id is not None:
        member = next((m for m in _repliers(actor.organisation) if m.user_id == on_call_id), None)
        if member is None:
            errors["on_call"] = _("Choose a member who may reply in the inbox.")
        else:
            on_call = member.user
    channel_ids = set(actor.organisation.channels.values_list("pk", flat=True))
    acknowledgements = {k: v.strip() for k, v in acknowledgements.items() if v and v.strip()}
    if any(int(k) not in channel_ids for k in acknowledgements):
        errors["acknowledgements"] = _("Unknown channel.")
    if errors:
        raise ValidationError(errors)
    inbox_settings = settings_for(actor.organisation)
    calendar_before = business_hours(actor.organisation, inbox_settings).key
    inbox_settings.time_zone = time_zone
    inbox_settings.weekly_hours = weekly_hours
    inbox_settings.holidays = sorted(set(holidays))
    inbox_settings.first_response_minutes = first_response_minutes
    inbox_settings.on_call = on_call
    inbox_settings.auto_assign = auto_assign
    inbox_settings.acknowledgements = acknowledgements
    inbox_settings.save()
    forget_cached_hours(actor.organisation.pk)
    if business_hours(actor.organisation, inbox_settings).key != calendar_before:
        # The threads' stored business durations are counted again (analytics counts them at each
        # report meanwhile: their calendar is no longer the organisation's).
        from palabre.inbox.tasks import recount_durations

        organisation_id = actor.organisation.pk
        transaction.on_commit(lambda: recount_durations.enqueue(organisation_id))
    record(
        actor,
        "inbox.settings_updated",
        actor.organisation,
        after={
            "time_zone": time_zone,
            "weekly_hours": weekly_hours,
            "holidays": inbox_settings.holidays,
            "first_response_minutes": first_response_minutes,
            "on_call": on_call.get_username() if on_call else None,
            "auto_assign": auto_assign,
        },
    )
    return inbox_settings


@transaction.atomic
def update_profile(
    *, actor: Actor, languages: list[str], skills: list[str], auto_assign: bool, sign_replies: bool
) -> MemberProfile:
    actor.require(Perm.ITEMS_VIEW)
    if actor.user is None:
        raise ValidationError({"languages": _("A profile belongs to a person.")})
    errors = {}
    if any(lang not in ("fr", "en") for lang in languages):
        errors["languages"] = _("Choose French or English.")
    if any(skill not in Intent.values for skill in skills):
        errors["skills"] = _("Choose among the intents.")
    if errors:
        raise ValidationError(errors)
    profile = profile_for(actor.organisation, actor.user)
    profile.languages, profile.skills = sorted(set(languages)), sorted(set(skills))
    profile.auto_assign, profile.sign_replies = auto_assign, sign_replies
    profile.save()
    record(actor, "inbox.profile_updated", profile, after={"languages": languages, "skills": skills})
    return profile
