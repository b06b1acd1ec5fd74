"""RSS and Atom feeds (feedparser): a blog's posts, and their comments where the blog publishes a
comment feed per post (WordPress's `wfw:commentRss`).

The channel's handle is the feed's address (or `options["feed_url"]`); optional credentials
`{"username": ..., "password": ...}` are sent as HTTP basic authentication. Feeds are fetched with
conditional requests (ETag, Last-Modified) and the cursor remembers the entries already stored, so
an unchanged feed costs one `304 Not Modified` and nothing is analysed twice.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import feedparser
import httpx
from django.utils.translation import gettext_lazy as _

from palabre import config
from palabre.connectors import outbound
from palabre.connectors.base import (
    Capability,
    Connector,
    CredentialField,
    FieldKind,
    MalformedPayload,
    PermanentError,
    PermissionMissing,
    PullResult,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.text import html_to_text
from palabre.conversations.services import IncomingAuthor, IncomingItem

MAX_SEEN = 2000
MAX_COMMENT_FEEDS = 20
MAX_FEED_BYTES = 5 * 1024 * 1024
USER_AGENT = "Palabre feed reader"


def retry_after(response: httpx.Response, default: float = 300.0) -> float:
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 1.0)
    except (TypeError, ValueError):
        return default


def _entry_time(entry) -> datetime:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return datetime.now(UTC)


def _entry_text(entry) -> str:
    contents = entry.get("content") or []
    html = contents[0].get("value", "") if contents else entry.get("summary", "")
    return html_to_text(html or entry.get("title", ""))


class FeedConnector(Connector):
    platform = "rss"
    capabilities = frozenset({Capability.PULL})
    poll_interval = 900.0
    credential_fields = (
        CredentialField(
            "username", _("Login"), _("Only for a feed behind a login (HTTP Basic authentication).")
        ),
        CredentialField("password", _("Password"), _("The password of that login."), kind=FieldKind.SECRET),
    )

    def addresses(self, channel, credentials) -> list[tuple[str, str]]:
        url = str((channel.options or {}).get("feed_url") or channel.handle)
        return [("handle", url)] if url.startswith(("http://", "https://")) else []

    def feed_url(self, channel) -> str:
        url = (channel.options or {}).get("feed_url") or channel.handle
        if not str(url).startswith(("http://", "https://")):
            raise PermanentError("The channel's feed address must start with http:// or https://.")
        return str(url)

    def fetch(self, channel, url: str, state: dict) -> feedparser.FeedParserDict | None:
        """The parsed feed, or None when unchanged since `state` (its ETag and Last-Modified)."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, */*;q=0.5"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        credentials = channel.read_credentials() if channel.has_credentials else {}
        auth = (
            (credentials["username"], credentials.get("password", ""))
            if credentials.get("username")
            else None
        )
        try:
            # Through the address guard: each redirect is checked (httpx drops the credentials
            # when a redirect leaves the feed's host).
            with outbound.client(
                timeout=float(config.CONNECTORS_HTTP_TIMEOUT.raw() or 20), auth=auth
            ) as client:
                response = client.get(url, headers=headers)
        except outbound.AddressRefused as error:
            raise PermanentError(f"{url}: {error}") from error
        except httpx.HTTPError as error:
            raise TransientError(f"{url}: {error}") from error
        status = response.status_code
        if status == 304:
            return None
        if status == 429:
            raise RateLimited(f"{url}: 429 Too Many Requests", retry_after=retry_after(response))
        if status == 401:
            raise TokenExpired(f"{url}: 401, the feed's user name or password is refused")
        if status == 403:
            raise PermissionMissing(f"{url}: 403 Forbidden")
        if status in {404, 410}:
            raise PermanentError(f"{url}: {status}, the feed is gone")
        if status >= 500:
            raise TransientError(f"{url}: {status}")
        if status >= 400:
            raise PermanentError(f"{url}: {status}")
        if len(response.content) > MAX_FEED_BYTES:
            raise MalformedPayload(f"{url}: the feed is larger than {MAX_FEED_BYTES} bytes")
        parsed = feedparser.parse(
            response.content, response_headers={k.lower(): v for k, v in response.headers.items()}
        )
        if parsed.bozo and not parsed.entries and not parsed.feed:
            raise MalformedPayload(f"{url}: not a feed ({parsed.get('bozo_exception')})")
        if not parsed.version and not parsed.entries:
            raise MalformedPayload(f"{url}: not an RSS or Atom feed")
        state["etag"] = response.headers.get("ETag", "")
        state["modified"] = response.headers.get("Last-Modified", "")
        return parsed

    def pull(self, channel, cursor: str) -> PullResult:
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        feed_state = state.setdefault("feed", {})
        seen = list(state.get("seen", []))
        seen_set = set(seen)
        comment_states = state.setdefault("comments", {})
        items: list[IncomingItem] = []
        url = self.feed_url(channel)
        parsed = self.fetch(channel, url, feed_state)
        if parsed is not None:
            for position, entry in enumerate(parsed.entries):
                post = self.post_item(entry, parsed)
                if post.external_id not in seen_set:
                    items.append(post)
                    seen_set.add(post.external_id)
                    seen.append(post.external_id)
                comment_feed = entry.get("wfw_commentrss")
                # The newest posts' comment feeds are followed; the oldest followed ones give way.
                if comment_feed and position < MAX_COMMENT_FEEDS:
                    comment_states.setdefault(comment_feed, {"post": post.external_id})
            for comment_url, comment_state in list(comment_states.items())[-MAX_COMMENT_FEEDS:]:
                comments = self.fetch(channel, comment_url, comment_state)
                if comments is None:
                    continue
                for entry in comments.entries:
                    comment = self.comment_item(entry, comment_state["post"])
                    if comment.external_id not in seen_set:
                        items.append(comment)
                        seen_set.add(comment.external_id)
                        seen.append(comment.external_id)
        state["seen"] = seen[-MAX_SEEN:]
        state["comments"] = dict(list(comment_states.items())[-MAX_COMMENT_FEEDS:])
        return PullResult(items=items, cursor=json.dumps(state, sort_keys=True))

    def post_item(self, entry, parsed) -> IncomingItem:
        external_id = entry.get("id") or entry.get("link")
        if not external_id:
            raise MalformedPayload("A feed entry has neither an id nor a link.")
        author = entry.get("author") or parsed.feed.get("author") or parsed.feed.get("title") or ""
        return IncomingItem(
            external_id=str(external_id)[:300],
            kind="post",
            text=_entry_text(entry),
            created_at=_entry_time(entry),
            author=IncomingAuthor(handle=author[:300], display_name=author[:200]) if author else None,
            url=str(entry.get("link", ""))[:1000],
            language=str(parsed.feed.get("language", ""))[:2],
            metrics={"comments": int(entry.get("slash_comments") or 0)},
            raw={"title": entry.get("title", ""), "comment_feed": entry.get("wfw_commentrss", "")},
        )

    def comment_item(self, entry, post_id: str) -> IncomingItem:
        external_id = entry.get("id") or entry.get("link")
        if not external_id:
            raise MalformedPayload("A comment entry has neither an id nor a link.")
        author = entry.get("author") or ""
        return IncomingItem(
            external_id=str(external_id)[:300],
            kind="comment",
            text=_entry_text(entry),
            created_at=_entry_time(entry),
            author=IncomingAuthor(handle=author[:300], display_name=author[:200]) if author else None,
            url=str(entry.get("link", ""))[:1000],
            parent_external_id=post_id,
            raw={"title": entry.get("title", "")},
        )
