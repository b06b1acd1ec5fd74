"""Fetchers against payloads shaped as each platform documents them, on real loopback servers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from palabre.connectors import bluesky, mastodon, reddit, rss, web
from palabre.connectors.search import SearchError, SearchMalformed, SearchRateLimited
from palabre.listening.sources import validate_config

from .conftest import fixture_text

# --- RSS / Atom ---------------------------------------------------------------------------------


def test_rss_feed_items_become_candidates_with_text_author_and_date(loopback):
    loopback.route(
        "/feed.xml", fixture_text("feed.rss"), content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    fetched = rss.search({"url": f"{loopback.url}/feed.xml"}, {})
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


def test_rss_sends_its_etag_back_and_a_304_returns_nothing(loopback):
    loopback.routes["/feed.xml"] = (304, {}, b"")
    fetched = rss.search({"url": f"{loopback.url}/feed.xml"}, {"etag": '"v1"'})
    assert fetched.candidates == [] and fetched.cursor == {"etag": '"v1"'}
    assert loopback.requests[-1]["headers"]["If-None-Match"] == '"v1"'


def test_atom_feed(loopback):
    loopback.route("/atom", fixture_text("feed.atom"), content_type="application/atom+xml")
    (entry,) = rss.search({"url": f"{loopback.url}/atom"}, {}).candidates
    assert (
        entry.text
        == "Maison Lumière opens in London\n\nThe French brand Maison Lumière opens its first shop abroad."
    )
    assert entry.author == "Sam Lee" and entry.language == "en"


def test_http_errors_rate_limits_and_garbage_are_source_errors(loopback):
    url = f"{loopback.url}/feed.xml"
    loopback.route("/feed.xml", "oops", status=500, content_type="text/plain")
    with pytest.raises(SearchError, match="500"):
        rss.search({"url": url}, {})
    loopback.route(
        "/feed.xml", "slow down", status=429, content_type="text/plain", headers={"Retry-After": "120"}
    )
    with pytest.raises(SearchRateLimited) as limited:
        rss.search({"url": url}, {})
    assert limited.value.retry_after == 120
    loopback.route("/feed.xml", "<html><body>not a feed", content_type="text/html")
    with pytest.raises(SearchMalformed):
        rss.search({"url": url}, {})
    with pytest.raises(SearchError, match="127.0.0.1:9"):
        rss.search({"url": "http://127.0.0.1:9/feed.xml"}, {})


# --- Mastodon -----------------------------------------------------------------------------------


def test_mastodon_hashtag_timeline_through_mastodon_py(loopback):
    loopback.route("/api/v1/timelines/tag/MaisonLumiere", fixture_text("mastodon_hashtag.json"))
    config = validate_config("mastodon_hashtag", {"instance": loopback.url, "hashtag": "#MaisonLumiere"})
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
    assert "since_id=112409850000000000" in loopback.requests[-1]["path"]


def test_mastodon_public_timeline_and_failures(loopback):
    loopback.route("/api/v1/timelines/public", fixture_text("mastodon_hashtag.json"))
    config = validate_config("mastodon_timeline", {"instance": loopback.url, "local": True})
    assert len(mastodon.search("mastodon_timeline", config, {}).candidates) == 2
    assert "local=" in loopback.requests[-1]["path"]
    loopback.route("/api/v1/timelines/public", {"error": "Too many requests"}, status=429)
    with pytest.raises(SearchRateLimited):
        mastodon.search("mastodon_timeline", config, {})
    loopback.route(
        "/api/v1/timelines/public", {"error": "This method requires an authenticated user"}, status=401
    )
    with pytest.raises(SearchError):
        mastodon.search("mastodon_timeline", config, {})
    loopback.route("/api/v1/timelines/public", [{"content": "<p>no id</p>"}])
    with pytest.raises(SearchMalformed):
        mastodon.search("mastodon_timeline", config, {})


# --- Bluesky Jetstream --------------------------------------------------------------------------


def test_jetstream_frames_keep_new_posts_only_and_the_last_cursor():
    frames = fixture_text("jetstream_frames.jsonl").splitlines()
    candidates, cursor = bluesky.parse_jetstream_frames(frames)
    assert [c.text[:20] for c in candidates] == ["Encore une lampe Aur", "Just got the Oslo so"]
    first = candidates[0]
    assert first.external_id == "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b"
    assert first.url == "https://bsky.app/profile/did:plc:eygmaihciaxprqvxpfvl6flk/post/3l3qo2vuowo2b"
    assert first.language == "fr" and first.published_at == datetime(
        2024, 9, 9, 19, 46, 2, 102000, tzinfo=UTC
    )
    assert cursor == 1725911162332000


@pytest.mark.parametrize(
    "frame",
    ["not json", json.dumps({"kind": "commit"}), json.dumps({"time_us": 1, "kind": "commit", "commit": 3})],
)
def test_malformed_jetstream_frames_are_refused(frame):
    with pytest.raises(SearchMalformed):
        bluesky.parse_jetstream_frames([frame])


def test_jetstream_over_a_real_websocket_resumes_from_its_cursor(allow_loopback):
    from websockets.sync.server import serve

    frames = fixture_text("jetstream_frames.jsonl").splitlines()
    paths = []

    def handler(connection):
        paths.append(connection.request.path)
        for frame in frames:
            connection.send(frame)
        connection.recv()  # until the client closes

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        config = validate_config(
            "bluesky_jetstream",
            {"endpoint": f"ws://127.0.0.1:{port}/subscribe", "max_events": 6, "max_seconds": 5},
        )
        fetched = bluesky.search_jetstream(config, {"time_us": 1725911162000000})
        server.shutdown()
    assert len(fetched.candidates) == 2
    assert fetched.cursor == {"time_us": 1725911162332000}
    assert "wantedCollections=app.bsky.feed.post" in paths[0] and "cursor=1725911162000000" in paths[0]


def test_jetstream_unreachable_is_a_source_error(allow_loopback):
    config = validate_config(
        "bluesky_jetstream", {"endpoint": "ws://127.0.0.1:9/subscribe", "max_seconds": 2}
    )
    with pytest.raises(SearchError):
        bluesky.search_jetstream(config, {})


# --- Reddit -------------------------------------------------------------------------------------


def test_reddit_search_listing(loopback):
    loopback.route("/r/france/search.json", fixture_text("reddit_search.json"))
    config = validate_config(
        "reddit_search", {"query": "Maison Lumière", "subreddit": "r/france", "base_url": loopback.url}
    )
    fetched = reddit.search(config, {})
    first, second = fetched.candidates
    assert first.external_id == "t3_1cl9x3c"
    assert first.text.startswith("Maison Lumière : livraison en retard\n\nJ'ai reçu ma commande")
    assert first.url == f"{loopback.url}/r/france/comments/1cl9x3c/maison_lumiere_livraison_en_retard/"
    assert first.author == "Pierre_dans_le_Nord" and first.author_reach == 2412345
    assert first.published_at == datetime.fromtimestamp(1714983121, tz=UTC)
    assert second.text == "Finally finished my living room (sofa from Maison Lumière)"
    request = loopback.requests[-1]["path"]
    assert "restrict_sr=on" in request and "sort=new" in request and "q=Maison+Lumi" in request
    # Polled again: what was seen is not returned twice.
    assert reddit.search(config, fetched.cursor).candidates == []


def test_reddit_rate_limit_and_malformed_listing(loopback):
    config = validate_config("reddit_search", {"query": "lumiere", "base_url": loopback.url})
    loopback.route(
        "/search.json",
        {"message": "Too Many Requests", "error": 429},
        status=429,
        headers={"x-ratelimit-reset": "42"},
    )
    with pytest.raises(SearchRateLimited) as limited:
        reddit.search(config, {})
    assert limited.value.retry_after == 42
    loopback.route("/search.json", {"kind": "t3", "data": {}})
    with pytest.raises(SearchMalformed):
        reddit.search(config, {})
    loopback.route("/search.json", "<html>", content_type="text/html")
    with pytest.raises(SearchMalformed):
        reddit.search(config, {})


# --- web pages ----------------------------------------------------------------------------------


def test_web_page_main_text_without_navigation_and_only_when_it_changes(loopback):
    loopback.route("/article", fixture_text("article.html"), content_type="text/html; charset=utf-8")
    config = validate_config("web_page", {"url": f"{loopback.url}/article"})
    fetched = web.search(config, {})
    (page,) = fetched.candidates
    assert "rappel de ses lampes de chevet Aurore" in page.text
    assert "Abonnez-vous" not in page.text and "Mentions légales" not in page.text
    assert page.author == "Julie Bernard"
    assert web.search(config, fetched.cursor).candidates == []


def test_web_page_that_is_not_html(loopback):
    loopback.route("/file", b"\x00\x01", content_type="application/octet-stream")
    with pytest.raises(SearchMalformed):
        web.search({"url": f"{loopback.url}/file"}, {})


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("rss", {"url": "not a url"}, "config.url"),
        ("rss", {}, "config.url"),
        ("mastodon_hashtag", {"instance": "https://piaille.fr", "hashtag": "two words"}, "config.hashtag"),
        ("bluesky_jetstream", {"endpoint": "https://not-a-websocket"}, "config.endpoint"),
        ("bluesky_jetstream", {"max_events": 0}, "config.max_events"),
        ("reddit_search", {"query": ""}, "config.query"),
        ("reddit_search", {"query": "x", "subreddit": "a/b"}, "config.subreddit"),
    ],
)
def test_invalid_configs_name_the_setting(kind, config, field):
    with pytest.raises(ValidationError) as error:
        validate_config(kind, config)
    assert field in error.value.message_dict
