"""A feed changed in the very second it was read keeps no validators: a comment posted later in
that second has the same Last-Modified (and WordPress's ETag, made from it), and a conditional
request would miss it."""

from __future__ import annotations

import time
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path

import pytest
from feed_server import FeedServer

from palabre.connectors.rss import FeedConnector

RSS = "application/rss+xml; charset=UTF-8"


@pytest.fixture
def server(allow_loopback):
    feeds = FeedServer().start()
    yield feeds
    feeds.stop()


def _feed() -> str:
    return (Path(__file__).parents[2] / "fixtures" / "wordpress" / "posts_rss.xml").read_text(
        encoding="utf-8"
    )


def test_validators_of_a_feed_changed_this_second_are_not_kept(org, make_channel, server):
    server.publish("/feed/", _feed(), RSS)
    body, content_type, etag, _modified = server.pages["/feed/"]
    server.pages["/feed/"] = (body, content_type, etag, formatdate(time.time(), usegmt=True))
    channel = make_channel(org, "rss", handle=server.url + "/feed/")
    state: dict = {}
    assert FeedConnector().fetch(channel, server.url + "/feed/", state) is not None
    assert state["etag"] == "" and state["modified"] == ""
    FeedConnector().fetch(channel, server.url + "/feed/", state)
    _path, headers, status = server.requests[-1]
    assert "If-None-Match" not in headers and status == 200


def test_validators_of_an_older_change_are_kept_and_sent(org, make_channel, server):
    server.publish("/feed/", _feed(), RSS)
    channel = make_channel(org, "rss", handle=server.url + "/feed/")
    state: dict = {}
    FeedConnector().fetch(channel, server.url + "/feed/", state)
    assert state["etag"] and state["modified"]
    assert FeedConnector().fetch(channel, server.url + "/feed/", state) is None  # 304
    _path, headers, status = server.requests[-1]
    assert headers["If-None-Match"] == state["etag"] and status == 304


def test_once_an_hour_the_feed_is_read_in_full(org, make_channel, server, clock):
    """WordPress's validators are its newest approved comment's date: a held comment approved after
    newer ones changes neither, so only a read without them finds it."""
    server.publish("/feed/", _feed(), RSS)
    channel = make_channel(org, "rss", handle=server.url + "/feed/")
    state: dict = {}
    FeedConnector().fetch(channel, server.url + "/feed/", state)
    clock.shift(timedelta(minutes=59))
    assert FeedConnector().fetch(channel, server.url + "/feed/", state) is None
    assert server.requests[-1][1]["If-None-Match"] == state["etag"]
    clock.shift(timedelta(minutes=2))
    assert FeedConnector().fetch(channel, server.url + "/feed/", state) is not None
    _path, headers, status = server.requests[-1]
    assert "If-None-Match" not in headers and status == 200
    assert FeedConnector().fetch(channel, server.url + "/feed/", state) is None  # conditional again
