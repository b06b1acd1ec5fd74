"""Bulk actions on inbox threads: assign, close or reopen, tag, set a priority, mark as spam.

One service for the page (htmx or a plain form) and the API. All the threads or none: the ids are
checked against the actor's organisation first (one foreign id refuses the whole batch with 404,
nothing touched), then each thread goes through the same per-thread service as a single click, so
each keeps its permission check and its own audit entry. The result says what each thread held
before, so the page can offer to put it back (`restore`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palabre.conversations.models import Item
from palabre.inbox import services
from palabre.inbox.models import Conversation, Status
from palabre.inbox.queries import PRIORITY_LEVELS
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

ACTIONS = ("assign", "close", "reopen", "tag", "untag", "priority", "spam")
# What `restore` may put back, per action: the field each action changes.
RESTORABLE = {
    "assign": "assignee",
    "close": "status",
    "reopen": "status",
    "tag": "tags",
    "untag": "tags",
    "priority": "priority",
}
MAX_THREADS = 200
MAX_TAGS = 20
_TAG = re.compile(r"[\w][\w .&+-]{0,39}")


@dataclass
class BulkResult:
    action: str
    count: int
    message: str
    # conversation id -> what the action changed, as it was before; empty when it cannot be undone.
    before: dict[int, Any] = field(default_factory=dict)

    @property
    def restore_field(self) -> str:
        return RESTORABLE.get(self.action, "") if self.before else ""


def _clean_ids(ids: list[Any]) -> list[int]:
    clean: list[int] = []
    for raw in ids:
        text = str(raw).strip()
        if not text.isdigit() or not 0 < int(text) < 2**63:
            raise ValidationError({"ids": _("Thread ids are whole numbers.")})
        if int(text) not in clean:
            clean.append(int(text))
    if not clean:
        raise ValidationError({"ids": _("Select at least one thread.")})
    if len(clean) > MAX_THREADS:
        raise ValidationError({"ids": _("Select at most %(n)s threads at once.") % {"n": MAX_THREADS}})
    return clean


def _threads(actor: Actor, ids: list[int]) -> list[Conversation]:
    """The threads, locked, in the order asked; one id outside the organisation refuses them all."""
    found = {
        c.pk: c
        for c in Conversation.objects.select_for_update(of=("self",))
        .select_related("assignee", "channel", "root")
        .visible_to(actor)
        .filter(pk__in=ids)
    }
    if len(found) != len(ids):
        raise NotInOrganisation
    return [found[i] for i in ids]


def clean_tag(value: Any) -> str:
    tag = " ".join(str(value or "").split()).lower()
    if not _TAG.fullmatch(tag):
        raise ValidationError(
            {
                "value": _(
                    "A tag is 1 to 40 letters, digits, spaces or . & + - (starting with a letter or digit)."
                )
            }
        )
    return tag


def _assignee_id(actor: Actor, value: Any) -> int | None:
    if value in (None, "", "none"):
        return None
    if value == "me":
        if actor.user_id is None:
            raise ValidationError({"value": _("An API token is nobody: give a user id.")})
        return actor.user_id
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise ValidationError({"value": _("Give a member's id, “me” or “none”.")})


def _priority_value(value: Any) -> int | None:
    if value == "auto":
        return None
    if value not in PRIORITY_LEVELS:
        raise ValidationError({"value": _("Choose urgent, high, normal or auto.")})
    return PRIORITY_LEVELS[value]


def _set_tags(actor: Actor, conversation: Conversation, tags: list[str]) -> None:
    before = list(conversation.tags)
    conversation.tags = tags
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["tags", "updated_at"])
    record(actor, "inbox.tagged", conversation, before={"tags": before}, after={"tags": tags})


def _set_priority(actor: Actor, conversation: Conversation, manual: int | None) -> None:
    """A level set by hand, or None to go back to the computed priority."""
    before = conversation.manual_priority
    conversation.manual_priority = manual
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["manual_priority", "updated_at"])
    if manual is None:
        services.refresh_conversation(actor.organisation, conversation.root_id)
    else:
        Conversation.objects.filter(pk=conversation.pk).update(priority=manual)
    record(actor, "inbox.priority_set", conversation, before={"priority": before}, after={"priority": manual})


def _mark_spam(actor: Actor, conversation: Conversation) -> None:
    from palabre.moderation import services as moderation

    root = conversation.root_id
    customer = [
        item
        for item in Item.objects.visible_to(actor)
        .filter(Q(pk=root) | Q(thread_root_id=root))
        .select_related("author", "channel", "moderation")
        .order_by("created_at", "pk")
        if not services.is_brand_item(item) and not services._spam(item)
    ]
    for item in customer:
        moderation.review_item(
            actor=actor, item_id=item.pk, action="spam", note=_("marked as spam in the inbox")
        )
    if conversation.status != Status.CLOSED:
        services.set_status(actor=actor, conversation=conversation, status=Status.CLOSED)


def _message(action: str, count: int, value: Any = None) -> str:
    values = {"count": count, "value": value}
    texts = {
        "assign": ngettext("%(count)s conversation assigned", "%(count)s conversations assigned", count),
        "close": ngettext("%(count)s conversation closed", "%(count)s conversations closed", count),
        "reopen": ngettext("%(count)s conversation reopened", "%(count)s conversations reopened", count),
        "tag": ngettext(
            "%(count)s conversation tagged “%(value)s”", "%(count)s conversations tagged “%(value)s”", count
        ),
        "untag": ngettext(
            "Tag “%(value)s” removed from %(count)s conversation",
            "Tag “%(value)s” removed from %(count)s conversations",
            count,
        ),
        "priority": ngettext(
            "Priority set on %(count)s conversation", "Priority set on %(count)s conversations", count
        ),
        "spam": ngettext(
            "%(count)s conversation marked as spam", "%(count)s conversations marked as spam", count
        ),
    }
    return texts[action] % values


def apply(*, actor: Actor, action: str, ids: list[Any], value: Any = None) -> BulkResult:
    """Apply one action to several threads of the actor's organisation, all or nothing."""
    if action not in ACTIONS:
        raise ValidationError({"action": _("Choose one of: %(actions)s.") % {"actions": ", ".join(ACTIONS)}})
    actor.require(Perm.MODERATION_ACT if action == "spam" else Perm.INBOX_REPLY)
    clean = _clean_ids(ids)
    tag = clean_tag(value) if action in ("tag", "untag") else ""
    manual = _priority_value(value) if action == "priority" else None
    assignee = _assignee_id(actor, value) if action == "assign" else None
    before: dict[int, Any] = {}
    with transaction.atomic():
        for conversation in _threads(actor, clean):
            if action == "assign":
                before[conversation.pk] = conversation.assignee_id
                services.assign(actor=actor, conversation=conversation, assignee_id=assignee)
            elif action in ("close", "reopen"):
                before[conversation.pk] = conversation.status
                status = Status.CLOSED if action == "close" else Status.OPEN
                services.set_status(actor=actor, conversation=conversation, status=status)
            elif action in ("tag", "untag"):
                before[conversation.pk] = list(conversation.tags)
                tags = [t for t in conversation.tags if t != tag]
                if action == "tag":
                    if len(tags) >= MAX_TAGS:
                        raise ValidationError(
                            {"value": _("A thread holds at most %(n)s tags.") % {"n": MAX_TAGS}}
                        )
                    tags.append(tag)
                _set_tags(actor, conversation, tags)
            elif action == "priority":
                before[conversation.pk] = conversation.manual_priority
                _set_priority(actor, conversation, manual)
            else:
                _mark_spam(actor, conversation)
    return BulkResult(
        action=action,
        count=len(clean),
        message=_message(action, len(clean), tag),
        before=before if action in RESTORABLE else {},
    )


def restore(*, actor: Actor, restore_field: str, values: dict[Any, Any]) -> int:
    """Put back what a bulk action changed (its `before`): the undo of the message it showed."""
    if restore_field not in set(RESTORABLE.values()):
        raise ValidationError({"field": _("Nothing to put back for this field.")})
    if not isinstance(values, dict):
        raise ValidationError({"values": _("Give each thread's previous value.")})
    actor.require(Perm.INBOX_REPLY)
    clean = _clean_ids(list(values))
    previous = {int(str(k).strip()): v for k, v in values.items()}
    with transaction.atomic():
        for conversation in _threads(actor, clean):
            value = previous[conversation.pk]
            if restore_field == "status":
                if value not in Status.values:
                    raise ValidationError({"values": _("Choose open, pending or closed.")})
                services.set_status(actor=actor, conversation=conversation, status=value)
            elif restore_field == "assignee":
                services.assign(
                    actor=actor, conversation=conversation, assignee_id=_assignee_id(actor, value)
                )
            elif restore_field == "tags":
                if not isinstance(value, list) or len(value) > MAX_TAGS:
                    raise ValidationError({"values": _("Give each thread's tags as a list.")})
                _set_tags(actor, conversation, [clean_tag(t) for t in value])
            else:
                if value is not None and (not isinstance(value, int) or not 0 <= value <= 100):
                    raise ValidationError({"values": _("A priority is a number from 0 to 100, or null.")})
                _set_priority(actor, conversation, value)
    return len(clean)
