"""The harness itself: a real WordPress answers, takes comments from visitors, and says what it did
with them."""

from __future__ import annotations

import feedparser
import httpx
import pytest
from wordpress_site import WordPressError


def test_a_visitor_comments_and_replies(wordpress):
    post = wordpress.create_post("Le canapé Oslo", "<p>Notre canapé existe en vert sapin.</p>")
    assert post["link"].startswith(wordpress.url) and post["comment_feed"].endswith("/feed/")
    first = wordpress.post_comment(post["id"], "Existe-t-il en 3 places ?", author="Léa Martin")
    reply = wordpress.post_comment(post["id"], "Oui, dès juin.", author="Claire", parent=first.id)
    assert first.status == reply.status == "approved"
    stored = wordpress.comment(reply.id)
    assert stored["comment_parent"] == str(first.id) and stored["comment_author"] == "Claire"
    assert stored["comment_content"] == "Oui, dès juin." and stored["comment_author_IP"] == "127.0.0.1"

    answer = httpx.get(post["comment_feed"], timeout=30)
    assert answer.status_code == 200 and answer.headers["ETag"]
    parsed = feedparser.parse(answer.content)
    assert sorted(e.author for e in parsed.entries) == ["Claire", "Léa Martin"]


def test_moderation_is_the_sites_own(wordpress):
    post = wordpress.create_post("Horaires de Lyon", "<p>Ouvert le dimanche.</p>")
    wordpress.set_option("comment_moderation", 1)
    try:
        held = wordpress.post_comment(post["id"], "Et le lundi ?", author="Marc")
    finally:
        wordpress.set_option("comment_moderation", 0)
    assert held.status == "unapproved" and wordpress.get_option("comment_moderation") == "0"


def test_a_refused_comment_says_why(wordpress):
    post = wordpress.create_post("Soldes", "<p>Dès mercredi.</p>")
    with pytest.raises(WordPressError, match="type your comment"):
        wordpress.post_comment(post["id"], "", author="Marc")


def test_the_akismet_plugin_ships_with_debians_wordpress(wordpress):
    wordpress.activate_plugin("akismet/akismet.php")
    try:
        assert "akismet/akismet.php" in wordpress.get_option("active_plugins")
    finally:
        wordpress.deactivate_plugin("akismet/akismet.php")


def test_the_administrator_reaches_wp_admin(wordpress):
    with httpx.Client(timeout=60) as client:
        wordpress.login(client)
        page = client.get(f"{wordpress.url}/wp-admin/options-general.php")
    assert page.status_code == 200 and 'id="blogname"' in page.text
