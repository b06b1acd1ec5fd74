"""Reddit, for listening: a search of posts and comments (`/search.json`, or one subreddit's), read
as Reddit's JSON documents its Listing (`t3` posts, `t1` comments). No channel side yet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext as _

from palabre.connectors import search as searching
from palabre.connectors.search import Candidate, SearchMalformed, SearchPage

DEFAULT_BASE = "https://www.reddit.com"
# Sorted by "new": remembering the latest ids is enough to skip what is already known.
MAX_SEEN = 200


def reddit_candidates(listing: Any, base_url: str = DEFAULT_BASE) -> list[Candidate]:
    """Posts (t3) and comments (t1) of a Reddit Listing, as Reddit's JSON documents it."""
    if (
        not isinstance(listing, dict)
        or listing.get("kind") != "Listing"
        or not isinstance(listing.get("data"), dict)
    ):
        raise SearchMalformed(_("Reddit did not answer a Listing."))
    children = listing["data"].get("children")
    if not isinstance(children, list):
        raise SearchMalformed(_("A Reddit Listing without children."))
    candidates = []
    for child in children:
        if not isinstance(child, dict) or child.get("kind") not in ("t1", "t3"):
            continue
        data = child.get("data") or {}
        if not data.get("name") or data.get("created_utc") is None:
            raise SearchMalformed(_("A Reddit post without name or date."))
        text = (
            data.get("body")
            if child["kind"] == "t1"
            else "\n\n".join(part for part in (data.get("title", ""), data.get("selftext", "")) if part)
        )
        candidates.append(
            Candidate(
                external_id=data["name"],
                text=text or "",
                published_at=datetime.fromtimestamp(float(data["created_utc"]), tz=UTC),
                url=f"{base_url}{data.get('permalink', '')}",
                author=data.get("author", ""),
                author_name=data.get("author", ""),
                author_reach=data.get("subreddit_subscribers"),
                domain="reddit.com",
            )
        )
    return candidates


def search(config: dict, cursor: dict) -> SearchPage:
    """The newest posts and comments for `query` (in `subreddit` when given), those the cursor has
    seen left out."""
    base = config.get("base_url") or DEFAULT_BASE
    subreddit = config.get("subreddit")
    path = f"/r/{quote(subreddit)}/search.json" if subreddit else "/search.json"
    params: dict[str, Any] = {"q": config["query"], "sort": "new", "limit": 100, "raw_json": 1}
    if subreddit:
        params["restrict_sr"] = "on"
    response = searching.get(base + path, params=params)
    try:
        listing = response.json()
    except ValueError as error:
        raise SearchMalformed(_("Reddit did not answer JSON.")) from error
    candidates = reddit_candidates(listing, base)
    seen = set(cursor.get("seen", []))
    fresh = [c for c in candidates if c.external_id not in seen]
    keep = [c.external_id for c in candidates][:MAX_SEEN]
    return SearchPage(fresh, {"seen": keep or list(seen)})
