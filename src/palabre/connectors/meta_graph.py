"""Meta's Graph API, shared by the Facebook Pages and Instagram connectors: the calls (through the
one HTTP client and its address guard), the error codes, the cursor pages and the webhooks'
signature and verification handshake.

Version: `GRAPH_VERSION`, the latest the Graph API changelog lists
(developers.facebook.com/docs/graph-api/changelog: v26.0, introduced on 29 July 2026). The host is
`PALABRE_META_GRAPH_URL` (https://graph.facebook.com; a test points it at a loopback server).

Errors, as the Graph API documents them (docs/graph-api/guides/error-handling): the body is
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`. Code 190 (or type
OAuthException with subcodes 458-467) is an expired or revoked token; 4, 17, 32 and 613, and the
Business Use Case codes 80001-80014, are rate limits (how long to wait: the
`X-Business-Use-Case-Usage` header's `estimated_time_to_regain_access`, in minutes; else
`Retry-After`; else an hour, since `X-App-Usage` gives percentages only); 10 and 200-299 are a
missing permission; 1, 2 and 5xx are transient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from palabre import config
from palabre.connectors import http_client
from palabre.connectors.base import (
    ChannelHealthInfo,
    ConnectorError,
    Delivered,
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)

GRAPH_VERSION = "v26.0"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
TRANSIENT_CODES = frozenset({1, 2})
# Without a usage header saying when calls are allowed again: Meta's windows are one hour long.
DEFAULT_WAIT = 3600.0
MAX_PAGES = 10
# Messenger's standard messaging window: a Page answers a person within 24 hours of their last
# message (docs/messenger-platform/policy/policy-overview); a private reply to a comment or a
# visitor post within 7 days of it (docs/messenger-platform/discovery/private-replies).
MESSAGING_WINDOW = timedelta(hours=24)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# The Send API's error when the window is closed (code 10, subcode 2018278).
OUTSIDE_WINDOW_SUBCODES = {2018278, 2534022}


class MessagingWindowClosed(PermanentError):
    """Meta allows a Page to message a person only within a window after what the person did."""

    code = "window_closed"


def parse_time(value: Any) -> datetime:
    """A Graph API time (`2024-05-06T09:49:01+0000`) or a webhook's Unix time (seconds, or
    milliseconds for Messenger), aware."""
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def graph_url() -> str:
    return (config.META_GRAPH_URL.raw() or DEFAULT_GRAPH_URL).rstrip("/")


def endpoint(path: str) -> str:
    return f"{graph_url()}/{GRAPH_VERSION}/{path.lstrip('/')}"


def usage_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until calls are allowed again according to `X-Business-Use-Case-Usage` (the largest
    `estimated_time_to_regain_access`, in minutes, of any business and type), None if it does not say."""
    raw = headers.get("x-business-use-case-usage", "")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, TypeError, AttributeError):
        return None
    wait = max(minutes, default=0.0)
    return wait * 60 if wait > 0 else None


def app_usage(headers: Mapping[str, str]) -> dict[str, Any]:
    """The `X-App-Usage` percentages (call_count, total_time, total_cputime), {} when absent."""
    try:
        usage = json.loads(headers.get("x-app-usage", "") or "{}")
    except ValueError:
        return {}
    return usage if isinstance(usage, dict) else {}


class GraphError:
    """The error object of a Graph API answer."""

    def __init__(self, status: int, body: Any):
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.status = status
        self.message = str(error.get("message") or "")
        self.type = str(error.get("type") or "")
        self.code = _int(error.get("code"))
        self.subcode = _int(error.get("error_subcode"))
        self.trace = str(error.get("fbtrace_id") or "")

    def text(self, label: str) -> str:
        code = f" (code {self.code}" + (f", subcode {self.subcode}" if self.subcode else "") + ")"
        trace = f" [fbtrace_id {self.trace}]" if self.trace else ""
        return f"{label} {self.status}: {self.message or 'error'}{code if self.code else ''}{trace}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def translate(response: httpx.Response, *, label: str, sending: bool = False) -> ConnectorError:
    """A Graph API error answer as the connector framework's error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = GraphError(response.status_code, body)
    text = error.text(label)
    if error.code == 190 or (error.type == "OAuthException" and error.subcode in range(458, 468)):
        return TokenExpired(text + ": reconnect the channel")
    if error.code in RATE_LIMIT_CODES or response.status_code == 429:
        wait = usage_wait(response.headers) or http_client.retry_after(response) or DEFAULT_WAIT
        return RateLimited(text, retry_after=wait)
    if error.subcode in OUTSIDE_WINDOW_SUBCODES:
        return MessagingWindowClosed(text + ": Meta says the messaging window is closed")
    if error.code in PERMISSION_CODES:
        return PermissionMissing(text)
    if error.code in TRANSIENT_CODES or error.subcode == 2207001:
        return TransientError(text, maybe_delivered=sending)
    # What the Graph codes did not settle, the status says (an error object can come with a 200).
    return http_client.status_error(response.status_code, text, sending=sending) or PermanentError(text)


def call(
    method: str,
    path: str,
    *,
    token: str,
    label: str = "Graph API",
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    files: Any = None,
    sending: bool = False,
) -> dict[str, Any]:
    """One Graph API call with the token as a Bearer header; the answer's JSON object, or the
    framework's error. `sending`: the call changes something, so a timeout may have done it."""
    response = http_client.send(
        method,
        endpoint(path),
        label=label,
        sending=sending,
        params=params,
        data=data,
        files=files,
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code >= 400:
        raise translate(response, label=label, sending=sending)
    try:
        body = response.json()
    except ValueError as error:
        raise MalformedPayload(f"{label}: the answer is not JSON.", maybe_delivered=sending) from error
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        raise translate(response, label=label, sending=sending)
    if isinstance(body, bool):  # `{"success": true}` is sometimes a bare `true`
        return {"success": body}
    if not isinstance(body, dict):
        raise MalformedPayload(f"{label}: the answer is not a JSON object.", maybe_delivered=sending)
    return body


def pages(
    path: str,
    *,
    token: str,
    label: str = "Graph API",
    params: dict[str, Any] | None = None,
    after: str = "",
    max_pages: int = MAX_PAGES,
) -> Iterator[tuple[list[dict[str, Any]], str]]:
    """The pages of an edge, each with the `after` cursor that reads the next; the cursor comes
    from `paging.cursors.after` and the next page is asked with it (never by following
    `paging.next`, an address written by the answer). Stops when there is no `paging.next`."""
    cursor = after
    for _page in range(max_pages):
        query = dict(params or {})
        if cursor:
            query["after"] = cursor
        body = call("GET", path, token=token, label=label, params=query)
        data = body.get("data")
        if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
            raise MalformedPayload(f"{label}: {path} did not answer a list in `data`.")
        paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
        cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
        next_cursor = str(cursors.get("after") or "")
        yield data, next_cursor or cursor
        if not paging.get("next") or not next_cursor:
            return
        cursor = next_cursor


# --- webhooks -----------------------------------------------------------------------------------


def signature_ok(app_secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body keyed with the app
    secret, compared in constant time."""
    if not app_secret:
        return False
    sent = str(headers.get("X-Hub-Signature-256") or headers.get("x-hub-signature-256") or "")
    if not sent.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sent.removeprefix("sha256=").strip().lower(), expected)


def subscription_challenge(verify_token: str, query: Mapping[str, str]) -> str | None:
    """The verification handshake of a webhook subscription: Meta calls the endpoint with
    `hub.mode=subscribe`, the verify token typed in the app's dashboard and `hub.challenge`; the
    endpoint answers the challenge when the token matches, nothing otherwise."""
    if not verify_token or query.get("hub.mode") != "subscribe":
        return None
    sent = str(query.get("hub.verify_token") or "")
    challenge = str(query.get("hub.challenge") or "")
    if not challenge or not hmac.compare_digest(sent.encode(), verify_token.encode()):
        return None
    return challenge


def webhook_entries(body: bytes, *, expected_object: str) -> list[dict[str, Any]]:
    """The `entry` list of a webhook notification for `object` page or instagram."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise MalformedPayload("The webhook body is not JSON.") from error
    if not isinstance(payload, dict) or payload.get("object") != expected_object:
        raise MalformedPayload(f"The webhook is not about a {expected_object} (`object`).")
    entries = payload.get("entry")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise MalformedPayload("The webhook has no `entry` list.")
    return entries


# --- permissions --------------------------------------------------------------------------------


def review_status(app_id: str, app_secret: str, *, label: str) -> dict[str, str]:
    """The app's permissions and their Login Review status (`GET /{app-id}/permissions` with the
    app's token, `{app-id}|{app-secret}`): {} when the app's secret is not known or Meta does not
    tell (the review status only adds to the check's message: it never fails the check)."""
    if not app_id or not app_secret:
        return {}
    try:
        body = call("GET", f"{app_id}/permissions", token=f"{app_id}|{app_secret}", label=label)
    except (PermanentError, MalformedPayload):
        return {}
    return {
        str(entry.get("permission")): str(entry.get("status") or "")
        for entry in body.get("data") or []
        if isinstance(entry, dict) and entry.get("permission")
    }


def missing_permissions(
    needed: tuple[str, ...], granted: set[str], reviews: Mapping[str, str], *, label: str
) -> PermissionMissing | None:
    """The error naming what the token lacks, with each permission's review status where known."""
    missing = [name for name in needed if name not in granted]
    if not missing:
        return None
    named = ", ".join(
        f"{name} (app review: {reviews[name]})" if name in reviews else name for name in missing
    )
    return PermissionMissing(
        f"{label}: the token lacks the permission(s) {named} (it has: {', '.join(sorted(granted)) or 'none'}). "
        "Connect the channel again and accept them; an app in Live mode needs them approved by App Review."
    )


# --- Messenger (Facebook Pages and Instagram) ----------------------------------------------------------


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
            "fields": "id,messages.limit(25){id,message,created_time,from}",
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


def token_health(
    *,
    token: str,
    client_id: str,
    secret: str,
    needed: tuple[str, ...],
    account: str,
    details: dict,
    label: str,
) -> ChannelHealthInfo:
    """The check both Meta connectors run: `/debug_token` tells the token's scopes and expiry."""
    app_token = f"{client_id}|{secret}" if client_id and secret else token
    debug = call("GET", "debug_token", token=app_token, label=label, params={"input_token": token})
    data = debug.get("data") if isinstance(debug.get("data"), dict) else {}
    if data.get("is_valid") is False:
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        raise TokenExpired(
            f"{label}: the token is no longer valid: {error.get('message') or 'reconnect the channel'}"
        )
    scopes = tuple(str(scope) for scope in data.get("scopes") or ())
    reviews = review_status(client_id, secret, label=label)
    missing = missing_permissions(needed, set(scopes), reviews, label=label)
    if missing is not None:
        raise missing
    expires = int(data.get("expires_at") or 0)
    details = {**details, "app_review": {name: reviews[name] for name in needed if name in reviews}}
    if data.get("data_access_expires_at"):
        details["data_access_expires_at"] = datetime.fromtimestamp(
            int(data["data_access_expires_at"]), tz=UTC
        ).isoformat()
    return ChannelHealthInfo(
        account=account,
        token_expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
        scopes=scopes,
        details=details,
        permissions_checked="verified",
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


def long_lived_user_token(
    credentials: Mapping[str, Any], token: Mapping[str, Any], *, label: str, now: datetime
) -> tuple[str, str]:
    """What Facebook Login gave (`token`) traded for a long-lived user token with the app's id and
    secret (`fb_exchange_token`): the token, and when it expires (ISO, "" when Meta does not say)."""
    client_id = str(credentials.get("client_id") or "")
    secret = str(credentials.get("client_secret") or "")
    short = str(token.get("access_token") or "")
    if not short or not client_id or not secret:
        raise TokenExpired(f"{label}: the login gave no token, or the app id and secret are missing.")
    long_lived = call(
        "GET",
        "oauth/access_token",
        token=short,
        label=label,
        params={
            "grant_type": "fb_exchange_token",
            "client_id": client_id,
            "client_secret": secret,
            "fb_exchange_token": short,
        },
    )
    user_token = str(long_lived.get("access_token") or "")
    if not user_token:
        raise MalformedPayload(f"{label}: the token exchange answered without access_token.")
    expires = ""
    if long_lived.get("expires_in"):
        expires = (now + timedelta(seconds=int(long_lived["expires_in"]))).isoformat()
    return user_token, expires
