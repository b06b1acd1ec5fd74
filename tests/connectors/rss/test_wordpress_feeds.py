"""WordPress's feeds, as WordPress 6.1 writes them (tests/fixtures/wordpress/), served on loopback
with WordPress's conditional answers: comments arrive threaded, once, on RSS and Atom channels
alike, including the ones added while the post feed answers 304."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from feed_server import FeedServer

from palabre.connectors import feed_threads
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parents[2] / "fixtures" / "wordpress"
RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml; charset=UTF-8"
OSLO = "/2024/05/le-canape-oslo-en-vert-sapin/feed/"
CHENE = "/2024/04/la-table-en-chene-massif/feed/"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def blog(allow_loopback):
    server = FeedServer().start()
    server.publish("/feed/", fixture("posts_rss.xml"), RSS)
    server.publish("/feed/atom/", fixture("posts_atom.xml"), ATOM)
    server.publish(OSLO, fixture("oslo_comments_rss.xml"), RSS)
    server.publish(OSLO + "atom/", fixture("oslo_comments_atom.xml"), ATOM)
    server.publish(CHENE, fixture("chene_comments_rss.xml"), RSS)
    server.publish(CHENE + "atom/", fixture("chene_comments_atom.xml"), ATOM)
    server.publish("/comments/feed/", fixture("site_comments_rss.xml"), RSS)
    server.publish("/comments/feed/atom/", fixture("site_comments_atom.xml"), ATOM)
    yield server
    server.stop()


def comment(channel, number: int) -> Item:
    return Item.objects.get(channel=channel, external_id__endswith=f"/?p=6#comment-{number}")


def tree(channel) -> dict[str, str]:
    """Each item's id (after the site's address) -> its parent's ('' for a thread's root)."""

    def short(item):
        return item.external_id.split(":", 2)[-1].split("/", 1)[-1] if item else ""

    return {short(item): short(item.parent) for item in Item.objects.filter(channel=channel)}


@pytest.mark.parametrize("path", ["/feed/", "/feed/atom/"])
def test_posts_and_comments_threaded(org, make_channel, blog, path):
    channel = make_channel(org, "rss", handle=blog.url + path)
    assert pull_channel(channel.pk)["items"] == 6
    assert tree(channel) == {
        "?p=6": "",
        "?p=4": "",
        "?p=6#comment-2": "?p=6",
        "?p=6#comment-3": "?p=6#comment-2",
        "?p=6#comment-5": "?p=6#comment-3",
        "?p=4#comment-4": "?p=4",
    }
    post = Item.objects.get(channel=channel, external_id=f"{blog.url}/?p=6")
    assert post.kind == "post" and post.author.display_name == "Claire de Maison Dupont"
    assert post.url == f"{blog.url}/2024/05/le-canape-oslo-en-vert-sapin/"
    assert post.created_at == datetime(2024, 5, 6, 8, 0, tzinfo=UTC)  # 10:00 in Paris
    elodie = comment(channel, 3)
    # WordPress's "In reply to Léa Martin." is its own addition, not what Élodie wrote.
    assert elodie.text == "Oui, et même en 4 places. Réponse d’Élodie."
    assert elodie.author.display_name == "Élodie (Maison Dupont)" and elodie.kind == "comment"
    assert elodie.created_at == datetime(2024, 5, 6, 10, 5, tzinfo=UTC)
    assert elodie.url == f"{blog.url}/2024/05/le-canape-oslo-en-vert-sapin/#comment-3"
    on_oslo = Item.objects.filter(channel=channel, kind="comment", external_id__contains="?p=6")
    assert {c.thread_root_id for c in on_oslo} == {post.pk}
    assert comment(channel, 2).text == "Existe-t-il aussi en 3 places ?"


@pytest.mark.parametrize(("path", "comments"), [("/feed/", OSLO), ("/feed/atom/", OSLO + "atom/")])
def test_comments_added_while_the_post_feed_answers_304(org, make_channel, blog, path, comments):
    channel = make_channel(org, "rss", handle=blog.url + path)
    pull_channel(channel.pk)
    assert pull_channel(channel.pk, force=True)["items"] == 0
    blog.publish(
        comments, fixture("oslo_comments_later_" + ("atom" if "atom" in comments else "rss") + ".xml"), RSS
    )

    assert pull_channel(channel.pk, force=True)["items"] == 2
    assert blog.statuses(path) == [200, 304, 304]  # WordPress keeps the post feed's ETag
    assert blog.statuses(comments) == [200, 304, 200]
    marc, zoe = comment(channel, 6), comment(channel, 7)
    assert marc.parent == comment(channel, 2) and marc.text == "Et en noir, c’est prévu ?"
    assert zoe.parent.external_id == f"{blog.url}/?p=6" and zoe.author.display_name == "Zoé"
    assert Item.objects.filter(channel=channel).count() == 8

    assert pull_channel(channel.pk, force=True)["items"] == 0
    assert Item.objects.filter(channel=channel).count() == 8


def test_each_feed_sends_its_own_validators(org, make_channel, blog):
    channel = make_channel(org, "rss", handle=blog.url + "/feed/")
    pull_channel(channel.pk)
    pull_channel(channel.pk, force=True)
    second = {path: headers for path, headers, _status in blog.requests[3:]}
    for path in ("/feed/", OSLO, CHENE):
        assert second[path]["If-None-Match"] == blog.pages[path][2]
        assert second[path]["If-Modified-Since"] == blog.pages[path][3]


@pytest.mark.parametrize("path", ["/comments/feed/", "/comments/feed/atom/"])
def test_the_site_wide_comments_feed_makes_one_thread_per_post(org, make_channel, blog, path):
    channel = make_channel(org, "rss", handle=blog.url + path)
    assert pull_channel(channel.pk)["items"] == 6
    assert tree(channel) == {
        "?p=6": "",
        "?p=4": "",
        "?p=6#comment-2": "?p=6",
        "?p=6#comment-3": "?p=6#comment-2",
        "?p=6#comment-5": "?p=6#comment-3",
        "?p=4#comment-4": "?p=4",
    }
    oslo = Item.objects.get(channel=channel, external_id=f"{blog.url}/?p=6")
    assert oslo.kind == "post" and oslo.text == "Le canapé Oslo en vert sapin"
    assert oslo.url == f"{blog.url}/2024/05/le-canape-oslo-en-vert-sapin/"
    roots = set(Item.objects.filter(channel=channel, kind="comment").values_list("thread_root_id", flat=True))
    assert len(roots) == 2
    assert pull_channel(channel.pk, force=True)["items"] == 0


def test_a_gone_comment_feed_is_no_longer_followed(org, make_channel, blog):
    channel = make_channel(org, "rss", handle=blog.url + "/feed/")
    pull_channel(channel.pk)
    blog.remove(CHENE)  # the post was deleted
    assert pull_channel(channel.pk, force=True)["outcome"] == "pulled"
    pull_channel(channel.pk, force=True)
    assert blog.statuses(CHENE) == [200, 404]
    assert blog.statuses(OSLO) == [200, 304, 304]


def test_a_comment_opening_with_a_link_to_another_is_not_taken_for_a_reply():
    entry = {"thr_in-reply-to": {"ref": "https://blog.example/?p=6"}}
    html = (
        '<p>Comme <a href="https://blog.example/2024/05/oslo/#comment-2">Léa</a>.</p><p>Et en 2 places ?</p>'
    )
    placement = feed_threads.place(entry, "https://blog.example/?p=6#comment-9", html)
    assert placement.parent_id == placement.post_id == "https://blog.example/?p=6"
    assert placement.html == html


def test_a_reply_whose_parent_the_feed_no_longer_lists_hangs_under_the_post(org, make_channel, blog):
    # More comments than the feed lists: Léa's question (comment 2) has dropped out of it.
    feed = fixture("oslo_comments_rss.xml")
    start = feed.index("<item>", feed.index("#comment-3</guid>"))
    blog.publish(OSLO, feed[:start] + feed[feed.index("</item>", start) + len("</item>") :], RSS)
    channel = make_channel(org, "rss", handle=blog.url + "/feed/")
    assert pull_channel(channel.pk)["items"] == 5
    elodie = comment(channel, 3)
    assert elodie.parent.external_id == f"{blog.url}/?p=6"
    assert elodie.raw["in_reply_to"] == f"{blog.url}/?p=6#comment-2"
    assert comment(channel, 5).parent == elodie
