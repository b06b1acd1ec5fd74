"""A Mastodon hashtag or public timeline searched for listening through the real Mastodon.py client
(moved from tests/listening/test_sources.py with the code)."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import mastodon
from palabre.connectors.search import SearchError, SearchMalformed, SearchRateLimited

FIXTURES = Path(__file__).parent / "fixtures"


def test_mastodon_hashtag_timeline_through_mastodon_py(platform_server):
    platform_server.on(
        "GET",
        "/api/v1/timelines/tag/MaisonLumiere",
        Answer(200, load_fixture(FIXTURES, "hashtag_timeline.json")),
    )
    config = {"instance": platform_server.url, "hashtag": "MaisonLumiere"}
    fetched = mastodon.search("mastodon_hashtag", config, {"since_id": "112409850000000000"})
    first, second = fetched.candidates
    assert (
        first.text == "Ma lampe Aurore de #MaisonLumiere a fondu, c'est inadmissible !\nQuelqu'un d'autre ?"
    )
    assert first.author == "lea" and first.author_name == "Léa D." and first.author_reach == 1840
    assert first.external_id == "https://piaille.example/users/lea/statuses/112409861234567890"
    assert first.language == "fr" and first.domain == "piaille.example"
    assert second.author == "tom@mastodon.example"
    assert fetched.cursor == {"since_id": "112409861234567890"}
    assert platform_server.requests[-1].query["since_id"] == ["112409850000000000"]


def test_mastodon_public_timeline_and_failures(platform_server):
    timeline = "/api/v1/timelines/public"
    platform_server.on("GET", timeline, Answer(200, load_fixture(FIXTURES, "hashtag_timeline.json")))
    config = {"instance": platform_server.url, "local": True}
    assert len(mastodon.search("mastodon_timeline", config, {}).candidates) == 2
    assert "local" in platform_server.requests[-1].query
    platform_server.on("GET", timeline, Answer(429, {"error": "Too many requests"}))
    with pytest.raises(SearchRateLimited):
        mastodon.search("mastodon_timeline", config, {})
    platform_server.on("GET", timeline, Answer(401, {"error": "This method requires an authenticated user"}))
    with pytest.raises(SearchError):
        mastodon.search("mastodon_timeline", config, {})
    platform_server.on("GET", timeline, Answer(200, [{"content": "<p>no id</p>"}]))
    with pytest.raises(SearchMalformed):
        mastodon.search("mastodon_timeline", config, {})
