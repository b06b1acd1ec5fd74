"""Discord, a brand's server (guild) through a bot and Discord's HTTP API (v10), plain HTTP.

Chosen: the HTTP API only, no gateway. The gateway (a websocket that pushes events) needs a client
library's own connection and heartbeats that cannot be played back by a loopback server; the
channels' messages are read with `GET /channels/{id}/messages?after=<id>` instead, on the poll
interval. (Interactions and webhooks are not built.)

- A Palabre channel is one guild (`guild_id`) and some of its text channels (`channel_ids`). The
  cursor keeps, per Discord channel, the newest message id read; a first pull reads one page.
- A message's parent is the one it replies to (`message_reference.message_id`).
- Out: a reply is `POST /channels/{id}/messages` with `message_reference` and a `nonce` derived
  from the idempotency key, `enforce_nonce: true` (Discord returns the first message for a repeated
  nonce within minutes); after an attempt whose fate is unknown, `find_delivered` looks for the
  bot's message among the channel's latest. A publication goes to `publish_channel_id`.
  Delete: `DELETE /channels/{id}/messages/{id}` (Manage Messages). Ban the author: a timeout,
  `PATCH /guilds/{guild}/members/{user}` with `communication_disabled_until` (Moderate Members).
  Discord cannot hide a message: HIDE is not declared.
- Errors: 429 with the body's `retry_after` (or `Retry-After`), `global` said in the message;
  401 TokenExpired; 403 PermissionMissing (50013 Missing Permissions, 50001 Missing Access).
  A page answered with `X-RateLimit-Remaining: 0` ends the pull there (the cursor keeps the place).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.connectors import http_client
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    Media,
    PermanentError,
    PermissionMissing,
    PullResult,
    TokenExpired,
)
from palabre.conversations.services import IncomingAuthor, IncomingItem

API = "https://discord.com/api/v10"
PAGE = 100
MAX_PAGES = 10
FIND_SKEW = timedelta(minutes=5)
DEFAULT_TIMEOUT_MINUTES = 60
MAX_TIMEOUT_MINUTES = 28 * 24 * 60  # Discord's limit: 28 days
# Message types that are people's messages: DEFAULT and REPLY.
PEOPLE_TYPES = (0, 19)
# Application flags (docs: Application > Application Flags): the Message Content intent.
MESSAGE_CONTENT = 1 << 18
MESSAGE_CONTENT_LIMITED = 1 << 19
MISSING_PERMISSIONS, MISSING_ACCESS = 50013, 50001


class DiscordConnector(Connector):
    platform = "discord"
    capabilities = frozenset(
        {Capability.PULL, Capability.REPLY, Capability.PUBLISH, Capability.DELETE, Capability.BAN_AUTHOR}
    )
    poll_interval = 120.0
    credential_fields = (
        CredentialField(
            "bot_token",
            _("Bot token"),
            _(
                "In the Discord Developer Portal: your application > Bot > Reset Token. Invite the bot "
                "to the server with the permissions listed in Palabre's documentation."
            ),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "guild_id",
            _("Server id"),
            _(
                "The server's id: Discord's settings > Advanced > Developer Mode, then right-click the server > Copy Server ID."
            ),
            required=True,
        ),
        CredentialField(
            "channel_ids",
            _("Channel ids"),
            _(
                "The ids of the text channels to follow, separated by commas (right-click a channel > Copy Channel ID)."
            ),
            required=True,
        ),
        CredentialField(
            "publish_channel_id",
            _("Channel of publications"),
            _(
                "Optional: the id of the channel where publications go (the first followed channel by default)."
            ),
        ),
        CredentialField(
            "timeout_minutes",
            _("Timeout (minutes)"),
            _("Optional: how long “ban the author” times a member out (60 by default, 40320 at most)."),
            kind=FieldKind.INTEGER,
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        return [("credentials", self._base(channel))]

    def _base(self, channel) -> str:
        return str((channel.options or {}).get("api_base_url") or API).rstrip("/")

    def _call(
        self,
        channel,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        sending: bool = False,
        reason: str = "",
    ) -> tuple[Any, httpx.Response]:
        token = _setting(channel, "bot_token")
        if not token:
            raise TokenExpired("The channel has no Discord bot token.")
        headers = {"Authorization": f"Bot {token}"}
        if reason:
            headers["X-Audit-Log-Reason"] = reason
        url = self._base(channel) + path
        response = http_client.send(
            method, url, label="Discord", sending=sending, params=params, json=body, headers=headers
        )
        return _answer(response, sending=sending), response

    def _me(self, channel) -> dict[str, Any]:
        me, _response = self._call(channel, "GET", "/users/@me")
        if not isinstance(me, dict) or "id" not in me:
            raise MalformedPayload("Discord's /users/@me has no id.")
        return me

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        seen = _read_cursor(cursor)
        guild = str(_setting(channel, "guild_id") or "")
        bot_id = str(self._me(channel)["id"])
        items: dict[str, IncomingItem] = {}
        for discord_channel in _channel_ids(channel):
            after = seen.get(discord_channel, "")
            first = not after  # a first pull of this channel reads its latest page only
            for _page in range(MAX_PAGES):
                params: dict[str, Any] = {"limit": PAGE}
                if after:
                    params["after"] = after
                page, response = self._call(
                    channel, "GET", f"/channels/{discord_channel}/messages", params=params
                )
                if not isinstance(page, list):
                    raise MalformedPayload("Discord's channel messages are not a list.")
                for message in page:
                    if isinstance(message, dict) and message.get("type", 0) in PEOPLE_TYPES:
                        item = parse_message(message, guild, channel, bot_id)
                        items[item.external_id] = item
                if page:
                    after = str(max((int(m["id"]) for m in page), default=int(after or 0)))
                    seen[discord_channel] = after
                exhausted = response.headers.get("x-ratelimit-remaining") == "0"
                if first or len(page) < PAGE or exhausted:
                    break  # a spent rate-limit bucket: the next pull goes on from here
        return PullResult(items=list(items.values()), cursor=json.dumps(seen, sort_keys=True))

    # --- out ------------------------------------------------------------------------------------

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        raw = in_reply_to.raw or {}
        target = str(raw.get("channel_id") or "")
        if not target:
            raise PermanentError("The item does not carry its Discord channel id.")
        body = {
            "content": text,
            "message_reference": {"message_id": in_reply_to.external_id, "fail_if_not_exists": False},
            "allowed_mentions": {"parse": [], "replied_user": True},
            "nonce": nonce(idempotency_key),
            "enforce_nonce": True,
        }
        message, _response = self._call(
            channel, "POST", f"/channels/{target}/messages", body=body, sending=True
        )
        return self._delivered(channel, message)

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        if media:
            raise PermanentError("Discord publications are sent without attachments here.")
        target = str(_setting(channel, "publish_channel_id") or "") or next(iter(_channel_ids(channel)), "")
        if not target:
            raise PermanentError("The channel has no Discord channel to publish in.")
        body = {
            "content": text,
            "allowed_mentions": {"parse": []},
            "nonce": nonce(idempotency_key),
            "enforce_nonce": True,
        }
        message, _response = self._call(
            channel, "POST", f"/channels/{target}/messages", body=body, sending=True
        )
        return self._delivered(channel, message)

    def _delivered(self, channel, message: Any) -> Delivered:
        try:
            return Delivered(
                external_id=str(message["id"]),
                url=_url(
                    str(_setting(channel, "guild_id") or ""), str(message["channel_id"]), str(message["id"])
                ),
            )
        except (KeyError, TypeError) as error:
            raise MalformedPayload(
                f"Discord's created message lacks {error}", maybe_delivered=True
            ) from error

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The bot's message an interrupted attempt created, among its channel's latest: same text,
        same message answered, created since the action was queued, no other action's."""
        from palabre.connectors.models import ActionKind, OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None:
            return None
        answered = action.item.external_id if action.kind == ActionKind.REPLY and action.item else None
        if answered:
            target = str((action.item.raw or {}).get("channel_id") or "")
        else:
            target = str(_setting(channel, "publish_channel_id") or "") or next(
                iter(_channel_ids(channel)), ""
            )
        bot_id = str(self._me(channel)["id"])
        page, _response = self._call(channel, "GET", f"/channels/{target}/messages", params={"limit": 50})
        if not isinstance(page, list):
            raise MalformedPayload("Discord's channel messages are not a list.")
        taken = set(
            OutboundAction.objects.filter(channel=channel, external_id__in=[str(m.get("id")) for m in page])
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        for message in page:
            try:
                reference = (message.get("message_reference") or {}).get("message_id")
                if (
                    str(message["author"]["id"]) == bot_id
                    and message.get("content") == action.text
                    and (reference == answered if answered else not reference)
                    and _created(message) >= action.created_at - FIND_SKEW
                    and str(message["id"]) not in taken
                ):
                    return self._delivered(channel, message)
            except (KeyError, TypeError, ValueError) as error:
                raise MalformedPayload(f"A Discord message lacks {error}") from error
        return None

    def delete(self, channel, item) -> None:
        target = str((item.raw or {}).get("channel_id") or "")
        if not target:
            raise PermanentError("The item does not carry its Discord channel id.")
        self._call(
            channel,
            "DELETE",
            f"/channels/{target}/messages/{item.external_id}",
            reason="Removed by the server's moderation team (Palabre)",
        )

    def ban_author(self, channel, item) -> None:
        user_id = (item.raw or {}).get("author_id")
        guild = _setting(channel, "guild_id")
        if not user_id or not guild:
            raise PermanentError(
                "The item does not carry its Discord author id, or the channel its server id."
            )
        minutes = int(_setting(channel, "timeout_minutes") or DEFAULT_TIMEOUT_MINUTES)
        minutes = max(1, min(minutes, MAX_TIMEOUT_MINUTES))
        until = timezone.now() + timedelta(minutes=minutes)
        self._call(
            channel,
            "PATCH",
            f"/guilds/{guild}/members/{user_id}",
            body={"communication_disabled_until": until.isoformat()},
            reason="Timed out by the server's moderation team (Palabre)",
        )

    # --- connection -------------------------------------------------------------------------------

    def health(self, channel) -> ChannelHealthInfo:
        """The bot's account, the Message Content intent (without it, Discord sends messages with an
        empty text), and each followed channel readable. The bot's permissions in the server (Manage
        Messages, Moderate Members) are computed by Discord from roles and overwrites: not checked."""
        me = self._me(channel)
        application, _response = self._call(channel, "GET", "/applications/@me")
        flags = int((application or {}).get("flags") or 0) if isinstance(application, dict) else 0
        if not flags & (MESSAGE_CONTENT | MESSAGE_CONTENT_LIMITED):
            raise PermissionMissing(
                "Discord: the application does not have the Message Content intent (Developer Portal > "
                "Bot > Privileged Gateway Intents): messages would come without their text."
            )
        for discord_channel in _channel_ids(channel):
            self._call(channel, "GET", f"/channels/{discord_channel}")
        return ChannelHealthInfo(
            account=str(me.get("username") or me["id"]),
            permissions_checked="partial",
            permissions_note=(
                "Discord does not tell a bot's permissions in a server directly: Manage Messages "
                "(delete) and Moderate Members (timeout) are checked at their first use."
            ),
            details={"bot_id": str(me["id"])},
        )


def nonce(idempotency_key: str) -> str:
    """Discord's nonce: at most 25 characters, the same for the same idempotency key."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:25]


def parse_message(message: dict[str, Any], guild: str, channel, bot_id: str = "") -> IncomingItem:
    """A Discord message object (docs: Message resource) as an item."""
    try:
        author = message["author"]
        channel_id = str(message["channel_id"])
        reference = message.get("message_reference") or {}
        parent = str(reference.get("message_id") or "") if message.get("type") == 19 else ""
        if str(author["id"]) == bot_id:
            person = IncomingAuthor(handle=channel.handle, display_name=channel.name)
        else:
            person = IncomingAuthor(
                handle=str(author["username"]),
                display_name=str(author.get("global_name") or author["username"]),
            )
        return IncomingItem(
            external_id=str(message["id"]),
            kind="reply" if parent else "comment",
            text=str(message.get("content") or ""),
            created_at=_created(message),
            author=person,
            url=_url(guild, channel_id, str(message["id"])),
            parent_external_id=parent,
            metrics={"reactions": sum(int(r.get("count", 0)) for r in message.get("reactions") or [])},
            raw={"channel_id": channel_id, "author_id": str(author["id"]), "bot": bool(author.get("bot"))},
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"A Discord message lacks {error}") from error


def _url(guild: str, channel_id: str, message_id: str) -> str:
    return f"https://discord.com/channels/{guild or '@me'}/{channel_id}/{message_id}"


def _created(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(message["timestamp"]).replace("Z", "+00:00"))


def _setting(channel, name: str) -> Any:
    credentials = channel.read_credentials() if channel.has_credentials else {}
    value = credentials.get(name)
    return value if value not in (None, "") else (channel.options or {}).get(name)


def _channel_ids(channel) -> list[str]:
    value = _setting(channel, "channel_ids") or ""
    if isinstance(value, list):
        value = ",".join(str(one) for one in value)
    ids = [one.strip() for one in str(value).replace(" ", ",").split(",") if one.strip()]
    if not all(one.isdigit() for one in ids):
        raise PermanentError("The channel's Discord channel ids are not ids (numbers separated by commas).")
    return ids


def _read_cursor(cursor: str) -> dict[str, str]:
    try:
        seen = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {}


def _answer(response: httpx.Response, *, sending: bool) -> Any:
    status = response.status_code
    payload = http_client.json_or_none(response.content)
    if status >= 400:
        detail, code = http_client.error_detail(payload)
        wait = payload.get("retry_after") if isinstance(payload, dict) else None
        if status == 429:
            scope = (
                "global"
                if (isinstance(payload, dict) and payload.get("global"))
                else (response.headers.get("x-ratelimit-scope") or "route")
            )
            message = f"Discord 429 ({scope} rate limit): {detail or 'rate limited'}"
            wait = float((wait if wait is not None else http_client.retry_after(response)) or 5)
        elif status == 401:
            message = "Discord 401: the bot token is invalid or was reset"
        elif status == 403:
            need = {str(MISSING_PERMISSIONS): "a permission", str(MISSING_ACCESS): "access to the channel"}
            message = (
                f"Discord 403 ({code}): the bot lacks {need.get(code, 'a permission')}: {detail}".rstrip(": ")
            )
        elif status == 404:
            message = f"Discord 404 ({code}): {detail or 'not found'}"
        else:
            message = (
                f"Discord {status}" if status >= 500 else f"Discord {status} ({code}): {detail or 'refused'}"
            )
        raise http_client.status_error(status, message, sending=sending, retry_after=wait)
    if payload is None:
        raise MalformedPayload("Discord did not answer JSON.", maybe_delivered=sending)
    return payload
