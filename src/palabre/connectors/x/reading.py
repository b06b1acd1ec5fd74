"""What the X connector reads: the account's mentions (`/2/users/{id}/mentions`) and direct
messages (`/2/dm_events`), as items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from palabre.connectors.base import (
    MalformedPayload,
)
from palabre.connectors.x.client import USER_FIELDS, WEB
from palabre.conversations.services import IncomingAuthor, IncomingItem

TWEET_FIELDS = (
    "author_id,conversation_id,created_at,in_reply_to_user_id,lang,public_metrics,referenced_tweets"
)

PAGE_SIZE = 100
MAX_PAGES = 5


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _id_order(value: str) -> tuple[int, str]:
    # X ids are numbers written as strings: compare them as numbers.
    return (len(value), value)


class XReading:
    """Reading the mentions and the direct messages of the channel's account, for `XConnector`."""

    def _pull_mentions(self, channel, me: str, state: dict, items: dict) -> dict:
        since = str(state.get("since_id") or "")
        token = str(state.get("next_token") or "")
        newest = str(state.get("pending_newest") or "")
        for _page in range(MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": PAGE_SIZE,
                "expansions": "author_id,referenced_tweets.id,in_reply_to_user_id",
                "tweet.fields": TWEET_FIELDS,
                "user.fields": USER_FIELDS,
            }
            if since:
                params["since_id"] = since
            if token:
                params["pagination_token"] = token
            page = self._call(channel, "GET", f"/2/users/{me}/mentions", params=params)
            users = {str(u.get("id")): u for u in (page.get("includes") or {}).get("users") or []}
            posts = page.get("data") or []
            if not isinstance(posts, list):
                raise MalformedPayload("X's mentions are not a list.")
            for post in posts:
                item = self.parse_post(post, users)
                if item.raw["author_id"] != me:
                    items.setdefault(item.external_id, item)
            meta = page.get("meta") or {}
            if not newest and meta.get("newest_id"):
                newest = str(meta["newest_id"])
            token = str(meta.get("next_token") or "")
            if not token or getattr(self, "last_limits", {}).get("rate_limit_remaining") == 0:
                break
        if token:
            # Pages left to read: read first next time, from the same since_id.
            return {**state, "since_id": since, "next_token": token, "pending_newest": newest}
        done = {key: value for key, value in state.items() if key not in {"next_token", "pending_newest"}}
        if newest:
            done["since_id"] = max(newest, since, key=_id_order) if since else newest
        return done

    def _pull_messages(self, channel, me: str, state: dict, items: dict) -> dict:
        seen = str(state.get("dm_newest") or "")
        newest = seen
        token = ""
        for _page in range(MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": PAGE_SIZE,
                "event_types": "MessageCreate",
                "dm_event.fields": "id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids",
                "expansions": "sender_id",
                "user.fields": USER_FIELDS,
            }
            if token:
                params["pagination_token"] = token
            page = self._call(channel, "GET", "/2/dm_events", params=params)
            users = {str(u.get("id")): u for u in (page.get("includes") or {}).get("users") or []}
            events = page.get("data") or []
            if not isinstance(events, list):
                raise MalformedPayload("X's direct message events are not a list.")
            reached = False
            for event in events:
                event_id = str(event.get("id") or "")
                if seen and _id_order(event_id) <= _id_order(seen):
                    reached = True
                    continue
                if not newest or _id_order(event_id) > _id_order(newest):
                    newest = event_id
                if event.get("event_type", "MessageCreate") != "MessageCreate":
                    continue
                if str(event.get("sender_id") or "") == me:
                    continue  # the brand's own messages come back through the outbox
                item = self.parse_message(event, users)
                items.setdefault(item.external_id, item)
            token = str((page.get("meta") or {}).get("next_token") or "")
            if reached or not token or not seen:
                # A first pull reads one page: older conversations are not today's inbox.
                break
        return {**state, "dm_newest": newest} if newest else state

    def parse_post(self, post: dict, users: dict[str, dict]) -> IncomingItem:
        try:
            author_id = str(post["author_id"])
            user = users.get(author_id) or {}
            username = str(user.get("username") or author_id)
            replied = next(
                (
                    str(ref["id"])
                    for ref in post.get("referenced_tweets") or []
                    if ref.get("type") == "replied_to"
                ),
                "",
            )
            metrics = post.get("public_metrics") or {}
            return IncomingItem(
                external_id=str(post["id"]),
                kind="reply" if replied else "mention",
                text=str(post.get("text") or ""),
                created_at=_time(post["created_at"]),
                author=IncomingAuthor(
                    handle=f"@{username}",
                    display_name=str(user.get("name") or username),
                    profile_url=f"{WEB}/{username}",
                    followers=(user.get("public_metrics") or {}).get("followers_count"),
                ),
                url=f"{WEB}/{username}/status/{post['id']}",
                language=str(post.get("lang") or "")[:8] if post.get("lang") not in {"und", "zxx"} else "",
                parent_external_id=replied,
                metrics={
                    "replies": metrics.get("reply_count", 0),
                    "reposts": metrics.get("retweet_count", 0),
                    "likes": metrics.get("like_count", 0),
                    "quotes": metrics.get("quote_count", 0),
                },
                raw={
                    "type": "post",
                    "author_id": author_id,
                    "username": username,
                    "conversation_id": str(post.get("conversation_id") or ""),
                    "post": post,
                },
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise MalformedPayload(f"An X post lacks {error}") from error

    def parse_message(self, event: dict, users: dict[str, dict]) -> IncomingItem:
        try:
            sender = str(event["sender_id"])
            user = users.get(sender) or {}
            username = str(user.get("username") or sender)
            return IncomingItem(
                external_id=str(event["id"]),
                kind="direct_message",
                text=str(event.get("text") or ""),
                created_at=_time(event["created_at"]),
                author=IncomingAuthor(
                    handle=f"@{username}",
                    display_name=str(user.get("name") or username),
                    profile_url=f"{WEB}/{username}",
                    followers=(user.get("public_metrics") or {}).get("followers_count"),
                ),
                url=f"{WEB}/messages/{event.get('dm_conversation_id', '')}",
                raw={
                    "type": "direct_message",
                    "author_id": sender,
                    "username": username,
                    "dm_conversation_id": str(event.get("dm_conversation_id") or ""),
                    "event": event,
                },
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise MalformedPayload(f"An X direct message lacks {error}") from error
