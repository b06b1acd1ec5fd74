"""Instagram professional accounts through the Instagram Graph API (Facebook Login), against a
loopback server answering with payloads shaped as Meta's documentation shows them
(fixtures/README.md names each page)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import Media, PermanentError, PermissionMissing, RateLimited, TokenExpired
from palabre.connectors.instagram import InstagramConnector
from palabre.connectors.meta_graph import GRAPH_VERSION, MessagingWindowClosed
from palabre.connectors.models import ActionStatus
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
IG = "17841405822304914"
PAGE = "104857361234567"
MEDIA = "17895695668004550"
CAMILLE = "17858893269000001"
JULES = "17858893269000002"
V = f"/{GRAPH_VERSION}"
NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def account(org, make_channel, platform_server, monkeypatch):
    monkeypatch.setenv("PALABRE_META_GRAPH_URL", platform_server.url)
    monkeypatch.setattr(InstagramConnector, "container_wait", 0)
    return make_channel(
        org,
        "instagram",
        handle="maisondupont",
        name="Maison Dupont sur Instagram",
        credentials={
            "client_id": "138483919580948",
            "client_secret": "app-secret",
            "ig_user_id": IG,
            "page_id": PAGE,
            "access_token": "EAABpageTokenMaison",
            "verify_token": "dupont-verify",
        },
    )


def serve_pull(server, *, media=None):
    server.on("GET", f"{V}/{IG}/media", Answer(body=media or fixture("media.json")))
    server.on("GET", f"{V}/{MEDIA}/comments", Answer(body=fixture("comments_page2.json")))
    server.on("GET", f"{V}/{IG}/tags", Answer(body=fixture("tags.json")))
    server.on("GET", f"{V}/{PAGE}/conversations", Answer(body={"data": [], "paging": {}}))


def test_pull_reads_comments_replies_and_mentions_following_the_cursors(account, platform_server):
    serve_pull(platform_server)
    result = InstagramConnector().pull(account, "")
    media = platform_server.made("GET", f"{V}/{IG}/media")[0]
    assert media.headers["Authorization"] == "Bearer EAABpageTokenMaison"
    assert "comments.limit(50){" in media.query["fields"][0] and ",replies{" in media.query["fields"][0]
    assert platform_server.made("GET", f"{V}/{MEDIA}/comments")[0].query["after"] == ["QVFIUm1hWkZAnVE5"]
    assert platform_server.made("GET", f"{V}/{PAGE}/conversations")[0].query["platform"] == ["instagram"]
    by_id = {item.external_id: item for item in result.items}
    assert set(by_id) == {CAMILLE, JULES, "17858893269000009", "17912345678901234"}  # not the brand's reply
    camille = by_id[CAMILLE]
    assert camille.kind == "comment" and camille.text == "Il existe en bleu ?"
    assert camille.author.handle == "camille.roux" and camille.raw["media_id"] == MEDIA
    assert camille.created_at == datetime(2024, 5, 6, 9, 49, 1, tzinfo=UTC)
    assert by_id[JULES].kind == "reply" and by_id[JULES].parent_external_id == CAMILLE
    mention = by_id["17912345678901234"]
    assert mention.kind == "mention" and mention.url == "https://www.instagram.com/p/C6pXyZaBcDe/"
    assert json.loads(result.cursor)["comments"] == "2024-05-06T09:51:00+0000"


def test_the_next_pull_stores_only_what_is_newer_in_the_same_thread(account, platform_server):
    serve_pull(platform_server)
    assert pull_channel(account.pk)["items"] == 4
    media = fixture("media.json")
    replies = media["data"][0]["comments"]["data"][0]["replies"]["data"]
    replies.insert(0, {**replies[1], "id": "17858893269000030", "timestamp": "2024-05-06T09:59:00+0000"})
    serve_pull(platform_server, media=media)
    assert pull_channel(account.pk, force=True)["items"] == 1
    # The first page held something new, so the second was read again; it held nothing new: the end.
    assert len(platform_server.made("GET", f"{V}/{MEDIA}/comments")) == 2
    camille = Item.objects.get(channel=account, external_id=CAMILLE)
    assert Item.objects.get(channel=account, external_id="17858893269000030").parent == camille
    assert Item.objects.filter(channel=account).count() == 5


def test_a_reply_goes_under_the_comment_once_even_after_a_timeout(
    account, platform_server, owner_actor, ingest, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    camille = ingest(account, CAMILLE, author="camille.roux")
    jules = ingest(account, JULES, author="jules_martin", kind="reply", parent=CAMILLE)
    text = "@jules_martin oui, en bleu nuit aussi."
    created = {
        "id": "17858893269000010",
        "text": text,
        "timestamp": "2099-01-01T00:00:00+0000",
        "from": {"id": IG, "username": "maisondupont"},
    }
    # A reply to a reply goes under the comment (Instagram threads are one level deep).
    platform_server.on(
        "POST", f"{V}/{CAMILLE}/replies", Answer(body=fixture("reply_created.json"), delay=0.8)
    )
    platform_server.on("GET", f"{V}/{CAMILLE}/replies", Answer(body={"data": [created]}))
    action = services.queue_reply(actor=owner_actor, item=jules, text=text)
    assert services.deliver(action.pk).outcome == "sent"
    posts = platform_server.made("POST", f"{V}/{CAMILLE}/replies")
    assert len(posts) == 1 and posts[0].form() == {"message": [text]}
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT and action.external_id == "17858893269000010"
    assert camille.pk


def test_hide_unhide_and_delete_a_comment(account, platform_server, ingest):
    camille = ingest(account, CAMILLE, author="camille.roux")
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(body={"success": True}))
    platform_server.on("DELETE", f"{V}/{CAMILLE}", Answer(body={"success": True}))
    connector = InstagramConnector()
    connector.hide(account, camille)
    connector.unhide(account, camille)
    connector.delete(account, camille)
    assert [r.form() for r in platform_server.made("POST", f"{V}/{CAMILLE}")] == [
        {"hide": ["true"]},
        {"hide": ["false"]},
    ]
    assert len(platform_server.made("DELETE", f"{V}/{CAMILLE}")) == 1


def test_a_carousel_is_published_through_containers_polled_until_finished(account, platform_server):
    platform_server.on(
        "POST",
        f"{V}/{PAGE}/photos",
        Answer(body={"id": "812345678907777"}),
        Answer(body={"id": "812345678907778"}),
    )
    platform_server.on("GET", f"{V}/812345678907777", Answer(body=fixture("page_photo.json")))
    second = fixture("page_photo.json")
    second["images"][0]["source"] = "https://scontent.xx.fbcdn.net/v/t39.30808-6/lina_bleu_1080.jpg"
    platform_server.on("GET", f"{V}/812345678907778", Answer(body=second))
    platform_server.on(
        "POST",
        f"{V}/{IG}/media",
        Answer(body={"id": "child-1"}),
        Answer(body={"id": "child-2"}),
        Answer(body=fixture("container.json")),
    )
    for child in ("child-1", "child-2"):
        platform_server.on("GET", f"{V}/{child}", Answer(body={"status_code": "FINISHED", "id": child}))
    platform_server.on(
        "GET",
        f"{V}/17889455560051444",
        Answer(body=fixture("container_status_in_progress.json")),
        Answer(body=fixture("container_status_finished.json")),
    )
    platform_server.on("POST", f"{V}/{IG}/media_publish", Answer(body=fixture("published.json")))
    delivered = InstagramConnector().publish(
        account,
        text="Lina, en vert et en bleu.",
        media=[Media(b"\xff\xd8vert", "image/jpeg"), Media(b"\xff\xd8bleu", "image/jpeg")],
        idempotency_key="k",
    )
    assert delivered.external_id == "17920238422030506"
    uploads = platform_server.made("POST", f"{V}/{PAGE}/photos")
    assert b"\xff\xd8vert" in uploads[0].body and b"\xff\xd8bleu" in uploads[1].body
    containers = [r.form() for r in platform_server.made("POST", f"{V}/{IG}/media")]
    assert containers[0] == {
        "image_url": ["https://scontent.xx.fbcdn.net/v/t39.30808-6/lina_1080.jpg"],
        "is_carousel_item": ["true"],
    }
    assert containers[1]["image_url"] == ["https://scontent.xx.fbcdn.net/v/t39.30808-6/lina_bleu_1080.jpg"]
    assert containers[2] == {
        "media_type": ["CAROUSEL"],
        "children": ["child-1,child-2"],
        "caption": ["Lina, en vert et en bleu."],
    }
    assert len(platform_server.made("GET", f"{V}/17889455560051444")) == 2
    assert platform_server.made("POST", f"{V}/{IG}/media_publish")[0].form() == {
        "creation_id": ["17889455560051444"]
    }


def test_a_container_in_error_fails_for_good_and_nothing_is_published(account, platform_server):
    platform_server.on("POST", f"{V}/{PAGE}/photos", Answer(body={"id": "812345678907777"}))
    platform_server.on("GET", f"{V}/812345678907777", Answer(body=fixture("page_photo.json")))
    platform_server.on("POST", f"{V}/{IG}/media", Answer(body=fixture("container.json")))
    platform_server.on("GET", f"{V}/17889455560051444", Answer(body=fixture("container_status_error.json")))
    with pytest.raises(PermanentError, match="ERROR: Error: Media download has failed"):
        InstagramConnector().publish(
            account, text="Lina", media=[Media(b"x", "image/jpeg")], idempotency_key="k"
        )
    assert platform_server.made("POST", f"{V}/{IG}/media_publish") == []
    with pytest.raises(PermanentError, match="at least one picture"):
        InstagramConnector().publish(account, text="Sans image", idempotency_key="k2")


def test_a_private_reply_to_a_comment_within_seven_days(account, platform_server, ingest):
    camille = ingest(
        account, CAMILLE, author="camille.roux", created_at=datetime(2024, 5, 6, 9, 49, tzinfo=UTC)
    )
    platform_server.on(
        "POST",
        f"{V}/{PAGE}/messages",
        Answer(body={"recipient_id": "17841400000000001", "message_id": "aWdfZ"}),
    )
    connector = InstagramConnector()
    with time_machine.travel(NOW, tick=False):
        assert connector.private_reply(
            account, in_reply_to=camille, text="En bleu nuit.", idempotency_key="k"
        )
    form = platform_server.made("POST", f"{V}/{PAGE}/messages")[0].form()
    assert json.loads(form["recipient"][0]) == {"comment_id": CAMILLE}
    with (
        time_machine.travel(NOW + timedelta(days=7), tick=False),
        pytest.raises(MessagingWindowClosed) as closed,
    ):
        connector.private_reply(account, in_reply_to=camille, text="Toujours là ?", idempotency_key="k2")
    assert "until 2024-05-13 09:49 UTC" in str(closed.value)


def test_graph_errors_become_the_framework_s(account, platform_server, ingest):
    camille = ingest(account, CAMILLE, author="camille.roux")
    connector = InstagramConnector()
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(400, fixture("error_190.json")))
    with pytest.raises(TokenExpired):
        connector.hide(account, camille)
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(400, fixture("error_4.json"), {"Retry-After": "120"}))
    with pytest.raises(RateLimited) as limited:
        connector.hide(account, camille)
    assert limited.value.retry_after == 120
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(403, fixture("error_10.json")))
    with pytest.raises(PermissionMissing, match="code 10"):
        connector.hide(account, camille)


def test_health_names_the_account_and_what_the_token_lacks(account, platform_server):
    platform_server.on("GET", f"{V}/{IG}", Answer(body=fixture("user.json")))
    platform_server.on("GET", f"{V}/debug_token", Answer(body=fixture("debug_token.json")))
    platform_server.on(
        "GET", f"{V}/138483919580948/permissions", Answer(body=fixture("app_permissions.json"))
    )
    with pytest.raises(PermissionMissing) as missing:
        InstagramConnector().health(account)
    assert "instagram_manage_messages (app review: not_submitted)" in str(missing.value)
    token = fixture("debug_token.json")
    token["data"]["scopes"].append("instagram_manage_messages")
    platform_server.on("GET", f"{V}/debug_token", Answer(body=token))
    info = InstagramConnector().health(account)
    assert info.account == "@maisondupont" and info.details["followers"] == 12840
    assert info.permissions_checked == "verified"


def test_the_login_takes_the_page_linked_to_the_instagram_account(account, platform_server):
    platform_server.on(
        "GET",
        f"{V}/oauth/access_token",
        Answer(body={"access_token": "EAABlong", "token_type": "bearer", "expires_in": 5183944}),
    )
    platform_server.on("GET", f"{V}/me/accounts", Answer(body=fixture("me_accounts.json")))
    credentials = InstagramConnector().credentials_from_token(account, {"access_token": "EAABshort"}, now=NOW)
    assert credentials["ig_user_id"] == IG and credentials["page_id"] == PAGE
    assert (
        credentials["access_token"] == "EAABpageTokenMaison"
        and credentials["user_access_token"] == "EAABlong"
    )
    # The Page token does not expire with the user token: nothing for the OAuth flow to renew.
    assert "token_expires_at" not in credentials and credentials["user_token_expires_at"]
    assert (
        "instagram_business_account" in platform_server.made("GET", f"{V}/me/accounts")[0].query["fields"][0]
    )


def test_webhooks_check_the_signature_the_handshake_and_become_items(client, account):
    sync = services.sync_for(account)
    url = reverse("connectors:webhook", args=[sync.public_id])
    answer = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "dupont-verify", "hub.challenge": "42"}
    )
    assert answer.status_code == 200 and answer.content == b"42"
    body = (FIXTURES / "webhook_comments.json").read_bytes()
    wrong = "sha256=" + hmac.new(b"other", body, hashlib.sha256).hexdigest()
    assert (
        client.post(url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=wrong).status_code
        == 401
    )
    right = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert (
        client.post(url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=right).status_code
        == 202
    )
    items = InstagramConnector().parse_webhook(account, body)
    assert [item.external_id for item in items] == ["17858893269000020"]  # not the account's own
    assert items[0].kind == "reply" and items[0].parent_external_id == CAMILLE
    assert items[0].created_at == datetime(2024, 5, 6, 9, 55, tzinfo=UTC)
