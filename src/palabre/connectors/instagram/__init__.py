"""Instagram professional accounts, through the Instagram Graph API with Facebook Login (the account
linked to a Facebook Page; `meta_graph` does the calls): comments on the account's media, replies
and mentions in; replies, private replies, moderation and publishing out.

Credentials: the Meta app's id and secret, and what "Connect with Instagram" stores
(`credentials_from_token`): the Instagram account's id (`ig_user_id`, from the Page's
`instagram_business_account`), the Page's id and token (Instagram's calls and its messaging go
through them), the long-lived user token.

Pulling reads the latest media (`/{ig-user-id}/media`) with their comments and replies expanded,
continued on `/{ig-media-id}/comments` with `after` cursors, the media the account is tagged in
(`/{ig-user-id}/tags`), and the Instagram conversations of the Page
(`/{page-id}/conversations?platform=instagram`). Publishing: `publishing`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    PermanentError,
    PullResult,
    TokenExpired,
)
from palabre.connectors.facebook import choose_page
from palabre.connectors.instagram.publishing import ContainerPublishing
from palabre.connectors.meta_graph import delivery_of, later, newer, parse_time, read_marks
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
from palabre.conversations.services import IncomingAuthor, IncomingItem

LABEL = "Instagram"
PAGE_SIZE = 25
COMMENTS_SIZE = 50
COMMENT_FIELDS = "id,text,timestamp,username,from,hidden,parent_id,like_count"
MEDIA_FIELDS = "id,caption,timestamp,permalink,username,media_type,comments_count"
NEEDED_PERMISSIONS = (
    "instagram_basic",
    "instagram_manage_comments",
    "instagram_content_publish",
    "instagram_manage_messages",
    "pages_read_engagement",
)
OAUTH_SCOPES = (*NEEDED_PERMISSIONS, "pages_show_list", "pages_manage_metadata", "business_management")


class InstagramConnector(ContainerPublishing, GraphConnector):
    platform = "instagram"
    label = LABEL
    hidden_field = "hide"
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
        }
    )
    poll_interval = 300.0
    # How long to wait between two reads of a container's `status_code` (Meta: at most once a
    # second for a minute is plenty for a picture), and how many reads.
    container_wait = 1.0
    container_checks = 30
    oauth = login_flow(OAUTH_SCOPES)
    credential_fields = (
        *APP_FIELDS,
        CredentialField(
            "ig_user_id",
            _("Instagram account ID"),
            _(
                "Filled by “Connect with Instagram”: the professional account's id, as the Page linked to "
                "it tells (instagram_business_account)."
            ),
        ),
        CredentialField(
            "page_id",
            _("Page ID"),
            _(
                "Filled by “Connect with Instagram”: the Facebook Page linked to the account. Type it "
                "before connecting to choose among several Pages."
            ),
        ),
        CredentialField(
            "access_token",
            _("Page access token"),
            _(
                "Filled by “Connect with Instagram”: the token of the Page linked to the account, which "
                "Instagram's calls are made with."
            ),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "user_access_token",
            _("Long-lived user token"),
            _("Filled by “Connect with Instagram”: the token the Page token was taken with."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "user_token_expires_at",
            _("User token expiry"),
            _("Filled by “Connect with Instagram”: when the long-lived user token expires."),
        ),
        CredentialField(
            "verify_token",
            _("Webhook verify token"),
            _(
                "Any secret text of your choice, typed again in the app: Webhooks > Instagram > "
                "Subscribe to this object, “Verify token”."
            ),
            kind=FieldKind.SECRET,
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def _token(self, channel) -> str:
        return self._account(channel)[1]

    def _account(self, channel) -> tuple[str, str, str]:
        credentials = channel.read_credentials() if channel.has_credentials else {}
        ig_user_id = str(credentials.get("ig_user_id") or "")
        token = str(credentials.get("access_token") or "")
        if not ig_user_id or not token:
            raise TokenExpired(f"{LABEL}: the channel is not connected (no Instagram account id or token).")
        return ig_user_id, token, str(credentials.get("page_id") or "")

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        ig_user_id, token, page_id = self._account(channel)
        marks = read_marks(cursor)
        items: list[IncomingItem] = []
        seen = str(marks.get("comments") or "")
        newest = seen
        fields = (
            f"{MEDIA_FIELDS},comments.limit({COMMENTS_SIZE}){{{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}}}"
        )
        for media_page, _after in meta_graph.pages(
            f"{ig_user_id}/media",
            token=token,
            label=LABEL,
            params={"fields": fields, "limit": PAGE_SIZE},
            max_pages=1,
        ):
            for media in media_page:
                for comment in self.media_comments(media, token=token, since=seen):
                    for one in (comment, *((comment.get("replies") or {}).get("data") or [])):
                        if not isinstance(one, dict) or _own(one, ig_user_id, media):
                            continue
                        if not newer(one.get("timestamp"), seen):
                            continue
                        parent = str(comment["id"]) if one is not comment else ""
                        items.append(
                            self.parse_comment(one, media_id=str(media.get("id") or ""), parent=parent)
                        )
                        newest = later(newest, str(one["timestamp"]))
        seen_tags = str(marks.get("tags") or "")
        newest_tags = seen_tags
        for tagged, _after in meta_graph.pages(
            f"{ig_user_id}/tags",
            token=token,
            label=LABEL,
            params={"fields": MEDIA_FIELDS, "limit": PAGE_SIZE},
            max_pages=1,
        ):
            for media in tagged:
                if newer(media.get("timestamp"), seen_tags):
                    items.append(self.parse_mention(media))
                    newest_tags = later(newest_tags, str(media["timestamp"]))
        seen_messages = str(marks.get("messages") or "")
        newest_messages = seen_messages
        if page_id:
            messages, newest_messages = new_messages(
                page_id=page_id,
                own_id=ig_user_id,
                token=token,
                platform="instagram",
                since=seen_messages,
                label=LABEL,
                limit=PAGE_SIZE,
            )
            items.extend(messages)
        cursor = json.dumps(
            {"comments": newest, "messages": newest_messages, "tags": newest_tags}, sort_keys=True
        )
        return PullResult(items=items, cursor=cursor)

    def media_comments(self, media: dict, *, token: str, since: str):
        """A media's top-level comments (their replies inside), the expanded page then
        `/{ig-media-id}/comments` with `after` cursors while a page still holds newer ones."""
        page = media.get("comments") if isinstance(media.get("comments"), dict) else {}
        for _page in range(meta_graph.MAX_PAGES):
            data = page.get("data") or []
            if not isinstance(data, list) or not all(isinstance(comment, dict) for comment in data):
                raise MalformedPayload(f"{LABEL}: a media's comments are not a list of comments.")
            fresh = False
            for comment in data:
                replies = (comment.get("replies") or {}).get("data") or []
                times = [
                    comment.get("timestamp"),
                    *(r.get("timestamp") for r in replies if isinstance(r, dict)),
                ]
                if any(newer(value, since) for value in times):
                    fresh = True
                    yield comment
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            after = str((paging.get("cursors") or {}).get("after") or "")
            if not fresh or not paging.get("next") or not after:
                return
            page = self._call(
                "GET",
                f"{media['id']}/comments",
                token,
                params={
                    "fields": f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}",
                    "limit": COMMENTS_SIZE,
                    "after": after,
                },
            )

    def parse_comment(self, comment: dict, *, media_id: str, parent: str = "") -> IncomingItem:
        """A comment on a media is a `comment`; a reply to it a `reply` whose parent is the comment."""
        try:
            parent = parent or str(comment.get("parent_id") or "")
            who = comment.get("from") if isinstance(comment.get("from"), dict) else {}
            username = str(who.get("username") or comment.get("username") or "")
            return IncomingItem(
                external_id=str(comment["id"]),
                kind="reply" if parent else "comment",
                text=str(comment.get("text") or ""),
                created_at=parse_time(comment["timestamp"]),
                author=IncomingAuthor(
                    handle=username or str(who.get("id") or ""),
                    display_name=username,
                    profile_url=f"https://www.instagram.com/{username}/" if username else "",
                ),
                parent_external_id=parent,
                raw={
                    "media_id": media_id,
                    "from_id": str(who.get("id") or ""),
                    "hidden": bool(comment.get("hidden")),
                },
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"{LABEL}: a comment lacks {error}") from error

    def parse_mention(self, media: dict) -> IncomingItem:
        """A media the account is tagged in."""
        try:
            username = str(media.get("username") or "")
            return IncomingItem(
                external_id=str(media["id"]),
                kind="mention",
                text=str(media.get("caption") or ""),
                created_at=parse_time(media["timestamp"]),
                author=IncomingAuthor(
                    handle=username,
                    display_name=username,
                    profile_url=f"https://www.instagram.com/{username}/",
                )
                if username
                else None,
                url=str(media.get("permalink") or ""),
                raw={"media_type": str(media.get("media_type") or "")},
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"{LABEL}: a tagged media lacks {error}") from error

    # --- webhooks -------------------------------------------------------------------------------

    def parse_webhook(self, channel, body: bytes) -> list[IncomingItem]:
        """`comments` changes (a comment or a reply on the account's media; the notification has no
        time of its own: the entry's `time` is used) and `messaging` events (a direct message);
        the account's own are left out."""
        credentials = channel.read_credentials() if channel.has_credentials else {}
        ig_user_id = str(credentials.get("ig_user_id") or "")
        items: list[IncomingItem] = []
        for entry in meta_graph.webhook_entries(body, expected_object="instagram"):
            for change in entry.get("changes") or []:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict) or change.get("field") not in ("comments", "live_comments"):
                    continue
                if _own(value, ig_user_id, {}):
                    continue
                try:
                    media = value.get("media") if isinstance(value.get("media"), dict) else {}
                    items.append(
                        self.parse_comment(
                            {
                                "id": value["id"],
                                "text": value.get("text"),
                                "timestamp": entry["time"],
                                "from": value.get("from"),
                                "parent_id": value.get("parent_id"),
                            },
                            media_id=str(media.get("id") or ""),
                        )
                    )
                except KeyError as error:
                    raise MalformedPayload(f"{LABEL}: a comments change lacks {error}") from error
            items.extend(messaging_items(entry, label=LABEL))
        return items

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        if in_reply_to.kind == "direct_message":
            return self._message(channel, in_reply_to, text)
        if in_reply_to.kind not in ("comment", "reply"):
            raise PermanentError(
                f"{LABEL}: only comments can be answered in public, not a {in_reply_to.kind}."
            )
        _ig, token, _page = self._account(channel)
        target = self._comment_target(in_reply_to)
        created = self._call("POST", f"{target}/replies", token, data={"message": text}, sending=True)
        return delivery_of(created, label=LABEL)

    def private_reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        """A direct message: in the person's conversation within 24 hours of their last message, or
        the one private reply Instagram allows to a comment, within 7 days of it."""
        if in_reply_to.kind == "direct_message":
            return self._message(channel, in_reply_to, text)
        if in_reply_to.kind not in ("comment", "reply"):
            raise PermanentError(f"{LABEL}: only a comment or a message can be answered in private.")
        private_reply_open(in_reply_to, label=LABEL)
        return self._send(channel, {"comment_id": in_reply_to.external_id}, text)

    def _message(self, channel, item, text: str) -> Delivered:
        return message_person(item, text, **self._messenger(channel))

    def _send(self, channel, recipient: dict, text: str) -> Delivered:
        return send_message(recipient=recipient, text=text, **self._messenger(channel))

    def _messenger(self, channel) -> dict[str, str]:
        _ig, token, page_id = self._account(channel)
        if not page_id:
            raise TokenExpired(f"{LABEL}: messages go through the linked Page: connect the channel again.")
        return {"page_id": page_id, "token": token, "label": LABEL}

    def delete(self, channel, item) -> None:
        if item.kind not in ("comment", "reply"):
            raise PermanentError(f"{LABEL}: only comments on the account's media can be deleted.")
        _ig, token, _page = self._account(channel)
        self._call("DELETE", item.external_id, token)

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The account's reply or media an interrupted attempt made: the same text, by the
        account, since the action was queued, and no other action's."""
        from palabre.connectors.models import ActionKind

        action = pending_action(channel, idempotency_key)
        if action is None:
            return None
        ig_user_id, token, page_id = self._account(channel)
        if (
            action.kind == ActionKind.REPLY
            and action.item is not None
            and action.item.kind == "direct_message"
        ):
            candidates = conversation_messages(
                page_id=page_id,
                token=token,
                person=str((action.item.raw or {}).get("psid") or ""),
                platform="instagram",
                label=LABEL,
            )
            text_field, time_field = "message", "created_time"
        elif action.kind == ActionKind.REPLY and action.item is not None:
            path = f"{self._comment_target(action.item)}/replies"
            candidates = self._call("GET", path, token, params={"fields": COMMENT_FIELDS}).get("data")
            text_field, time_field = "text", "timestamp"
        elif action.kind == ActionKind.PUBLISH:
            path, params = f"{ig_user_id}/media", {"fields": MEDIA_FIELDS, "limit": PAGE_SIZE}
            candidates = self._call("GET", path, token, params=params).get("data")
            text_field, time_field = "caption", "timestamp"
        else:
            return None
        found = delivered_among(
            candidates,
            action=action,
            mine=lambda node: text_field == "caption" or _own(node, ig_user_id, {}),
            text_field=text_field,
            time_field=time_field,
            label=LABEL,
        )
        return delivery_of(found, label=LABEL) if found else None

    # --- connection -----------------------------------------------------------------------------

    def credentials_from_token(self, channel, token: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """As Facebook's (a long-lived user token, then the Page's token from `/me/accounts`), the
        Page chosen among those linked to an Instagram professional account; its
        `instagram_business_account` is the account."""
        credentials = channel.read_credentials() if channel.has_credentials else {}
        found, login = pages_of_login(
            credentials,
            token,
            fields="id,name,access_token,instagram_business_account{id,username}",
            label=LABEL,
            now=now,
        )
        accounts = [a for a in found if isinstance(a.get("instagram_business_account"), dict)]
        handle = channel.handle.strip().lstrip("@")
        named = [a for a in accounts if a["instagram_business_account"].get("username") == handle]
        page = choose_page(
            named or accounts, wanted=str(credentials.get("page_id") or ""), handle=channel.handle
        )
        return {
            "ig_user_id": str(page["instagram_business_account"]["id"]),
            "page_id": str(page["id"]),
            "access_token": str(page["access_token"]),
            **login,
        }

    def health(self, channel) -> ChannelHealthInfo:
        """The account, named `@username`; the token's permissions (`/debug_token`) against what the
        channel needs, each missing one with its App Review status."""
        ig_user_id, token, page_id = self._account(channel)
        credentials = channel.read_credentials()
        account = self._call("GET", ig_user_id, token, params={"fields": "id,username,name,followers_count"})
        username = str(account.get("username") or ig_user_id)
        return token_health(
            token=token,
            client_id=str(credentials.get("client_id") or ""),
            secret=str(credentials.get("client_secret") or ""),
            needed=NEEDED_PERMISSIONS,
            account=f"@{username}",
            details={
                "ig_user_id": ig_user_id,
                "page_id": page_id,
                "followers": account.get("followers_count"),
            },
            label=LABEL,
        )


def _own(node: dict, ig_user_id: str, media: dict) -> bool:
    """Written by the account itself (its id, or the media's owner's username)."""
    who = node.get("from") if isinstance(node.get("from"), dict) else {}
    if ig_user_id and str(who.get("id") or "") == ig_user_id:
        return True
    owner = str(media.get("username") or "")
    return bool(owner) and str(who.get("username") or node.get("username") or "") == owner
