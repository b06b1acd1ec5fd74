"""X (Twitter), through the X API v2 over plain HTTP: mentions and direct messages in; replies,
private replies, posts with pictures, hiding replies and deleting out.

Plain HTTP through `http_client.request` rather than tweepy: tweepy's `Client` writes its host
(`https://api.twitter.com`) into each request with no way to give another (a test server), and
uploads media only through the v1.1 endpoint with OAuth 1.0a, not the v2 `POST /2/media/upload`
an OAuth 2.0 token may use. Our one client brings the address guard, the timeout and the size limit.

Credentials come from the OAuth 2.0 authorisation-code flow with PKCE (`oauth` below): the app's
`client_id` and `client_secret` (a confidential client: X wants them as HTTP Basic at its token
endpoint), `access_token` (two hours),
`refresh_token` (with `offline.access`), `token_expires_at`, `scope`. The access tier the app's
project has (`tier`: free, basic, pro, enterprise) says what it may call: Free only posts
(`POST /2/tweets`, media upload, delete, `GET /2/users/me`); reading mentions and direct messages,
hiding replies and sending direct messages need Basic or above. What the tier does not allow is
refused here, with that reason, before any call.

In: `GET /2/users/:id/mentions` (newest first) from the `since_id` saved last time, following
`pagination_token`; a page not reached (a page limit, the rate limit's last call) is kept in the
cursor and read first next time, so nothing is skipped. A mention that answers a post
(`referenced_tweets` `replied_to`) is a reply to it; `conversation_id` names the thread.
Direct messages: `GET /2/dm_events` (MessageCreate events, newest first) down to the newest seen.

Rate limits: each answer's `x-rate-limit-remaining` and `x-rate-limit-reset` (epoch seconds); a
429 raises RateLimited until that reset.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    Media,
    OAuthSpec,
    PermanentError,
    PermissionMissing,
    PullResult,
    scope_text,
)
from palabre.connectors.x.client import WEB, XClient
from palabre.connectors.x.reading import PAGE_SIZE, XReading
from palabre.conversations.services import IncomingItem

SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "dm.read",
    "dm.write",
    "tweet.moderate.write",
    "media.write",
)
# A post created this long before its action was queued is not that action's (clocks differ).
FIND_SKEW = timedelta(minutes=5)

# What each access tier allows of what the channel does (https://docs.x.com/x-api/getting-started/about-x-api).
POSTING = frozenset({"reply", "publish", "publish_media", "delete", "account"})
READING = frozenset({"mentions", "direct_messages", "hide", "private_reply", "own_posts"})
TIERS: dict[str, frozenset[str]] = {
    "free": POSTING,
    "basic": POSTING | READING,
    "pro": POSTING | READING,
    "enterprise": POSTING | READING,
}
# Why each is refused on Free, for the message.
NEEDS = {
    "mentions": "reading mentions",
    "direct_messages": "reading direct messages",
    "hide": "hiding replies",
    "private_reply": "sending direct messages",
    "own_posts": "reading the account's own posts",
}


class XConnector(XClient, XReading, Connector):
    platform = "x"
    capabilities = frozenset(
        {
            Capability.PULL,
            Capability.REPLY,
            Capability.PRIVATE_REPLY,
            Capability.PUBLISH,
            Capability.PUBLISH_MEDIA,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE,
        }
    )
    # The mentions timeline allows 10 to 450 calls per 15 minutes depending on the tier.
    poll_interval = 300.0
    oauth = OAuthSpec(
        authorize_url="https://x.com/i/oauth2/authorize",
        token_url="https://api.x.com/2/oauth2/token",
        scopes=SCOPES,
        pkce=True,
        # A confidential client ("Web App"): X wants its id and secret as HTTP Basic at the token endpoint.
        token_auth="client_secret_basic",
    )
    option_fields = (
        CredentialField(
            "tier",
            _("Access tier"),
            _(
                "When the app's project changed access level after the connection: it replaces the one "
                "entered with the credentials, without connecting the channel again."
            ),
            kind=FieldKind.CHOICE,
            choices=tuple(TIERS),
        ),
    )
    credential_fields = (
        CredentialField(
            "tier",
            _("Access tier"),
            _(
                "The access level of the app's project in the X developer portal (Products > X API): "
                "free only posts; reading mentions and direct messages and hiding replies need basic or above."
            ),
            kind=FieldKind.CHOICE,
            required=True,
            choices=tuple(TIERS),
        ),
        CredentialField(
            "client_id",
            _("OAuth 2.0 client id"),
            _(
                "X developer portal > the project's app > Keys and tokens > OAuth 2.0 Client ID and "
                "Client Secret (set up User authentication first, with this page's redirect URL)."
            ),
            required=True,
        ),
        CredentialField(
            "client_secret",
            _("OAuth 2.0 client secret"),
            _(
                "The same place; the app's type must be “Web App, Automated App or Bot” (a confidential client)."
            ),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "access_token",
            _("Access token"),
            _("Filled in by “Connect with X”: sign in with the brand's X account."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "refresh_token",
            _("Refresh token"),
            _("Filled in by “Connect with X” (X gives one with the offline.access scope)."),
            kind=FieldKind.SECRET,
        ),
        CredentialField("token_expires_at", _("Token expiry"), _("Filled in by “Connect with X”.")),
        CredentialField(
            "scope",
            _("Granted scopes"),
            _("Filled in by “Connect with X”: the scopes the brand's account granted."),
        ),
        CredentialField(
            "user_id",
            _("Account id"),
            _("Optional: the account's numeric id; Palabre asks X (GET /2/users/me) when it is missing."),
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        base = (channel.options or {}).get("api_base_url")
        return [("options", str(base))] if base else []

    def credentials_from_token(self, channel, token, *, now: datetime) -> dict[str, Any]:
        credentials = super().credentials_from_token(channel, token, now=now)
        if token.get("scope"):
            credentials["scope"] = scope_text(token["scope"])
        return credentials

    def tier(self, channel) -> str:
        """The project's access tier: the channel's option when an admin set it (the project was
        upgraded after the connection), else the one typed with the credentials, else free."""
        credentials = channel.read_credentials() if channel.has_credentials else {}
        tier = str((channel.options or {}).get("tier") or credentials.get("tier") or "free")
        return tier if tier in TIERS else "free"

    def require(self, channel, what: str) -> None:
        """Refuse at once what the channel's access tier does not allow."""
        tier = self.tier(channel)
        if what not in TIERS[tier]:
            raise PermissionMissing(
                f"X {tier} access does not allow {NEEDS.get(what, what)}: it needs the Basic tier or "
                "above (X developer portal > Products > X API), then set the channel's tier."
            )

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        self.require(channel, "mentions")
        self.last_limits: dict[str, Any] = {}
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        state = state if isinstance(state, dict) else {}
        me = self.user_id(channel)
        items: dict[str, IncomingItem] = {}
        state = self._pull_mentions(channel, me, state, items)
        if "direct_messages" in TIERS[self.tier(channel)]:
            state = self._pull_messages(channel, me, state, items)
        return PullResult(items=list(items.values()), cursor=json.dumps(state, sort_keys=True))

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        if (in_reply_to.raw or {}).get("type") == "direct_message":
            return self.private_reply(
                channel, in_reply_to=in_reply_to, text=text, idempotency_key=idempotency_key
            )
        self.require(channel, "reply")
        body = {"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to.external_id}}
        answer = self._call(channel, "POST", "/2/tweets", json_body=body, sending=True)
        return self._delivered(channel, answer)

    def private_reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        self.require(channel, "private_reply")
        participant = str((in_reply_to.raw or {}).get("author_id") or "")
        if not participant:
            raise PermanentError("X: the item does not say who wrote it, so no direct message can answer it.")
        answer = self._call(
            channel,
            "POST",
            f"/2/dm_conversations/with/{participant}/messages",
            json_body={"text": text},
            sending=True,
        )
        data = answer.get("data") or {}
        if not isinstance(data, dict) or not data.get("dm_event_id"):
            raise MalformedPayload("X answered without the message's id.", maybe_delivered=True)
        return Delivered(
            external_id=str(data["dm_event_id"]), url=f"{WEB}/messages/{data.get('dm_conversation_id', '')}"
        )

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        self.require(channel, "publish")
        media_ids = [self.upload(channel, one) for one in media]
        body: dict[str, Any] = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        answer = self._call(channel, "POST", "/2/tweets", json_body=body, sending=True)
        return self._delivered(channel, answer)

    def upload(self, channel, media: Media) -> str:
        """A picture sent with `POST /2/media/upload` (multipart), its text alternative with
        `POST /2/media/metadata`; the media id to attach to the post."""
        self.require(channel, "publish_media")
        if not media.mime_type.startswith("image/"):
            # A video goes through X's chunked upload and its processing wait: not done here.
            raise PermanentError(f"X: Palabre publishes pictures only, not {media.mime_type}.")
        category = "tweet_gif" if media.mime_type == "image/gif" else "tweet_image"
        answer = self._call(
            channel,
            "POST",
            "/2/media/upload",
            files={"media": (media.filename or "picture", media.content, media.mime_type)},
            data={"media_category": category, "media_type": media.mime_type},
        )
        data = answer.get("data") or {}
        if not isinstance(data, dict) or not data.get("id"):
            raise MalformedPayload("X's media upload answered without the media id.")
        media_id = str(data["id"])
        if media.description:
            self._call(
                channel,
                "POST",
                "/2/media/metadata",
                json_body={"id": media_id, "metadata": {"alt_text": {"text": media.description[:1000]}}},
            )
        return media_id

    def _delivered(self, channel, answer: dict) -> Delivered:
        data = answer.get("data") or {}
        if not isinstance(data, dict) or not data.get("id"):
            raise MalformedPayload("X answered without the post's id.", maybe_delivered=True)
        handle = channel.handle.lstrip("@") or "i"
        return Delivered(external_id=str(data["id"]), url=f"{WEB}/{handle}/status/{data['id']}")

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The post an interrupted attempt created, among the account's posts since the action was
        queued: the same text, the same parent (none for a post), and no other action's. X takes
        no idempotency key, so this look comes before anything is sent again."""
        from palabre.connectors.models import ActionKind, OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None:
            return None
        self.require(channel, "own_posts")
        me = self.user_id(channel)
        start = (action.created_at - FIND_SKEW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        page = self._call(
            channel,
            "GET",
            f"/2/users/{me}/tweets",
            params={
                "start_time": start,
                "max_results": PAGE_SIZE,
                "tweet.fields": "created_at,referenced_tweets",
            },
        )
        posts = page.get("data") or []
        if not isinstance(posts, list):
            raise MalformedPayload("X's posts of the account are not a list.")
        parent = action.item.external_id if action.kind == ActionKind.REPLY and action.item else ""
        taken = set(
            OutboundAction.objects.filter(channel=channel, external_id__in=[str(p.get("id")) for p in posts])
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        wanted = " ".join(action.text.split())
        for post in posts:
            replied = next(
                (
                    str(ref.get("id"))
                    for ref in post.get("referenced_tweets") or []
                    if ref.get("type") == "replied_to"
                ),
                "",
            )
            # X puts the mentions of a reply's thread before its text.
            text = " ".join(str(post.get("text") or "").split())
            if (
                replied == parent
                and str(post.get("id")) not in taken
                and (text == wanted or text.endswith(" " + wanted))
            ):
                return self._delivered(channel, {"data": post})
        return None

    def hide(self, channel, item) -> None:
        self._hidden(channel, item, True)

    def unhide(self, channel, item) -> None:
        self._hidden(channel, item, False)

    def _hidden(self, channel, item, hidden: bool) -> None:
        """`PUT /2/tweets/:id/hidden`: X hides only replies to the brand's own posts."""
        self.require(channel, "hide")
        answer = self._call(
            channel, "PUT", f"/2/tweets/{item.external_id}/hidden", json_body={"hidden": hidden}
        )
        if (answer.get("data") or {}).get("hidden") is not hidden:
            raise MalformedPayload(f"X did not confirm the reply is {'hidden' if hidden else 'shown'}.")

    def delete(self, channel, item) -> None:
        """`DELETE /2/tweets/:id`: X deletes only the brand's own posts (a reply it sent)."""
        self.require(channel, "delete")
        answer = self._call(channel, "DELETE", f"/2/tweets/{item.external_id}")
        if (answer.get("data") or {}).get("deleted") is not True:
            raise MalformedPayload("X did not confirm the deletion.")

    # --- connection -----------------------------------------------------------------------------

    def health(self, channel) -> ChannelHealthInfo:
        """The account (`GET /2/users/me`), the scopes granted at connection, the tier and what
        it allows, the rate limit's state."""
        self.last_limits = {}
        me = self._me(channel)
        from palabre.connectors.services import connector_state, save_connector_state

        state = connector_state(channel)
        if state.get("user_id") != me["id"]:
            save_connector_state(channel, {**state, "user_id": me["id"]})
        credentials = channel.read_credentials()
        scopes = str(credentials.get("scope") or "").split()
        tier = self.tier(channel)
        allowed = TIERS[tier]
        needed = ["tweet.read", "tweet.write", "users.read"]
        if "mentions" in allowed:
            needed += ["tweet.moderate.write", "dm.read", "dm.write"]
        needed.append("media.write")
        if scopes:
            missing = [scope for scope in needed if scope not in scopes]
            if missing:
                raise PermissionMissing(
                    "X: the token lacks the scope(s) "
                    + ", ".join(missing)
                    + f" (it has: {', '.join(scopes)}). "
                    "Connect the channel with X again and allow every permission asked."
                )
        details: dict[str, Any] = {
            "id": str(me["id"]),
            "tier": tier,
            "allows": sorted(allowed),
            "refuses": sorted(set().union(*TIERS.values()) - allowed),
            **getattr(self, "last_limits", {}),
        }
        note = ""
        if tier == "free":
            note = (
                "X Free access only posts: mentions and direct messages are not read, replies cannot be "
                "hidden; the Basic tier or above allows them."
            )
        elif not scopes:
            note = "The scopes granted at connection are not known: the first call will tell."
        return ChannelHealthInfo(
            account=f"@{me.get('username') or me['id']}",
            scopes=tuple(scopes),
            details=details,
            permissions_checked="partial" if note else "verified",
            permissions_note=note,
        )
