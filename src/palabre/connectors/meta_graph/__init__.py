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

The package's other modules, by sub-domain: `messenger` (conversations in, messages and private
replies out, within Meta's windows), `connection` (the long-lived token, the token's permissions
and their App Review status) and `delivered` (finding what an interrupted attempt made).
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
    ConnectorError,
    Delivered,
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.conversations.services import IncomingAuthor

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
# How much earlier than the action a platform's clock may date what it made.
FIND_SKEW = timedelta(minutes=5)
# A conversation's latest messages, as both the pull and the look-up after an interrupted send read them.
CONVERSATION_MESSAGES = "messages.limit(25){id,message,created_time,from}"


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
    # As bytes: compare_digest raises TypeError on a str with other than ASCII (a forged header).
    return hmac.compare_digest(
        sent.removeprefix("sha256=").strip().lower().encode("utf-8", "replace"), expected.encode()
    )


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


# --- what both connectors read in the Graph's nodes ------------------------------------------------


def newer(value: Any, since: str) -> bool:
    """A Graph time after `since` (any time when nothing was seen yet)."""
    if value in (None, ""):
        return False
    return not since or parse_time(value) > parse_time(since)


def later(a: str, b: str) -> str:
    """The later of two Graph times, either possibly empty (the cursor's marks)."""
    if not a:
        return b
    if not b:
        return a
    return a if parse_time(a) >= parse_time(b) else b


def is_from(node: Any, account_id: str) -> bool:
    """Written by the account itself (`from.id`): the Page's or the account's own, left out."""
    who = node.get("from") if isinstance(node, dict) else None
    return bool(account_id) and isinstance(who, dict) and str(who.get("id")) == account_id


def read_marks(cursor: str) -> dict[str, Any]:
    """A pull's cursor: the newest time seen of each listing (an unreadable one starts afresh)."""
    try:
        marks = json.loads(cursor) if cursor else {}
    except ValueError:
        return {}
    return marks if isinstance(marks, dict) else {}


def delivery_of(node: dict, *, label: str) -> Delivered:
    """Where a comment, message or post the Graph API made now lives: its id, and its address
    (`permalink_url` on Facebook, `permalink` on Instagram) where the answer gives one."""
    if not node.get("id"):
        raise MalformedPayload(f"{label}: the answer has no id.", maybe_delivered=True)
    return Delivered(
        external_id=str(node["id"]), url=str(node.get("permalink_url") or node.get("permalink") or "")
    )


def author(who: Any) -> IncomingAuthor | None:
    if not isinstance(who, dict) or not who.get("id"):
        return None
    return IncomingAuthor(
        handle=str(who["id"]), display_name=str(who.get("name") or who.get("username") or "")
    )
