"""Palabre's one HTTP client for platforms, feeds and pages: the channel connectors and listening's
searches fetch through `get`
(and send through `request`).

What every fetch gets here, once: the address guard (`outbound`: every hop checked, the connection
pinned to the checked address), Palabre's User-Agent, the timeout of
`PALABRE_CONNECTORS_HTTP_TIMEOUT`, and a size limit enforced while reading (an endless or huge
answer is cut off, not loaded into memory). `retry_after` reads how long a platform asked to wait.
Callers turn status codes into their errors: what a 401 means differs between a channel's login
and a public search.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from palabre import config
from palabre.connectors import outbound

USER_AGENT = "Palabre/0.1 (self-hosted community management; +https://palabre.invalid)"
MAX_BYTES = 5 * 1024 * 1024
# Headers that said how long to wait: the standard one, and Reddit's (seconds until the reset).
_WAIT_HEADERS = ("retry-after", "x-ratelimit-reset")


class TooLarge(httpx.HTTPError):
    """The answer is over the size limit; it was not read further."""

    def __init__(self, url: str, limit: int):
        self.limit = limit
        super().__init__(f"{url}: the answer is larger than {limit} bytes")


def timeout() -> float:
    return float(config.CONNECTORS_HTTP_TIMEOUT.raw() or 20)


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds the server asked to wait (`Retry-After` in seconds or as an HTTP date, or Reddit's
    `x-ratelimit-reset`), at least one; None when it did not say."""
    for header in _WAIT_HEADERS:
        value = response.headers.get(header, "").strip()
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
    with (
        outbound.client(timeout=timeout(), headers=sent, auth=auth, follow_redirects=follow) as client,
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
