"""Bluesky through the real atproto client, pointed at a loopback server that answers with
payloads shaped as the app.bsky / com.atproto lexicons and Bluesky's API docs show them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import MalformedPayload, RateLimited, TokenExpired
from palabre.connectors.bluesky import BlueskyConnector
from palabre.connectors.models import ActionStatus, ChannelSync, OutboundAction
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
SESSION = "/xrpc/com.atproto.server.createSession"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
CREATE = "/xrpc/com.atproto.repo.createRecord"
RECORDS = "/xrpc/com.atproto.repo.listRecords"
LEA_REPLY = "at://did:plc:lea4mrtn2v6q/app.bsky.feed.post/3ksklea0reply1"
ANSWER = "Bonjour Léa, désolés ! Écrivez-nous votre numéro de commande, un pied neuf part aujourd'hui."


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def sky(org, make_channel, platform_server):
    platform_server.on("POST", SESSION, Answer(body=fixture("create_session.json")))
    return make_channel(
        org,
        "bluesky",
        handle="maisondupont.bsky.social",
        name="Maison Dupont sur Bluesky",
        credentials={
            "identifier": "maisondupont.bsky.social",
            "app_password": "abcd-efgh-ijkl-mnop",
            "service": platform_server.url,
        },
    )


def test_pull_reads_replies_and_mentions_and_keeps_the_session(sky, platform_server):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications.json")))
    result = BlueskyConnector().pull(sky, "")
    login = platform_server.made("POST", SESSION)[0].json()
    assert login["identifier"] == "maisondupont.bsky.social" and login["password"] == "abcd-efgh-ijkl-mnop"
    listed = platform_server.made("GET", NOTIFICATIONS)[0]
    assert listed.headers["Authorization"].startswith("Bearer ")
    assert sorted(listed.query["reasons"]) == ["mention", "quote", "reply"]
    assert result.cursor == "2024-05-06T09:48:11.456Z"
    by_id = {item.external_id: item for item in result.items}
    assert set(by_id) == {LEA_REPLY, "at://did:plc:tom9bqx3c1a/app.bsky.feed.post/3ksktom0mention"}  # no like
    reply = by_id[LEA_REPLY]
    assert reply.kind == "reply"
    assert reply.parent_external_id == "at://did:plc:maisondupont7x2k/app.bsky.feed.post/3kskbrandpost1"
    assert reply.text == "Le canapé Oslo est arrivé avec un pied cassé. Que faire ?"
    assert reply.author.handle == "lea-martin.bsky.social" and reply.author.display_name == "Léa Martin"
    assert reply.url == "https://bsky.app/profile/lea-martin.bsky.social/post/3ksklea0reply1"
    assert reply.created_at == datetime(2024, 5, 6, 9, 48, 10, 123000, tzinfo=UTC)
    assert reply.language == "fr" and reply.raw["cid"].startswith("bafyrei")
    # The next call reuses the saved session: no second login.
    BlueskyConnector().pull(sky, result.cursor)
    assert len(platform_server.made("POST", SESSION)) == 1


def test_the_cursor_stops_at_what_was_seen(sky, platform_server):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications.json")))
    assert pull_channel(sky.pk)["items"] == 2
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications_newer.json")))
    assert pull_channel(sky.pk, force=True)["items"] == 1
    assert ChannelSync.objects.get(channel=sky).cursor == "2024-05-06T10:10:01.000Z"
    assert Item.objects.filter(channel=sky).count() == 3


def test_reply_carries_root_and_parent_references(sky, platform_server, owner_actor):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications.json")))
    pull_channel(sky.pk)
    question = Item.objects.get(channel=sky, external_id=LEA_REPLY)
    platform_server.on("POST", CREATE, Answer(body=fixture("create_record.json")))
    action = services.queue_reply(actor=owner_actor, item=question, text=ANSWER)
    assert services.deliver(action.pk).outcome == "sent"
    body = platform_server.made("POST", CREATE)[0].json()
    assert body["repo"] == "did:plc:maisondupont7x2k" and body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["text"] == ANSWER and record["langs"] == ["fr"]
    assert record["reply"]["parent"] == {
        "$type": "com.atproto.repo.strongRef",
        "uri": LEA_REPLY,
        "cid": "bafyreilea0reply1cidaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    }
    assert record["reply"]["root"]["uri"] == "at://did:plc:maisondupont7x2k/app.bsky.feed.post/3kskbrandpost1"
    action.refresh_from_db()
    assert action.url == "https://bsky.app/profile/maisondupont.bsky.social/post/3ksknewreply01"
    brand = Item.objects.get(
        channel=sky, external_id="at://did:plc:maisondupont7x2k/app.bsky.feed.post/3ksknewreply01"
    )
    assert brand.parent == question
    # Léa thanks the brand: her answer joins the thread under the brand's reply.
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications_newer.json")))
    pull_channel(sky.pk, force=True)
    thanks = Item.objects.get(
        channel=sky, external_id="at://did:plc:lea4mrtn2v6q/app.bsky.feed.post/3ksklea0thanks"
    )
    assert thanks.parent == brand


def test_after_a_crash_the_reply_is_found_not_sent_again(sky, platform_server, owner_actor, ingest):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications.json")))
    pull_channel(sky.pk)
    question = Item.objects.get(channel=sky, external_id=LEA_REPLY)
    action = services.queue_reply(actor=owner_actor, item=question, text=ANSWER)
    # A worker marked it sending, posted it, and died before recording it.
    OutboundAction.objects.filter(pk=action.pk).update(
        status=ActionStatus.SENDING, attempts=1, lease_until=datetime(2024, 1, 1, tzinfo=UTC)
    )
    platform_server.on("GET", RECORDS, Answer(body=records_since(action)))
    assert services.deliver(action.pk).outcome == "sent"
    assert platform_server.made("POST", CREATE) == []
    listed = platform_server.made("GET", RECORDS)[0]
    assert listed.query["repo"] == ["did:plc:maisondupont7x2k"]
    action.refresh_from_db()
    assert action.external_id == "at://did:plc:maisondupont7x2k/app.bsky.feed.post/3ksknewreply01"


def test_the_same_words_said_before_the_action_are_not_taken_for_its_post(
    sky, platform_server, owner_actor, ingest
):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications.json")))
    pull_channel(sky.pk)
    question = Item.objects.get(channel=sky, external_id=LEA_REPLY)
    action = services.queue_reply(actor=owner_actor, item=question, text=ANSWER)
    OutboundAction.objects.filter(pk=action.pk).update(
        status=ActionStatus.SENDING, attempts=1, lease_until=datetime(2024, 1, 1, tzinfo=UTC)
    )
    # The account's records hold this very answer to this very post, written in 2024: a twin
    # said long before this action was queued, not what its interrupted attempt posted.
    platform_server.on("GET", RECORDS, Answer(body=fixture("list_records.json")))
    platform_server.on("POST", CREATE, Answer(body=fixture("create_record.json")))
    assert services.deliver(action.pk).outcome == "retry"
    OutboundAction.objects.filter(pk=action.pk).update(next_attempt_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert services.deliver(action.pk).outcome == "sent"
    assert len(platform_server.made("POST", CREATE)) == 1


def records_since(action) -> dict:
    """The account's records, the newest written just after the action was queued."""
    listed = fixture("list_records.json")
    created = action.created_at.astimezone(UTC) + timedelta(seconds=2)
    listed["records"][0]["value"]["createdAt"] = created.isoformat().replace("+00:00", "Z")
    return listed


def test_after_a_crash_before_posting_it_is_sent(sky, platform_server, owner_actor, ingest):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("list_notifications.json")))
    pull_channel(sky.pk)
    question = Item.objects.get(channel=sky, external_id=LEA_REPLY)
    action = services.queue_reply(actor=owner_actor, item=question, text="Une autre réponse.")
    OutboundAction.objects.filter(pk=action.pk).update(
        status=ActionStatus.SENDING, attempts=1, lease_until=datetime(2024, 1, 1, tzinfo=UTC)
    )
    platform_server.on("GET", RECORDS, Answer(body=fixture("list_records.json")))
    platform_server.on("POST", CREATE, Answer(body=fixture("create_record.json")))
    assert services.deliver(action.pk).outcome == "retry"
    OutboundAction.objects.filter(pk=action.pk).update(next_attempt_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert services.deliver(action.pk).outcome == "sent"
    assert len(platform_server.made("POST", CREATE)) == 1


def test_rate_limited_reads_ratelimit_reset(sky, platform_server):
    reset = int(time.time()) + 600
    platform_server.on(
        "GET",
        NOTIFICATIONS,
        Answer(
            429,
            fixture("error_rate_limit.json"),
            {
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
                "ratelimit-policy": "3000;w=300",
            },
        ),
    )
    with pytest.raises(RateLimited) as error:
        BlueskyConnector().pull(sky, "")
    assert 590 <= error.value.retry_after <= 601
    assert pull_channel(sky.pk)["error"] == "rate_limited"
    sync = ChannelSync.objects.get(channel=sky)
    assert sync.consecutive_failures == 0 and sync.next_poll_at.timestamp() >= reset - 2


def test_expired_token_and_bad_password(sky, platform_server):
    platform_server.on("GET", NOTIFICATIONS, Answer(400, fixture("error_expired_token.json")))
    with pytest.raises(TokenExpired, match="ExpiredToken"):
        BlueskyConnector().pull(sky, "")
    services.save_connector_state(sky, {})
    platform_server.on("POST", SESSION, Answer(401, fixture("error_authentication_required.json")))
    with pytest.raises(TokenExpired, match="Invalid identifier or password"):
        BlueskyConnector().pull(sky, "")
    assert pull_channel(sky.pk)["error"] == "token_expired"


def test_malformed_notifications(sky, platform_server):
    broken = fixture("list_notifications.json")
    del broken["notifications"][0]["author"]
    platform_server.on("GET", NOTIFICATIONS, Answer(body=broken))
    with pytest.raises(MalformedPayload):
        BlueskyConnector().pull(sky, "")
    platform_server.on("GET", NOTIFICATIONS, Answer(body={"nothing": "here"}))
    with pytest.raises(MalformedPayload):
        BlueskyConnector().pull(sky, "")


def test_too_long_reply_fails_without_calling(sky, platform_server, ingest):
    question = ingest(sky, LEA_REPLY, author="lea-martin.bsky.social", raw={"cid": "bafyreix"})
    from palabre.connectors.base import PermanentError

    with pytest.raises(PermanentError, match="300"):
        BlueskyConnector().reply(sky, in_reply_to=question, text="x" * 301, idempotency_key="k")
    assert platform_server.made("POST", CREATE) == []
