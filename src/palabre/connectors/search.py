"""Searching platforms for listening: what a connector brings, and the errors it may raise.

Listening asks `search(kind, config, cursor)` for what a platform published since `cursor` (an
RSS/Atom feed, a Mastodon hashtag or public timeline, Bluesky's Jetstream, a Reddit search, a web
page); it gets a `SearchPage` of `Candidate`s and the cursor to keep. Each platform's search lives
in the platform's module (`rss.search`, `mastodon.search`, `bluesky.search_jetstream`,
`reddit.search`, `web.search`) and shares its parsing with the channel side where both read the
same thing. A search decides nothing: listening matches its queries, stores mentions and keeps
the source's health.

Every search raises `SearchError` (or `SearchRateLimited`, `SearchMalformed`) on failure, never
anything else. Its `code` says why in a word listening turns into a sentence in the reader's
language; the message is the technical detail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext as _

from palabre.connectors import http_client, outbound
from palabre.connectors.base import ConnectorError, PermanentError, RateLimited, TransientError
from palabre.connectors.base import MalformedPayload as ConnectorMalformed


@dataclass
class Candidate:
    """A post, article or comment a search returned, before listening matches it."""

    external_id: str
    text: str
    published_at: datetime
    url: str = ""
    author: str = ""
    author_name: str = ""
    author_reach: int | None = None
    language: str = ""
    domain: str = ""
    item_id: int | None = None
    source_name: str = ""  # what `source:` names, when not the source's platform


@dataclass
class SearchPage:
    candidates: list[Candidate]
    cursor: dict[str, Any] = field(default_factory=dict)


class SearchError(Exception):
    """A search that failed: `code` is one of "unreachable", "http_error", "rate_limited",
    "malformed", "refused"; `retry_after` the seconds the platform asked to wait, if it said."""

    code = "unreachable"

    def __init__(self, message: str, *, retry_after: float | None = None, code: str = ""):
        super().__init__(message)
        self.retry_after = retry_after
        if code:
            self.code = code


class SearchRateLimited(SearchError):
    code = "rate_limited"


class SearchMalformed(SearchError):
    code = "malformed"


def from_connector_error(error: ConnectorError) -> SearchError:
    """A channel-side error of the shared platform code, in a search's words."""
    if isinstance(error, RateLimited):
        return SearchRateLimited(str(error), retry_after=error.retry_after or None)
    if isinstance(error, ConnectorMalformed):
        return SearchMalformed(str(error))
    if isinstance(error, TransientError):
        return SearchError(str(error))
    if isinstance(error, PermanentError):
        return SearchError(str(error), code="refused")
    return SearchError(str(error))


def get(url: str, *, params: dict | None = None, headers: dict | None = None) -> httpx.Response:
    """`http_client.get` for a search: failures become SearchError, SearchRateLimited (with the
    wait the platform asked for) or SearchMalformed; a 304 is returned for the caller to read."""
    try:
        response = http_client.get(url, params=params, headers=headers)
    except http_client.TooLarge as error:
        raise SearchMalformed(_("The answer is larger than %(n)s bytes.") % {"n": error.limit}) from error
    except outbound.RefusedEncoding as error:
        raise SearchMalformed(
            _("The answer is compressed as %(encoding)s, which Palabre does not read.")
            % {"encoding": error.encoding}
        ) from error
    except httpx.HTTPError as error:
        raise SearchError(_("Could not reach %(url)s: %(error)s") % {"url": url, "error": error}) from error
    host = urlsplit(url).hostname
    if response.status_code == 429:
        raise SearchRateLimited(
            _("Rate limited by %(host)s.") % {"host": host}, retry_after=http_client.retry_after(response)
        )
    if response.status_code >= 400:
        raise SearchError(
            _("%(host)s answered HTTP %(status)s.") % {"host": host, "status": response.status_code},
            retry_after=http_client.retry_after(response) if response.status_code == 503 else None,
            code="http_error",
        )
    return response


def _searches() -> dict[str, Callable[[str, dict, dict], SearchPage]]:
    # Imported when asked: each platform's module brings its client library.
    from palabre.connectors import bluesky, mastodon, reddit, rss, web

    return {
        "rss": lambda kind, config, cursor: rss.search(config, cursor),
        "mastodon_hashtag": mastodon.search,
        "mastodon_timeline": mastodon.search,
        "bluesky_jetstream": lambda kind, config, cursor: bluesky.search_jetstream(config, cursor),
        "reddit_search": lambda kind, config, cursor: reddit.search(config, cursor),
        "web_page": lambda kind, config, cursor: web.search(config, cursor),
    }


def search(kind: str, config: dict, cursor: dict) -> SearchPage:
    """What a listening source of `kind` published since its cursor."""
    found = _searches().get(kind)
    if found is None:
        raise SearchError(_("Unknown source kind: %(kind)s") % {"kind": kind})
    try:
        return found(kind, config or {}, cursor or {})
    except SearchError:
        raise
    except ConnectorError as error:
        raise from_connector_error(error) from error
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise SearchMalformed(_("Unexpected answer: %(error)s") % {"error": error}) from error
