"""RSS and Atom feeds (feedparser): a blog's posts, and their comments where the blog publishes a
comment feed per post (WordPress's `wfw:commentRss` in RSS, its `replies` link in Atom).

The channel's handle is the feed's address (or `options["feed_url"]`); optional credentials
`{"username": ..., "password": ...}` are sent as HTTP basic authentication. Every feed (the post
feed and each followed comment feed) is fetched with its own conditional request (its ETag and
Last-Modified are kept in the cursor), on every pull: WordPress keeps the post feed's validators
when only comments are added, so comment feeds are never read only when the post feed changed.
The cursor also remembers the entries already stored, so nothing is analysed twice.

Comments hang under what they answer (see feed_threads): Atom's `thr:in-reply-to`, or in RSS
WordPress's comment ids. A channel may also be a comment feed itself, such as WordPress's site-wide
`/comments/feed/`: each comment is then threaded under its post, stored from what the comments say
of it (title and address).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import feedparser
import httpx
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from palabre.connectors import feed_threads, http_client, outbound
from palabre.connectors import search as searching
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
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
from palabre.connectors.search import Candidate, SearchMalformed, SearchPage
from palabre.connectors.text import html_to_text
from palabre.conversations.services import IncomingAuthor, IncomingItem

logger = logging.getLogger(__name__)

MAX_SEEN = 2000
MAX_COMMENT_FEEDS = 20
MAX_FEED_BYTES = http_client.MAX_BYTES
FEED_ACCEPT = "application/rss+xml, application/atom+xml, */*;q=0.5"


def _entry_time(entry) -> datetime:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return datetime.now(UTC)


def _entry_text(entry) -> str:
    return html_to_text(_entry_html(entry) or entry.get("title", ""))


# How often a feed is read in full, without its validators (see FeedConnector.fetch).
FULL_READ_SECONDS = 3600


def _validators_settled(response: httpx.Response) -> bool:
    """False when the feed changed in the very second it was read: a comment later in that second
    keeps the same Last-Modified (and WordPress's ETag, made from it), so a conditional request
    would be answered 304 and the comment never read. Such validators are not kept."""
    modified = response.headers.get("Last-Modified")
    if not modified:
        return True
    try:
        changed = parsedate_to_datetime(modified)
        date = response.headers.get("Date")
        answered = parsedate_to_datetime(date) if date else datetime.now(UTC)
    except (TypeError, ValueError, IndexError):
        return True
    if changed.tzinfo is None or answered.tzinfo is None:
        changed, answered = changed.replace(tzinfo=UTC), answered.replace(tzinfo=UTC)
    return (answered - changed).total_seconds() >= 1


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

    def health(self, channel) -> ChannelHealthInfo:
        """The feed fetched once, with its login if it has one: a refused login (401) or a gone
        feed shows when the channel is connected. A feed only reads: no permission to check."""
        parsed = self.fetch(channel, self.feed_url(channel), {})
        title = str(((parsed or {}).get("feed") or {}).get("title") or "")
        return ChannelHealthInfo(account=title[:300])

    def fetch(self, channel, url: str, state: dict) -> feedparser.FeedParserDict | None:
        """The parsed feed, or None when unchanged since `state` (its ETag and Last-Modified).

        At most every `FULL_READ_SECONDS` the feed is read without its validators: WordPress's
        Last-Modified is its newest approved comment's date, so a comment held for moderation and
        approved after newer ones changes neither it nor the ETag, and only a full read finds it."""
        headers = {"Accept": FEED_ACCEPT}
        now = datetime.now(UTC).timestamp()
        conditional = now - float(state.get("read_fully_at") or 0) < FULL_READ_SECONDS
        if conditional and state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if conditional and state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        credentials = channel.read_credentials() if channel.has_credentials else {}
        auth = (
            (credentials["username"], credentials.get("password", ""))
            if credentials.get("username")
            else None
        )
        try:
            response = http_client.get(url, headers=headers, auth=auth, max_bytes=MAX_FEED_BYTES)
        except outbound.AddressRefused as error:
            raise PermanentError(f"{url}: {error}") from error
        except http_client.TooLarge as error:
            raise MalformedPayload(f"{url}: the feed is larger than {MAX_FEED_BYTES} bytes") from error
        except outbound.RefusedEncoding as error:  # the server's choice: trying again changes nothing
            raise MalformedPayload(str(error)) from error
        except httpx.HTTPError as error:
            raise TransientError(f"{url}: {error}") from error
        status = response.status_code
        if status == 304:
            return None
        if status == 429:
            raise RateLimited(
                f"{url}: 429 Too Many Requests", retry_after=http_client.retry_after(response) or 300.0
            )
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
        parsed = feedparser.parse(
            response.content, response_headers={k.lower(): v for k, v in response.headers.items()}
        )
        if parsed.bozo and not parsed.entries and not parsed.feed:
            raise MalformedPayload(f"{url}: not a feed ({parsed.get('bozo_exception')})")
        if not parsed.version and not parsed.entries:
            raise MalformedPayload(f"{url}: not an RSS or Atom feed")
        if not conditional:
            state["read_fully_at"] = now
        if _validators_settled(response):
            state["etag"] = response.headers.get("ETag", "")
            state["modified"] = response.headers.get("Last-Modified", "")
        else:
            state["etag"] = state["modified"] = ""
        return parsed

    def pull(self, channel, cursor: str) -> PullResult:
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        if not isinstance(state, dict):
            state = {}
        feed_state = state.setdefault("feed", {})
        seen = list(state.get("seen", []))
        batch = _Batch(set(seen))
        followed: dict[str, dict] = dict(state.get("comments") or {})
        url = self.feed_url(channel)
        parsed = self.fetch(channel, url, feed_state)
        if parsed is not None:
            language = _language(parsed)
            for entry in parsed.entries:
                external_id = _external_id(entry)
                if feed_threads.is_comment(entry, external_id):
                    # A comment feed as the channel (one post's, or the site-wide /comments/feed/).
                    batch.add_comment(self.comment_item(entry, language=language), with_post=True)
                    continue
                post = self.post_item(entry, parsed)
                batch.add(post)
                comment_feed = _comment_feed(entry)
                if comment_feed:
                    known = followed.setdefault(comment_feed, {})
                    known.update(post=post.external_id, at=post.created_at.isoformat())
        # The newest posts' comment feeds are followed, each with its own conditional request and
        # on every pull: WordPress answers 304 for the post feed when only comments were added.
        followed = dict(
            sorted(followed.items(), key=lambda pair: pair[1].get("at", ""), reverse=True)[:MAX_COMMENT_FEEDS]
        )
        for comment_url, comment_state in list(followed.items()):
            try:
                comments = self.fetch(channel, comment_url, comment_state)
            except (TokenExpired, PermissionMissing, RateLimited, TransientError):
                raise
            except PermanentError as error:
                # The post was deleted or its comments closed: stop following that feed only.
                logger.info("rss: channel %s stops following %s: %s", channel.pk, comment_url, error)
                del followed[comment_url]
                continue
            if comments is None:
                continue
            language = _language(comments)
            for entry in comments.entries:
                batch.add_comment(
                    self.comment_item(entry, post_id=comment_state.get("post", ""), language=language)
                )
        seen.extend(batch.new_ids)
        state["seen"] = seen[-MAX_SEEN:]
        state["comments"] = followed
        return PullResult(items=batch.items(), cursor=json.dumps(state, sort_keys=True))

    def post_item(self, entry, parsed) -> IncomingItem:
        external_id = _external_id(entry)
        if not external_id:
            raise MalformedPayload("A feed entry has neither an id nor a link.")
        author = entry.get("author") or parsed.feed.get("author") or parsed.feed.get("title") or ""
        comments = entry.get("slash_comments") or entry.get("thr_total") or 0
        return IncomingItem(
            external_id=external_id[:300],
            kind="post",
            text=_entry_text(entry),
            created_at=_entry_time(entry),
            author=_author(entry, author),
            url=str(entry.get("link", ""))[:1000],
            language=_language(parsed),
            metrics={"comments": int(comments) if str(comments).isdigit() else 0},
            raw={"title": entry.get("title", ""), "comment_feed": _comment_feed(entry)},
        )

    def comment_item(self, entry, post_id: str = "", language: str = "") -> IncomingItem:
        """A comment, placed under the comment it answers (else its post)."""
        external_id = _external_id(entry)
        if not external_id:
            raise MalformedPayload("A comment entry has neither an id nor a link.")
        placement = feed_threads.place(entry, external_id, _entry_html(entry), post_id=post_id)
        return IncomingItem(
            external_id=external_id[:300],
            kind="comment",
            text=html_to_text(placement.html or entry.get("title", "")),
            created_at=_entry_time(entry),
            author=_author(entry, entry.get("author") or ""),
            url=str(entry.get("link", ""))[:1000],
            language=language,
            parent_external_id=placement.parent_id[:300],
            raw={"title": entry.get("title", ""), "post": placement.post_id, "post_url": _post_url(entry)},
        )


class _Batch:
    """The items of one pull: each once, posts first, then comments oldest first (a parent is
    stored before its replies)."""

    def __init__(self, seen: set[str]) -> None:
        self.seen = seen
        self.new_ids: list[str] = []
        self.posts: list[IncomingItem] = []
        self.comments: list[IncomingItem] = []

    def _new(self, item: IncomingItem) -> bool:
        if item.external_id in self.seen:
            return False
        self.seen.add(item.external_id)
        self.new_ids.append(item.external_id)
        return True

    def add(self, post: IncomingItem) -> None:
        if self._new(post):
            self.posts.append(post)

    def add_comment(self, comment: IncomingItem, *, with_post: bool = False) -> None:
        """`with_post`: the feed carries comments only (the site-wide comments feed); their post
        is stored too, from what the comment says of it (title, address), as the thread's root."""
        if not self._new(comment):
            return
        self.comments.append(comment)
        post_id = comment.raw.get("post", "")
        if with_post and post_id and post_id not in self.seen:
            self.seen.add(post_id)
            self.new_ids.append(post_id)
            title = _post_title(comment)
            self.posts.append(
                IncomingItem(
                    external_id=post_id[:300],
                    kind="post",
                    text=title or comment.raw.get("post_url", "") or post_id,
                    created_at=comment.created_at,
                    url=comment.raw.get("post_url", "")[:1000],
                    language=comment.language,
                    raw={"title": title, "from_comment_feed": True},
                )
            )

    def items(self) -> list[IncomingItem]:
        for comment in self.comments:
            # A reply whose parent Palabre never saw (older than what the feed lists, on a first
            # pull): it hangs under its post rather than alone, and keeps what it answered.
            parent, post = comment.parent_external_id, comment.raw.get("post", "")
            if post and parent != post and parent not in self.seen:
                comment.raw["in_reply_to"] = parent
                comment.parent_external_id = post[:300]
        return self.posts + sorted(self.comments, key=lambda item: item.created_at)


def _external_id(entry) -> str:
    return str(entry.get("id") or entry.get("link") or "")


def _entry_html(entry) -> str:
    contents = entry.get("content") or []
    return (contents[0].get("value", "") if contents else entry.get("summary", "")) or ""


def _language(parsed) -> str:
    return str(parsed.feed.get("language", ""))[:2].lower()


def _author(entry, name: str) -> IncomingAuthor | None:
    if not name:
        return None
    detail = entry.get("author_detail") or {}
    return IncomingAuthor(
        handle=name[:300], display_name=name[:200], profile_url=str(detail.get("href", ""))[:1000]
    )


def _comment_feed(entry) -> str:
    """A post's own comment feed: `wfw:commentRss` in RSS, the Atom `replies` link in Atom."""
    if entry.get("wfw_commentrss"):
        return str(entry["wfw_commentrss"])
    for link in entry.get("links") or []:
        if link.get("rel") == "replies" and "atom" in str(link.get("type", "")):
            return str(link.get("href", ""))
    return ""


def _post_url(entry) -> str:
    """The address of the post a comment is on."""
    answered = entry.get("thr_in-reply-to") or {}
    href = str(answered.get("href", ""))
    if href and "#comment-" not in href:
        return href
    link = str(entry.get("link", "")).split("#", 1)[0]
    return re.sub(r"comment-page-\d+/?$", "", link)


# WordPress titles the entries of its site-wide comment feed "Comment on <post> by <author>",
# in the site's language (the French one shown; others keep the whole title).
_COMMENT_TITLE = re.compile(
    r"^(?:Comment on|Commentaires? sur)\s+(?P<title>.+?)\s+(?:by|par)\s+(?P<author>.+)$", re.S
)


def _post_title(comment: IncomingItem) -> str:
    title = " ".join(str(comment.raw.get("title", "")).split())
    found = _COMMENT_TITLE.match(title)
    if found and comment.author and found.group("author") == comment.author.display_name:
        return found.group("title")
    return ""


# --- listening: a feed searched for mentions ------------------------------------------------------


def search(config: dict, cursor: dict) -> SearchPage:
    """The feed's entries as listening candidates (title and text), read with the cursor's ETag and
    Last-Modified: a 304 brings nothing new. Entries are read as the channel side reads them."""
    url = config["url"]
    headers = {"Accept": FEED_ACCEPT}
    if cursor.get("etag"):
        headers["If-None-Match"] = cursor["etag"]
    if cursor.get("modified"):
        headers["If-Modified-Since"] = cursor["modified"]
    response = searching.get(url, headers=headers)
    if response.status_code == 304:
        return SearchPage([], cursor)
    feed = feedparser.parse(response.content, response_headers={"content-location": url})
    if feed.bozo and not feed.entries:
        raise SearchMalformed(
            gettext("Not a readable RSS or Atom feed: %(error)s") % {"error": feed.get("bozo_exception")}
        )
    site = urlsplit(feed.feed.get("link") or url).hostname or ""
    candidates = []
    for entry in feed.entries:
        link = str(entry.get("link", ""))
        external_id = (
            _external_id(entry) or hashlib.sha256(json.dumps(entry, default=str).encode()).hexdigest()
        )
        title = entry.get("title", "")
        candidates.append(
            Candidate(
                external_id=external_id[:500],
                text="\n\n".join(part for part in (title, html_to_text(_entry_html(entry))) if part),
                published_at=_entry_time(entry),
                url=link,
                author=entry.get("author", ""),
                author_name=entry.get("author", ""),
                language=(entry.get("language") or feed.feed.get("language") or "")[:2],
                domain=(urlsplit(link).hostname or site).removeprefix("www."),
            )
        )
    settled = _validators_settled(response)
    kept = {"etag": response.headers.get("etag"), "modified": response.headers.get("last-modified")}
    return SearchPage(candidates, {k: v for k, v in kept.items() if v and settled})
