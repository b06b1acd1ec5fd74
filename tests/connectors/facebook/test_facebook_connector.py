"""Facebook Pages through the Graph API, against a loopback server answering with payloads shaped as
Meta's documentation shows them (fixtures/README.md names each page)."""

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
from palabre.connectors.base import PermanentError, PermissionMissing, RateLimited, TokenExpired
from palabre.connectors.facebook import FacebookConnector, MessagingWindowClosed
from palabre.connectors.meta_graph import GRAPH_VERSION
from palabre.connectors.models import ActionStatus
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = "104857361234567"
POST = f"{PAGE}_812345678901234"
CAMILLE = "812345678901234_1203948576"
JULES = "812345678901234_1203948578"
V = f"/{GRAPH_VERSION}"
NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def page(org, make_channel, platform_server, monkeypatch):
    monkeypatch.setenv("PALABRE_META_GRAPH_URL", platform_server.url)
    return make_channel(
        org,
        "facebook",
        handle="maisondupont",
        name="Maison Dupont sur Facebook",
        credentials={
            "client_id": "138483919580948",
            "client_secret": "app-secret",
            "page_id": PAGE,
            "access_token": "EAABpageTokenMaison",
            "verify_token": "dupont-verify",
        },
    )


def serve_pull(server, *, feed=None):
    server.on("GET", f"{V}/{PAGE}/feed", Answer(body=feed or fixture("feed.json")))
    server.on("GET", f"{V}/{POST}/comments", Answer(body=fixture("comments_page2.json")))
    server.on("GET", f"{V}/{PAGE}/tagged", Answer(body=fixture("tagged.json")))
    server.on("GET", f"{V}/{PAGE}/conversations", Answer(body=fixture("conversations.json")))


def test_pull_reads_comments_visitor_posts_mentions_and_messages_following_the_cursors(page, platform_server):
    serve_pull(platform_server)
    result = FacebookConnector().pull(page, "")
    feed = platform_server.made("GET", f"{V}/{PAGE}/feed")[0]
    assert feed.headers["Authorization"] == "Bearer EAABpageTokenMaison"
    assert "comments.filter(stream).order(reverse_chronological)" in feed.query["fields"][0]
    # The post's comments go on after the expanded page, with its `after` cursor.
    more = platform_server.made("GET", f"{V}/{POST}/comments")[0]
    assert more.query["after"] == [fixture("feed.json")["data"][0]["comments"]["paging"]["cursors"]["after"]]
    assert more.query["filter"] == ["stream"]
    by_id = {item.external_id: item for item in result.items}
    assert "812345678901234_1203948577" not in by_id  # the Page's own reply
    camille = by_id[CAMILLE]
    assert camille.kind == "comment" and camille.parent_external_id == ""
    assert camille.text == "Ma commande n'est toujours pas arrivée ! Numéro 4521."
    assert camille.author.handle == "5512345678901234" and camille.author.display_name == "Camille Roux"
    assert camille.created_at == datetime(2024, 5, 6, 9, 49, 1, tzinfo=UTC)
    assert camille.raw["post_id"] == POST
    assert by_id[JULES].kind == "reply" and by_id[JULES].parent_external_id == CAMILLE
    assert by_id["812345678901234_1203948570"].kind == "comment"  # from the second page
    assert by_id[f"{PAGE}_812399999901234"].kind == "post"  # a visitor's post on the Page
    assert by_id["9912345678901234_445566778899001"].kind == "mention"
    first, last = by_id["m_AbCdEfGh1"], by_id["m_AbCdEfGh3"]
    assert first.kind == last.kind == "direct_message" and "m_AbCdEfGh2" not in by_id
    assert last.parent_external_id == "m_AbCdEfGh1" and last.raw["psid"] == "24680135792468013"
    assert json.loads(result.cursor) == {
        "comments": "2024-05-06T09:52:10+0000",
        "messages": "2024-05-06T09:40:12+0000",
        "tagged": "2024-05-06T09:10:00+0000",
    }
    json.dumps([item.raw for item in result.items])


def test_the_next_pull_stores_only_what_is_newer_and_keeps_the_threads(page, platform_server):
    serve_pull(platform_server)
    assert pull_channel(page.pk)["items"] == 7
    camille = Item.objects.get(channel=page, external_id=CAMILLE)
    assert Item.objects.get(channel=page, external_id=JULES).parent == camille
    assert Item.objects.get(channel=page, external_id="m_AbCdEfGh3").thread_root == Item.objects.get(
        channel=page, external_id="m_AbCdEfGh1"
    )
    feed = fixture("feed.json")
    newer = dict(feed["data"][0]["comments"]["data"][1])
    newer.update(id="812345678901234_1203948599", created_time="2024-05-06T09:58:00+0000", message="Et moi ?")
    feed["data"][0]["comments"] = {"data": [newer, *feed["data"][0]["comments"]["data"]]}
    serve_pull(platform_server, feed=feed)
    assert pull_channel(page.pk, force=True)["items"] == 1
    assert Item.objects.get(channel=page, external_id="812345678901234_1203948599").parent == camille
    assert Item.objects.filter(channel=page).count() == 8


def test_a_reply_goes_under_the_comment_once_even_after_a_timeout(
    page, platform_server, owner_actor, ingest, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    camille = ingest(page, CAMILLE, author="5512345678901234")
    text = "Bonjour Camille, votre colis part demain."
    created = {
        "id": "812345678901234_1203948590",
        "message": text,
        "from": {"name": "Maison Dupont", "id": PAGE},
        "created_time": "2099-01-01T00:00:00+0000",
    }
    # Facebook creates the comment, then answers too late: the retry looks before it sends.
    platform_server.on(
        "POST", f"{V}/{CAMILLE}/comments", Answer(body=fixture("comment_created.json"), delay=0.8)
    )
    platform_server.on("GET", f"{V}/{CAMILLE}/comments", Answer(body={"data": [created], "paging": {}}))
    action = services.queue_reply(actor=owner_actor, item=camille, text=text)
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    posts = platform_server.made("POST", f"{V}/{CAMILLE}/comments")
    assert len(posts) == 1 and posts[0].form() == {"message": [text]}
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT and action.external_id == "812345678901234_1203948590"
    # A reply to a reply goes under the comment it answers (Facebook threads are two levels deep).
    jules = ingest(page, JULES, author="6612345678901234", kind="reply", parent=CAMILLE)
    platform_server.on("POST", f"{V}/{CAMILLE}/comments", Answer(body={"id": "812345678901234_1203948591"}))
    assert (
        FacebookConnector()
        .reply(page, in_reply_to=jules, text="Merci Jules", idempotency_key="k")
        .external_id
    )


def test_hide_unhide_and_delete_a_comment(page, platform_server, ingest):
    camille = ingest(page, CAMILLE, author="5512345678901234")
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(body=fixture("success.json")))
    platform_server.on("DELETE", f"{V}/{CAMILLE}", Answer(body=fixture("success.json")))
    connector = FacebookConnector()
    connector.hide(page, camille)
    connector.unhide(page, camille)
    connector.delete(page, camille)
    assert [r.form() for r in platform_server.made("POST", f"{V}/{CAMILLE}")] == [
        {"is_hidden": ["true"]},
        {"is_hidden": ["false"]},
    ]
    assert len(platform_server.made("DELETE", f"{V}/{CAMILLE}")) == 1


def test_publish_uploads_the_pictures_unpublished_and_attaches_them(page, platform_server):
    from palabre.connectors.base import Media

    platform_server.on("POST", f"{V}/{PAGE}/photos", Answer(body={"id": "811"}), Answer(body={"id": "812"}))
    platform_server.on("POST", f"{V}/{PAGE}/feed", Answer(body=fixture("post_created.json")))
    delivered = FacebookConnector().publish(
        page,
        text="Les soldes commencent demain.",
        media=[Media(b"\x89PNG-1", "image/png", "Un fauteuil vert"), Media(b"\x89PNG-2", "image/png")],
        idempotency_key="k",
    )
    assert delivered.external_id == "104857361234567_812345678909999"
    uploads = platform_server.made("POST", f"{V}/{PAGE}/photos")
    assert len(uploads) == 2 and b"\x89PNG-1" in uploads[0].body and b'name="published"' in uploads[0].body
    form = platform_server.made("POST", f"{V}/{PAGE}/feed")[0].form()
    assert form["message"] == ["Les soldes commencent demain."]
    assert json.loads(form["attached_media[0]"][0]) == {"media_fbid": "811"}
    assert json.loads(form["attached_media[1]"][0]) == {"media_fbid": "812"}


def test_messenger_replies_within_24_hours_and_says_when_the_window_closed(page, platform_server, ingest):
    message = ingest(
        page,
        "m_AbCdEfGh3",
        kind="direct_message",
        author="24680135792468013",
        created_at=datetime(2024, 5, 6, 9, 40, tzinfo=UTC),
        raw={"psid": "24680135792468013", "conversation_id": "t_1"},
    )
    platform_server.on("POST", f"{V}/{PAGE}/messages", Answer(body=fixture("message_sent.json")))
    connector = FacebookConnector()
    with time_machine.travel(NOW, tick=False):
        sent = connector.private_reply(
            page, in_reply_to=message, text="Oui, jusqu'à samedi.", idempotency_key="k"
        )
    assert sent.external_id == "m_AbCdEfGhSent01"
    form = platform_server.made("POST", f"{V}/{PAGE}/messages")[0].form()
    assert json.loads(form["recipient"][0]) == {"id": "24680135792468013"}
    assert form["messaging_type"] == ["RESPONSE"]
    assert json.loads(form["message"][0]) == {"text": "Oui, jusqu'à samedi."}
    with (
        time_machine.travel(NOW + timedelta(days=1), tick=False),
        pytest.raises(MessagingWindowClosed) as closed,
    ):
        connector.reply(page, in_reply_to=message, text="Encore là ?", idempotency_key="k2")
    assert "closed on 2024-05-07 09:40 UTC" in str(closed.value)
    assert len(platform_server.made("POST", f"{V}/{PAGE}/messages")) == 1
    # Meta's own refusal (code 10, subcode 2018278) says the same.
    platform_server.on("POST", f"{V}/{PAGE}/messages", Answer(400, fixture("error_window.json")))
    with time_machine.travel(NOW, tick=False), pytest.raises(MessagingWindowClosed):
        connector.reply(page, in_reply_to=message, text="Encore là ?", idempotency_key="k3")


def test_a_private_reply_to_a_comment_names_the_comment_within_seven_days(page, platform_server, ingest):
    camille = ingest(
        page, CAMILLE, author="5512345678901234", created_at=datetime(2024, 5, 6, 9, 49, tzinfo=UTC)
    )
    platform_server.on("POST", f"{V}/{PAGE}/messages", Answer(body=fixture("message_sent.json")))
    connector = FacebookConnector()
    with time_machine.travel(NOW + timedelta(days=6), tick=False):
        connector.private_reply(
            page, in_reply_to=camille, text="Votre numéro de suivi ?", idempotency_key="k"
        )
    form = platform_server.made("POST", f"{V}/{PAGE}/messages")[0].form()
    assert json.loads(form["recipient"][0]) == {"comment_id": CAMILLE} and "messaging_type" not in form
    with (
        time_machine.travel(NOW + timedelta(days=8), tick=False),
        pytest.raises(MessagingWindowClosed) as closed,
    ):
        connector.private_reply(page, in_reply_to=camille, text="Toujours là ?", idempotency_key="k2")
    assert "until 2024-05-13 09:49 UTC" in str(closed.value)


def test_graph_errors_become_the_framework_s(page, platform_server, ingest):
    camille = ingest(page, CAMILLE, author="5512345678901234")
    connector = FacebookConnector()
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(400, fixture("error_190.json")))
    with pytest.raises(TokenExpired, match="code 190, subcode 463"):
        connector.hide(page, camille)
    platform_server.on(
        "POST",
        f"{V}/{CAMILLE}",
        Answer(
            400,
            fixture("error_80001.json"),
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        PAGE: [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "total_cputime": 45,
                                "total_time": 60,
                                "estimated_time_to_regain_access": 17,
                            }
                        ]
                    }
                )
            },
        ),
    )
    with pytest.raises(RateLimited) as limited:
        connector.hide(page, camille)
    assert limited.value.retry_after == 17 * 60
    platform_server.on(
        "POST",
        f"{V}/{CAMILLE}",
        Answer(
            400,
            fixture("error_4.json"),
            {"X-App-Usage": '{"call_count": 100, "total_time": 30, "total_cputime": 20}'},
        ),
    )
    with pytest.raises(RateLimited) as limited:
        connector.hide(page, camille)
    assert limited.value.retry_after == 3600  # X-App-Usage gives percentages, not a time
    platform_server.on("POST", f"{V}/{CAMILLE}", Answer(403, fixture("error_200.json")))
    with pytest.raises(PermissionMissing, match="pages_manage_engagement"):
        connector.hide(page, camille)


def test_health_names_the_page_and_a_missing_permission_with_its_review_status(page, platform_server):
    platform_server.on("GET", f"{V}/{PAGE}", Answer(body=fixture("page.json")))
    platform_server.on("GET", f"{V}/debug_token", Answer(body=fixture("debug_token.json")))
    platform_server.on(
        "GET", f"{V}/138483919580948/permissions", Answer(body=fixture("app_permissions.json"))
    )
    info = FacebookConnector().health(page)
    assert info.account == "Maison Dupont" and info.permissions_checked == "verified"
    assert info.token_expires_at is None and "pages_messaging" in info.scopes
    assert info.details["app_review"]["pages_messaging"] == "pending"
    debug = platform_server.made("GET", f"{V}/debug_token")[0]
    assert debug.query["input_token"] == ["EAABpageTokenMaison"]
    assert debug.headers["Authorization"] == "Bearer 138483919580948|app-secret"
    token = fixture("debug_token.json")
    token["data"]["scopes"].remove("pages_messaging")
    platform_server.on("GET", f"{V}/debug_token", Answer(body=token))
    with pytest.raises(PermissionMissing) as missing:
        FacebookConnector().health(page)
    assert "pages_messaging (app review: pending)" in str(missing.value)


def test_the_login_trades_for_a_long_lived_token_and_takes_the_page_s(page, platform_server):
    platform_server.on("GET", f"{V}/oauth/access_token", Answer(body=fixture("oauth_exchange.json")))
    platform_server.on("GET", f"{V}/me/accounts", Answer(body=fixture("me_accounts.json")))
    credentials = FacebookConnector().credentials_from_token(page, {"access_token": "EAABshort"}, now=NOW)
    exchange = platform_server.made("GET", f"{V}/oauth/access_token")[0]
    assert exchange.query["grant_type"] == ["fb_exchange_token"]
    assert exchange.query["fb_exchange_token"] == ["EAABshort"] and exchange.query["client_id"] == [
        "138483919580948"
    ]
    assert (
        platform_server.made("GET", f"{V}/me/accounts")[0].headers["Authorization"]
        == "Bearer EAABlongLivedUserToken"
    )
    assert credentials == {
        "page_id": PAGE,
        "access_token": "EAABpageTokenMaison",
        "user_access_token": "EAABlongLivedUserToken",
        "user_token_expires_at": (NOW + timedelta(seconds=5183944)).isoformat(),
    }


def _signed(body: bytes, secret: str = "app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_webhooks_check_the_signature_and_answer_the_subscription_handshake(client, page):
    from palabre.connectors.models import WebhookDelivery

    sync = services.sync_for(page)
    url = reverse("connectors:webhook", args=[sync.public_id])
    answer = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "dupont-verify", "hub.challenge": "1158201444"}
    )
    assert answer.status_code == 200 and answer.content == b"1158201444"
    assert (
        client.get(
            url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
        ).status_code
        == 403
    )
    body = (FIXTURES / "webhook_feed.json").read_bytes()
    refused = client.post(
        url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signed(body, "other")
    )
    assert refused.status_code == 401 and not WebhookDelivery.objects.exists()
    accepted = client.post(url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signed(body))
    assert accepted.status_code == 202


def test_webhook_payloads_become_items(page):
    connector = FacebookConnector()
    feed = connector.parse_webhook(page, (FIXTURES / "webhook_feed.json").read_bytes())
    assert [item.external_id for item in feed] == ["812345678901234_1203948600"]  # not the Page's, not a like
    assert feed[0].kind == "reply" and feed[0].parent_external_id == CAMILLE
    assert feed[0].created_at == datetime(2024, 5, 6, 9, 55, tzinfo=UTC)
    messages = connector.parse_webhook(page, (FIXTURES / "webhook_messaging.json").read_bytes())
    assert messages[0].kind == "direct_message" and messages[0].text == "Merci, je passe samedi !"
    assert messages[0].author.handle == "24680135792468013"
    assert messages[0].created_at == datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def test_ban_author_blocks_the_commenter_or_the_messenger_sender_from_the_page(page, platform_server, ingest):
    camille = ingest(page, CAMILLE, author="5512345678901234")
    message = ingest(
        page, "m_1", kind="direct_message", author="24680135792468013", raw={"psid": "24680135792468013"}
    )
    platform_server.on(
        "POST",
        f"{V}/{PAGE}/blocked",
        Answer(body={"5512345678901234": True}),
        Answer(body={"24680135792468013": True}),
        Answer(body={"24680135792468013": False}),
    )
    connector = FacebookConnector()
    connector.ban_author(page, camille)
    connector.ban_author(page, message)
    sent = [r.form() for r in platform_server.made("POST", f"{V}/{PAGE}/blocked")]
    assert sent == [{"asid": ['["5512345678901234"]']}, {"psid": ['["24680135792468013"]']}]
    with pytest.raises(PermanentError, match="could not block"):
        connector.ban_author(page, message)


def test_a_messenger_reply_that_timed_out_is_found_in_the_conversation_and_not_sent_twice(
    page, platform_server, owner_actor, ingest, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    text = "Oui, la livraison est gratuite jusqu'à samedi."
    with time_machine.travel(NOW, tick=False):
        message = ingest(
            page,
            "m_AbCdEfGh3",
            kind="direct_message",
            author="24680135792468013",
            created_at=NOW - timedelta(minutes=20),
            raw={"psid": "24680135792468013"},
        )
        platform_server.on(
            "POST", f"{V}/{PAGE}/messages", Answer(body=fixture("message_sent.json"), delay=0.8)
        )
        conversation = fixture("conversations.json")
        sent = {
            "id": "m_AbCdEfGhSent01",
            "message": text,
            "created_time": "2024-05-06T10:00:00+0000",
            "from": {"name": "Maison Dupont", "id": PAGE},
        }
        conversation["data"][0]["messages"]["data"].insert(0, sent)
        platform_server.on("GET", f"{V}/{PAGE}/conversations", Answer(body=conversation))
        action = services.queue_reply(actor=owner_actor, item=message, text=text)
        assert services.deliver(action.pk).outcome == "sent"
    assert len(platform_server.made("POST", f"{V}/{PAGE}/messages")) == 1
    lookup = platform_server.made("GET", f"{V}/{PAGE}/conversations")[0]
    assert lookup.query["user_id"] == ["24680135792468013"] and lookup.query["platform"] == ["messenger"]
    action.refresh_from_db()
    assert action.external_id == "m_AbCdEfGhSent01"


def test_a_closed_messaging_window_is_explained_with_the_next_step():
    from django.utils import translation

    from palabre.connectors.explain import explain

    assert MessagingWindowClosed.code == "window_closed"
    with translation.override("en"):
        assert "24 hours after the person's last message" in explain("window_closed")
    with translation.override("fr"):
        assert "Répondez en public" in explain("window_closed")


def test_the_check_still_verifies_the_scopes_when_meta_does_not_tell_the_review_status(page, platform_server):
    platform_server.on("GET", f"{V}/{PAGE}", Answer(body=fixture("page.json")))
    platform_server.on("GET", f"{V}/debug_token", Answer(body=fixture("debug_token.json")))
    platform_server.on(
        "GET",
        f"{V}/138483919580948/permissions",
        Answer(
            400,
            {"error": {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100}},
        ),
    )
    info = FacebookConnector().health(page)
    assert info.permissions_checked == "verified" and info.details["app_review"] == {}
