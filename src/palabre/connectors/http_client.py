"""Palabre's one HTTP client for platforms, feeds and pages: the channel connectors and listening's
searches fetch through `get`
(and send through `request`).

What every fetch gets here, once: the address guard (`outbound`: every hop checked, the connection
pinned to the checked address), Palabre's User-Agent, the timeout of
`PALABRE_CONNECTORS_HTTP_TIMEOUT`, and a size limit enforced while reading (an endless or huge
answer is cut off, not loaded into memory). `retry_after` reads how long a platform asked to wait.

The channel connectors read a platform's refusal here too, once: `send` turns a request that got
no answer into the connectors' errors (an address refused, an answer too large, the network),
`error_detail` reads the message and code out of the error bodies platforms write, and
`status_error` says which `ConnectorError` a status is (429 rate limited, 401 token expired, 403
permission missing, 5xx transient, any other 4xx permanent). A connector only words the message
and handles what its platform says otherwise (YouTube's quota, Discourse's invalid key). Listening's
public searches read statuses themselves: what a 401 means differs between a channel's login and a
public search.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from palabre import config
from palabre.connectors import outbound
from palabre.connectors.base import (
    ConnectorError,
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.explain import network_reason

USER_AGENT = "Palabre/0.1 (self-hosted community management; +https://palabre.invalid)"
MAX_BYTES = outbound.MAX_BYTES
_clock = time.monotonic  # what the exchange's deadline is read on (tests give theirs)
# Headers that said how long to wait: the standard one, and Reddit's (seconds until the reset).
_WAIT_HEADERS = ("retry-after", "x-ratelimit-reset")


TooLarge = outbound.TooLarge  # the answer is over the size limit; it was not read further


def timeout() -> float:
    return float(config.CONNECTORS_HTTP_TIMEOUT.raw() or 20)


def retry_after(response: httpx.Response | Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds the server asked to wait (`Retry-After` in seconds or as an HTTP date, or Reddit's
    `x-ratelimit-reset`), at least one; None when it did not say. `response` may be the headers
    alone, lower-cased (what Google's client hands over with its errors)."""
    headers = response.headers if isinstance(response, httpx.Response) else response
    for header in _WAIT_HEADERS:
        value = str(headers.get(header) or "").strip()
        if not value:
            continue
        try:
            return max(float(value), 1.0)
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - (now or datetime.now(UTC))).total_seconds(), 1.0)
    return None


def get(
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
) -> httpx.Response:
    """GET through the address guard, redirects followed (each hop checked), at most `max_bytes`
    read. Raises httpx's errors: `outbound.AddressRefused` for a refused address, `TooLarge`, the
    network's; any status code is returned as it came."""
    return request("GET", url, params=params, headers=headers, auth=auth, max_bytes=max_bytes)


def request(
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    json: Any = None,
    files: Any = None,
    content: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
) -> httpx.Response:
    """Any method through the address guard, the answer read up to `max_bytes`, as `get`. Only a
    GET or HEAD follows redirects: a POST, PUT or DELETE redirected elsewhere is returned as it
    came (a write is not replayed at an address the caller did not choose)."""
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    follow = method.upper() in ("GET", "HEAD")
    # httpx drops the credentials when a redirect leaves the first host.
    # The timeout bounds the whole exchange too (redirects and the answer's reading included): a
    # server that drips its answer a byte at a time would never trip a per-read timeout.
    with (
        outbound.deadline(timeout(), clock=_clock),
        outbound.client(
            timeout=timeout(), headers=sent, auth=auth, follow_redirects=follow, max_bytes=max_bytes
        ) as client,
        client.stream(
            method, url, params=params, data=data, json=json, files=files, content=content
        ) as response,
    ):
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(url, max_bytes)
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise TooLarge(url, max_bytes)
    # The body is decoded already: the answer is handed back without its transfer encodings.
    kept = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(response.status_code, headers=kept, content=bytes(body), request=response.request)


def send(method: str, url: str, *, label: str, sending: bool = False, **kwargs: Any) -> httpx.Response:
    """`request`, with what kept it from an answer as the connectors' errors: a refused address is
    permanent, an answer over the limit malformed, a failed connection transient (nothing was
    sent), any other network failure transient and, when `sending`, maybe delivered. `label` (the
    platform, with its host where there are many) starts the message."""
    try:
        return request(method, url, **kwargs)
    except outbound.AddressRefused as error:
        raise PermanentError(str(error)) from error
    except (TooLarge, outbound.RefusedEncoding) as error:
        raise MalformedPayload(f"{label}: {error}") from error
    except httpx.ConnectError as error:  # nothing reached the platform
        raise TransientError(f"{label}: {network_reason(error)}") from error
    except httpx.HTTPError as error:
        raise TransientError(f"{label}: {network_reason(error)}", maybe_delivered=sending) from error


def json_or_none(content: bytes) -> Any:
    """An answer's JSON: {} for an empty body, None when it is not JSON."""
    if not content:
        return {}
    try:
        return json.loads(content)
    except ValueError:
        return None


def error_detail(payload: Any) -> tuple[str, str]:
    """The platform's message and error code out of an error answer's JSON, in whichever of the
    shapes the platforms document: `message` and `code` (Discord; LinkedIn's `serviceErrorCode`),
    `detail` or `title` and `reason` (X), `errors` as a list of sentences (Discourse), `error` as
    an object with `message` and `errors[0].reason` (Google), `error_description` (OAuth 2.0)."""
    if not isinstance(payload, dict):
        return "", ""
    nested = payload.get("error")
    if isinstance(nested, dict):
        reasons = nested.get("errors")
        first = reasons[0] if isinstance(reasons, list) and reasons and isinstance(reasons[0], dict) else {}
        return str(nested.get("message") or ""), str(first.get("reason") or "")
    errors = payload.get("errors")
    listed = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
    detail = (
        payload.get("message")
        or payload.get("detail")
        or payload.get("title")
        or payload.get("error_description")
        or listed
    )
    code = next(
        (
            payload[key]
            for key in ("code", "serviceErrorCode", "reason")
            if payload.get(key) not in (None, "")
        ),
        "",
    )
    return str(detail or ""), str(code)


def status_error(
    status: int, message: str, *, sending: bool = False, retry_after: float | None = None
) -> ConnectorError | None:
    """The connectors' error for an HTTP status, carrying `message`; None below 400. A 429 waits
    `retry_after` seconds (60 when the platform did not say); a 5xx may have done what was asked
    when `sending`."""
    if status < 400:
        return None
    if status == 429:
        return RateLimited(message, retry_after=60.0 if retry_after is None else retry_after)
    if status == 401:
        return TokenExpired(message)
    if status == 403:
        return PermissionMissing(message)
    if status >= 500:
        return TransientError(message, maybe_delivered=sending)
    return PermanentError(message)
