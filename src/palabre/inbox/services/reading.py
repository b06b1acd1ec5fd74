"""Reading the inbox: an organisation's inbox settings and business hours (kept a few seconds), a thread as an actor sees it, who replies for the brand, what a thread answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from palabre import bulk
from palabre.conversations.models import Item
from palabre.inbox import hours
from palabre.inbox.models import (
    Conversation,
    InboxSettings,
    MemberProfile,
)
from palabre.orgs.models import Membership, Organisation
from palabre.orgs.permissions import Perm, role_has
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.recent import RecentReads

User = get_user_model()


# --- reading helpers ---------------------------------------------------------------------------


# Read twice for every batch of the pipeline's inbox stage: compiled once (palabre.bulk.Prepared).
_settings_rows = bulk.Prepared(
    lambda organisation_id: InboxSettings.objects.for_org(organisation_id).order_by("pk")[:1]
)


def settings_for(organisation: Organisation) -> InboxSettings:
    found = next(iter(_settings_rows(organisation.pk)), None)
    if found is None:
        found, _created = InboxSettings.objects.get_or_create(
            organisation=organisation,
            defaults={"time_zone": organisation.time_zone, "weekly_hours": hours.DEFAULT_WEEK},
        )
        forget_cached_hours(organisation.pk)
    return found


# Moderation asks on every synchronous check (Akismet-compatible API, comment form) whether a moment
# is out of hours: the calendar is kept a few seconds in the `recent` cache (palabre.recent). A change
# applies at once where the cache is shared (Redis), else in this process and within 5 seconds.
_recent_hours = RecentReads("inbox-hours", seconds=5.0, keep_missing=True)


def configured_hours(organisation_id: int) -> hours.BusinessHours | None:
    """The organisation's business hours, or None when its inbox settings were never created
    (nothing is written here: this is read in requests of the compatible APIs)."""

    def read() -> hours.BusinessHours | None:
        row = (
            InboxSettings.objects.for_org(organisation_id)
            .values_list("time_zone", "weekly_hours", "holidays")
            .first()
        )
        return hours.BusinessHours.of(*row) if row else None

    return _recent_hours.get(organisation_id, read)


def forget_cached_hours(organisation_id: int) -> None:
    _recent_hours.forget(organisation_id)


def is_out_of_hours(organisation_id: int, moment: datetime) -> bool:
    """Registered with moderation (its off-hours hook): True outside the organisation's business
    hours; False when it has none configured."""
    calendar = configured_hours(organisation_id)
    return calendar is not None and not calendar.is_open(moment)


def business_hours(
    organisation: Organisation, inbox_settings: InboxSettings | None = None
) -> hours.BusinessHours:
    s = inbox_settings or settings_for(organisation)
    return hours.BusinessHours.of(s.time_zone, s.weekly_hours, s.holidays)


def conversation_for(*, actor: Actor, conversation_id: int) -> Conversation:
    actor.require(Perm.ITEMS_VIEW)
    found = (
        Conversation.objects.select_related("channel", "contact", "assignee", "root", "last_customer_item")
        .visible_to(actor)
        .filter(pk=conversation_id)
        .first()
    )
    if found is None:
        raise NotInOrganisation
    return found


def _own(actor: Actor, obj: Any) -> None:
    if obj is None or obj.organisation_id != actor.organisation.pk:
        raise NotInOrganisation


def profile_for(organisation: Organisation, user) -> MemberProfile:
    found = MemberProfile.objects.for_org(organisation).filter(user=user).first()
    if found is None:
        found, _created = MemberProfile.objects.get_or_create(organisation=organisation, user=user)
    return found


def _repliers(organisation: Organisation):
    """Active members whose role may reply in the inbox."""
    return [
        m
        for m in Membership.objects.active().for_org(organisation).select_related("user")
        if role_has(m.role, Perm.INBOX_REPLY)
    ]


def is_brand_item(item: Item) -> bool:
    return item.author is not None and item.author.handle == item.channel.handle


def answered_post(items: list[Item]) -> dict[str, Any] | None:
    """The brand's post a thread answers: the thread's root when the brand wrote it, or, when the
    post was never collected, the reference ingestion kept (`parent_external_id`)."""
    if not items:
        return None
    root = items[0]
    if is_brand_item(root):
        return {
            "stored": True,
            "item_id": root.pk,
            "external_id": root.external_id,
            "text": root.text,
            "url": root.url,
            "created_at": root.created_at,
        }
    if root.parent_external_id and root.parent_id is None:
        return {
            "stored": False,
            "item_id": None,
            "external_id": root.parent_external_id,
            "text": "",
            "url": "",
            "created_at": None,
        }
    return None
