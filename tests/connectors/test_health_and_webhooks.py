"""Channel health pages, alerts, the periodic tick, and the webhook endpoint (signature checked,
body stored, processing enqueued)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from fake_platform import CountingConnector

from palabre.connectors import alerts, services, tasks
from palabre.connectors.base import PermanentError, TransientError
from palabre.connectors.models import ActionStatus, ChannelSync, WebhookDelivery
from palabre.connectors.sync import pull_channel
from palabre.conversations.models import Item
from palabre.orgs.permissions import Role

pytestmark = pytest.mark.clock

FIXTURES = Path(__file__).parent / "mastodon" / "fixtures"
SECRET = "whsec-maison-dupont"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def _fail_pulls(counting, forum, times: int):
    for _ in range(times):
        counting.script = [TransientError("503 Service Unavailable")]
        pull_channel(forum.pk, force=True)


# --- pages --------------------------------------------------------------------------------------


def test_health_page_shows_failures_and_what_waits(signed_in, counting, forum, forum_item, owner_actor):
    _fail_pulls(counting, forum, 3)
    counting.script = [PermanentError("Topic closed")]
    failed = services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour !")
    services.deliver(failed.pk)
    services.queue_reply(actor=owner_actor, item=forum_item, text="Encore là ?")
    page = signed_in.get(reverse("connectors:health"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Forum" in html and "Topic closed" in html
    assert "Failing (4 times in a row)" in html
    assert "1 failed" in html and "1 queued" in html
    detail = signed_in.get(reverse("connectors:channel", args=[forum.pk])).content.decode()
    assert "Topic closed" in detail and "Bonjour !" in detail
    outbox = signed_in.get(reverse("connectors:outbox"), {"status": "failed"}).content.decode()
    assert "Bonjour !" in outbox and "Encore là ?" not in outbox


def test_health_page_queries_do_not_grow_with_channels(
    signed_in, org, make_channel, counting, django_assert_max_num_queries
):
    for number in range(6):
        make_channel(org, "discourse", handle=f"forum{number}.example")
    with django_assert_max_num_queries(12):
        signed_in.get(reverse("connectors:health"))


def test_retry_from_the_outbox_page(signed_in, counting, forum_item, owner_actor):
    counting.script = [PermanentError("Topic closed")]
    action = services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour !")
    services.deliver(action.pk)
    answer = signed_in.post(
        reverse("connectors:action_retry", args=[action.pk]), {"next": "/connectors/outbox/"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/connectors/outbox/"
    action.refresh_from_db()
    assert action.status == ActionStatus.QUEUED


def test_unsafe_next_is_ignored(signed_in, counting, forum_item, owner_actor):
    action = services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour !")
    answer = signed_in.post(
        reverse("connectors:action_cancel", args=[action.pk]), {"next": "https://evil.example/"}
    )
    assert answer["Location"] == reverse("connectors:outbox")


def test_settings_form_keeps_what_was_typed(signed_in, counting, forum):
    page = signed_in.post(
        reverse("connectors:channel_settings", args=[forum.pk]),
        {"poll_enabled": "on", "poll_interval_seconds": "5"},
    )
    assert page.status_code == 400
    assert 'value="5"' in page.content.decode()
    page = signed_in.post(
        reverse("connectors:channel_settings", args=[forum.pk]), {"poll_interval_seconds": "600"}
    )
    assert page.status_code == 302
    sync = ChannelSync.objects.get(channel=forum)
    assert sync.poll_interval_seconds == 600 and sync.poll_enabled is False


def test_pull_now_and_check(signed_in, counting, forum, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("connectors:channel_pull", args=[forum.pk]))
    assert ("pull", "") in counting.calls
    answer = signed_in.post(reverse("connectors:channel_check", args=[forum.pk]), follow=True)
    assert answer.status_code == 200
    assert ChannelSync.objects.get(channel=forum).health_checked_at is not None


def test_roles_and_other_organisations(
    client, org, make_member, counting, forum, forum_item, owner_actor, make_org, owner_of
):
    action = services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour !")
    analyst = make_member(org, Role.ANALYST).user
    client.force_login(analyst)
    assert client.get(reverse("connectors:health")).status_code == 200
    assert client.post(reverse("connectors:channel_pull", args=[forum.pk])).status_code == 403
    assert client.post(reverse("connectors:action_cancel", args=[action.pk])).status_code == 403
    stranger = owner_of(make_org("Concurrent"))
    client.force_login(stranger)
    assert client.get(reverse("connectors:channel", args=[forum.pk])).status_code == 404
    assert client.post(reverse("connectors:action_retry", args=[action.pk])).status_code == 404
    assert "Forum" not in client.get(reverse("connectors:health")).content.decode()
    assert "Bonjour !" not in client.get(reverse("connectors:outbox")).content.decode()


def test_dashboard_panel_and_nav(signed_in, counting, forum):
    _fail_pulls(counting, forum, 3)
    home = signed_in.get(reverse("home")).content.decode()
    assert reverse("connectors:health") in home
    assert reverse("connectors:channel", args=[forum.pk]) in home


# --- alerts ---------------------------------------------------------------------------------------


def test_failing_channel_alerts_owners_once(
    counting, forum, org, owner, make_member, django_capture_on_commit_callbacks
):
    owner.email = "patronne@maison-dupont.fr"
    owner.save()
    make_member(org, Role.ADMIN, email="admin@maison-dupont.fr")
    make_member(org, Role.COMMUNITY_MANAGER, email="cm@maison-dupont.fr")
    with django_capture_on_commit_callbacks(execute=True):
        _fail_pulls(counting, forum, 2)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        _fail_pulls(counting, forum, 2)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["admin@maison-dupont.fr", "patronne@maison-dupont.fr"]
    assert "Forum" in message.subject and "503 Service Unavailable" in message.body
    # Recovers, then fails again: a new alert.
    counting.script = []
    pull_channel(forum.pk, force=True)
    with django_capture_on_commit_callbacks(execute=True):
        _fail_pulls(counting, forum, 3)
    assert len(mail.outbox) == 2


def test_token_expiry_alert(forum, org, owner, counting):
    owner.email = "patronne@maison-dupont.fr"
    owner.save()
    sync = services.sync_for(forum)
    ChannelSync.objects.filter(pk=sync.pk).update(token_expires_at=timezone.now() + timedelta(days=30))
    assert alerts.check_token_alerts() == 0
    soon = timezone.now() + timedelta(days=3)
    ChannelSync.objects.filter(pk=sync.pk).update(token_expires_at=soon)
    assert alerts.check_token_alerts() == 1
    assert alerts.check_token_alerts() == 0  # once per token
    assert "expire bientôt" in mail.outbox[0].subject  # in the organisation's language
    # A new token (another expiry) gets its own alert when its time comes.
    ChannelSync.objects.filter(pk=sync.pk).update(token_expires_at=soon + timedelta(hours=1))
    assert alerts.check_token_alerts() == 1


# --- the tick ----------------------------------------------------------------------------------


def test_tick_pulls_due_channels_and_delivers_due_actions(counting, forum, forum_item, owner_actor):
    action = services.queue_reply(actor=owner_actor, item=forum_item, text="Bonjour !")
    result = tasks.connectors_tick.call()
    assert result["channels"] >= 1 and result["actions"] == 1
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    assert ("pull", "") in counting.calls
    # Not due again until its interval has passed: a second tick does not pull it.
    pulls = counting.calls.count(("pull", ""))
    tasks.connectors_tick.call()
    assert counting.calls.count(("pull", "")) == pulls
    from palabre.connectors.sync import due_channel_ids

    assert forum.pk not in due_channel_ids()
    assert forum.pk in due_channel_ids(
        now=timezone.now() + timedelta(seconds=CountingConnector.poll_interval + 1)
    )


def test_disabled_polling_is_not_due(counting, forum, owner_actor):
    services.update_sync_settings(actor=owner_actor, channel=forum, poll_enabled=False)
    from palabre.connectors.sync import due_channel_ids

    assert forum.pk not in due_channel_ids()


# --- webhooks -----------------------------------------------------------------------------------


@pytest.fixture
def own_server(org, make_channel):
    """The brand's own Mastodon server, sending its admin webhooks to Palabre."""
    channel = make_channel(
        org,
        "mastodon",
        handle="@maisondupont@social.maison-dupont.fr",
        credentials={
            "access_token": "t",
            "api_base_url": "https://social.maison-dupont.fr",
            "webhook_secret": SECRET,
            "account_id": "14715",
        },
    )
    return channel, services.sync_for(channel)


def _event(status: dict) -> bytes:
    return json.dumps(
        {"event": "status.created", "created_at": "2024-05-06T09:49:02.100Z", "object": status}
    ).encode()


def _signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _status() -> dict:
    notifications = json.loads((FIXTURES / "notifications.json").read_text())
    return notifications[0]["status"]


def test_signed_webhook_is_stored_then_processed(client, own_server, django_capture_on_commit_callbacks):
    channel, sync = own_server
    body = _event(_status())
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("connectors:webhook", args=[sync.public_id]),
            body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE=_signed(body),
        )
    assert answer.status_code == 202
    delivery = WebhookDelivery.objects.get(pk=answer.json()["accepted"])
    assert delivery.processed_at is not None and delivery.items == 1 and delivery.error == ""
    item = Item.objects.get(channel=channel, external_id="112186126728896492")
    assert item.kind == "reply" and item.author.handle == "camille@piaille.fr"


def test_webhook_not_about_the_brand_stores_nothing(client, own_server, django_capture_on_commit_callbacks):
    channel, sync = own_server
    status = _status() | {"mentions": [], "in_reply_to_account_id": "999"}
    body = _event(status)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("connectors:webhook", args=[sync.public_id]),
            body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE=_signed(body),
        )
    assert answer.status_code == 202
    assert not Item.objects.filter(channel=channel).exists()


# A header's bytes reach Django as latin-1 characters: "sha256=é…" is what a client sending
# UTF-8 or latin-1 there gets, and hmac.compare_digest refuses non-ASCII str with a TypeError (500).
@pytest.mark.parametrize(
    "signature", ["", "sha256=" + "0" * 64, "sha1=abc", None, "sha256=\u00e9" + "0" * 63]
)
def test_bad_signature_is_refused_and_nothing_stored(client, own_server, signature):
    channel, sync = own_server
    body = _event(_status())
    headers = (
        {} if signature is None else {"HTTP_X_HUB_SIGNATURE": signature or _signed(body, "another-secret")}
    )
    answer = client.post(
        reverse("connectors:webhook", args=[sync.public_id]), body, content_type="application/json", **headers
    )
    assert answer.status_code == 401
    assert not WebhookDelivery.objects.exists()
    assert ChannelSync.objects.get(pk=sync.pk).last_error_code == "bad_signature"


def test_malformed_payload_is_kept_and_reported(client, own_server, django_capture_on_commit_callbacks):
    channel, sync = own_server
    body = b'{"event": "status.created", "object": {"id": "1"'
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("connectors:webhook", args=[sync.public_id]),
            body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE=_signed(body),
        )
    assert answer.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert bytes(delivery.body) == body and "Not a Mastodon webhook payload" in delivery.error
    assert ChannelSync.objects.get(pk=sync.pk).last_error_code == "malformed_payload"


def test_webhook_http_errors(client, own_server, org, make_channel, monkeypatch):
    channel, sync = own_server
    url = reverse("connectors:webhook", args=[sync.public_id])
    assert client.get(url).status_code == 405
    assert (
        client.post(
            reverse("connectors:webhook", args=["nope"]), b"{}", content_type="application/json"
        ).status_code
        == 404
    )
    feed = make_channel(org, "rss", handle="https://blog.example/feed/")
    feed_url = reverse("connectors:webhook", args=[services.sync_for(feed).public_id])
    assert client.post(feed_url, b"{}", content_type="application/json").status_code == 404
    monkeypatch.setenv("PALABRE_CONNECTORS_WEBHOOK_MAX_BYTES", "100")
    big = _event(_status())
    answer = client.post(url, big, content_type="application/json", HTTP_X_HUB_SIGNATURE=_signed(big))
    assert answer.status_code == 413


def test_webhook_over_real_http(live_server, own_server):
    import httpx

    channel, sync = own_server
    body = _event(_status())
    answer = httpx.post(
        live_server.url + reverse("connectors:webhook", args=[sync.public_id]),
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature": _signed(body)},
    )
    assert answer.status_code == 202
    assert WebhookDelivery.objects.filter(channel=channel).count() == 1


def test_expired_token_until_the_channel_is_reconnected(counting, forum, owner_actor):
    from palabre.connectors.base import TokenExpired
    from palabre.connectors.queries import health_of
    from palabre.orgs.services import set_channel_credentials

    counting.script = [TokenExpired("401 invalid token")]
    pull_channel(forum.pk)
    assert health_of(owner_actor, forum).state == "token_expired"
    services.save_connector_state(forum, {"session": "old"})
    set_channel_credentials(actor=owner_actor, channel=forum, credentials={"token": "new"})
    sync = ChannelSync.objects.get(channel=forum)
    assert sync.state_ciphertext == "" and sync.next_poll_at <= timezone.now()
    assert pull_channel(forum.pk)["outcome"] == "pulled"
    assert health_of(owner_actor, forum).state == "ok"


def test_the_tick_checks_connections_now_and_then(counting, forum):
    from palabre.connectors.services import due_health_ids

    assert forum.pk in due_health_ids()
    tasks.check_channel_health.call(forum.pk)
    assert forum.pk not in due_health_ids()
    assert forum.pk in due_health_ids(now=timezone.now() + timedelta(hours=7))


@pytest.mark.parametrize(
    ("platform", "credentials"),
    [
        (
            "discourse",
            {
                "base_url": "https://forum.example.com",
                "api_key": "k",
                "api_username": "marque",
                "webhook_secret": SECRET,
            },
        ),
        ("facebook", {"client_id": "1", "client_secret": SECRET, "page_id": "2", "access_token": "t"}),
        (
            "instagram",
            {
                "client_id": "1",
                "client_secret": SECRET,
                "ig_user_id": "3",
                "page_id": "2",
                "access_token": "t",
            },
        ),
    ],
)
def test_a_signature_with_other_than_ascii_is_refused_by_every_webhook(
    org, make_channel, platform, credentials
):
    from palabre.connectors.registry import connector_for

    channel = make_channel(org, platform, handle="maison", credentials=credentials)
    sent = "sha256=\u00e9" + "0" * 63
    headers = {"X-Discourse-Event-Signature": sent, "X-Hub-Signature-256": sent}
    assert connector_for(channel).verify_webhook(channel, headers, b"{}") is False
