"""The feed connector against a real WordPress: comments posted by visitors through
wp-comments-post.php come in threaded, each once, including those posted after a first pull (when
WordPress answers 304 for the post feed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item


@pytest.fixture(autouse=True)
def no_rate_limit(monkeypatch):
    """Pulls of one channel follow each other at once (no local spacing of calls)."""
    monkeypatch.setenv("PALABRE_CONNECTORS_MIN_INTERVAL", "0")
    monkeypatch.setenv("PALABRE_CONNECTORS_PLATFORM_INTERVALS", "")


@pytest.fixture
def conversation(wordpress):
    """Two posts, comments and replies, as visitors write them."""
    sofa = wordpress.create_post(
        "Le canapé Oslo en vert sapin", "<p>Notre canapé le plus vendu existe désormais en vert sapin.</p>"
    )
    table = wordpress.create_post("La table en chêne massif", "<p>Fabriquée à Lyon, en chêne français.</p>")
    lea = wordpress.post_comment(sofa["id"], "Existe-t-il aussi en 3 places ?", author="Léa Martin")
    elodie = wordpress.post_comment(
        sofa["id"], "Oui, et même en 4 places. Réponse d’Élodie.", author="Élodie", parent=lea.id
    )
    marc = wordpress.post_comment(table["id"], "Superbe table, reçue hier. Merci !", author="Marc")
    return {"sofa": sofa, "table": table, "lea": lea.id, "elodie": elodie.id, "marc": marc.id}


def stored(channel, post: dict, comment_id: int) -> Item:
    return Item.objects.get(channel=channel, external_id=f"{post['guid']}#comment-{comment_id}")


@pytest.mark.parametrize("feed", ["/feed/", "/feed/atom/"])
def test_every_comment_comes_in_threaded_and_once(org, make_channel, wordpress_loopback, conversation, feed):
    wordpress, sofa, table = wordpress_loopback, conversation["sofa"], conversation["table"]
    channel = make_channel(org, "rss", handle=wordpress.url + feed)
    assert pull_channel(channel.pk)["outcome"] == "pulled"
    post = Item.objects.get(channel=channel, external_id=sofa["guid"])
    lea = stored(channel, sofa, conversation["lea"])
    elodie = stored(channel, sofa, conversation["elodie"])
    marc = stored(channel, table, conversation["marc"])
    assert lea.parent == post and elodie.parent == lea and elodie.thread_root == post
    assert marc.parent.external_id == table["guid"]
    assert (
        elodie.text == "Oui, et même en 4 places. Réponse d’Élodie."
        and elodie.author.display_name == "Élodie"
    )
    assert lea.text == "Existe-t-il aussi en 3 places ?"
    assert post.text == "Notre canapé le plus vendu existe désormais en vert sapin."
    # WordPress stores comment dates to the second; the feed gives them in UTC.
    assert wordpress.comment(conversation["lea"])["comment_date_gmt"] == lea.created_at.strftime(
        "%Y-%m-%d %H:%M:%S"
    )

    count = Item.objects.filter(channel=channel).count()
    assert pull_channel(channel.pk, force=True)["items"] == 0

    # Later comments: the post feed has not changed (WordPress answers 304), its comment feeds have.
    nadia = wordpress.post_comment(
        sofa["id"], "Et en noir, c’est prévu ?", author="Nadia", parent=conversation["lea"]
    )
    zoe = wordpress.post_comment(table["id"], "Livrez-vous à Genève ?", author="Zoé")
    assert pull_channel(channel.pk, force=True)["items"] == 2
    assert stored(channel, sofa, nadia.id).parent == lea
    assert stored(channel, table, zoe.id).parent == marc.parent
    assert Item.objects.filter(channel=channel).count() == count + 2
    assert pull_channel(channel.pk, force=True)["items"] == 0


def test_the_site_wide_comments_feed(org, make_channel, wordpress_loopback, conversation):
    wordpress, sofa = wordpress_loopback, conversation["sofa"]
    channel = make_channel(org, "rss", handle=wordpress.url + "/comments/feed/")
    pull_channel(channel.pk)
    post = Item.objects.get(channel=channel, external_id=sofa["guid"])
    assert post.kind == "post" and post.text == "Le canapé Oslo en vert sapin" and post.url == sofa["link"]
    lea = stored(channel, sofa, conversation["lea"])
    assert lea.parent == post and stored(channel, sofa, conversation["elodie"]).parent == lea
    assert pull_channel(channel.pk, force=True)["items"] == 0


def test_held_comments_stay_out_until_approved(org, make_channel, wordpress_loopback, conversation, clock):
    wordpress, table = wordpress_loopback, conversation["table"]
    channel = make_channel(org, "rss", handle=wordpress.url + "/feed/")
    pull_channel(channel.pk)
    wordpress.set_option("comment_moderation", 1)
    try:
        held = wordpress.post_comment(table["id"], "Code promo ici : http://promo.example", author="Bob")
    finally:
        wordpress.set_option("comment_moderation", 0)
    assert held.status == "unapproved"
    assert pull_channel(channel.pk, force=True)["items"] == 0
    wordpress.php("wp_set_comment_status($args['id'], 'approve');", {"id": held.id})
    # Approving a comment no older than the newest approved one changes neither Last-Modified nor
    # the ETag: the hourly full read brings it.
    clock.shift(timedelta(minutes=61))
    assert pull_channel(channel.pk, force=True)["items"] == 1
    assert stored(channel, table, held.id).parent.external_id == table["guid"]
