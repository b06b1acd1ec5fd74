"""A feed searched for listening (moved from tests/listening/test_sources.py with the code): entries
become candidates with text, author and date; ETags are sent back; failures are SearchErrors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import rss
from palabre.connectors.search import SearchError, SearchMalformed, SearchRateLimited

FIXTURES = Path(__file__).parent / "fixtures"


def test_rss_feed_items_become_candidates_with_text_author_and_date(platform_server):
    platform_server.on(
        "GET",
        "/feed.xml",
        Answer(200, load_fixture(FIXTURES, "search_feed.rss"), {"ETag": '"v1"'}, "application/rss+xml"),
    )
    fetched = rss.search({"url": f"{platform_server.url}/feed.xml"}, {})
    first, second = fetched.candidates
    assert first.external_id == "deco-maison-1201"
    assert first.text.startswith(
        "Maison Lumière rappelle ses lampes Aurore\n\nLa marque Maison Lumière rappelle"
    )
    assert "<strong>" not in first.text
    assert first.published_at == datetime(2024, 5, 6, 6, 15, tzinfo=UTC)
    assert first.author == "Claire Martin" and first.domain == "deco-maison.example"
    assert first.language == "fr"
    assert fetched.cursor == {"etag": '"v1"'}
    assert second.url.endswith("/salon")


def test_rss_sends_its_etag_back_and_a_304_returns_nothing(platform_server):
    platform_server.on("GET", "/feed.xml", Answer(304, b""))
    fetched = rss.search({"url": f"{platform_server.url}/feed.xml"}, {"etag": '"v1"'})
    assert fetched.candidates == [] and fetched.cursor == {"etag": '"v1"'}
    assert platform_server.requests[-1].headers["If-None-Match"] == '"v1"'


def test_atom_feed(platform_server):
    platform_server.on(
        "GET", "/atom", Answer(200, load_fixture(FIXTURES, "search_feed.atom"), {}, "application/atom+xml")
    )
    (entry,) = rss.search({"url": f"{platform_server.url}/atom"}, {}).candidates
    assert (
        entry.text
        == "Maison Lumière opens in London\n\nThe French brand Maison Lumière opens its first shop abroad."
    )
    assert entry.author == "Sam Lee" and entry.language == "en"


def test_http_errors_rate_limits_and_garbage_are_source_errors(platform_server):
    url = f"{platform_server.url}/feed.xml"
    platform_server.on("GET", "/feed.xml", Answer(500, "oops", {}, "text/plain"))
    with pytest.raises(SearchError, match="500"):
        rss.search({"url": url}, {})
    platform_server.on("GET", "/feed.xml", Answer(429, "slow down", {"Retry-After": "120"}, "text/plain"))
    with pytest.raises(SearchRateLimited) as limited:
        rss.search({"url": url}, {})
    assert limited.value.retry_after == 120
    platform_server.on("GET", "/feed.xml", Answer(200, "<html><body>not a feed", {}, "text/html"))
    with pytest.raises(SearchMalformed):
        rss.search({"url": url}, {})
    with pytest.raises(SearchError, match="127.0.0.1:9"):
        rss.search({"url": "http://127.0.0.1:9/feed.xml"}, {})
