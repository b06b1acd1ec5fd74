"""Bluesky's Jetstream read for listening (moved from tests/listening/test_sources.py with the
code): new posts only, the cursor resumed, malformed frames refused, over a real websocket."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from platform_server import load_fixture

from palabre.connectors import bluesky
from palabre.connectors.search import SearchError, SearchMalformed

FIXTURES = Path(__file__).parent / "fixtures"


def _frames() -> list[str]:
    return load_fixture(FIXTURES, "jetstream_frames.jsonl").splitlines()


def test_jetstream_frames_keep_new_posts_only_and_the_last_cursor():
    candidates, cursor = bluesky.parse_jetstream_frames(_frames())
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

    frames = _frames()
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
        config = {"endpoint": f"ws://127.0.0.1:{port}/subscribe", "max_events": 6, "max_seconds": 5}
        fetched = bluesky.search_jetstream(config, {"time_us": 1725911162000000})
        server.shutdown()
    assert len(fetched.candidates) == 2
    assert fetched.cursor == {"time_us": 1725911162332000}
    assert "wantedCollections=app.bsky.feed.post" in paths[0] and "cursor=1725911162000000" in paths[0]


def test_jetstream_unreachable_is_a_source_error(allow_loopback):
    with pytest.raises(SearchError):
        bluesky.search_jetstream({"endpoint": "ws://127.0.0.1:9/subscribe", "max_seconds": 2}, {})
