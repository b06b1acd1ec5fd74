"""Mastodon, through Mastodon.py: notifications and mentions in, replies and posts out.

Credentials: `{"access_token": ..., "api_base_url": "https://mastodon.example"}` (the token needs
`read:notifications`, `read:accounts` and `write:statuses`, plus `write:media` to post pictures).
Pulling reads `GET /api/v1/notifications?types[]=mention` forward from the last notification id
seen. Replies go out with `POST /api/v1/statuses` and `in_reply_to_id`, carrying an
`Idempotency-Key` header: Mastodon drops a repeat of the same key. It keeps a key one hour only,
and some servers of its API ignore it: after an attempt whose outcome is unknown (a timeout once
the status was sent), `find_delivered` looks for the status among the account's latest before
anything is sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext_lazy as _

from palabre.connectors import http_client, outbound
from palabre.connectors.base import (
    Capability,
    Connector,
    CredentialField,
    Delivered,
    FieldKind,
    MalformedPayload,
    Media,
    PermanentError,
    PermissionMissing,
    PullResult,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import network_reason
from palabre.connectors.mastodon.permissions import MastodonConnection, missing_scopes
from palabre.connectors.mastodon.searching import search, status_candidate
from palabre.connectors.text import aware, html_to_text
from palabre.conversations.services import IncomingAuthor, IncomingItem

if TYPE_CHECKING:
    from mastodon import Mastodon
    from mastodon.errors import MastodonError

__all__ = ["MastodonConnector", "api_client", "missing_scopes", "search", "status_candidate"]

DEFAULT_VERSION = "4.2.0"
# A status created this long before its action was queued is not that action's (clocks differ).
FIND_SKEW = timedelta(minutes=5)
PAGE_SIZE = 40
MAX_PAGES = 10


def _plain(value: Any) -> Any:
    """Mastodon.py's typed entities as plain JSON-able data (for the item's raw field)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def api_client(base: str, token: str | None, *, version: str = DEFAULT_VERSION) -> Mastodon:
    """A Mastodon.py client whose every request, redirects included, reaches only a checked address
    (`base` was checked by the caller, for a clear refusal first)."""
    from mastodon import Mastodon  # here, not at start-up: Mastodon.py and requests cost 0.18 s of CPU

    from palabre.connectors.guarded_requests import requests_session

    return Mastodon(
        access_token=token,
        api_base_url=base,
        ratelimit_method="throw",
        request_timeout=http_client.timeout(),
        # Known up front, so the client never probes the server (nor trips over one that hides it).
        mastodon_version=version,
        version_check_mode="created",
        user_agent=http_client.USER_AGENT,
        session=requests_session(),
    )


class MastodonConnector(MastodonConnection, Connector):
    platform = "mastodon"
    capabilities = frozenset(
        {Capability.PULL, Capability.WEBHOOK, Capability.REPLY, Capability.PUBLISH, Capability.PUBLISH_MEDIA}
    )
    idempotent_delivery = True
    poll_interval = 120.0
    credential_fields = (
        CredentialField(
            "api_base_url",
            _("Server address"),
            _("The address of the brand account's Mastodon server, e.g. https://mastodon.social."),
            kind=FieldKind.URL,
            required=True,
        ),
        CredentialField(
            "access_token",
            _("Access token"),
            _(
                "On the server: Preferences > Development > New application, with the scopes "
                "read:accounts, read:notifications and write:statuses (write:media to post pictures); "
                "then copy “Your access token”."
            ),
            kind=FieldKind.SECRET,
            required=True,
        ),
        CredentialField(
            "webhook_secret",
            _("Webhook secret"),
            _("Only for a server the brand runs: Administration > Webhooks, the secret of the webhook."),
            kind=FieldKind.SECRET,
        ),
        CredentialField(
            "account_id",
            _("Account id"),
            _("Optional: the account's numeric id; Palabre asks the server when it is missing."),
        ),
        CredentialField(
            "mastodon_version",
            _("Server version"),
            _("Optional: the Mastodon API version the server speaks (default 4.2.0)."),
        ),
    )

    # --- the client ---------------------------------------------------------------------------

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        base = credentials.get("api_base_url") or (channel.options or {}).get("api_base_url")
        return [("credentials", str(base))] if base else []

    def client(self, channel) -> Mastodon:
        credentials = channel.read_credentials()
        token = credentials.get("access_token")
        base = credentials.get("api_base_url") or channel.options.get("api_base_url")
        if not token or not base:
            raise TokenExpired("The channel has no Mastodon access token or server address.")
        # Checked here for a clear, permanent refusal; the session then pins each request (and
        # each redirect) to a checked address.
        try:
            base = outbound.checked_base_url(base)
        except outbound.AddressRefused as error:
            raise PermanentError(str(error)) from error
        except httpx.HTTPError as error:
            raise TransientError(str(error)) from error
        return api_client(base, token, version=str(credentials.get("mastodon_version") or DEFAULT_VERSION))

    def _call(self, api: Mastodon, method: str, *args, sending: bool = False, **kwargs):
        from mastodon.errors import (
            MastodonAPIError,
            MastodonError,
            MastodonNetworkError,
            MastodonNotFoundError,
            MastodonRatelimitError,
            MastodonServerError,
            MastodonUnauthorizedError,
        )

        try:
            return getattr(api, method)(*args, **kwargs)
        except MastodonRatelimitError as error:
            reset = getattr(api, "ratelimit_reset", None)
            wait = reset - time.time() if reset else 300.0
            raise RateLimited(str(error), retry_after=max(wait, 1.0)) from error
        except MastodonUnauthorizedError as error:
            raise TokenExpired(_message(error)) from error
        except MastodonNotFoundError as error:
            raise PermanentError(_message(error)) from error
        except MastodonServerError as error:
            raise TransientError(_message(error), maybe_delivered=sending) from error
        except MastodonNetworkError as error:
            # Not Mastodon.py's text (a urllib3 dump): the host and the cause in a few words.
            host = urlsplit(api.api_base_url).hostname or api.api_base_url
            if isinstance(
                error.__context__, (outbound.TooLarge, outbound.RefusedEncoding)
            ):  # Mastodon.py raises it without `from`
                raise MalformedPayload(f"Mastodon {host}: {error.__context__}") from error
            raise TransientError(
                f"Mastodon {host}: {network_reason(error)}", maybe_delivered=sending
            ) from error
        except MastodonAPIError as error:
            status = error.args[1] if len(error.args) > 1 else None
            if status == 403:
                raise PermissionMissing(_message(error)) from error
            raise PermanentError(_message(error)) from error
        except MastodonError as error:
            raise TransientError(str(error), maybe_delivered=sending) from error
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"Unexpected answer from Mastodon: {error!r}") from error

    # --- in -------------------------------------------------------------------------------------

    def pull(self, channel, cursor: str) -> PullResult:
        api = self.client(channel)
        host = urlsplit(api.api_base_url).hostname or ""
        items: list[IncomingItem] = []
        newest = cursor
        for _page in range(MAX_PAGES):
            kwargs: dict[str, Any] = {"types": ["mention"], "limit": PAGE_SIZE}
            if newest:
                kwargs["min_id"] = newest
            page = self._call(api, "notifications", **kwargs)
            if not isinstance(page, list):
                raise MalformedPayload("Mastodon's notifications are not a list.")
            if not page:
                break
            for notification in page:
                items.extend(self.parse_notification(notification, host=host))
            newest = max((str(n["id"]) for n in page), key=_id_order)
            if not cursor and not items:
                break
            if len(page) < PAGE_SIZE:
                break
        return PullResult(items=items, cursor=newest)

    def parse_notification(self, notification, *, host: str) -> list[IncomingItem]:
        try:
            if notification["type"] != "mention" or not notification.get("status"):
                return []
            return [
                self.parse_status(notification["status"], host=host, notification_id=str(notification["id"]))
            ]
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedPayload(f"A Mastodon notification lacks {error}") from error

    def parse_status(self, status, *, host: str, notification_id: str = "") -> IncomingItem:
        try:
            account = status["account"]
            acct = str(account["acct"])
            handle = acct if "@" in acct else f"{acct}@{host}"
            if status.get("visibility") == "direct":
                kind = "direct_message"
            elif status.get("in_reply_to_id"):
                kind = "reply"
            else:
                kind = "mention"
            text = html_to_text(str(status.get("content") or ""))
            if status.get("spoiler_text"):
                text = f"{status['spoiler_text']}\n\n{text}"
            return IncomingItem(
                external_id=str(status["id"]),
                kind=kind,
                text=text,
                created_at=aware(status["created_at"]),
                author=IncomingAuthor(
                    handle=handle,
                    display_name=str(account.get("display_name") or account.get("username") or ""),
                    profile_url=str(account.get("url") or ""),
                    followers=account.get("followers_count"),
                ),
                url=str(status.get("url") or status.get("uri") or ""),
                language=str(status.get("language") or "")[:8],
                parent_external_id=str(status.get("in_reply_to_id") or ""),
                metrics={
                    "replies": status.get("replies_count", 0),
                    "reblogs": status.get("reblogs_count", 0),
                    "favourites": status.get("favourites_count", 0),
                },
                raw={
                    "notification_id": notification_id,
                    "visibility": status.get("visibility", ""),
                    "acct": acct,
                    "status": _plain(dict(status)),
                },
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise MalformedPayload(f"A Mastodon status lacks {error}") from error

    # --- webhooks (a brand running its own Mastodon server: Administration > Webhooks) ------

    def verify_webhook(self, channel, headers, body: bytes) -> bool:
        """`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>`."""
        secret = channel.read_credentials().get("webhook_secret") if channel.has_credentials else None
        signature = str(headers.get("X-Hub-Signature") or headers.get("x-hub-signature") or "")
        if not secret or not signature.startswith("sha256="):
            return False
        expected = hmac.new(str(secret).encode(), body, hashlib.sha256).hexdigest()
        # As bytes: compare_digest raises TypeError on a str with other than ASCII (a forged header).
        sent = signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
        return hmac.compare_digest(expected.encode(), sent)

    def parse_webhook(self, channel, body: bytes) -> list[IncomingItem]:
        """`status.created` and `status.updated` events that mention or answer the brand's account."""
        try:
            payload = json.loads(body)
            event = payload["event"]
            status = payload["object"]
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedPayload(f"Not a Mastodon webhook payload: {error}") from error
        if event not in {"status.created", "status.updated"}:
            return []
        if not isinstance(status, dict):
            raise MalformedPayload("The webhook's object is not a status.")
        credentials = channel.read_credentials()
        base = credentials.get("api_base_url") or channel.options.get("api_base_url") or ""
        host = urlsplit(base).hostname or ""
        brand = channel.handle.lstrip("@").split("@")[0].lower()
        brand_id = str(credentials.get("account_id") or "")
        mentioned = any(
            str(m.get("acct", "")).split("@")[0].lower() == brand
            or (brand_id and str(m.get("id")) == brand_id)
            for m in status.get("mentions") or []
            if isinstance(m, dict)
        )
        answers_brand = bool(brand_id) and str(status.get("in_reply_to_account_id") or "") == brand_id
        own = str((status.get("account") or {}).get("acct", "")).lower() == brand
        if own or not (mentioned or answers_brand):
            return []
        if isinstance(status.get("created_at"), str):
            status = {
                **status,
                "created_at": datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")),
            }
        return [self.parse_status(status, host=host)]

    # --- out ------------------------------------------------------------------------------------

    def reply_text(self, in_reply_to, text: str) -> str:
        acct = (in_reply_to.raw or {}).get("acct") or (
            in_reply_to.author.handle if in_reply_to.author else ""
        )
        mention = f"@{acct}"
        if acct and mention.lower() not in text.lower():
            text = f"{mention} {text}"  # without the mention, the person is not notified
        return text

    def reply(self, channel, *, in_reply_to, text: str, idempotency_key: str) -> Delivered:
        api = self.client(channel)
        text = self.reply_text(in_reply_to, text)
        visibility = (in_reply_to.raw or {}).get("visibility") or None
        status = self._call(
            api,
            "status_post",
            text,
            in_reply_to_id=in_reply_to.external_id,
            visibility=visibility if visibility in {"direct", "private", "unlisted", "public"} else None,
            idempotency_key=idempotency_key,
            sending=True,
        )
        return _delivered(status)

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        api = self.client(channel)
        media_ids = []
        for one in media:
            uploaded = self._call(
                api, "media_post", one.content, mime_type=one.mime_type, description=one.description or None
            )
            media_ids.append(uploaded["id"])
        status = self._call(
            api,
            "status_post",
            text,
            media_ids=media_ids or None,
            idempotency_key=idempotency_key,
            sending=True,
        )
        return _delivered(status)

    def find_delivered(self, channel, idempotency_key: str) -> Delivered | None:
        """The status an interrupted attempt created, among the account's latest: the same text
        (mentions aside: Mastodon shows a remote `@name@server` as `@name`), the same parent (none
        for a post), created since the action was queued, and no other action's."""
        from palabre.connectors.models import ActionKind, OutboundAction

        action = OutboundAction.objects.select_related("item").for_key(channel, idempotency_key).first()
        if action is None:
            return None
        api = self.client(channel)
        account_id = str(channel.read_credentials().get("account_id") or "")
        if not account_id:
            account_id = str(self._call(api, "account_verify_credentials")["id"])
        statuses = self._call(api, "account_statuses", account_id, limit=PAGE_SIZE)
        if not isinstance(statuses, list):
            raise MalformedPayload("Mastodon's statuses of an account are not a list.")
        parent = action.item.external_id if action.kind == ActionKind.REPLY and action.item else ""
        wanted = _without_mentions(action.text)
        if not all(isinstance(status, dict) for status in statuses):
            raise MalformedPayload("Mastodon's statuses of an account are not all statuses.")
        taken = set(
            OutboundAction.objects.filter(
                channel=channel, external_id__in=[str(status.get("id")) for status in statuses]
            )
            .exclude(pk=action.pk)
            .values_list("external_id", flat=True)
        )
        try:
            for status in statuses:
                if (
                    str(status["account"]["id"]) == account_id
                    and not status.get("reblog")
                    and str(status.get("in_reply_to_id") or "") == parent
                    and aware(status["created_at"]) >= action.created_at - FIND_SKEW
                    and str(status["id"]) not in taken
                    and _without_mentions(html_to_text(str(status.get("content") or ""))) == wanted
                ):
                    return _delivered(status)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise MalformedPayload(f"A Mastodon status lacks {error}") from error
        return None


def _delivered(status) -> Delivered:
    try:
        return Delivered(external_id=str(status["id"]), url=str(status.get("url") or status.get("uri") or ""))
    except (KeyError, TypeError) as error:
        raise MalformedPayload("Mastodon answered without the status id.", maybe_delivered=True) from error


_EXPLAINED = {
    401: "the access token is invalid or revoked: reconnect the channel",
    403: "the access token lacks a permission (scope) this needs",
    404: "the status no longer exists",
    422: "Mastodon refused the status",
}


def _message(error: MastodonError) -> str:
    args = error.args
    status = args[1] if len(args) > 1 else ""
    detail = (
        args[3] if len(args) > 3 and args[3] else _EXPLAINED.get(status, args[2] if len(args) > 2 else "")
    )
    return f"Mastodon {status}: {detail}".strip()


_LEADING_MENTIONS = re.compile(r"^(?:@[\w.-]+(?:@[\w.-]+)?\s+)+")


def _without_mentions(text: str) -> str:
    """The text with its leading mentions dropped and its spaces collapsed, to compare a status
    with what was sent."""
    return _LEADING_MENTIONS.sub("", " ".join(text.split()) + " ").strip()


def _id_order(value: str) -> tuple[int, str]:
    # Mastodon ids are numbers written as strings: compare them as numbers.
    return (len(value), value)


# --- listening: a hashtag or the public timeline searched for mentions -------------------------------
