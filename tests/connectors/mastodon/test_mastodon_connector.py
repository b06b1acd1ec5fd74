"""Mastodon through the real Mastodon.py client, against a loopback server that answers with
payloads shaped as Mastodon's API documentation shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import MalformedPayload, PermissionMissing, RateLimited, TokenExpired
from palabre.connectors.mastodon import MastodonConnector
from palabre.connectors.models import ActionStatus, ChannelSync
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
NOTIFICATIONS = "/api/v1/notifications"
STATUSES = "/api/v1/statuses"
VERIFY = "/api/v1/accounts/verify_credentials"
ACCOUNT_STATUSES = "/api/v1/accounts/14715/statuses"


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def toots(org, make_channel, platform_server):
    return make_channel(
        org,
        "mastodon",
        handle="@maisondupont@mastodon.example",
        name="Maison Dupont sur Mastodon",
        credentials={"access_token": "secret-token", "api_base_url": platform_server.url},
    )


def test_first_pull_reads_mentions_replies_and_direct_messages(toots, platform_server):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("notifications.json")), Answer(body=[]))
    result = MastodonConnector().pull(toots, "")
    request = platform_server.made("GET", NOTIFICATIONS)[0]
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert request.query["types[]"] == ["mention"]
    assert result.cursor == "34975861"
    by_id = {item.external_id: item for item in result.items}
    assert set(by_id) == {"112186126728896492", "112186100000000001", "112186090000000002"}  # no favourite
    reply = by_id["112186126728896492"]
    assert reply.kind == "reply" and reply.parent_external_id == "112186038209478945"
    assert (
        reply.text
        == "@maisondupont Ma commande n'est toujours pas arrivée\xa0!\nNuméro 4521.\nMerci de me répondre."
    )
    assert reply.author.handle == "camille@piaille.fr" and reply.author.followers == 312
    assert reply.author.display_name == "Camille R."
    assert reply.created_at == datetime(2024, 5, 6, 9, 49, 1, 940000, tzinfo=UTC)
    assert reply.url == "https://piaille.fr/@camille/112186126728896492" and reply.language == "fr"
    mention = by_id["112186100000000001"]
    assert mention.kind == "mention" and mention.author.handle == "jules@127.0.0.1"
    assert by_id["112186090000000002"].kind == "direct_message"
    json.dumps(reply.raw)  # storable as JSON


def test_next_pulls_go_forward_from_the_cursor_and_never_duplicate(toots, platform_server):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("notifications.json")))
    assert pull_channel(toots.pk)["items"] == 3
    sync = ChannelSync.objects.get(channel=toots)
    assert sync.cursor == "34975861" and sync.last_success_at is not None
    platform_server.on(
        "GET", NOTIFICATIONS, Answer(body=fixture("notifications_newer.json")), Answer(body=[])
    )
    assert pull_channel(toots.pk, force=True)["items"] == 1
    assert platform_server.requests[-1].query["min_id"] == ["34975861"]
    assert ChannelSync.objects.get(channel=toots).cursor == "34976001"
    # The same page delivered again stores nothing twice.
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("notifications.json")))
    MastodonConnector().pull(toots, "")
    pull_channel(toots.pk, force=True)
    assert Item.objects.filter(channel=toots).count() == 4


def test_reply_goes_out_with_in_reply_to_and_idempotency_key(toots, platform_server, owner_actor):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=fixture("notifications.json")))
    pull_channel(toots.pk)
    question = Item.objects.get(channel=toots, external_id="112186126728896492")
    platform_server.on("POST", STATUSES, Answer(body=fixture("status_created.json")))
    action = services.queue_reply(
        actor=owner_actor, item=question, text="Bonjour Camille, votre colis part demain."
    )
    assert services.deliver(action.pk).outcome == "sent"
    sent = platform_server.made("POST", STATUSES)[0]
    form = sent.form()
    assert form["in_reply_to_id"] == ["112186126728896492"]
    assert form["status"] == ["@camille@piaille.fr Bonjour Camille, votre colis part demain."]
    assert form["visibility"] == ["public"]
    assert sent.headers["Idempotency-Key"] == action.idempotency_key
    action.refresh_from_db()
    assert action.external_id == "112186300000000009"
    assert action.url == "https://mastodon.example/@maisondupont/112186300000000009"
    brand_reply = Item.objects.get(channel=toots, external_id="112186300000000009")
    assert brand_reply.parent == question and brand_reply.author.handle == toots.handle
    # Camille answers the brand's reply: it joins the same thread.
    platform_server.on(
        "GET", NOTIFICATIONS, Answer(body=fixture("notifications_newer.json")), Answer(body=[])
    )
    pull_channel(toots.pk, force=True)
    answer = Item.objects.get(channel=toots, external_id="112186200000000003")
    assert answer.parent == brand_reply and answer.thread_root == question.thread


def test_a_server_error_is_retried_with_the_same_key(toots, platform_server, owner_actor, ingest):
    question = ingest(toots, "112186126728896492", author="camille@piaille.fr")
    platform_server.on(
        "POST",
        STATUSES,
        Answer(503, {"error": "Service Unavailable"}),
        Answer(body=fixture("status_created.json")),
    )
    # The 503 may have come after the status was created: it is looked for first, not found.
    platform_server.on("GET", VERIFY, Answer(body=fixture("verify_credentials.json")))
    platform_server.on("GET", ACCOUNT_STATUSES, Answer(body=[]))
    action = services.queue_reply(actor=owner_actor, item=question, text="Bonjour !")
    assert services.deliver(action.pk).outcome == "retry"
    assert len(platform_server.made("GET", ACCOUNT_STATUSES)) == 1
    action.refresh_from_db()
    services.OutboundAction.objects.filter(pk=action.pk).update(next_attempt_at=action.created_at)
    assert services.deliver(action.pk).outcome == "sent"
    keys = [r.headers["Idempotency-Key"] for r in platform_server.made("POST", STATUSES)]
    assert keys == [action.idempotency_key, action.idempotency_key]


def test_rate_limited_reads_the_reset_header(toots, platform_server, owner_actor, ingest):
    reset = datetime.now(UTC) + timedelta(minutes=5)
    platform_server.on(
        "POST",
        STATUSES,
        Answer(
            429,
            fixture("error_429.json"),
            {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
            },
        ),
    )
    question = ingest(toots, "112186126728896492", author="camille@piaille.fr")
    with pytest.raises(RateLimited) as error:
        MastodonConnector().reply(toots, in_reply_to=question, text="Bonjour", idempotency_key="k")
    assert 280 <= error.value.retry_after <= 301
    action = services.queue_reply(actor=owner_actor, item=question, text="Bonjour")
    step = services.deliver(action.pk)
    assert step.outcome == "retry" and step.retry_at >= reset - timedelta(seconds=2)
    assert ChannelSync.objects.get(channel=toots).next_call_at >= reset - timedelta(seconds=2)
    assert format_datetime(reset)  # the header above is the documented ISO 8601 form


def test_invalid_token_fails_the_action_and_the_pull(toots, platform_server, owner_actor, ingest):
    platform_server.on("GET", NOTIFICATIONS, Answer(401, fixture("error_401.json")))
    platform_server.on("POST", STATUSES, Answer(401, fixture("error_401.json")))
    # Queued while the channel still read as connected.
    question = ingest(toots, "1", author="camille@piaille.fr")
    action = services.queue_reply(actor=owner_actor, item=question, text="Bonjour")
    with pytest.raises(TokenExpired, match="Mastodon 401: the access token is invalid"):
        MastodonConnector().pull(toots, "")
    assert pull_channel(toots.pk)["error"] == "token_expired"
    sync = ChannelSync.objects.get(channel=toots)
    assert sync.consecutive_failures == 1 and "invalid" in sync.last_error
    assert services.deliver(action.pk).outcome == "failed"
    action.refresh_from_db()
    assert action.status == ActionStatus.FAILED and action.last_error_code == "token_expired"
    # Now the channel is known to need new credentials: nothing more is queued on it.
    with pytest.raises(ValidationError) as refused:
        services.queue_reply(actor=owner_actor, item=question, text="Bonjour encore")
    assert list(refused.value.message_dict) == ["channel"]


def test_missing_scope(toots, platform_server, ingest):
    platform_server.on("POST", STATUSES, Answer(403, fixture("error_403.json")))
    question = ingest(toots, "1", author="camille@piaille.fr")
    with pytest.raises(PermissionMissing, match="Mastodon 403"):
        MastodonConnector().reply(toots, in_reply_to=question, text="Bonjour", idempotency_key="k")


@pytest.mark.parametrize(
    "body",
    [
        {"error": "not a list"},
        [{"id": "1", "type": "mention", "created_at": "2024-05-06T09:49:02.064Z", "status": {"id": "9"}}],
    ],
)
def test_malformed_payload(toots, platform_server, body):
    platform_server.on("GET", NOTIFICATIONS, Answer(body=body))
    with pytest.raises(MalformedPayload):
        MastodonConnector().pull(toots, "")
    assert pull_channel(toots.pk)["error"] == "malformed_payload"
    assert ChannelSync.objects.get(channel=toots).cursor == ""  # nothing skipped silently


def test_an_instance_answering_without_end_is_cut_off_at_the_size_limit(toots, platform_server):
    """Mastodon.py reads whole answers itself: the instance an organisation names could fill the
    worker's memory; the guard's session stops at 5 MB and the pull fails as a malformed payload."""
    platform_server.on("GET", NOTIFICATIONS, Answer(body=b"[" + b" " * (6 * 1024 * 1024) + b"]"))
    with pytest.raises(MalformedPayload, match="larger than"):
        MastodonConnector().pull(toots, "")


def test_publish_with_a_picture(toots, platform_server, owner_actor):
    from palabre.connectors.base import Media

    platform_server.on("POST", "/api/v2/media", Answer(body={"id": "22345792", "type": "image"}))
    platform_server.on("POST", STATUSES, Answer(body=fixture("status_created.json")))
    action = services.queue_publication(
        actor=owner_actor,
        channel=toots,
        text="Le canapé Oslo arrive en vert sapin.",
        idempotency_key="post-oslo",
        media=[Media(content=b"\x89PNG fake", mime_type="image/png", description="Le canapé Oslo")],
    )
    step = services.deliver(action.pk)
    action.refresh_from_db()
    assert step.outcome == "sent", (action.last_error, [(r.method, r.path) for r in platform_server.requests])
    form = platform_server.made("POST", STATUSES)[0].form()
    assert form["media_ids[]"] == ["22345792"]
    assert platform_server.made("POST", STATUSES)[0].headers["Idempotency-Key"] == "post-oslo"


def test_health_names_the_account(toots, platform_server):
    platform_server.on(
        "GET", "/api/v1/accounts/verify_credentials", Answer(body=fixture("verify_credentials.json"))
    )
    platform_server.on(
        "GET", "/api/v1/apps/verify_credentials", Answer(body=fixture("app_verify_credentials.json"))
    )
    info = MastodonConnector().health(toots)
    # The account's own domain (from its `url`), not the API's host.
    assert info.account == "@maisondupont@mastodon.example"


def test_health_keeps_the_instance_length_limit_for_replies(toots, platform_server):
    platform_server.on(
        "GET", "/api/v1/accounts/verify_credentials", Answer(body=fixture("verify_credentials.json"))
    )
    platform_server.on(
        "GET", "/api/v1/apps/verify_credentials", Answer(body=fixture("app_verify_credentials.json"))
    )
    platform_server.on(
        # Mastodon.py asks with a trailing slash, which Mastodon accepts.
        "GET",
        "/api/v2/instance/",
        Answer(body={"configuration": {"statuses": {"max_characters": 1000}}}),
    )
    from palabre.connectors.lengths import limit_for

    assert limit_for(toots).max_chars == 500
    services.refresh_health(toots)
    toots.refresh_from_db()
    assert toots.options["max_characters"] == 1000 and limit_for(toots).max_chars == 1000


def test_an_instance_that_does_not_tell_its_limit_keeps_500(toots, platform_server):
    platform_server.on(
        "GET", "/api/v1/accounts/verify_credentials", Answer(body=fixture("verify_credentials.json"))
    )
    platform_server.on(
        "GET", "/api/v1/apps/verify_credentials", Answer(body=fixture("app_verify_credentials.json"))
    )
    info = MastodonConnector().health(toots)
    assert "max_characters" not in info.details
