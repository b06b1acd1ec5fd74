"""Discourse through its documented REST API, against a loopback server that answers with payloads
shaped as docs.discourse.org shows them (fixtures/): latest posts with the `before` cursor, the topic
as the thread, the review queue's flags, a reply sent once, staff moderation, webhooks, errors."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import (
    Capability,
    MalformedPayload,
    PermissionMissing,
    RateLimited,
    TokenExpired,
)
from palabre.connectors.discourse import DiscourseConnector
from palabre.connectors.models import ActionStatus, ChannelSync
from palabre.connectors.registry import connector_class_for
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item
from palabre.orgs.services import Actor, set_channel_credentials

FIXTURES = Path(__file__).parent / "fixtures"
POSTS = "/posts.json"
REVIEW = "/review.json"
EMPTY_QUEUE = {"reviewables": [], "users": [], "meta": {"total_rows_reviewables": 0}}


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def forum(org, make_channel, platform_server):
    return make_channel(
        org,
        "discourse",
        handle="forum.maison-dupont.fr",
        name="Forum Maison Dupont",
        credentials={
            "base_url": platform_server.url,
            "api_key": "d1sc0urse-key",
            "api_username": "maison_dupont",
            "webhook_secret": "hook-secret",
        },
    )


def _settings(channel, **settings):
    """The channel's settings, typed with its credentials as a person would (checked, stored)."""
    credentials = {**channel.read_credentials(), **settings}
    set_channel_credentials(
        actor=Actor.palabre(channel.organisation), channel=channel, credentials=credentials
    )
    channel.refresh_from_db()


def _queue(server, body=None):
    server.on("GET", REVIEW, Answer(body=body if body is not None else EMPTY_QUEUE))


def test_registered_with_honest_capabilities():
    assert connector_class_for("discourse") is DiscourseConnector
    assert Capability.UNHIDE in DiscourseConnector.capabilities
    assert Capability.PUBLISH_MEDIA not in DiscourseConnector.capabilities


def test_first_pull_reads_the_latest_posts_as_topic_threads_and_the_flags(forum, platform_server):
    platform_server.on("GET", POSTS, Answer(body=fixture("latest_posts.json")))
    _queue(platform_server, fixture("review_flagged.json"))
    platform_server.on("GET", "/posts/8850.json", Answer(body=fixture("post_8850.json")))
    # Hugo's answer came without its topic's first post: the topic brings it. Topic 380 is gone.
    platform_server.on("GET", "/t/398.json", Answer(body=fixture("topic_398.json")))
    result = DiscourseConnector().pull(forum, "")
    request = platform_server.made("GET", POSTS)[0]
    assert (
        request.headers["Api-Key"] == "d1sc0urse-key" and request.headers["Api-Username"] == "maison_dupont"
    )
    assert request.query == {}  # one page the first time
    by_id = {item.external_id: item for item in result.items}
    # The "closed the topic" small action is left out; the brand's own post holds the thread.
    assert set(by_id) == {"412/1", "412/2", "412/3", "398/4", "380/2", "398/1"}
    assert by_id["398/1"].text == "Concours photo\n\nEnvoyez vos plus belles photos de salon avant le 31 mai."
    assert by_id["398/1"].author.handle == "lea_m" and by_id["398/1"].kind == "post"
    assert len(platform_server.made("GET", "/t/380.json")) == 1  # asked, not found, left out
    assert platform_server.made("GET", "/t/412.json") == []  # its first post came with the page
    assert by_id["412/2"].author.handle == forum.handle  # the brand's, as a delivered reply is
    first = by_id["412/1"]
    assert first.kind == "post" and first.parent_external_id == ""
    assert first.text.startswith("Livraison du canapé Oslo : toujours rien\n\nJ'ai commandé le canapé Oslo")
    assert first.author.handle == "camille_r" and first.author.display_name == "Camille R."
    assert first.url == f"{platform_server.url}/t/livraison-du-canape-oslo-toujours-rien/412/1"
    answer = by_id["412/3"]
    assert answer.kind == "reply" and answer.parent_external_id == "412/2"
    assert answer.raw["post_id"] == 9021 and answer.metrics["flag_score"] == 3.0
    spam = by_id["380/2"]  # flagged, older than the page: fetched by its id
    assert (
        spam.raw["reviewable_id"] == 311 and spam.raw["hidden"] is True and spam.metrics["flag_score"] == 9.0
    )
    assert by_id["398/4"].kind == "comment" and by_id["398/4"].parent_external_id == "398/1"
    assert json.loads(result.cursor) == {"post": 9021, "review": 312}
    assert platform_server.made("GET", REVIEW)[0].query == {
        "status": ["pending"],
        "type": ["ReviewableFlaggedPost"],
    }
    json.dumps([item.raw for item in result.items])


def test_next_pulls_page_back_with_before_and_never_duplicate(forum, platform_server):
    platform_server.on("GET", POSTS, Answer(body=fixture("latest_posts.json")))
    _queue(platform_server)
    assert pull_channel(forum.pk)["items"] == 4
    assert json.loads(ChannelSync.objects.get(channel=forum).cursor)["post"] == 9021
    platform_server.on(
        "GET",
        POSTS,
        Answer(body=fixture("latest_posts_newer.json")),
        Answer(body=fixture("latest_posts_older.json")),
    )
    assert pull_channel(forum.pk, force=True)["items"] == 3
    pages = platform_server.made("GET", POSTS)
    assert pages[-1].query == {"before": ["9022"]}
    assert json.loads(ChannelSync.objects.get(channel=forum).cursor)["post"] == 9024
    lea = Item.objects.get(channel=forum, external_id="415/1")
    assert lea.kind == "post" and lea.text.startswith("Avis sur le fauteuil Bergen ?")
    # Jules answered the brand's answer to Camille, who thanks the brand's next one: one thread.
    camille = Item.objects.get(channel=forum, external_id="412/1")
    jules = Item.objects.get(channel=forum, external_id="412/3")
    thanks = Item.objects.get(channel=forum, external_id="412/5")
    assert jules.parent.external_id == "412/2" and jules.thread_root == camille
    assert thanks.parent.external_id == "412/4" and thanks.thread_root == camille
    platform_server.on("GET", POSTS, Answer(body=fixture("latest_posts.json")))
    pull_channel(forum.pk, force=True)
    assert Item.objects.filter(channel=forum).count() == 7


def test_a_channel_keeps_to_its_categories(forum, platform_server):
    _settings(forum, categories="9, 12")
    platform_server.on("GET", POSTS, Answer(body=fixture("latest_posts.json")))
    _queue(platform_server)
    result = DiscourseConnector().pull(forum, "")
    assert [item.external_id for item in result.items] == ["398/4"]
    with pytest.raises(ValidationError):
        _settings(forum, publish_category="the sofas")


def test_reply_goes_to_the_topic_and_the_post_it_answers(forum, platform_server, owner_actor, ingest):
    platform_server.on("GET", POSTS, Answer(body=fixture("latest_posts.json")))
    _queue(platform_server)
    pull_channel(forum.pk)
    jules = Item.objects.get(channel=forum, external_id="412/3")
    platform_server.on("POST", POSTS, Answer(body=fixture("post_created.json")))
    action = services.queue_reply(
        actor=owner_actor, item=jules, text="Bonjour Camille, votre canapé part demain."
    )
    assert services.deliver(action.pk).outcome == "sent"
    sent = platform_server.made("POST", POSTS)
    assert len(sent) == 1
    assert sent[0].json() == {
        "raw": "Bonjour Camille, votre canapé part demain.",
        "topic_id": 412,
        "reply_to_post_number": 3,
    }
    action.refresh_from_db()
    assert action.external_id == "412/4"
    assert action.url == f"{platform_server.url}/t/livraison-du-canape-oslo-toujours-rien/412/4"
    brand = Item.objects.get(channel=forum, external_id="412/4")
    assert brand.parent == jules
    # Camille answers the brand's post: it joins the same thread.
    platform_server.on(
        "GET",
        POSTS,
        Answer(body=fixture("latest_posts_newer.json")),
        Answer(body=fixture("latest_posts_older.json")),
    )
    pull_channel(forum.pk, force=True)
    thanks = Item.objects.get(channel=forum, external_id="412/5")
    assert thanks.parent == brand and thanks.thread_root == Item.objects.get(
        channel=forum, external_id="412/1"
    )


def test_a_reply_that_timed_out_after_it_was_posted_is_found_not_posted_twice(
    forum, platform_server, owner_actor, ingest, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    question = ingest(forum, "412/3", author="jules_b")
    posted = {**fixture("post_created.json"), "raw": "Bonjour Jules, nous regardons."}
    posted["created_at"] = timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
    platform_server.on("POST", POSTS, Answer(body=posted, delay=0.8))
    platform_server.on("GET", POSTS, Answer(body={"latest_posts": [posted]}))
    action = services.queue_reply(actor=owner_actor, item=question, text="Bonjour Jules, nous regardons.")
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(platform_server.made("POST", POSTS)) == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT and action.external_id == "412/4"


def test_publish_opens_a_topic_in_the_chosen_category(forum, platform_server, owner_actor):
    _settings(forum, publish_category="9")
    created = {
        **fixture("post_created.json"),
        "topic_id": 420,
        "post_number": 1,
        "topic_slug": "le-canape-oslo",
    }
    platform_server.on("POST", POSTS, Answer(body=created))
    action = services.queue_publication(
        actor=owner_actor,
        channel=forum,
        text="Le canapé Oslo en vert sapin\nIl arrive en boutique le 15 juin.",
        idempotency_key="topic-oslo",
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert platform_server.made("POST", POSTS)[0].json() == {
        "title": "Le canapé Oslo en vert sapin",
        "raw": "Il arrive en boutique le 15 juin.",
        "category": 9,
    }
    action.refresh_from_db()
    assert action.external_id == "420/1"


def test_staff_moderation_hide_unhide_delete_and_silence(forum, platform_server, ingest):
    spam = ingest(forum, "380/2", author="spam_bot_42", raw={"post_id": 8850, "user_id": 120})
    connector = DiscourseConnector()
    platform_server.on("POST", "/post_actions.json", Answer(body=fixture("post_8850.json")))
    platform_server.on("PUT", "/posts/8850/unhide", Answer(body={"success": "OK"}))
    platform_server.on("DELETE", "/posts/8850.json", Answer(body=b"", content_type="text/plain"))
    platform_server.on("PUT", "/admin/users/120/silence.json", Answer(body={"silence": {"silenced": True}}))
    connector.hide(forum, spam)
    assert platform_server.made("POST", "/post_actions.json")[0].json() == {
        "id": 8850,
        "post_action_type_id": 4,
        "flag_topic": False,
        "take_action": True,
    }
    connector.unhide(forum, spam)
    assert len(platform_server.made("PUT", "/posts/8850/unhide")) == 1
    connector.delete(forum, spam)
    assert len(platform_server.made("DELETE", "/posts/8850.json")) == 1
    connector.ban_author(forum, spam)
    silence = platform_server.made("PUT", "/admin/users/120/silence.json")[0].json()
    assert silence["reason"] and silence["silenced_till"] > timezone.now().isoformat()


def test_hide_queued_through_the_outbox(forum, platform_server, owner_actor, ingest):
    spam = ingest(forum, "380/2", author="spam_bot_42", raw={"post_id": 8850, "user_id": 120})
    platform_server.on("POST", "/post_actions.json", Answer(body=fixture("post_8850.json")))
    action = services.queue_hide(actor=owner_actor, item=spam)
    assert services.deliver(action.pk).outcome == "sent"
    assert len(platform_server.made("POST", "/post_actions.json")) == 1


def _sign(body: bytes, secret: str = "hook-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_webhook_signature_accepted_and_refused(forum):
    body = json.dumps(fixture("webhook_post_created.json")).encode()
    connector = DiscourseConnector()
    headers = {"X-Discourse-Event": "post_created", "X-Discourse-Event-Type": "post"}
    assert connector.verify_webhook(forum, {**headers, "X-Discourse-Event-Signature": _sign(body)}, body)
    assert not connector.verify_webhook(
        forum, {**headers, "X-Discourse-Event-Signature": _sign(body, "x")}, body
    )
    assert not connector.verify_webhook(forum, headers, body)
    [item] = connector.parse_webhook(forum, body)
    assert item.external_id == "415/2" and item.parent_external_id == "415/1" and item.kind == "comment"
    assert item.text == "Je l'ai, très confortable mais le tissu bouloche."
    assert connector.parse_webhook(forum, json.dumps({"topic": {"id": 415}}).encode()) == []
    with pytest.raises(MalformedPayload):
        connector.parse_webhook(forum, b"not json")


def test_rate_limited_reads_retry_after_then_wait_seconds(forum, platform_server, ingest):
    question = ingest(forum, "412/3", author="jules_b")
    platform_server.on("POST", POSTS, Answer(429, fixture("error_429.json"), {"Retry-After": "42"}))
    with pytest.raises(RateLimited) as limited:
        DiscourseConnector().reply(forum, in_reply_to=question, text="Bonjour", idempotency_key="k")
    assert limited.value.retry_after == 42
    platform_server.on("GET", POSTS, Answer(429, fixture("error_429.json")))
    with pytest.raises(RateLimited) as limited:
        DiscourseConnector().pull(forum, "")
    assert limited.value.retry_after == 42  # from extras.wait_seconds


def test_invalid_key_is_token_expired_and_a_missing_scope_permission_missing(forum, platform_server, ingest):
    platform_server.on("GET", POSTS, Answer(403, fixture("error_403_invalid_key.json")))
    with pytest.raises(TokenExpired):
        DiscourseConnector().pull(forum, "")
    assert pull_channel(forum.pk)["error"] == "token_expired"
    spam = ingest(forum, "380/2", author="spam_bot_42", raw={"post_id": 8850, "user_id": 120})
    platform_server.on("PUT", "/admin/users/120/silence.json", Answer(403, fixture("error_403.json")))
    with pytest.raises(PermissionMissing, match="403"):
        DiscourseConnector().ban_author(forum, spam)


def test_health_names_the_staff_user_and_refuses_a_plain_member(forum, platform_server):
    platform_server.on("GET", "/session/current.json", Answer(body=fixture("current_user.json")))
    info = DiscourseConnector().health(forum)
    assert info.account == "@maison_dupont@127.0.0.1" and info.permissions_checked == "partial"
    member = fixture("current_user.json")
    member["current_user"].update(moderator=False, admin=False, staff=False)
    platform_server.on("GET", "/session/current.json", Answer(body=member))
    with pytest.raises(PermissionMissing, match="neither a moderator nor an admin"):
        DiscourseConnector().health(forum)


def test_malformed_latest_posts(forum, platform_server):
    platform_server.on("GET", POSTS, Answer(body={"latest_posts": {"not": "a list"}}))
    with pytest.raises(MalformedPayload):
        DiscourseConnector().pull(forum, "")
    assert pull_channel(forum.pk)["error"] == "malformed_payload"


def test_a_publication_that_timed_out_is_found_by_its_first_post(
    forum, platform_server, owner_actor, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    now = timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
    created = {
        **fixture("post_created.json"),
        "topic_id": 420,
        "post_number": 1,
        "reply_to_post_number": None,
        "raw": "Il arrive en boutique le 15 juin.",
        "created_at": now,
    }
    # The same words answered in another topic are not this publication.
    elsewhere = {**created, "topic_id": 412, "post_number": 6}
    platform_server.on("POST", POSTS, Answer(body=created, delay=0.8))
    platform_server.on("GET", POSTS, Answer(body={"latest_posts": [elsewhere, created]}))
    action = services.queue_publication(
        actor=owner_actor,
        channel=forum,
        text="Le canapé Oslo en vert sapin\nIl arrive en boutique le 15 juin.",
        idempotency_key="topic-oslo",
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert len(platform_server.made("POST", POSTS)) == 1
    action.refresh_from_db()
    assert action.external_id == "420/1"
