"""RSS/Atom through feedparser, fetched from a real HTTP server on loopback serving fixture feeds
written as WordPress and the Atom RFC publish them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from platform_server import Answer

from palabre.connectors.base import (
    MalformedPayload,
    PermanentError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.models import ChannelSync
from palabre.connectors.rss import FeedConnector
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
RSS = "application/rss+xml; charset=UTF-8"
POST_ID = "/?p=412"


def feed(server, name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("{BASE}", server.url)


@pytest.fixture
def blog(org, make_channel, platform_server):
    platform_server.on(
        "GET",
        "/feed/",
        Answer(body=feed(platform_server, "blog_feed.xml"), content_type=RSS, headers={"ETag": '"v1"'}),
    )
    platform_server.on(
        "GET",
        "/2024/05/canape-oslo/feed/",
        Answer(body=feed(platform_server, "oslo_comments.xml"), content_type=RSS),
    )
    platform_server.on(
        "GET",
        "/2024/04/table-chene/feed/",
        Answer(body=feed(platform_server, "chene_comments.xml"), content_type=RSS),
    )
    return make_channel(org, "rss", handle=f"{platform_server.url}/feed/", name="Le blog")


def test_posts_and_their_comment_feeds(blog, platform_server):
    result = pull_channel(blog.pk)
    assert result["items"] == 4
    post = Item.objects.get(channel=blog, external_id=platform_server.url + POST_ID)
    assert (
        post.kind == "post"
        and post.text
        == "Notre canapé le plus vendu existe désormais en vert sapin.\n\nLivraison offerte jusqu’au 31 mai."
    )
    assert post.url == f"{platform_server.url}/2024/05/canape-oslo/"
    assert post.created_at == datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
    assert post.author.handle == "Claire de Maison Dupont" and post.metrics == {"comments": 2}
    comments = Item.objects.filter(channel=blog, kind="comment").order_by("created_at")
    assert [c.author.display_name for c in comments] == ["Marc", "Léa Martin"]
    assert all(c.parent_id == post.pk for c in comments)
    assert comments[1].text == "Existe-t-il aussi en 3 places\xa0?"


def test_an_unchanged_feed_costs_a_304_and_stores_nothing_again(blog, platform_server):
    pull_channel(blog.pk)
    platform_server.on("GET", "/feed/", Answer(304, b""))
    platform_server.on(
        "GET",
        "/2024/05/canape-oslo/feed/",
        Answer(body=feed(platform_server, "oslo_comments.xml"), content_type=RSS),
    )
    result = pull_channel(blog.pk, force=True)
    assert result == {"channel": blog.pk, "outcome": "pulled", "items": 0, "rejected": 0}
    assert platform_server.made("GET", "/feed/")[-1].headers["If-None-Match"] == '"v1"'
    assert Item.objects.filter(channel=blog).count() == 4


def test_a_new_comment_is_added_to_the_post(blog, platform_server):
    pull_channel(blog.pk)
    grown = feed(platform_server, "oslo_comments.xml").replace(
        "<item>",
        f"""<item>
		<title>Par : Nadia</title>
		<link>{platform_server.url}/2024/05/canape-oslo/#comment-1190</link>
		<dc:creator><![CDATA[Nadia]]></dc:creator>
		<pubDate>Mon, 06 May 2024 10:00:00 +0000</pubDate>
		<guid isPermaLink="false">{platform_server.url}/2024/05/canape-oslo/#comment-1190</guid>
		<description><![CDATA[Quel délai de livraison ?]]></description>
	</item>
	<item>""",
        1,
    )
    platform_server.on("GET", "/2024/05/canape-oslo/feed/", Answer(body=grown, content_type=RSS))
    assert pull_channel(blog.pk, force=True)["items"] == 1
    nadia = Item.objects.get(channel=blog, external_id__endswith="#comment-1190")
    assert nadia.parent.external_id.endswith(POST_ID)


def test_atom(org, make_channel, platform_server):
    platform_server.on(
        "GET",
        "/atom.xml",
        Answer(body=feed(platform_server, "atom_feed.xml"), content_type="application/atom+xml"),
    )
    channel = make_channel(org, "rss", handle=f"{platform_server.url}/atom.xml")
    result = FeedConnector().pull(channel, "")
    [item] = result.items
    assert item.external_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert item.text == "Le magasin de Lyon ouvre ses portes le 15 mai."
    assert item.created_at == datetime(2024, 5, 6, 7, 55, tzinfo=UTC)
    assert item.author.handle == "Maison Dupont" and item.language == "fr"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Answer(429, b"slow down", {"Retry-After": "120"}, "text/plain"), RateLimited),
        (Answer(401, b"", {}, "text/plain"), TokenExpired),
        (Answer(410, b"", {}, "text/plain"), PermanentError),
        (Answer(503, b"", {}, "text/plain"), TransientError),
        (Answer(200, b"<html><body>Not a feed at all</body></html>", {}, "text/html"), MalformedPayload),
        (Answer(200, b"\x00\x01 binary junk", {}, "application/octet-stream"), MalformedPayload),
    ],
)
def test_failures(org, make_channel, platform_server, answer, error):
    platform_server.on("GET", "/broken.xml", answer)
    channel = make_channel(org, "rss", handle=f"{platform_server.url}/broken.xml")
    with pytest.raises(error) as raised:
        FeedConnector().pull(channel, "")
    if error is RateLimited:
        assert raised.value.retry_after == 120
    outcome = pull_channel(channel.pk)
    assert outcome["outcome"] == "failed"
    sync = ChannelSync.objects.get(channel=channel)
    assert sync.last_error_code == error.code and sync.last_error


def test_unreachable_server(org, make_channel, allow_loopback):
    channel = make_channel(org, "rss", handle="http://127.0.0.1:9/feed/")
    with pytest.raises(TransientError):
        FeedConnector().pull(channel, "")
