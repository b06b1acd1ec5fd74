"""Messenger, for Facebook Pages and Instagram alike (`platform` messenger or instagram): the
Page's conversations read as threads of items, an answer sent within 24 hours of the person's last
message, the one private reply to a comment or a visitor post within 7 days of it, and the
latest messages looked up after an interrupted send."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils import timezone

from palabre.connectors.base import (
    Delivered,
    MalformedPayload,
)
from palabre.connectors.meta_graph import (
    CONVERSATION_MESSAGES,
    MESSAGING_WINDOW,
    PRIVATE_REPLY_WINDOW,
    MessagingWindowClosed,
    author,
    call,
    is_from,
    later,
    newer,
    pages,
    parse_time,
)
from palabre.conversations.services import IncomingItem


def send_message(
    *, page_id: str, token: str, recipient: dict, text: str, messaging_type: str = "", label: str
) -> Delivered:
    """One message through the Send API (`POST /{page-id}/messages`): to a person (`{"id": ...}`)
    or as the private reply to a comment or post (`{"comment_id": ...}`, `{"post_id": ...}`)."""
    data = {"recipient": json.dumps(recipient), "message": json.dumps({"text": text})}
    if messaging_type:
        data["messaging_type"] = messaging_type
    sent = call("POST", f"{page_id}/messages", token=token, label=label, data=data, sending=True)
    if not sent.get("message_id"):
        raise MalformedPayload(f"{label}: the Send API answered without message_id.", maybe_delivered=True)
    return Delivered(external_id=str(sent["message_id"]))


def conversation_messages(*, page_id: str, token: str, person: str, platform: str, label: str) -> list[dict]:
    """The latest messages of the Page's conversation with one person (`/{page-id}/conversations`
    with `user_id`, `platform` messenger or instagram), to find a message an interrupted attempt
    sent; [] when there is no such conversation."""
    if not person:
        raise MalformedPayload(f"{label}: the message names no person to look the conversation up.")
    body = call(
        "GET",
        f"{page_id}/conversations",
        token=token,
        label=label,
        params={
            "platform": platform,
            "user_id": person,
            "fields": f"id,{CONVERSATION_MESSAGES}",
        },
    )
    messages: list[dict] = []
    for conversation in body.get("data") or []:
        data = (
            ((conversation or {}).get("messages") or {}).get("data")
            if isinstance(conversation, dict)
            else None
        )
        if not isinstance(data, list):
            raise MalformedPayload(f"{label}: a conversation's messages are not a list.")
        messages.extend(message for message in data if isinstance(message, dict))
    return messages


def message_item(
    *,
    message_id: str,
    text: str,
    created_at: datetime,
    sender: Any,
    conversation_id: str,
    parent: str,
    label: str,
) -> IncomingItem:
    """A person's message as an item; its `psid` (the Page- or Instagram-scoped id) is whom an
    answer goes to."""
    sent_by = author(sender)
    if sent_by is None:
        raise MalformedPayload(f"{label}: a message without its sender.")
    return IncomingItem(
        external_id=message_id,
        kind="direct_message",
        text=text,
        created_at=created_at,
        author=sent_by,
        parent_external_id=parent,
        raw={"conversation_id": conversation_id, "psid": sent_by.handle},
    )


def messaging_items(entry: dict[str, Any], *, label: str) -> list[IncomingItem]:
    """A webhook entry's `messaging` events as items: the person's messages (the account's own
    echoes left out)."""
    items: list[IncomingItem] = []
    for event in entry.get("messaging") or []:
        message = event.get("message") if isinstance(event, dict) else None
        if not isinstance(message, dict) or message.get("is_echo") or not message.get("mid"):
            continue
        try:
            items.append(
                message_item(
                    message_id=str(message["mid"]),
                    text=str(message.get("text") or ""),
                    created_at=parse_time(event["timestamp"]),
                    sender=event["sender"],
                    conversation_id="",
                    parent="",
                    label=label,
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"{label}: a messaging event lacks {error}") from error
    return items


def conversation_items(conversation: dict, *, own_id: str, since: str, label: str) -> list[IncomingItem]:
    """A conversation's messages from the person (the account's own, `own_id`, are skipped) newer
    than `since`, oldest first, each the reply of the one before: the conversation is one thread."""
    messages = (conversation.get("messages") or {}).get("data") or []
    if not isinstance(messages, list):
        raise MalformedPayload(f"{label}: a conversation's messages are not a list.")
    items: list[IncomingItem] = []
    previous = ""
    try:
        for message in sorted(messages, key=lambda m: parse_time(m["created_time"])):
            if is_from(message, own_id):
                continue
            item = message_item(
                message_id=str(message["id"]),
                text=str(message.get("message") or ""),
                created_at=parse_time(message["created_time"]),
                sender=message.get("from"),
                conversation_id=str(conversation.get("id") or ""),
                parent=previous,
                label=label,
            )
            previous = item.external_id
            if newer(message["created_time"], since):
                items.append(item)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"{label}: a message lacks {error}") from error
    return items


def new_messages(
    *, page_id: str, own_id: str, token: str, platform: str, since: str, label: str, limit: int
) -> tuple[list[IncomingItem], str]:
    """The messages of the Page's conversations (`platform` messenger or instagram) updated since
    `since`, and the newest update time seen (the cursor's mark)."""
    items: list[IncomingItem] = []
    newest = since
    for conversations, _after in pages(
        f"{page_id}/conversations",
        token=token,
        label=label,
        params={"platform": platform, "fields": f"id,updated_time,{CONVERSATION_MESSAGES}", "limit": limit},
        max_pages=1,
    ):
        for conversation in conversations:
            if not newer(conversation.get("updated_time"), since):
                continue
            newest = later(newest, str(conversation["updated_time"]))
            items.extend(conversation_items(conversation, own_id=own_id, since=since, label=label))
    return items, newest


def message_person(
    item, text: str, *, page_id: str, token: str, label: str, messaging_type: str = ""
) -> Delivered:
    """An answer in the person's conversation: allowed within 24 hours of their last message."""
    closes = last_message_from(item) + MESSAGING_WINDOW
    if timezone.now() > closes:
        raise MessagingWindowClosed(
            f"{label}: the messaging window closed on {closes:%Y-%m-%d %H:%M} UTC, 24 hours after the "
            f"person's last message; {label} allows no reply until they write again."
        )
    person = str((item.raw or {}).get("psid") or (item.author.handle if item.author else ""))
    return send_message(
        page_id=page_id,
        token=token,
        recipient={"id": person},
        text=text,
        messaging_type=messaging_type,
        label=label,
    )


def last_message_from(item) -> datetime:
    """When the person last wrote in the item's conversation (the 24-hour window opens then)."""
    from django.db.models import Q

    from palabre.conversations.models import Item

    root = item.thread_root_id or item.pk
    later = (
        Item.objects.filter(Q(thread_root_id=root) | Q(pk=root), channel_id=item.channel_id)
        .filter(author_id=item.author_id, kind="direct_message")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return max(item.created_at, later) if later else item.created_at


def private_reply_open(item, *, label: str) -> None:
    """Meta allows one private reply to a comment or a visitor post, within 7 days of it."""
    closes = item.created_at + PRIVATE_REPLY_WINDOW
    if timezone.now() > closes:
        raise MessagingWindowClosed(
            f"{label}: a private reply to this {item.kind} was possible until {closes:%Y-%m-%d %H:%M} UTC "
            f"(7 days after it); {label} allows none since."
        )
