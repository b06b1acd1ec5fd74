"""Facebook Pages, through Meta's Graph API (`meta_graph`): comments, visitor posts, mentions and
Messenger conversations in; replies, private replies, moderation and posts out.

Credentials: the Meta app's id and secret (`client_id`, `client_secret`: the OAuth flow, the
webhooks' signature and the token checks need them), and what the "Facebook Login for Business"
flow stores (`credentials_from_token`): the Page's id and Page access token, taken from
`/me/accounts` with the long-lived user token traded for the short one (`fb_exchange_token`).

Pulling reads the Page's latest posts (`/{page-id}/feed`) with their comments expanded, newest
first, and continues a post's comments on `/{post-id}/comments` with `after` cursors while they are
newer than the last seen; then the posts the Page is tagged in (`/{page-id}/tagged`) and the
Messenger conversations (`/{page-id}/conversations` with their messages). The cursor keeps the
newest time seen of each. Webhooks (`page` object: `feed` changes and `messaging` events) carry
the same items at once.

The Graph API has no idempotency key: after an attempt whose outcome is unknown, `find_delivered`
looks for the Page's comment (or post, or message) among the latest before anything is sent again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from palabre.connectors import meta_graph
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    Media,
    PermanentError,
    PullResult,
    TokenExpired,
)

# Re-exported: Facebook's error for a closed window is imported from here.
from palabre.connectors.meta_graph import MessagingWindowClosed as MessagingWindowClosed
from palabre.connectors.meta_graph import author as _author
from palabre.connectors.meta_graph import delivery_of, later, newer, parse_time, read_marks
from palabre.connectors.meta_graph import is_from as _is_from
from palabre.connectors.meta_graph.connection import pages_of_login, token_health
from palabre.connectors.meta_graph.delivered import delivered_among, pending_action
from palabre.connectors.meta_graph.messenger import (
    conversation_messages,
    message_person,
    messaging_items,
    new_messages,
    private_reply_open,
    send_message,
)
from palabre.connectors.meta_graph.platform import APP_FIELDS, GraphConnector, login_flow
from palabre.conversations.services import IncomingItem

LABEL = "Facebook"
PAGE_SIZE = 25
COMMENTS_SIZE = 50
NEEDED_PERMISSIONS = (
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_posts",
    "pages_messaging",
)
OAUTH_SCOPES = (*NEEDED_PERMISSIONS, "pages_show_list", "pages_manage_metadata", "business_management")
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,is_hidden,can_reply_privately"
POST_FIELDS = "id,message,created_time,from,permalink_url"


class FacebookConnector(GraphConnector):
    platform = "facebook"
    label = LABEL
    hidden_field = "is_hidden"
    capabilities = frozenset(
        {
            Capability.PULL,
            Capability.WEBHOOK,
            Capability.REPLY,
            Capability.PRIVATE_REPLY,
            Capability.PUBLISH,
            Capability.PUBLISH_MEDIA,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE,
            Capability.BAN_AUTHOR,
        }
    )
    poll_interval = 300.0
    oauth = login_flow(OAUTH_SCOPES)
    credential_fields = (
        *APP_FIELDS,
        CredentialField(
            "page_id",
            _("Page ID"),
            _("Filled by “Connect with Facebook”. By hand: the Page > About > Page transparency, “Page ID”."),
        ),
        CredentialField(
            "access_token",
            _("Page access token"),
            _(
                "Filled by “Connect with Facebook”. By hand: the Graph API Explorer, the app, “Get Page "
                "Access Token” with the permissions listed in the documentation."
            ),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "user_access_token",
            _("Long-lived user token"),
            _("Filled by “Connect with Facebook”: the token the Page token was taken with."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "user_token_expires_at",
            _("User token expiry"),
            _("Filled by “Connect with Facebook”: when the long-lived user token expires."),
        ),
        CredentialField(
            "verify_token",
            _("Webhook verify token"),
            _(
                "Any secret text of your choice, typed again in the app: Webhooks > Page > "
                "Subscribe to this object, “Verify token”."
            ),
            kind=FieldKind.SECRET,
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def _token(self, channel) -> str:
        return self._page(channel)[1]

    def _page(self, channel) -> tuple[str, str]:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        page_id, token = str(credentials.get("page_id") or ""), str(credentials.get("access_token") or "")
        if not page_id or not token:
            raise TokenExpired(f"{LABEL}: the channel is not connected (no Page id or Page access token).")
        return page_id, token

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        page_id, token = self._page(channel)
        marks = read_marks(cursor)
        items: list[IncomingItem] = []
        seen_comments = str(marks.get("comments") or "")
        newest_comments = seen_comments
        for posts, _after in meta_graph.pages(
            f"{page_id}/feed",
            token=token,
            label=LABEL,
            params={
                "fields": f"{POST_FIELDS},comments.filter(stream).order(reverse_chronological)"
                f".limit({COMMENTS_SIZE}){{{COMMENT_FIELDS}}}",
                "limit": PAGE_SIZE,
            },
            max_pages=1,
        ):
            for post in posts:
                if not _is_from(post, page_id) and newer(post.get("created_time"), seen_comments):
                    items.append(self.parse_post(post, kind="post"))
                    newest_comments = later(newest_comments, str(post["created_time"]))
                for comment in self.post_comments(post, token=token, since=seen_comments):
                    if _is_from(comment, page_id):
                        continue
                    items.append(self.parse_comment(comment, post=post))
                    newest_comments = later(newest_comments, str(comment["created_time"]))
        seen_tagged = str(marks.get("tagged") or "")
        newest_tagged = seen_tagged
        for tagged, _after in meta_graph.pages(
            f"{page_id}/tagged",
            token=token,
            label=LABEL,
            params={"fields": POST_FIELDS, "limit": PAGE_SIZE},
            max_pages=1,
        ):
            for post in tagged:
                if newer(post.get("created_time"), seen_tagged):
                    items.append(self.parse_post(post, kind="mention"))
                    newest_tagged = later(newest_tagged, str(post["created_time"]))
        seen_messages = str(marks.get("messages") or "")
        messages, newest_messages = new_messages(
            page_id=page_id,
            own_id=page_id,
            token=token,
            platform="messenger",
            since=seen_messages,
            label=LABEL,
            limit=PAGE_SIZE,
        )
        items.extend(messages)
        cursor = json.dumps(
            {"comments": newest_comments, "tagged": newest_tagged, "messages": newest_messages},
            sort_keys=True,
        )
        return PullResult(items=items, cursor=cursor)

    def post_comments(self, post: dict, *, token: str, since: str):
        """A post's comments newer than `since`: the expanded first page, then `/{post-id}/comments`
        with the `after` cursor while the comments are still newer."""
        page = post.get("comments") if isinstance(post.get("comments"), dict) else {}
        for _page in range(meta_graph.MAX_PAGES):
            data = page.get("data") or []
            if not isinstance(data, list) or not all(isinstance(comment, dict) for comment in data):
                raise MalformedPayload(f"{LABEL}: a post's comments are not a list of comments.")
            for comment in data:
                if not newer(comment.get("created_time"), since):
                    return
                yield comment
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            after = str((paging.get("cursors") or {}).get("after") or "")
            if not paging.get("next") or not after:
                return
            page = self._call(
                "GET",
                f"{post['id']}/comments",
                token,
                params={
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "fields": COMMENT_FIELDS,
                    "limit": COMMENTS_SIZE,
                    "after": after,
                },
            )

    def parse_post(self, post: dict, *, kind: str) -> IncomingItem:
        try:
            return IncomingItem(
                external_id=str(post["id"]),
                kind=kind,
                text=str(post.get("message") or ""),
                created_at=parse_time(post["created_time"]),
                author=_author(post.get("from")),
                url=str(post.get("permalink_url") or ""),
                raw={"post": {k: v for k, v in post.items() if k != "comments"}},
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"{LABEL}: a post lacks {error}") from error

    def parse_comment(self, comment: dict, *, post: dict | None = None, post_id: str = "") -> IncomingItem:
        """A top-level comment is a `comment` (its own thread: the brand's post is not an item); a
        reply to a comment is a `reply` whose parent is that comment."""
        try:
            parent = comment.get("parent") if isinstance(comment.get("parent"), dict) else {}
            parent_id = str(parent.get("id") or "")
            post_id = str((post or {}).get("id") or post_id)
            return IncomingItem(
                external_id=str(comment["id"]),
                kind="reply" if parent_id else "comment",
                text=str(comment.get("message") or ""),
                created_at=parse_time(comment["created_time"]),
                author=_author(comment.get("from")),
                url=str(comment.get("permalink_url") or ""),
                parent_external_id=parent_id,
                raw={
                    "post_id": post_id,
                    "post_message": str((post or {}).get("message") or "")[:500],
                    "is_hidden": bool(comment.get("is_hidden")),
                    "can_reply_privately": comment.get("can_reply_privately"),
                },
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"{LABEL}: a comment lacks {error}") from error

    # --- webhooks -------------------------------------------------------------------------------

    def parse_webhook(self, channel, body: bytes) -> list[IncomingItem]:
        """`feed` changes (a comment or a visitor post added or edited) and `messaging` events (a
        person's message); the Page's own, removals and reactions are left out."""
        credentials = channel.read_credentials() if channel.has_credentials else {}
        page_id = str(credentials.get("page_id") or "")
        items: list[IncomingItem] = []
        for entry in meta_graph.webhook_entries(body, expected_object="page"):
            for change in entry.get("changes") or []:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict) or change.get("field") != "feed":
                    continue
                if value.get("verb") not in ("add", "edited") or _is_from(value, page_id):
                    continue
                try:
                    if value.get("item") == "comment":
                        parent = str(value.get("parent_id") or "")
                        post_id = str(value["post_id"])
                        items.append(
                            self.parse_comment(
                                {
                                    "id": value["comment_id"],
                                    "message": value.get("message"),
                                    "created_time": value["created_time"],
                                    "from": value.get("from"),
                                    # A comment on the post itself has the post as its parent.
                                    "parent": {"id": parent} if parent and parent != post_id else None,
                                },
                                post_id=post_id,
                            )
                        )
                    elif value.get("item") in ("post", "status", "photo") and value.get("message"):
                        items.append(
                            self.parse_post(
                                {
                                    "id": value["post_id"],
                                    "message": value.get("message"),
                                    "created_time": value["created_time"],
                                    "from": value.get("from"),
                                    "permalink_url": value.get("link") or "",
                                },
                                kind="post",
                            )
                        )
                except KeyError as error:
                    raise MalformedPayload(f"{LABEL}: a feed change lacks {error}") from error
            items.extend(messaging_items(entry, label=LABEL))
        return items

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        if in_reply_to.kind == "direct_message":
            return self._message(channel, in_reply_to, text)
        page_id, token = self._page(channel)
        target = self._comment_target(in_reply_to)
        created = self._call("POST", f"{target}/comments", token, data={"message": text}, sending=True)
        return delivery_of(created, label=LABEL)

    def private_reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        """In Messenger: a message in the person's conversation (within 24 hours of their last
        message), or the one private reply Meta allows to a comment or a visitor post (within 7
        days of it)."""
        if in_reply_to.kind == "direct_message":
            return self._message(channel, in_reply_to, text)
        if in_reply_to.kind not in ("comment", "reply", "post"):
            raise PermanentError(
                f"{LABEL}: only a comment, a visitor post or a message can be answered in private."
            )
        private_reply_open(in_reply_to, label=LABEL)
        recipient = {"post_id" if in_reply_to.kind == "post" else "comment_id": in_reply_to.external_id}
        page_id, token = self._page(channel)
        return send_message(page_id=page_id, token=token, recipient=recipient, text=text, label=LABEL)

    def _message(self, channel, item, text: str) -> Delivered:
        page_id, token = self._page(channel)
        return message_person(
            item, text, page_id=page_id, token=token, label=LABEL, messaging_type="RESPONSE"
        )

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        """A post on the Page; pictures are uploaded unpublished (`/{page-id}/photos`,
        `published=false`) and attached to the post (`attached_media`)."""
        page_id, token = self._page(channel)
        data: dict[str, Any] = {"message": text}
        for index, one in enumerate(media):
            if not one.mime_type.startswith("image/"):
                raise PermanentError(
                    f"{LABEL}: only pictures can be attached to a post here ({one.mime_type})."
                )
            photo = meta_graph.call(
                "POST",
                f"{page_id}/photos",
                token=token,
                label=LABEL,
                data={
                    "published": "false",
                    **({"alt_text_custom": one.description} if one.description else {}),
                },
                files={"source": (one.filename or f"picture-{index}", one.content, one.mime_type)},
            )
            if not photo.get("id"):
                raise MalformedPayload(f"{LABEL}: the photo upload answered without id.")
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(photo["id"])})
        return delivery_of(self._call("POST", f"{page_id}/feed", token, data=data, sending=True), label=LABEL)

    def delete(self, channel, item) -> None:
        if item.kind == "direct_message":
            raise PermanentError(f"{LABEL}: a Messenger message cannot be deleted by the Page.")
        page_id, token = self._page(channel)
        self._call("DELETE", item.external_id, token)

    def ban_author(self, channel, item) -> None:
        """Blocks the item's author from the Page (`POST /{page-id}/blocked`): a comment's author by
        their app-scoped id (`asid`), a Messenger sender by their Page-scoped id (`psid`)."""
        page_id, token = self._page(channel)
        person = str((item.raw or {}).get("psid") or (item.author.handle if item.author else ""))
        if not person:
            raise PermanentError(f"{LABEL}: the item names no author to block.")
        kind = "psid" if item.kind == "direct_message" else "asid"
        blocked = self._call("POST", f"{page_id}/blocked", token, data={kind: json.dumps([person])})
        if blocked.get(person) is not True:
            raise PermanentError(f"{LABEL}: the Page could not block {person} ({blocked}).")

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The Page's comment, message or post an interrupted attempt made: the same text, by the
        Page, since the action was queued, and no other action's."""
        from palabre.connectors.models import ActionKind

        action = pending_action(channel, idempotency_key)
        if action is None:
            return None
        page_id, token = self._page(channel)
        if (
            action.kind == ActionKind.REPLY
            and action.item is not None
            and action.item.kind == "direct_message"
        ):
            psid = str((action.item.raw or {}).get("psid") or "")
            candidates = conversation_messages(
                page_id=page_id, token=token, person=psid, platform="messenger", label=LABEL
            )
        elif action.kind == ActionKind.REPLY and action.item is not None:
            path = f"{self._comment_target(action.item)}/comments"
            params = {
                "fields": "id,message,created_time,from,permalink_url",
                "limit": COMMENTS_SIZE,
                "filter": "stream",
                "order": "reverse_chronological",
            }
            candidates = self._call("GET", path, token, params=params).get("data")
        elif action.kind == ActionKind.PUBLISH:
            path, params = f"{page_id}/posts", {"fields": POST_FIELDS, "limit": PAGE_SIZE}
            candidates = self._call("GET", path, token, params=params).get("data")
        else:
            return None
        found = delivered_among(
            candidates,
            action=action,
            mine=lambda node: _is_from(node, page_id),
            text_field="message",
            time_field="created_time",
            label=LABEL,
        )
        return delivery_of(found, label=LABEL) if found else None

    # --- connection -----------------------------------------------------------------------------

    def credentials_from_token(self, channel, token: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """The short-lived user token of the login traded for a long-lived one (`fb_exchange_token`,
        about 60 days), then the Page's own token from `/me/accounts` (a Page token taken with a
        long-lived user token does not expire)."""
        credentials = channel.read_credentials() if channel.has_credentials else {}
        accounts, login = pages_of_login(
            credentials, token, fields="id,name,access_token,tasks", label=LABEL, now=now
        )
        page = choose_page(accounts, wanted=str(credentials.get("page_id") or ""), handle=channel.handle)
        return {"page_id": str(page["id"]), "access_token": str(page["access_token"]), **login}

    def health(self, channel) -> ChannelHealthInfo:
        """The Page, named; the token's permissions (`/debug_token`, read with the app's token when
        its secret is known) against what the channel needs, with each missing one's App Review
        status (`/{app-id}/permissions`)."""
        page_id, token = self._page(channel)
        credentials = channel.read_credentials()
        page = self._call("GET", page_id, token, params={"fields": "id,name,username,link"})
        client_id, secret = (
            str(credentials.get("client_id") or ""),
            str(credentials.get("client_secret") or ""),
        )
        return token_health(
            token=token,
            client_id=client_id,
            secret=secret,
            needed=NEEDED_PERMISSIONS,
            account=str(page.get("name") or page_id),
            details={"page_id": page_id, "link": str(page.get("link") or "")},
            label=LABEL,
        )


def choose_page(accounts: list[dict], *, wanted: str, handle: str) -> dict:
    """The Page the channel is for, among those the person manages: the one typed (`page_id`), or
    the one named by the channel's handle, or the only one."""
    usable = [a for a in accounts if isinstance(a, dict) and a.get("id") and a.get("access_token")]
    for account in usable:
        if wanted and str(account["id"]) == wanted:
            return account
    names = handle.strip().lstrip("@").casefold()
    for account in usable:
        if names and names in {str(account["id"]), str(account.get("name") or "").casefold()}:
            return account
    if len(usable) == 1:
        return usable[0]
    listed = ", ".join(f"{a.get('name')} ({a['id']})" for a in usable) or "none"
    raise PermanentError(
        f"{LABEL}: choose the Page: type its id in the channel's `page_id` and connect again "
        f"(the person manages: {listed})."
    )
