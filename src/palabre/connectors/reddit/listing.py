"""Reddit's Listings read as items and search candidates: posts (`t3_`) and comments (`t1_`),
their parents, the mod queue's reports, the base-36 ids the cursor compares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from palabre.connectors.base import (
    MalformedPayload,
)
from palabre.connectors.reddit.session import DEFAULT_BASE
from palabre.connectors.search import Candidate, SearchMalformed
from palabre.conversations.services import IncomingAuthor, IncomingItem


def _children(listing: Any) -> list[dict]:
    if (
        not isinstance(listing, dict)
        or listing.get("kind") != "Listing"
        or not isinstance(listing.get("data"), dict)
    ):
        raise SearchMalformed(_("Reddit did not answer a Listing."))
    children = listing["data"].get("children")
    if not isinstance(children, list):
        raise SearchMalformed(_("A Reddit Listing without children."))
    return [child for child in children if isinstance(child, dict) and child.get("kind") in ("t1", "t3")]


def _text(kind: str, data: dict) -> str:
    if kind == "t1":
        return str(data.get("body") or "")
    return "\n\n".join(part for part in (data.get("title", ""), data.get("selftext", "")) if part)


def reddit_candidates(listing: Any, base_url: str = DEFAULT_BASE) -> list[Candidate]:
    """Posts (t3) and comments (t1) of a Reddit Listing, as Reddit's JSON documents it."""
    candidates = []
    for child in _children(listing):
        data = child.get("data") or {}
        if not data.get("name") or data.get("created_utc") is None:
            raise SearchMalformed(_("A Reddit post without name or date."))
        candidates.append(
            Candidate(
                external_id=data["name"],
                text=_text(child["kind"], data),
                published_at=datetime.fromtimestamp(float(data["created_utc"]), tz=UTC),
                url=f"{base_url}{data.get('permalink', '')}",
                author=data.get("author", ""),
                author_name=data.get("author", ""),
                author_reach=data.get("subreddit_subscribers"),
                domain="reddit.com",
            )
        )
    return candidates


def parse_thing(
    child: dict, *, brand: tuple[str, str, str], web: str = DEFAULT_BASE, kind: str = ""
) -> IncomingItem:
    """A post or comment of a Listing as an item: the submission is the thread. `brand` is the
    account's username (lowercase), the channel's handle and name: the brand's own are the
    channel's, as a delivered reply is."""
    try:
        data = child["data"]
        thing = child["kind"]
        author = str(data.get("author") or "[deleted]")
        if brand[0] and author.lower() == brand[0]:
            incoming_author = IncomingAuthor(handle=brand[1], display_name=brand[2])
        else:
            incoming_author = IncomingAuthor(
                handle=author, display_name=author, profile_url=f"{web}/user/{author}"
            )
        parent = str(data.get("parent_id") or "") if thing == "t1" else ""
        if not kind:
            kind = "post" if thing == "t3" else ("comment" if parent.startswith("t3_") else "reply")
        reports = [*(data.get("user_reports") or []), *(data.get("mod_reports") or [])]
        return IncomingItem(
            external_id=str(data["name"]),
            kind=kind,
            text=_text(thing, data),
            created_at=datetime.fromtimestamp(float(data["created_utc"]), tz=UTC),
            author=incoming_author,
            url=f"{web}{data.get('permalink', '')}",
            parent_external_id=parent,
            metrics={
                "score": data.get("score", 0),
                "num_comments": data.get("num_comments", 0),
                "num_reports": data.get("num_reports") or 0,
            },
            raw={
                "subreddit": data.get("subreddit", ""),
                "author": author,
                "reports": [list(report) for report in reports if isinstance(report, list)],
                "removed": bool(data.get("removed") or data.get("banned_by")),
                "approved": bool(data.get("approved")),
                "locked": bool(data.get("locked")),
                "distinguished": data.get("distinguished") or "",
            },
        )
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedPayload(f"A Reddit thing lacks {error}") from error


def _id36(fullname: str) -> int:
    try:
        return int(fullname.split("_", 1)[1], 36)
    except (IndexError, ValueError):
        return 0


def _read_cursor(cursor: str) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
