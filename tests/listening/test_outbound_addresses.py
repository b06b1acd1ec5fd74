"""Listening sources and alert webhooks never reach the install's own network (SSRF): refused when
typed, and again when fetched, redirects included; nothing fetched from inside becomes a mention."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from palabre.connectors import bluesky, web
from palabre.connectors.search import SearchError
from palabre.listening.models import ListeningSource, Mention
from palabre.listening.services import add_subscription, create_source, poll_source
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token

ALLOWED = "PALABRE_OUTBOUND_ALLOWED_HOSTS"
PAGE = "<html><head><title>Admin</title></head><body><article><p>{}</p></article></body></html>"


@pytest.fixture(autouse=True)
def nothing_allowed(monkeypatch):
    monkeypatch.delenv(ALLOWED, raising=False)


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("web_page", {"url": "http://127.0.0.1:8000/admin/"}, "config.url"),
        ("web_page", {"url": "http://169.254.169.254/latest/meta-data/"}, "config.url"),
        ("rss", {"url": "http://10.0.0.1/feed.xml"}, "config.url"),
        ("rss", {"url": "http://localhost/feed.xml"}, "config.url"),
        ("rss", {"url": "http://[::ffff:127.0.0.1]/feed.xml"}, "config.url"),
        ("mastodon_hashtag", {"instance": "http://192.168.1.1", "hashtag": "maison"}, "config.instance"),
        ("bluesky_jetstream", {"endpoint": "ws://[::1]:6008/subscribe"}, "config.endpoint"),
        ("reddit_search", {"query": "maison", "base_url": "http://100.64.0.1"}, "config.base_url"),
    ],
)
def test_a_source_pointing_inside_is_refused_when_created(org, kind, config, field):
    with translation.override("en"), pytest.raises(ValidationError) as error:
        create_source(actor=Actor.palabre(org), name="Interne", kind=kind, config=config)
    (message,) = error.value.message_dict[field]
    assert message.startswith("Palabre does not connect to")


def test_the_api_refuses_it_naming_the_field_in_french(org, client):
    _token, plain = create_api_token(
        actor=Actor.palabre(org), name="ops", scopes=[Perm.LISTENING_MANAGE.value]
    )
    response = client.post(
        "/api/listening/sources",
        {"name": "Métadonnées", "kind": "web_page", "config": {"url": "http://169.254.169.254/latest/"}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert 400 <= response.status_code < 500
    body = response.json()
    assert "config.url" in str(body) and "adresse locale de lien" in str(body)


def test_a_page_inside_is_never_fetched_nor_stored_as_a_mention(org, loopback, make_source, monkeypatch):
    loopback.route("/admin", PAGE.format("Mot de passe de la base : hunter2. " * 5), content_type="text/html")
    source = make_source(org, "web_page", {"url": f"{loopback.url}/admin"})  # allowed when entered
    monkeypatch.setenv(ALLOWED, "")
    with translation.override("en"):
        outcome = poll_source(source, force=True)
    source.refresh_from_db()
    assert "loopback" in source.last_error, outcome
    assert loopback.requests == [] and not Mention.objects.exists()


def test_a_redirect_inside_is_refused(loopback, monkeypatch):
    port = loopback.server.server_address[1]
    loopback.route("/news", "", status=302, headers={"Location": f"http://127.0.0.1:{port}/admin"})
    loopback.route("/admin", PAGE.format("secret"), content_type="text/html")
    loopback.route("/meta", "", status=301, headers={"Location": "http://169.254.169.254/latest/"})
    monkeypatch.setenv(ALLOWED, "localhost")  # the first hop only
    for path in ("/news", "/meta"):
        with translation.override("en"), pytest.raises(SearchError, match="Palabre does not connect"):
            web.search({"url": f"http://localhost:{port}{path}"}, {})
    assert [r["path"] for r in loopback.requests] == ["/news", "/meta"]


def test_a_webhook_inside_is_refused_when_added(org):
    for target in ("http://127.0.0.1:9200/_bulk", "http://169.254.169.254/hook", "https://10.0.0.1/hook"):
        with pytest.raises(ValidationError) as error:
            add_subscription(actor=Actor.palabre(org), kind="webhook", target=target)
        assert "target" in error.value.message_dict


def test_the_sources_page_shows_the_refusal_next_to_the_address_and_keeps_it(org, owner, client):
    client.force_login(owner)
    url = "http://169.254.169.254/latest/meta-data/"
    response = client.post(
        reverse("listening:sources"),
        {"name": "Métadonnées", "kind": "web_page", "interval_minutes": 30, "url": url},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    content = response.content.decode()
    assert response.status_code == 400 and f'value="{url}"' in content
    field = content[content.index('name="url"') - 2000 :]
    assert "Palabre ne se connecte pas à 169.254.169.254" in field and "adresse locale de lien" in field
    assert not ListeningSource.objects.exists()


def test_a_jetstream_inside_is_never_connected_to():
    with translation.override("en"), pytest.raises(SearchError, match="loopback address"):
        bluesky.search_jetstream({"endpoint": "ws://localhost:9/subscribe", "max_seconds": 1}, {})
