"""Internal notes and the @mentions they notify; notifications marked read."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.inbox.models import (
    Conversation,
    InternalNote,
    Notification,
)
from palabre.inbox.services.reading import _own
from palabre.orgs.models import Membership
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

MAX_NOTE_CHARS = 5_000
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


# --- notes and mentions ------------------------------------------------------------------------


@transaction.atomic
def add_note(*, actor: Actor, conversation: Conversation, text: str) -> InternalNote:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the note first.")})
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationError({"text": _("A note holds at most %(n)s characters.") % {"n": MAX_NOTE_CHARS}})
    named = {name.rstrip(".").lower() for name in _MENTION.findall(text)}
    members = {
        m.user.get_username().lower(): m.user
        for m in Membership.objects.active().visible_to(actor).select_related("user")
    }
    mentioned = [members[name] for name in sorted(named) if name in members]
    note = InternalNote.objects.create(
        organisation=actor.organisation,
        conversation=conversation,
        author=actor.user,
        text=text,
        mentions=[u.get_username() for u in mentioned],
    )
    for person in mentioned:
        if person.pk == actor.user_id:
            continue
        Notification.objects.create(
            organisation=actor.organisation,
            user=person,
            kind=Notification.Kind.MENTION,
            text=(_("%(who)s mentioned you: %(text)s") % {"who": actor.label, "text": text[:200]})[:500],
            conversation=conversation,
        )
    record(actor, "inbox.note_added", conversation, after={"mentions": note.mentions})
    return note


@transaction.atomic
def mark_notifications_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    actor.require(Perm.ITEMS_VIEW)
    rows = Notification.objects.visible_to(actor).filter(user_id=actor.user_id, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())
