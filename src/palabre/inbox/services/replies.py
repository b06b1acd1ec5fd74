"""Replies: saved-reply variables filled, the signature of the answering person, the platform's length, the personalisation check, sending through the outbox and retrying."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.lengths import TextLimit, limit_for
from palabre.connectors.registry import connector_class_for
from palabre.inbox.models import (
    Conversation,
    Reply,
    SavedReply,
    Status,
)
from palabre.inbox.personalisation import Warning, check_reply
from palabre.inbox.services.reading import _own, profile_for
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

MAX_REPLY_CHARS = 10_000
RECENT_REPLIES = 200


class ReplyNeedsConfirmation(Exception):
    """The personalisation check found something: the person confirms or edits before sending."""

    def __init__(self, warnings: list[Warning]):
        super().__init__("reply needs confirmation")
        self.warnings = warnings


# --- replies -----------------------------------------------------------------------------------


def _first_name(conversation: Conversation) -> str:
    name = conversation.author_label.strip().lstrip("@")
    return name.split()[0] if name else ""


def reply_variables(*, actor: Actor, conversation: Conversation) -> dict[str, str]:
    user = actor.user
    agent = (user.first_name or user.get_username()) if user is not None else "Palabre"
    return {
        "first_name": _first_name(conversation),
        "name": conversation.author_label,
        "agent_name": agent,
        "channel": conversation.channel.name,
        "brand": actor.organisation.name,
    }


def fill_saved_reply(*, actor: Actor, saved: SavedReply, conversation: Conversation) -> str:
    """The saved reply's text with its variables filled; unknown ones are left for the person to see."""
    actor.require(Perm.INBOX_REPLY)
    _own(actor, saved)
    _own(actor, conversation)
    values = reply_variables(actor=actor, conversation=conversation)
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)) or m.group(0), saved.text)


def signature_of(actor: Actor) -> str:
    """The answering person's initials (or the signature set on their membership)."""
    if actor.membership is not None and actor.membership.signature:
        return actor.membership.signature
    user = actor.user
    if user is None:
        return ""
    parts = [p for p in (user.first_name, user.last_name) if p]
    if parts:
        return "".join(p[0].upper() for p in parts)
    return user.get_username()[:2].upper()


def signed(actor: Actor, text: str) -> str:
    if actor.user is None or not profile_for(actor.organisation, actor.user).sign_replies:
        return text
    signature = signature_of(actor)
    return f"{text}\n— {signature}" if signature else text


@dataclass(frozen=True)
class ReplyLength:
    """A reply as the platform will count it: its own words plus what is added around them."""

    size: int
    limit: TextLimit
    prefix: str  # the mention the connector adds, when the text does not name the person
    suffix: str  # the signature

    @property
    def over(self) -> int:
        return max(0, self.size - self.limit.max_chars)


def reply_length(*, actor: Actor, conversation: Conversation, text: str) -> ReplyLength | None:
    """The reply's length as its platform counts it, signature and mention included; None where the
    platform sets no limit or Palabre cannot reply there."""
    limit = limit_for(conversation.channel)
    connector_class = connector_class_for(conversation.channel.platform)
    target = conversation.last_customer_item
    if limit is None or connector_class is None or target is None:
        return None
    connector = connector_class()
    marker = "\u0000"
    around = connector.reply_text(target, signed(actor, marker))
    prefix, _marker, suffix = around.partition(marker)
    sent = connector.reply_text(target, signed(actor, text))
    return ReplyLength(size=limit.length(sent), limit=limit, prefix=prefix, suffix=suffix)


def _too_long(actor: Actor, conversation: Conversation, text: str) -> str:
    found = reply_length(actor=actor, conversation=conversation, text=text)
    if found is None or not found.over:
        return ""
    return _(
        "%(size)s characters with the signature and the mention: %(platform)s takes at most %(max)s. "
        "Shorten the reply by %(over)s."
    ) % {
        "size": found.size,
        "platform": conversation.channel.get_platform_display(),
        "max": found.limit.max_chars,
        "over": found.over,
    }


def personalisation_warnings(*, actor: Actor, conversation: Conversation, text: str) -> list[Warning]:
    actor.require(Perm.ITEMS_VIEW)
    _own(actor, conversation)
    recent = [
        (_("reply to %(name)s on %(date)s") % {"name": name or "?", "date": created.date().isoformat()}, body)
        for body, name, created in Reply.objects.visible_to(actor)
        .exclude(conversation=conversation)
        .order_by("-created_at")
        .values_list("text", "conversation__author_label", "created_at")[:RECENT_REPLIES]
    ]
    message = (
        conversation.last_customer_item.text if conversation.last_customer_item else conversation.preview
    )
    signature = signature_of(actor)
    stripped = [(label, body.removesuffix(f"\n— {signature}")) for label, body in recent]
    return check_reply(text, message=message, recent=stripped)


def send_reply(
    *,
    actor: Actor,
    conversation: Conversation,
    text: str,
    idempotency_key: str,
    saved_reply: SavedReply | None = None,
    confirmed: bool = False,
    private: bool = False,
) -> Reply:
    """Queue a reply through the connectors' outbox. The same key never sends twice. `private`:
    answer the author in a direct message, where the channel's connector can."""
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    if saved_reply is not None:
        _own(actor, saved_reply)
    errors = {}
    text = text.strip()
    if not text:
        errors["text"] = _("Write the reply first.")
    elif len(text) > MAX_REPLY_CHARS:
        errors["text"] = _("A reply holds at most %(n)s characters.") % {"n": MAX_REPLY_CHARS}
    elif too_long := _too_long(actor, conversation, text):
        errors["text"] = too_long
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{8,80}", idempotency_key or ""):
        errors["idempotency_key"] = _("Give a key of 8 to 80 letters, digits or -_.: to send the reply once.")
    if errors:
        raise ValidationError(errors)
    existing = Reply.objects.visible_to(actor).filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_reply(existing, conversation)
    target = conversation.last_customer_item
    if target is None:
        raise ValidationError({"text": _("Nobody wrote in this thread yet.")})
    warnings = personalisation_warnings(actor=actor, conversation=conversation, text=text)
    if warnings and not confirmed:
        raise ReplyNeedsConfirmation(warnings)
    from palabre.connectors.services import queue_private_reply, queue_reply

    with transaction.atomic():
        # One sender at a time per thread: a double click waits here, then finds the first reply.
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        existing = Reply.objects.visible_to(actor).filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_reply(existing, conversation)
        final = signed(actor, text)
        try:
            with transaction.atomic():
                reply = Reply.objects.create(
                    organisation=actor.organisation,
                    conversation=conversation,
                    in_reply_to=target,
                    author=actor.user,
                    text=final,
                    idempotency_key=idempotency_key,
                    saved_reply=saved_reply,
                    warnings=[w.as_dict() for w in warnings],
                )
        except IntegrityError:
            return _same_reply(
                Reply.objects.visible_to(actor).get(idempotency_key=idempotency_key),
                conversation,
            )
        queue = queue_private_reply if private else queue_reply
        action = queue(actor=actor, item=target, text=final, idempotency_key=f"inbox-{idempotency_key}")
        reply.action_id = action.pk
        reply.save(update_fields=["action_id"])
        now = timezone.now()
        conversation.awaiting_reply = False
        conversation.first_response_due_at = None
        conversation.waiting_since = None
        conversation.first_responded_at = conversation.first_responded_at or now
        if conversation.status == Status.OPEN:
            conversation.status = Status.PENDING  # the ball is in the person's court
            conversation.status_changed_at = now
        if conversation.assignee_id is None and actor.user is not None:
            conversation.assignee = actor.user
        conversation.updated_at = now
        conversation.save()
        record(
            actor,
            "inbox.replied",
            conversation,
            after={"reply": reply.pk, "action": action.pk, "warnings": [w.code for w in warnings]},
        )
    return reply


def _same_reply(reply: Reply, conversation: Conversation) -> Reply:
    if reply.conversation_id != conversation.pk:
        raise ValidationError({"idempotency_key": _("This key was used for a reply in another thread.")})
    return reply


def retry_reply(*, actor: Actor, reply: Reply):
    from palabre.connectors.services import retry_action

    actor.require(Perm.INBOX_REPLY)
    _own(actor, reply)
    action = delivery_of([reply]).get(reply.pk)
    if action is None:
        raise ValidationError({"reply": _("This reply has no delivery to retry.")})
    return retry_action(actor=actor, action=action)


def delivery_of(replies: list[Reply]) -> dict[int, Any]:
    """The connectors' outbound action of each reply, in one query."""
    from palabre.connectors.models import OutboundAction

    ids = [r.action_id for r in replies if r.action_id]
    actions = OutboundAction.objects.in_bulk(ids) if ids else {}
    return {r.pk: actions.get(r.action_id) for r in replies if r.action_id in actions}
