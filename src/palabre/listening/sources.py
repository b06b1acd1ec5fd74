"""Fetchers of listening sources: each turns a source's config and cursor into candidates.

A fetcher decides nothing: it returns what the source published since its cursor (`Candidate`s)
and the new cursor; `services.poll_source` matches, stores and records health. Every fetcher
raises `SourceError` (or `RateLimited`, `MalformedPayload`) on failure, never anything else.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from palabre.connectors import outbound

USER_AGENT = "Palabre/0.1 (self-hosted listening; +https://palabre.invalid)"
TIMEOUT = 20.0
MAX_BYTES = 5_000_000
JETSTREAM_DEFAULT = "wss://jetstream2.us-east.bsky.network/subscribe"


@dataclass
class Candidate:
    """A post, article or comment a source returned, before matching."""

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
class Fetched:
    candidates: list[Candidate]
    cursor: dict[str, Any] = field(default_factory=dict)


class SourceError(Exception):
    """A fetch that failed. `code` says why in a word the interface turns into a sentence in the
    reader's language (`models.source_error_words`); the message is the technical detail."""

    code = "unreachable"

    def __init__(self, message: str, *, retry_after: float | None = None, code: str = ""):
        super().__init__(message)
        self.retry_after = retry_after
        if code:
            self.code = code


class RateLimited(SourceError):
    code = "rate_limited"


class MalformedPayload(SourceError):
    code = "malformed"


# --- configuration ----------------------------------------------------------------------------


def _url(config: dict, key: str, errors: dict, *, schemes=("http", "https"), required=True) -> str:
    value = str(config.get(key) or "").strip()
    if not value:
        if required:
            errors[f"config.{key}"] = [_("This setting is required.")]
        return ""
    try:
        URLValidator(schemes=list(schemes))(value)
    except ValidationError:
        errors[f"config.{key}"] = [_("Enter a valid URL.")]
        return value
    refusal = outbound.refusal_for_url(value)
    if refusal is not None:
        errors[f"config.{key}"] = [refusal.explain()]
    return value


def validate_config(kind: str, config: dict) -> dict:
    """The source's settings, cleaned; a ValidationError names the faulty `config.<key>`."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if kind in ("rss", "web_page"):
        clean["url"] = _url(config, "url", errors)
    elif kind in ("mastodon_hashtag", "mastodon_timeline"):
        clean["instance"] = _url(config, "instance", errors).rstrip("/")
        if kind == "mastodon_hashtag":
            tag = str(config.get("hashtag") or "").strip().lstrip("#")
            if not tag or not tag.replace("_", "").isalnum():
                errors["config.hashtag"] = [_("Enter a hashtag made of letters, digits or _.")]
            clean["hashtag"] = tag
        else:
            clean["local"] = bool(config.get("local", False))
        if config.get("access_token"):
            clean["access_token"] = str(config["access_token"]).strip()
    elif kind == "bluesky_jetstream":
        clean["endpoint"] = _url(
            {"endpoint": config.get("endpoint") or JETSTREAM_DEFAULT},
            "endpoint",
            errors,
            schemes=("ws", "wss"),
        )
        clean["max_events"] = _bounded(config, "max_events", 5000, 1, 100_000, errors)
        clean["max_seconds"] = _bounded(config, "max_seconds", 20, 1, 300, errors)
    elif kind == "reddit_search":
        query = str(config.get("query") or "").strip()
        if not query or len(query) > 512:
            errors["config.query"] = [_("Enter the words to search for (at most 512 characters).")]
        clean["query"] = query
        subreddit = str(config.get("subreddit") or "").strip().removeprefix("r/")
        if subreddit and not subreddit.replace("_", "").isalnum():
            errors["config.subreddit"] = [_("Enter a subreddit name, without r/.")]
        clean["subreddit"] = subreddit
        clean["base_url"] = (
            _url({"base_url": config.get("base_url") or "https://www.reddit.com"}, "base_url", errors)
        ).rstrip("/")
    elif kind == "own_channels":
        pass
    if errors:
        raise ValidationError(errors)
    return clean


def _bounded(config: dict, key: str, default: int, low: int, high: int, errors: dict) -> int:
    try:
        value = int(config.get(key, default))
        if not low <= value <= high:
            raise ValueError
        return value
    except (TypeError, ValueError):
        errors[f"config.{key}"] = [_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return default


# --- helpers ----------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "br", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of a small HTML fragment (a toot, a feed summary): tags dropped, blocks kept apart."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


def _retry_after(response: httpx.Response) -> float | None:
    for header in ("retry-after", "x-ratelimit-reset"):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            return max(float(value), 1.0)
        except ValueError:
            try:
                return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 1.0)
            except (TypeError, ValueError):
                continue
    return None


def http_get(url: str, *, params: dict | None = None, headers: dict | None = None) -> httpx.Response:
    """GET with Palabre's user agent and limits; HTTP failures become SourceError / RateLimited."""
    try:
        # Through the address guard: each redirect is checked and followed by Palabre itself.
        with outbound.client(
            timeout=TIMEOUT, headers={"User-Agent": USER_AGENT, **(headers or {})}
        ) as client:
            response = client.get(url, params=params)
    except httpx.HTTPError as error:
        raise SourceError(_("Could not reach %(url)s: %(error)s") % {"url": url, "error": error}) from error
    if response.status_code == 429:
        raise RateLimited(
            _("Rate limited by %(host)s.") % {"host": urlsplit(url).hostname},
            retry_after=_retry_after(response),
        )
    if response.status_code == 304:
        return response
    if response.status_code >= 400:
        raise SourceError(
            _("%(host)s answered HTTP %(status)s.")
            % {"host": urlsplit(url).hostname, "status": response.status_code},
            retry_after=_retry_after(response) if response.status_code == 503 else None,
            code="http_error",
        )
    if len(response.content) > MAX_BYTES:
        raise MalformedPayload(_("The answer is larger than %(n)s bytes.") % {"n": MAX_BYTES})
    return response


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# --- RSS / Atom -------------------------------------------------------------------------------


def fetch_rss(config: dict, cursor: dict) -> Fetched:
    import feedparser

    headers = {}
    if cursor.get("etag"):
        headers["If-None-Match"] = cursor["etag"]
    if cursor.get("modified"):
        headers["If-Modified-Since"] = cursor["modified"]
    response = http_get(config["url"], headers=headers)
    if response.status_code == 304:
        return Fetched([], cursor)
    feed = feedparser.parse(response.content, response_headers={"content-location": config["url"]})
    if feed.bozo and not feed.entries:
        raise MalformedPayload(
            _("Not a readable RSS or Atom feed: %(error)s") % {"error": feed.get("bozo_exception")}
        )
    site = urlsplit(feed.feed.get("link") or config["url"]).hostname or ""
    candidates = []
    for entry in feed.entries:
        link = entry.get("link", "")
        external_id = (
            entry.get("id") or link or hashlib.sha256(json.dumps(entry, default=str).encode()).hexdigest()
        )
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime(*stamp[:6], tzinfo=UTC) if stamp else datetime.now(UTC)
        summary = entry.get("summary", "")
        if entry.get("content"):
            summary = entry["content"][0].get("value", summary)
        title = entry.get("title", "")
        text = "\n\n".join(part for part in (title, html_to_text(summary)) if part)
        candidates.append(
            Candidate(
                external_id=external_id[:500],
                text=text,
                published_at=published,
                url=link,
                author=entry.get("author", ""),
                author_name=entry.get("author", ""),
                language=(entry.get("language") or feed.feed.get("language") or "")[:2],
                domain=(urlsplit(link).hostname or site).removeprefix("www."),
            )
        )
    new_cursor = {
        k: v
        for k, v in {
            "etag": response.headers.get("etag"),
            "modified": response.headers.get("last-modified"),
        }.items()
        if v
    }
    return Fetched(candidates, new_cursor)


# --- Mastodon ---------------------------------------------------------------------------------


def status_candidate(status: dict, instance: str) -> Candidate:
    """A Mastodon Status entity (as the API documents it) as a candidate."""
    account = status.get("account") or {}
    url = status.get("url") or status.get("uri") or ""
    text = html_to_text(status.get("content") or "")
    if status.get("spoiler_text"):
        text = f"{status['spoiler_text']}\n{text}"
    published = _parse_time(status.get("created_at"))
    if not status.get("id") or published is None:
        raise MalformedPayload(_("A Mastodon status without id or date."))
    return Candidate(
        external_id=str(status.get("uri") or f"{instance}/statuses/{status['id']}")[:500],
        text=text,
        published_at=published,
        url=url,
        author=account.get("acct", ""),
        author_name=account.get("display_name") or account.get("username", ""),
        author_reach=account.get("followers_count"),
        language=(status.get("language") or "")[:8],
        domain=urlsplit(url).hostname or urlsplit(instance).hostname or "",
    )


def fetch_mastodon(kind: str, config: dict, cursor: dict) -> Fetched:
    from mastodon import Mastodon, MastodonError, MastodonRatelimitError

    try:
        # Checked first for a clear refusal; the guarded session pins every request and redirect.
        instance = outbound.checked_base_url(config["instance"])
    except httpx.HTTPError as error:
        raise SourceError(
            _("Could not reach %(url)s: %(error)s") % {"url": config["instance"], "error": error}
        ) from error
    client = Mastodon(
        api_base_url=instance,
        access_token=config.get("access_token") or None,
        version_check_mode="none",
        ratelimit_method="throw",
        request_timeout=TIMEOUT,
        user_agent=USER_AGENT,
        session=outbound.requests_session(),
    )
    since_id = cursor.get("since_id")
    try:
        if kind == "mastodon_hashtag":
            statuses = client.timeline_hashtag(config["hashtag"], since_id=since_id, limit=40)
        else:
            statuses = client.timeline_public(since_id=since_id, limit=40, local=config.get("local", False))
    except MastodonRatelimitError as error:
        reset = getattr(client, "ratelimit_reset", None)
        wait = max(reset - time.time(), 1.0) if reset else None
        raise RateLimited(_("Rate limited by the Mastodon instance."), retry_after=wait) from error
    except MastodonError as error:
        raise SourceError(
            _("The Mastodon instance refused: %(error)s") % {"error": error}, code="refused"
        ) from error
    except ValueError as error:  # an answer that is not JSON
        raise MalformedPayload(str(error)) from error
    if not isinstance(statuses, list):
        raise MalformedPayload(_("The Mastodon instance did not answer a list of statuses."))
    candidates = []
    newest = since_id
    for status in statuses:
        status = dict(status)
        if status.get("reblog"):  # a boost: the boosted status is the mention
            status = dict(status["reblog"])
        candidate = status_candidate(status, config["instance"])
        candidates.append(candidate)
    ids = [str(s.get("id")) for s in statuses if s.get("id") is not None]
    if ids:
        newest = max([*ids, *([str(since_id)] if since_id else [])], key=lambda i: (len(i), i))
    return Fetched(candidates, {"since_id": newest} if newest else {})


# --- Bluesky Jetstream ------------------------------------------------------------------------

POST_COLLECTION = "app.bsky.feed.post"


def jetstream_candidate(frame: dict) -> Candidate | None:
    """A Jetstream frame (as its README documents it) as a candidate: new posts only."""
    if frame.get("kind") != "commit":
        return None
    commit = frame.get("commit")
    if not isinstance(commit, dict):
        raise MalformedPayload(_("A Jetstream commit frame without commit."))
    if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
        return None
    record = commit.get("record") or {}
    did, rkey = frame.get("did"), commit.get("rkey")
    if not did or not rkey or not isinstance(record, dict):
        raise MalformedPayload(_("A Jetstream post without author or key."))
    published = _parse_time(record.get("createdAt")) or _parse_time(frame.get("time_us", 0) / 1_000_000)
    langs = record.get("langs") or []
    return Candidate(
        external_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
        text=str(record.get("text") or ""),
        published_at=published,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        author=did,
        language=(langs[0] if langs else "")[:8],
        domain="bsky.app",
    )


def parse_jetstream_frames(frames: list[str | bytes]) -> tuple[list[Candidate], int | None]:
    """Candidates of a batch of frames and the last `time_us` (the cursor to resume from)."""
    candidates, last = [], None
    for raw in frames:
        try:
            frame = json.loads(raw)
        except (TypeError, ValueError) as error:
            raise MalformedPayload(_("A Jetstream frame is not JSON.")) from error
        if not isinstance(frame, dict) or not isinstance(frame.get("time_us"), int):
            raise MalformedPayload(_("A Jetstream frame without time_us."))
        last = frame["time_us"]
        candidate = jetstream_candidate(frame)
        if candidate is not None and candidate.text:
            candidates.append(candidate)
    return candidates, last


def fetch_jetstream(config: dict, cursor: dict) -> Fetched:
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    params = {"wantedCollections": POST_COLLECTION}
    if cursor.get("time_us"):
        params["cursor"] = str(cursor["time_us"])
    url = f"{config['endpoint']}?{urlencode(params)}"
    try:
        # websockets is handed a connection the address guard opened to a checked address (it keeps
        # the name for TLS and the Host header).
        sock = outbound.open_socket(url, timeout=TIMEOUT)
    except httpx.HTTPError as error:
        raise SourceError(_("Could not read the Jetstream: %(error)s") % {"error": error}) from error
    frames: list[str] = []
    deadline = time.monotonic() + config.get("max_seconds", 20)
    try:
        with connect(
            url, sock=sock, open_timeout=TIMEOUT, user_agent_header=USER_AGENT, max_size=2**20
        ) as socket:
            while len(frames) < config.get("max_events", 5000):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    frames.append(socket.recv(timeout=remaining))
                except TimeoutError:
                    break
    except (OSError, WebSocketException) as error:
        if not frames:
            raise SourceError(_("Could not read the Jetstream: %(error)s") % {"error": error}) from error
    candidates, last = parse_jetstream_frames(frames)
    return Fetched(candidates, {"time_us": last} if last else dict(cursor))


# --- Reddit search ----------------------------------------------------------------------------


def reddit_candidates(listing: Any, base_url: str = "https://www.reddit.com") -> list[Candidate]:
    """Posts (t3) and comments (t1) of a Reddit Listing, as Reddit's JSON documents it."""
    if (
        not isinstance(listing, dict)
        or listing.get("kind") != "Listing"
        or not isinstance(listing.get("data"), dict)
    ):
        raise MalformedPayload(_("Reddit did not answer a Listing."))
    children = listing["data"].get("children")
    if not isinstance(children, list):
        raise MalformedPayload(_("A Reddit Listing without children."))
    candidates = []
    for child in children:
        if not isinstance(child, dict) or child.get("kind") not in ("t1", "t3"):
            continue
        data = child.get("data") or {}
        if not data.get("name") or data.get("created_utc") is None:
            raise MalformedPayload(_("A Reddit post without name or date."))
        text = (
            data.get("body")
            if child["kind"] == "t1"
            else "\n\n".join(part for part in (data.get("title", ""), data.get("selftext", "")) if part)
        )
        candidates.append(
            Candidate(
                external_id=data["name"],
                text=text or "",
                published_at=_parse_time(float(data["created_utc"])),
                url=f"{base_url}{data.get('permalink', '')}",
                author=data.get("author", ""),
                author_name=data.get("author", ""),
                author_reach=data.get("subreddit_subscribers"),
                domain="reddit.com",
            )
        )
    return candidates


def fetch_reddit(config: dict, cursor: dict) -> Fetched:
    base = config["base_url"]
    path = f"/r/{quote(config['subreddit'])}/search.json" if config.get("subreddit") else "/search.json"
    params = {"q": config["query"], "sort": "new", "limit": 100, "raw_json": 1}
    if config.get("subreddit"):
        params["restrict_sr"] = "on"
    response = http_get(base + path, params=params)
    try:
        listing = response.json()
    except ValueError as error:
        raise MalformedPayload(_("Reddit did not answer JSON.")) from error
    candidates = reddit_candidates(listing, base)
    seen = set(cursor.get("seen", []))
    fresh = [c for c in candidates if c.external_id not in seen]
    # Sorted by "new": remembering the latest ids is enough to skip what is already known.
    keep = [c.external_id for c in candidates][:200]
    return Fetched(fresh, {"seen": keep or list(seen)})


# --- web pages --------------------------------------------------------------------------------


def extract_page(html: str, url: str) -> tuple[str, str, datetime | None, str]:
    """(title, main text, date, author) of a page: navigation, menus and footers left out."""
    import trafilatura

    document = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    if document is None:
        return "", "", None, ""
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    return (
        data.get("title") or "",
        data.get("text") or "",
        _parse_time(data.get("date")),
        data.get("author") or "",
    )


def fetch_web_page(config: dict, cursor: dict) -> Fetched:
    response = http_get(config["url"])
    content_type = response.headers.get("content-type", "")
    if "html" not in content_type and "xml" not in content_type:
        raise MalformedPayload(_("Not an HTML page (%(type)s).") % {"type": content_type or "?"})
    title, text, date, author = extract_page(response.text, config["url"])
    if not text:
        raise MalformedPayload(_("No main text found on the page."))
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    if cursor.get("digest") == digest:
        return Fetched([], cursor)
    candidate = Candidate(
        external_id=f"{config['url']}#{digest}"[:500],
        text="\n\n".join(part for part in (title, text) if part),
        published_at=date or datetime.now(UTC),
        url=config["url"],
        author=author,
        author_name=author,
        domain=(urlsplit(config["url"]).hostname or "").removeprefix("www."),
    )
    return Fetched([candidate], {"digest": digest})


def fetch(source) -> Fetched:
    """What the source published since its cursor."""
    config, cursor = source.config or {}, source.cursor or {}
    try:
        if source.kind == "rss":
            return fetch_rss(config, cursor)
        if source.kind in ("mastodon_hashtag", "mastodon_timeline"):
            return fetch_mastodon(source.kind, config, cursor)
        if source.kind == "bluesky_jetstream":
            return fetch_jetstream(config, cursor)
        if source.kind == "reddit_search":
            return fetch_reddit(config, cursor)
        if source.kind == "web_page":
            return fetch_web_page(config, cursor)
        if source.kind == "own_channels":
            return Fetched([], cursor)
    except SourceError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise MalformedPayload(_("Unexpected answer: %(error)s") % {"error": error}) from error
    raise SourceError(_("Unknown source kind: %(kind)s") % {"kind": source.kind})
