"""X through its documented API v2 over Palabre's HTTP client, against a loopback server answering
with payloads shaped as X's API reference shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import Media, PermanentError, PermissionMissing, RateLimited, TokenExpired
from palabre.connectors.models import ChannelSync
from palabre.connectors.sync import pull_channel
from palabre.connectors.x import SCOPES, XConnector
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
ME = "1111111111"
MENTIONS = f"/2/users/{ME}/mentions"
DMS = "/2/dm_events"
TWEETS = "/2/tweets"
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def x_channel(org, make_channel, server, *, tier="basic", handle="@maisondupont", **extra):
    channel = make_channel(
        org,
        "x",
        handle=handle,
        name="Maison Dupont sur X",
        credentials={
            "tier": tier,
            "client_id": "Y2xpZW50LWlk",
            "client_secret": "x-client-secret",
            "access_token": "x-secret-token",
            "refresh_token": "x-refresh",
            "scope": " ".join(SCOPES),
            "user_id": ME,
            **extra,
        },
    )
    channel.options = {**channel.options, "api_base_url": server.url}
    channel.save(update_fields=["options"])
    return channel


@pytest.fixture
def brand(org, make_channel, platform_server):
    return x_channel(org, make_channel, platform_server)


def test_the_oauth_spec_is_x_with_pkce_and_the_scopes():
    spec = XConnector.oauth
    assert spec.authorize_url == "https://x.com/i/oauth2/authorize"
    assert spec.token_url == "https://api.x.com/2/oauth2/token"
    assert spec.pkce is True and spec.token_auth == "client_secret_basic"
    assert set(spec.scopes) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "dm.read",
        "dm.write",
        "tweet.moderate.write",
        "media.write",
    }


def test_first_pull_pages_mentions_and_reads_direct_messages(brand, platform_server):
    platform_server.on(
        "GET",
        MENTIONS,
        Answer(body=fixture("mentions_page1.json")),
        Answer(body=fixture("mentions_page2.json")),
    )
    platform_server.on("GET", DMS, Answer(body=fixture("dm_events.json")))
    result = XConnector().pull(brand, "")
    first, second = platform_server.made("GET", MENTIONS)
    assert first.headers["Authorization"] == "Bearer x-secret-token"
    assert first.query["expansions"] == ["author_id,referenced_tweets.id,in_reply_to_user_id"]
    assert "since_id" not in first.query and "pagination_token" not in first.query
    assert second.query["pagination_token"] == ["7140dibdnow9c7btw4b0jn5jj6v1rghrsnfxyjqkmm5fx"]
    assert platform_server.made("GET", DMS)[0].query["event_types"] == ["MessageCreate"]
    by_id = {item.external_id: item for item in result.items}
    assert set(by_id) == {
        "1864938271650001002",
        "1864938271650001001",
        "1864800000000000777",
        "1582838449645117440",  # the brand's own message is left out
    }
    reply = by_id["1864938271650001002"]
    assert reply.kind == "reply" and reply.parent_external_id == "1864900000000000001"
    assert reply.raw["conversation_id"] == "1864900000000000001"
    assert reply.author.handle == "@camille_r" and reply.author.followers == 312
    assert reply.url == "https://x.com/camille_r/status/1864938271650001002"
    assert reply.created_at == datetime(2026, 12, 4, 10, 5, tzinfo=UTC) and reply.language == "fr"
    assert by_id["1864938271650001001"].kind == "mention"
    message = by_id["1582838449645117440"]
    assert message.kind == "direct_message" and message.raw["author_id"] == "2244994945"
    assert json.loads(result.cursor) == {
        "dm_newest": "1582838449645117499",
        "since_id": "1864938271650001002",
    }
    json.dumps([item.raw for item in result.items])


def test_next_pull_goes_from_since_id_and_threads_the_answer(brand, platform_server, owner_actor):
    platform_server.on(
        "GET",
        MENTIONS,
        Answer(body=fixture("mentions_page1.json")),
        Answer(body=fixture("mentions_page2.json")),
    )
    platform_server.on("GET", DMS, Answer(body=fixture("dm_events.json")))
    assert pull_channel(brand.pk)["items"] == 4
    question = Item.objects.get(channel=brand, external_id="1864938271650001002")
    platform_server.on("POST", TWEETS, Answer(201, fixture("tweet_created.json")))
    action = services.queue_reply(
        actor=owner_actor, item=question, text="Bonjour Camille, votre colis part demain."
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert platform_server.made("POST", TWEETS)[0].json() == {
        "text": "Bonjour Camille, votre colis part demain.",
        "reply": {"in_reply_to_tweet_id": "1864938271650001002"},
    }
    platform_server.on("GET", MENTIONS, Answer(body=fixture("mentions_newer.json")))
    assert pull_channel(brand.pk, force=True)["items"] == 1
    assert platform_server.made("GET", MENTIONS)[-1].query["since_id"] == ["1864938271650001002"]
    answer = Item.objects.get(channel=brand, external_id="1865000000000000042")
    assert answer.parent.external_id == "1864938271650009999" and answer.thread_root == question.thread
    assert json.loads(ChannelSync.objects.get(channel=brand).cursor)["since_id"] == "1865000000000000042"


def test_pages_left_unread_are_read_first_next_time(brand, platform_server):
    reset = int(NOW.timestamp()) + 600
    platform_server.on(
        "GET",
        MENTIONS,
        # The rate limit's last call: the pull stops, keeping the next page for later.
        Answer(
            body=fixture("mentions_page1.json"),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
    )
    platform_server.on("GET", DMS, Answer(body={"meta": {"result_count": 0}}))
    cursor = json.loads(XConnector().pull(brand, "").cursor)
    assert cursor["next_token"] == "7140dibdnow9c7btw4b0jn5jj6v1rghrsnfxyjqkmm5fx"
    platform_server.on("GET", MENTIONS, Answer(body=fixture("mentions_page2.json")))
    result = XConnector().pull(brand, json.dumps(cursor))
    assert [item.external_id for item in result.items] == ["1864800000000000777"]
    assert platform_server.made("GET", MENTIONS)[-1].query["pagination_token"] == [cursor["next_token"]]
    assert json.loads(result.cursor) == {"since_id": "1864938271650001002"}


def test_a_reply_that_timed_out_after_it_was_posted_is_found_not_posted_twice(
    brand, platform_server, owner_actor, ingest, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    question = ingest(brand, "1864938271650001002", author="@camille_r")
    platform_server.on("POST", TWEETS, Answer(201, fixture("tweet_created.json"), delay=0.8))
    platform_server.on("GET", f"/2/users/{ME}/tweets", Answer(body=fixture("user_tweets.json")))
    action = services.queue_reply(
        actor=owner_actor, item=question, text="Bonjour Camille, votre colis part demain."
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(platform_server.made("POST", TWEETS)) == 1
    assert platform_server.made("GET", f"/2/users/{ME}/tweets")[0].query["start_time"] == [
        "2026-12-05T09:55:00Z"
    ]
    action.refresh_from_db()
    assert action.external_id == "1864938271650009999"


def test_private_reply_answers_a_direct_message(brand, platform_server, ingest):
    platform_server.on("GET", MENTIONS, Answer(body=fixture("mentions_empty.json")))
    platform_server.on("GET", DMS, Answer(body=fixture("dm_events.json")))
    message = XConnector().pull(brand, "").items[0]
    path = "/2/dm_conversations/with/2244994945/messages"
    platform_server.on("POST", path, Answer(201, fixture("dm_created.json")))
    from palabre.conversations.services import ingest_item

    stored, _ = ingest_item(channel=brand, incoming=message)
    delivered = XConnector().reply(brand, in_reply_to=stored, text="Bien reçu, merci.", idempotency_key="k")
    assert platform_server.made("POST", path)[0].json() == {"text": "Bien reçu, merci."}
    assert delivered.external_id == "1582838449645117555"


def test_hide_unhide_and_delete(brand, platform_server, ingest, owner_actor):
    reply = ingest(brand, "1864938271650001002", author="@camille_r")
    hidden = f"/2/tweets/{reply.external_id}/hidden"
    platform_server.on(
        "PUT", hidden, Answer(body=fixture("hidden.json")), Answer(body={"data": {"hidden": False}})
    )
    action = services.queue_hide(actor=owner_actor, item=reply)
    assert services.deliver(action.pk).outcome == "sent"
    XConnector().unhide(brand, reply)
    assert [r.json() for r in platform_server.made("PUT", hidden)] == [{"hidden": True}, {"hidden": False}]
    own = ingest(brand, "1864938271650009999", author="@maisondupont")
    platform_server.on("DELETE", f"{TWEETS}/1864938271650009999", Answer(body=fixture("deleted.json")))
    XConnector().delete(brand, own)
    assert len(platform_server.made("DELETE", f"{TWEETS}/1864938271650009999")) == 1


def test_publish_with_a_picture_and_its_description(brand, platform_server):
    platform_server.on("POST", "/2/media/upload", Answer(body=fixture("media_uploaded.json")))
    platform_server.on("POST", "/2/media/metadata", Answer(body=fixture("media_metadata.json")))
    platform_server.on("POST", TWEETS, Answer(201, fixture("tweet_created.json")))
    picture = Media(PNG, "image/png", description="Le fauteuil Lucie en velours vert", filename="lucie.png")
    delivered = XConnector().publish(
        brand, text="Le fauteuil Lucie est arrivé.", media=[picture], idempotency_key="k"
    )
    upload = platform_server.made("POST", "/2/media/upload")[0]
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert PNG in upload.body and b'name="media_category"' in upload.body and b"tweet_image" in upload.body
    assert platform_server.made("POST", "/2/media/metadata")[0].json() == {
        "id": "1880028106020515840",
        "metadata": {"alt_text": {"text": "Le fauteuil Lucie en velours vert"}},
    }
    assert platform_server.made("POST", TWEETS)[0].json() == {
        "text": "Le fauteuil Lucie est arrivé.",
        "media": {"media_ids": ["1880028106020515840"]},
    }
    assert delivered.url == "https://x.com/maisondupont/status/1864938271650009999"
    video = Media(b"\x00\x00\x00\x18ftypmp42", "video/mp4", filename="film.mp4")
    with pytest.raises(PermanentError, match="pictures only, not video/mp4"):
        XConnector().publish(brand, text="Le film", media=[video], idempotency_key="v")
    assert len(platform_server.made("POST", "/2/media/upload")) == 1


def test_rate_limited_until_the_documented_reset(brand, platform_server, owner_actor, ingest):
    reset = int(NOW.timestamp()) + 420
    limited = Answer(
        429,
        fixture("error_429.json"),
        {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    platform_server.on("POST", TWEETS, limited)
    question = ingest(brand, "1864938271650001002", author="@camille_r")
    with pytest.raises(RateLimited) as error:
        XConnector().reply(brand, in_reply_to=question, text="Bonjour", idempotency_key="k")
    assert error.value.retry_after == 420
    action = services.queue_reply(actor=owner_actor, item=question, text="Bonjour")
    step = services.deliver(action.pk)
    assert step.outcome == "retry" and (step.retry_at - NOW).total_seconds() >= 420


def test_expired_token_and_missing_permission(brand, platform_server, ingest):
    platform_server.on("GET", MENTIONS, Answer(401, fixture("error_401.json")))
    with pytest.raises(TokenExpired, match="X 401"):
        XConnector().pull(brand, "")
    assert pull_channel(brand.pk)["error"] == "token_expired"
    reply = ingest(brand, "1864938271650001002", author="@camille_r")
    platform_server.on("PUT", f"/2/tweets/{reply.external_id}/hidden", Answer(403, fixture("error_403.json")))
    with pytest.raises(PermissionMissing, match="X 403"):
        XConnector().hide(brand, reply)
    platform_server.on("GET", MENTIONS, Answer(403, fixture("error_client_not_enrolled.json")))
    with pytest.raises(PermissionMissing, match="client-not-enrolled.*access tier"):
        XConnector().pull(brand, "")


def test_the_free_tier_is_refused_honestly_before_any_call(org, make_channel, platform_server, ingest):
    free = x_channel(org, make_channel, platform_server, tier="free")
    with pytest.raises(PermissionMissing, match="X free access does not allow reading mentions.*Basic"):
        XConnector().pull(free, "")
    reply = ingest(free, "1864938271650001002", author="@camille_r")
    with pytest.raises(PermissionMissing, match="hiding replies"):
        XConnector().hide(free, reply)
    assert platform_server.requests == []
    # Posting is what Free allows.
    platform_server.on("POST", TWEETS, Answer(201, fixture("tweet_created.json")))
    assert (
        XConnector().publish(free, text="Bonjour", idempotency_key="k").external_id == "1864938271650009999"
    )


def test_health_names_the_account_the_tier_and_the_scopes(org, make_channel, platform_server):
    reset = int(NOW.timestamp()) + 900
    platform_server.on(
        "GET",
        "/2/users/me",
        Answer(
            body=fixture("users_me.json"),
            headers={
                "x-rate-limit-limit": "75",
                "x-rate-limit-remaining": "74",
                "x-rate-limit-reset": str(reset),
            },
        ),
    )
    basic = x_channel(org, make_channel, platform_server)
    info = XConnector().health(basic)
    assert info.account == "@maisondupont" and info.permissions_checked == "verified"
    assert info.details["tier"] == "basic" and "mentions" in info.details["allows"]
    assert info.details["rate_limit_remaining"] == 74 and info.details["rate_limit_reset_in"] == 900
    free = x_channel(
        org,
        make_channel,
        platform_server,
        tier="free",
        handle="@maisondupont_fr",
        scope="tweet.read tweet.write users.read media.write",
    )
    info = XConnector().health(free)
    assert info.permissions_checked == "partial" and "Basic" in info.permissions_note
    assert "mentions" in info.details["refuses"]
    narrow = x_channel(
        org, make_channel, platform_server, handle="@dupont_sav", scope="tweet.read users.read"
    )
    with pytest.raises(
        PermissionMissing, match="tweet.write, tweet.moderate.write, dm.read, dm.write, media.write"
    ):
        XConnector().health(narrow)


def test_an_admin_raises_the_tier_in_the_channels_options_without_reconnecting(
    org, make_channel, platform_server, owner_actor, ingest
):
    free = x_channel(org, make_channel, platform_server, tier="free")
    reply = ingest(free, "1864938271650001002", author="@camille_r")
    with pytest.raises(PermissionMissing, match="hiding replies"):
        XConnector().hide(free, reply)
    services.update_channel_options(actor=owner_actor, channel=free, values={"tier": "basic"})
    free.refresh_from_db()
    assert XConnector().tier(free) == "basic"
    assert free.read_credentials()["access_token"]  # the connection is kept
    with pytest.raises(ValidationError) as refused:
        services.update_channel_options(actor=owner_actor, channel=free, values={"tier": "gold"})
    assert list(refused.value.message_dict) == ["options.tier"]
