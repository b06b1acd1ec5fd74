"""Read-only questions of the inbox pages and API, on behalf of an actor. Nothing here writes."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, fields
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.base import Capability
from palabre.connectors.registry import connector_class_for
from palabre.conversations.models import ContactHandle, Item
from palabre.inbox.knowledge import suggest
from palabre.inbox.models import (
    Conversation,
    Intent,
    InternalNote,
    KnowledgeArticle,
    Notification,
    Reply,
    SavedReply,
    SavedView,
    Sentiment,
    Status,
)
from palabre.inbox.priority import URGENT
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.pagination import MAX_ROW_ID, Page, cursor_instant, cursor_row_id, keyset_page

PRIORITY_LEVELS = {"urgent": URGENT, "high": 40, "normal": 0}


@dataclass(frozen=True)
class InboxFilter:
    """The inbox list's filters, as strings (they come from a query string or a saved view)."""

    status: str = "open"
    channel: str = ""
    assignee: str = ""  # "me", "none" or a user id
    language: str = ""
    sentiment: str = ""
    intent: str = ""
    priority: str = ""  # urgent, high
    sla: str = ""  # "breached"
    q: str = ""
    sort: str = ""  # "" (newest activity), "priority", "oldest" (longest waiting first)

    @classmethod
    def from_mapping(cls, data) -> InboxFilter:
        values = {f.name: str(data.get(f.name) or "").strip() for f in fields(cls)}
        if "status" not in data:
            values["status"] = "open"
        return cls(**values)

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def validate(self) -> None:
        errors = {}
        if self.status not in ("", "all", *Status.values):
            errors["status"] = _("Choose open, pending, closed or all.")
        if self.channel and not self.channel.isdigit():
            errors["channel"] = _("Unknown channel.")
        if self.assignee and self.assignee not in ("me", "none") and not self.assignee.isdigit():
            errors["assignee"] = _("Choose me, nobody or a member.")
        if self.sentiment and self.sentiment not in Sentiment.values:
            errors["sentiment"] = _("Choose positive, neutral or negative.")
        if self.intent and self.intent not in Intent.values:
            errors["intent"] = _("Unknown intent.")
        if self.priority and self.priority not in PRIORITY_LEVELS:
            errors["priority"] = _("Choose urgent, high or normal.")
        if self.sla and self.sla != "breached":
            errors["sla"] = _("Only `breached` is known.")
        if self.sort and self.sort not in SORTS:
            errors["sort"] = _("Choose recent, priority or oldest.")
        if len(self.q) > 200 or len(self.language) > 8:
            errors["q" if len(self.q) > 200 else "language"] = _("Too long.")
        if errors:
            raise ValidationError(errors)


def filtered(actor: Actor, f: InboxFilter, *, now: datetime | None = None) -> QuerySet[Conversation]:
    actor.require(Perm.ITEMS_VIEW)
    f.validate()
    rows = Conversation.objects.visible_to(actor)
    if f.status and f.status != "all":
        rows = rows.filter(status=f.status)
    if f.channel:
        rows = rows.filter(channel_id=int(f.channel))
    if f.assignee == "me":
        rows = rows.filter(assignee_id=actor.user_id)
    elif f.assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    elif f.assignee:
        rows = rows.filter(assignee_id=int(f.assignee))
    if f.language:
        rows = rows.filter(language=f.language)
    if f.sentiment:
        rows = rows.filter(sentiment=f.sentiment)
    if f.intent:
        rows = rows.filter(intent=f.intent)
    if f.priority:
        rows = rows.filter(priority__gte=PRIORITY_LEVELS[f.priority])
    if f.sla == "breached":
        rows = rows.filter(awaiting_reply=True, first_response_due_at__lt=now or timezone.now())
    if f.q:
        rows = rows.filter(Q(preview__icontains=f.q) | Q(author_label__icontains=f.q))
    return rows


# Each sort is a keyset: (field, descending) pairs ending with the primary key, so that a cursor
# stays stable while new threads arrive. "oldest" puts the threads waiting for an answer first, the
# one waiting longest on top (waiting since the customer's last message).
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "recent": (("last_activity_at", True), ("pk", True)),
    "priority": (("priority", True), ("last_activity_at", True), ("pk", True)),
    "oldest": (("waiting", True), ("waited_from", False), ("pk", False)),
}


def sort_of(f: InboxFilter) -> str:
    """The sort asked for; without one, a priority filter lists the most urgent threads first."""
    if f.sort:
        return f.sort
    return "priority" if f.priority else "recent"


def _encode_keys(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_keys(cursor: str, keys: tuple[tuple[str, bool], ...], sample: dict[str, type]) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(cursor)
        decoded = []
        for (name, _desc), value in zip(keys, values, strict=True):
            kind = sample[name]
            if kind is datetime:
                decoded.append(cursor_instant(value))
            elif kind is bool:
                decoded.append(bool(value))
            elif name == "pk":
                decoded.append(cursor_row_id(value))
            else:
                number = int(value)
                if abs(number) > MAX_ROW_ID:
                    raise ValueError(value)
                decoded.append(number)
        return decoded
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError, binascii.Error) as error:
        raise ValidationError({"cursor": _("This cursor is not one Palabre gave.")}) from error


_KEY_TYPES = {
    "last_activity_at": datetime,
    "waited_from": datetime,
    "priority": int,
    "waiting": bool,
    "pk": int,
}


def conversation_page(actor: Actor, f: InboxFilter, *, cursor: str | None, limit: int = 30) -> Page:
    """One page of threads in the asked order (newest activity, priority or longest waiting): a
    single query, assignee and channel joined, continued by a keyset cursor."""
    rows = (
        filtered(actor, f)
        .select_related("channel", "assignee")
        .defer("priority_reasons", "channel__options", "channel__credentials_ciphertext")
    )
    sort = sort_of(f)
    if sort == "recent":
        return keyset_page(rows, cursor=cursor, limit=limit, time_field="last_activity_at")
    keys = SORTS[sort]
    if sort == "oldest":
        rows = rows.annotate(
            waiting=F("awaiting_reply"),
            waited_from=Coalesce("last_customer_message_at", "last_activity_at"),
        )
    rows = rows.order_by(*[f"-{name}" if desc else name for name, desc in keys])
    if cursor:
        values = _decode_keys(cursor, keys, _KEY_TYPES)
        after = Q(pk__in=[])
        for i, (name, desc) in enumerate(keys):
            step = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
            for prior, value in zip(keys[:i], values[:i], strict=True):
                step &= Q(**{prior[0]: value})
            after |= step
        rows = rows.filter(after)
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_cursor = _encode_keys([getattr(page[-1], name) for name, _desc in keys]) if more and page else None
    return Page(rows=page, next_cursor=next_cursor)


def thread_items(actor: Actor, conversation: Conversation) -> list[Item]:
    actor.require(Perm.ITEMS_VIEW)
    root_id = conversation.root_id
    return list(
        Item.objects.visible_to(actor)
        .filter(Q(pk=root_id) | Q(thread_root_id=root_id))
        .select_related("author", "channel")
        .order_by("created_at", "pk")[:500]
    )


def notes(actor: Actor, conversation: Conversation) -> list[InternalNote]:
    actor.require(Perm.ITEMS_VIEW)
    return list(InternalNote.objects.filter(conversation=conversation).select_related("author"))


def replies(actor: Actor, conversation: Conversation) -> list[Reply]:
    actor.require(Perm.ITEMS_VIEW)
    return list(Reply.objects.filter(conversation=conversation).select_related("author"))


def contact_history(actor: Actor, conversation: Conversation, *, limit: int = 15) -> dict:
    """The person across every channel (merged contacts included), tags, notes and trust."""
    actor.require(Perm.ITEMS_VIEW)
    if conversation.contact is None:
        return {"contact": None, "handles": [], "items": [], "trust": None}
    from palabre.conversations.services import surviving_contact

    contact = surviving_contact(conversation.contact)  # merged since: the person as one
    from palabre.moderation.queries import author_histories

    history = (
        author_histories(actor, {contact.pk}).get(contact.pk) if actor.can(Perm.MODERATION_ACT) else None
    )
    return {
        "contact": contact,
        "handles": list(ContactHandle.objects.visible_to(actor).filter(contact=contact)),
        "items": list(
            Item.objects.visible_to(actor)
            .filter(contact=contact)
            .select_related("channel")
            .order_by("-created_at", "-pk")[:limit]
        ),
        "trust": history,
    }


def saved_replies(actor: Actor, *, language: str = "") -> QuerySet[SavedReply]:
    actor.require(Perm.ITEMS_VIEW)
    rows = SavedReply.objects.visible_to(actor)
    if language:
        rows = rows.filter(Q(language=language) | Q(language=""))
    return rows


def saved_reply(actor: Actor, saved_id: int) -> SavedReply:
    found = saved_replies(actor).filter(pk=saved_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def articles(actor: Actor) -> QuerySet[KnowledgeArticle]:
    actor.require(Perm.ITEMS_VIEW)
    return KnowledgeArticle.objects.visible_to(actor)


def article(actor: Actor, article_id: int) -> KnowledgeArticle:
    found = articles(actor).filter(pk=article_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def suggested_articles(actor: Actor, text: str, *, limit: int = 3) -> list[tuple[KnowledgeArticle, float]]:
    every = list(articles(actor))
    ranked = suggest(text, [(a.pk, f"{a.title}\n{a.title}\n{a.body}") for a in every], limit=limit)
    by_id = {a.pk: a for a in every}
    return [(by_id[s.article_id], s.score) for s in ranked]


def views_for(actor: Actor) -> QuerySet[SavedView]:
    actor.require(Perm.ITEMS_VIEW)
    return SavedView.objects.visible_to(actor).filter(Q(owner_id=actor.user_id) | Q(shared=True))


def saved_view(actor: Actor, view_id: int) -> SavedView:
    found = views_for(actor).filter(pk=view_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def notifications(actor: Actor, *, limit: int = 50) -> list[Notification]:
    actor.require(Perm.ITEMS_VIEW)
    return list(
        Notification.objects.visible_to(actor)
        .filter(user_id=actor.user_id)
        .select_related("conversation")[:limit]
    )


def unread_count(actor: Actor) -> int:
    return Notification.objects.visible_to(actor).filter(user_id=actor.user_id, read_at__isnull=True).count()


def reply_for(actor: Actor, reply_id: int) -> Reply:
    actor.require(Perm.ITEMS_VIEW)
    found = Reply.objects.visible_to(actor).filter(pk=reply_id).first()
    if found is None:
        raise NotInOrganisation
    return found


def can_reply_on(channel) -> bool:
    """Whether Palabre can deliver a reply on this channel: its connector declares `reply`."""
    connector_class = connector_class_for(channel.platform)
    return connector_class is not None and Capability.REPLY in connector_class.capabilities
