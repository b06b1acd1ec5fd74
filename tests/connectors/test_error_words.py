"""Errors reach people with words and a next step in their language: network failures of the
Bluesky and Mastodon connectors name a cause (not an empty SDK message, not urllib3's dump), the
health page explains each failure, alert mails carry absolute links and say what Palabre will and
will not do by itself, and new credentials clear an expired-token status."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from palabre.connectors import alerts, services
from palabre.connectors.base import PermissionMissing, TokenExpired, TransientError
from palabre.connectors.bluesky import BlueskyConnector
from palabre.connectors.mastodon import MastodonConnector
from palabre.connectors.models import ChannelSync
from palabre.connectors.queries import health_of
from palabre.connectors.sync import pull_channel
from palabre.orgs.services import set_channel_credentials

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port(allow_loopback):
    """A loopback address where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_bluesky_network_failure_says_what_happened(org, make_channel, closed_port):
    sky = make_channel(
        org,
        "bluesky",
        handle="maison.example.com",
        credentials={"identifier": "maison.example.com", "app_password": "x", "service": closed_port},
    )
    with pytest.raises(TransientError) as error:
        BlueskyConnector().pull(sky, "")
    text = str(error.value)
    assert text.startswith("Bluesky: ") and not text.rstrip().endswith(":")
    assert "connection to the server failed" in text


def test_a_mastodon_network_failure_names_the_host_not_urllib3(org, make_channel, closed_port):
    toots = make_channel(
        org,
        "mastodon",
        handle="@maison@piaille.fr",
        credentials={"access_token": "t", "api_base_url": closed_port},
    )
    with pytest.raises(TransientError) as error:
        MastodonConnector().pull(toots, "")
    text = str(error.value)
    assert text.startswith("Mastodon 127.0.0.1: ")
    assert "HTTPConnectionPool" not in text and "Max retries" not in text
    assert "connection to the server failed" in text


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


@pytest.mark.parametrize(
    ("error", "english", "french"),
    [
        (
            TransientError("Mastodon piaille.fr: the server did not answer in time"),
            "tries again by itself",
            "réessaie de lui-même",
        ),
        (
            TokenExpired("Mastodon 401: revoked"),
            "Replace them on the channel",
            "Remplacez-les sur la page du canal",
        ),
        (
            PermissionMissing("lacks write:statuses"),
            "lack a permission",
            "Il manque aux identifiants une autorisation",
        ),
    ],
)
def test_the_health_page_explains_each_failure_in_the_persons_language(
    signed_in, counting, forum, error, english, french
):
    counting.script = [error]
    pull_channel(forum.pk, force=True)
    signed_in.post(reverse("language"), {"language": "fr", "next": "/"})
    page = signed_in.get(reverse("connectors:channel", args=[forum.pk])).content.decode()
    assert french in page and str(error) in page
    assert french in signed_in.get(reverse("connectors:health")).content.decode()
    signed_in.post(reverse("language"), {"language": "en", "next": "/"})
    page = signed_in.get(reverse("connectors:channel", args=[forum.pk])).content.decode()
    assert english in page
    assert english in signed_in.get(reverse("connectors:health")).content.decode()
    # Once it works again, the explanation goes.
    counting.script = []
    pull_channel(forum.pk, force=True)
    assert english not in signed_in.get(reverse("connectors:channel", args=[forum.pk])).content.decode()


def _fail(counting, forum, error, times: int, capture):
    for _ in range(times):
        counting.script = [error]
        with capture(execute=True):
            pull_channel(forum.pk, force=True)


def test_failing_alert_has_an_absolute_link_and_says_who_retries(
    counting, forum, owner, org, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("PALABRE_LISTENING_PUBLIC_URL", "https://palabre.maison-dupont.fr/")
    owner.email = "patronne@maison-dupont.fr"
    owner.save()
    org.language = "en"
    org.save()
    _fail(counting, forum, TokenExpired("401 revoked"), 4, django_capture_on_commit_callbacks)
    body = mail.outbox[-1].body
    link = "https://palabre.maison-dupont.fr" + reverse("connectors:channel", args=[forum.pk])
    assert link in body
    assert "will not retry by itself" in body and "retry them by hand" in body
    assert "will be retried" not in body


def test_failing_alert_for_a_network_failure_in_french(
    counting, forum, owner, org, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("PALABRE_LISTENING_PUBLIC_URL", "https://palabre.maison-dupont.fr")
    owner.email = "patronne@maison-dupont.fr"
    owner.save()
    org.language = "fr"
    org.save()
    _fail(
        counting,
        forum,
        TransientError("Bluesky: the server did not answer in time"),
        4,
        django_capture_on_commit_callbacks,
    )
    body = mail.outbox[-1].body
    assert "Palabre les relance de lui-même" in body and "réessaie de lui-même" in body
    assert "https://palabre.maison-dupont.fr/" in body


def test_an_expired_token_alert_does_not_ask_to_reconnect_before_a_past_date(forum, owner, org, counting):
    owner.email = "patronne@maison-dupont.fr"
    owner.save()
    org.language = "en"
    org.save()
    sync = services.sync_for(forum)
    ChannelSync.objects.filter(pk=sync.pk).update(token_expires_at=timezone.now() - timedelta(hours=2))
    assert alerts.check_token_alerts() == 1
    body = mail.outbox[0].body
    assert "expired on" in body and "before then" not in body
    assert "new credentials" in body


def test_new_credentials_clear_an_expired_token_status_at_once(forum, counting, owner_actor):
    counting.script = [TokenExpired("401 invalid token")]
    pull_channel(forum.pk)
    assert health_of(owner_actor, forum).state == "token_expired"
    set_channel_credentials(actor=owner_actor, channel=forum, credentials={"token": "new"})
    assert health_of(owner_actor, forum).state != "token_expired"
    assert forum.pk in services.due_health_ids()  # checked at the next tick


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["lack a permission", "write:statuses", "retry them by hand"]),
        ("fr", ["Il manque aux identifiants une autorisation", "write:statuses", "relancez-les à la main"]),
    ],
)
def test_a_permission_failure_alert_in_each_language(
    counting, forum, owner, org, language, expected, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("PALABRE_LISTENING_PUBLIC_URL", "https://palabre.maison-dupont.fr")
    owner.email = "patronne@maison-dupont.fr"
    owner.save()
    org.language = language
    org.save()
    error = PermissionMissing("Mastodon: the access token lacks the permission(s) write:statuses")
    _fail(counting, forum, error, 4, django_capture_on_commit_callbacks)
    body = mail.outbox[-1].body
    for words in expected:
        assert words in body
    assert "https://palabre.maison-dupont.fr/" in body
