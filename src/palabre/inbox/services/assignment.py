"""Assignment and status of a thread, automatic assignment, and presence (who is reading or answering a thread, for the collision warning)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.inbox.models import (
    Conversation,
    MemberProfile,
    Notification,
    Presence,
    Status,
)
from palabre.inbox.services.reading import _own, _repliers
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

PRESENCE_SECONDS = 20


# --- assignment and status ---------------------------------------------------------------------


@transaction.atomic
def assign(*, actor: Actor, conversation: Conversation, assignee_id: int | None) -> Conversation:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    # Taking a free thread or letting go of one's own is answering; handing a thread to someone
    # else, or taking it from them, is managing the team's inbox.
    if {conversation.assignee_id, assignee_id} - {None, actor.user_id}:
        actor.require(Perm.INBOX_MANAGE)
    assignee = None
    if assignee_id is not None:
        membership = next((m for m in _repliers(actor.organisation) if m.user_id == assignee_id), None)
        if membership is None:
            raise ValidationError({"assignee": _("Choose a member who may reply in the inbox.")})
        assignee = membership.user
    before = conversation.assignee.get_username() if conversation.assignee else None
    conversation.assignee = assignee
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["assignee", "updated_at"])
    if assignee is not None and assignee.pk != actor.user_id:
        Notification.objects.create(
            organisation=actor.organisation,
            user=assignee,
            kind=Notification.Kind.ASSIGNED,
            text=(
                _("%(who)s assigned you a thread: %(text)s")
                % {"who": actor.label, "text": conversation.preview[:200]}
            )[:500],
            conversation=conversation,
        )
    record(
        actor,
        "inbox.assigned",
        conversation,
        before={"assignee": before},
        after={"assignee": assignee.get_username() if assignee else None},
    )
    return conversation


def auto_assign(*, actor: Actor, conversation: Conversation) -> Conversation | None:
    """Round robin among the members who handle the thread's language and intent."""
    actor.require(Perm.INBOX_MANAGE)
    _own(actor, conversation)
    with transaction.atomic():
        repliers = {m.user_id: m for m in _repliers(actor.organisation)}
        profiles = list(
            MemberProfile.objects.select_for_update()
            .visible_to(actor)
            .filter(auto_assign=True, user_id__in=list(repliers))
            .order_by("pk")
        )

        def fits(profile: MemberProfile) -> bool:
            language_ok = not profile.languages or conversation.language in profile.languages
            skill_ok = not profile.skills or conversation.intent in profile.skills
            return language_ok and skill_ok

        candidates = [p for p in profiles if fits(p)]
        # Those who declared the skill come before generalists.
        skilled = [p for p in candidates if conversation.intent in p.skills]
        candidates = skilled or candidates
        if not candidates:
            return None
        epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        chosen = min(candidates, key=lambda p: (p.last_assigned_at or epoch, p.pk))
        chosen.last_assigned_at = timezone.now()
        chosen.save(update_fields=["last_assigned_at"])
        return assign(actor=actor, conversation=conversation, assignee_id=chosen.user_id)


@transaction.atomic
def set_status(*, actor: Actor, conversation: Conversation, status: str) -> Conversation:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    if status not in Status.values:
        raise ValidationError({"status": _("Choose open, pending or closed.")})
    before = conversation.status
    conversation.status = status
    conversation.updated_at = conversation.status_changed_at = timezone.now()
    conversation.save(update_fields=["status", "status_changed_at", "updated_at"])
    record(actor, "inbox.status", conversation, before={"status": before}, after={"status": status})
    return conversation


# --- presence ------------------------------------------------------------------------------------


def touch_presence(*, actor: Actor, conversation: Conversation, state: str) -> list[Presence]:
    """Say that this person is on the thread; returns the others seen there in the last seconds.

    Not audited: presence is a heartbeat, not a change anyone needs on record.
    """
    actor.require(Perm.ITEMS_VIEW)
    _own(actor, conversation)
    if state not in Presence.State.values:
        raise ValidationError({"state": _("Unknown state.")})
    now = timezone.now()
    if actor.user is not None:
        Presence.objects.update_or_create(
            conversation=conversation, user=actor.user, defaults={"state": state, "seen_at": now}
        )
    return list(
        Presence.objects.filter(
            conversation=conversation, seen_at__gte=now - timedelta(seconds=PRESENCE_SECONDS)
        )
        .exclude(user_id=actor.user_id)
        .select_related("user")
    )
