"""A Reddit search for listening (moved from tests/listening/test_sources.py with the code): a
Listing as Reddit's JSON documents it, what was seen not returned twice, rate limits and garbage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import reddit
from palabre.connectors.search import SearchMalformed, SearchRateLimited

FIXTURES = Path(__file__).parent / "fixtures"


def test_reddit_search_listing(platform_server):
    platform_server.on("GET", "/r/france/search.json", Answer(200, load_fixture(FIXTURES, "search.json")))
    config = {"query": "Maison Lumière", "subreddit": "france", "base_url": platform_server.url}
    fetched = reddit.search(config, {})
    first, second = fetched.candidates
    assert first.external_id == "t3_1cl9x3c"
    assert first.text.startswith("Maison Lumière : livraison en retard\n\nJ'ai reçu ma commande")
    assert first.url == f"{platform_server.url}/r/france/comments/1cl9x3c/maison_lumiere_livraison_en_retard/"
    assert first.author == "Pierre_dans_le_Nord" and first.author_reach == 2412345
    assert first.published_at == datetime.fromtimestamp(1714983121, tz=UTC)
    assert second.text == "Finally finished my living room (sofa from Maison Lumière)"
    query = platform_server.requests[-1].query
    assert query["restrict_sr"] == ["on"] and query["sort"] == ["new"] and query["q"] == ["Maison Lumière"]
    # Searched again: what was seen is not returned twice.
    assert reddit.search(config, fetched.cursor).candidates == []


def test_reddit_rate_limit_and_malformed_listing(platform_server):
    config = {"query": "lumiere", "subreddit": "", "base_url": platform_server.url}
    platform_server.on(
        "GET",
        "/search.json",
        Answer(429, {"message": "Too Many Requests", "error": 429}, {"x-ratelimit-reset": "42"}),
    )
    with pytest.raises(SearchRateLimited) as limited:
        reddit.search(config, {})
    assert limited.value.retry_after == 42
    platform_server.on("GET", "/search.json", Answer(200, {"kind": "t3", "data": {}}))
    with pytest.raises(SearchMalformed):
        reddit.search(config, {})
    platform_server.on("GET", "/search.json", Answer(200, "<html>", {}, "text/html"))
    with pytest.raises(SearchMalformed):
        reddit.search(config, {})
