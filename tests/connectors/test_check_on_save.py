"""Saving credentials tries them at once, on the platform: the API answers the check with the saved
channel (`check=false` skips it), the credentials page and the create-channel page say what was
found in the person's language, and keep what was typed when the connection fails. Against the
loopback Mastodon-shaped server, with payloads as Mastodon (and Doorkeeper) document them."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from django.urls import reverse
from platform_server import Answer, load_fixture

from palabre.connectors.models import ChannelSync
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "mastodon" / "fixtures"
VERIFY = "/api/v1/accounts/verify_credentials"
TOKEN_INFO = "/oauth/token/info"


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def mastodon(platform_server):
    """A Mastodon server whose token may read and write."""
    platform_server.on("GET", VERIFY, Answer(body=fixture("verify_credentials.json")))
    platform_server.on("GET", TOKEN_INFO, Answer(body=fixture("token_info.json")))
    return platform_server


def read_only(server):
    server.on("GET", TOKEN_INFO, Answer(body={**fixture("token_info.json"), "scope": ["read"]}))


@pytest.fixture
def toots(org, make_channel):
    return make_channel(org, "mastodon", handle="@maisondupont@mastodon.example", name="Maison Dupont")


@pytest.fixture
def api(client, owner_actor):
    _token, secret = create_api_token(actor=owner_actor, name="machine", scopes=[p.value for p in Perm])

    def call(method, path, payload, language="en"):
        return getattr(client, method)(
            "/api" + path,
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    return call


def credentials(server, token="secret-token"):
    return {"access_token": token, "api_base_url": server.url}


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_answers_the_check_with_the_saved_channel(api, toots, mastodon):
    response = api("put", f"/channels/{toots.pk}/credentials", {"credentials": credentials(mastodon)})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == toots.pk and body["has_credentials"] is True
    assert body["connection"]["status"] == "connected"
    assert body["connection"]["account"] == "@maisondupont@mastodon.example"
    assert "secret-token" not in response.text
    assert mastodon.made("GET", TOKEN_INFO)


def test_the_api_names_the_missing_permission_in_the_persons_language(api, toots, mastodon):
    read_only(mastodon)
    response = api(
        "put", f"/channels/{toots.pk}/credentials", {"credentials": credentials(mastodon)}, language="fr"
    )
    connection = response.json()["connection"]
    assert response.status_code == 200  # stored: the check reports, it does not refuse
    assert connection["status"] == "failed" and connection["code"] == "permission_missing"
    assert "write:statuses" in connection["detail"]
    assert "autorisation" in connection["message"] and "Create a token" not in connection["message"]


def test_check_false_skips_the_check(api, toots, mastodon):
    response = api(
        "put", f"/channels/{toots.pk}/credentials?check=false", {"credentials": credentials(mastodon)}
    )
    assert response.status_code == 200 and response.json()["connection"] is None
    assert mastodon.requests == []


def test_creating_a_channel_with_credentials_checks_them(api, mastodon):
    response = api(
        "post",
        "/channels",
        {
            "platform": "mastodon",
            "handle": "@maisondupont@mastodon.example",
            "name": "Maison Dupont",
            "credentials": credentials(mastodon),
        },
    )
    assert response.status_code == 201
    assert response.json()["connection"]["status"] == "connected"


@pytest.fixture
def closed_port(allow_loopback):
    """A loopback address where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_a_network_failure_is_said_as_such(api, toots, closed_port):
    response = api(
        "put",
        f"/channels/{toots.pk}/credentials",
        {"credentials": {"access_token": "t", "api_base_url": closed_port}},
    )
    connection = response.json()["connection"]
    assert connection["status"] == "failed" and connection["code"] == "transient"
    assert "connection to the server failed" in connection["detail"]


# --- the credentials page ------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def _language(client, language):
    client.post(reverse("language"), {"language": language, "next": "/"})


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Connection failed"), ("fr", "Échec de la connexion")],
)
def test_the_credentials_page_shows_a_failed_check_and_keeps_what_was_typed(
    signed_in, toots, mastodon, language, words
):
    _language(signed_in, language)
    read_only(mastodon)
    response = signed_in.post(
        reverse("channel_credentials", args=[toots.pk]),
        {"credential_access_token": "secret-token", "credential_api_base_url": mastodon.url},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert words in html and "write:statuses" in html
    assert 'value="secret-token"' in html and f'value="{mastodon.url}"' in html
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]


def test_the_credentials_page_says_connected_on_the_next_page(signed_in, toots, mastodon):
    _language(signed_in, "en")
    response = signed_in.post(
        reverse("channel_credentials", args=[toots.pk]),
        {"credential_access_token": "secret-token", "credential_api_base_url": mastodon.url},
        follow=True,
    )
    html = response.content.decode()
    assert "Connected as @maisondupont@mastodon.example" in html
    assert ChannelSync.objects.get(channel=toots).account == "@maisondupont@mastodon.example"


# --- the create-channel page ---------------------------------------------------------------------


def test_the_create_page_shows_the_chosen_platforms_credential_fields(signed_in):
    html = signed_in.get(reverse("channel_create") + "?platform=mastodon").content.decode()
    assert 'name="new-credential_access_token"' in html and 'name="new-credential_api_base_url"' in html
    assert 'hx-get="' + reverse("channel_create") + '"' in html and 'id="credential-fields"' in html
    assert "<noscript>" in html  # the fields are also shown again by a plain submit


def test_htmx_swaps_only_the_fields_when_the_platform_changes(signed_in):
    response = signed_in.get(reverse("channel_create") + "?platform=bluesky", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'name="new-credential_app_password"' in html and "new-credential_access_token" not in html
    assert "<form" not in html  # a fragment, not the page


def test_without_javascript_the_fields_follow_the_platform_and_what_was_typed_stays(signed_in):
    response = signed_in.post(
        reverse("channel_create"),
        {"platform": "bluesky", "handle": "maison.example.com", "name": "Bluesky", "show_fields": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="new-credential_app_password"' in html and 'value="maison.example.com"' in html
    assert not Channel.objects.filter(platform="bluesky").exists()


def test_a_channel_is_created_connected_in_one_step(signed_in, mastodon):
    _language(signed_in, "en")
    response = signed_in.post(
        reverse("channel_create"),
        {
            "platform": "mastodon",
            "handle": "@maisondupont@mastodon.example",
            "name": "Maison Dupont",
            "new-credential_access_token": "secret-token",
            "new-credential_api_base_url": mastodon.url,
        },
        follow=True,
    )
    channel = Channel.objects.get(platform="mastodon")
    assert channel.read_credentials() == {"access_token": "secret-token", "api_base_url": mastodon.url}
    assert "Connected as @maisondupont@mastodon.example" in response.content.decode()


def test_a_misspelled_credential_on_the_create_page_is_named_and_nothing_is_created(signed_in, mastodon):
    _language(signed_in, "en")
    response = signed_in.post(
        reverse("channel_create"),
        {
            "platform": "mastodon",
            "handle": "@maisondupont@mastodon.example",
            "name": "Maison Dupont",
            "new-credentials_json": json.dumps({"acess_token": "x", "api_base_url": mastodon.url}),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "acess_token" in html and "access_token" in html
    assert not Channel.objects.filter(platform="mastodon").exists()


def test_a_created_channel_whose_check_fails_opens_its_credentials_with_what_was_typed(signed_in, mastodon):
    _language(signed_in, "en")
    read_only(mastodon)
    response = signed_in.post(
        reverse("channel_create"),
        {
            "platform": "mastodon",
            "handle": "@maisondupont@mastodon.example",
            "name": "Maison Dupont",
            "new-credential_access_token": "read-only-token",
            "new-credential_api_base_url": mastodon.url,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Connection failed" in html and "write:statuses" in html
    assert 'value="read-only-token"' in html
    channel = Channel.objects.get(platform="mastodon")
    # The form corrects this channel's credentials; it does not create another channel.
    assert f'action="{reverse("channel_credentials", args=[channel.pk])}"' in html


def test_a_connector_without_a_check_of_its_own_is_not_said_connected(counting, forum, owner_actor):
    from palabre.connectors.services import try_credentials
    from palabre.orgs.services import set_channel_credentials

    set_channel_credentials(actor=owner_actor, channel=forum, credentials={"token": "t"})
    assert try_credentials(actor=owner_actor, channel=forum) is None
    assert counting.calls == []  # nothing was asked of the platform


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "The credentials lack a permission the channel needs"),
        ("fr", "Il manque aux identifiants une autorisation"),
    ],
)
def test_checking_again_on_the_channels_page_says_what_is_missing(
    signed_in, org, make_channel, mastodon, language, words
):
    read_only(mastodon)
    channel = make_channel(
        org,
        "mastodon",
        handle="@maisondupont@mastodon.example",
        name="Maison Dupont",
        credentials=credentials(mastodon),
    )
    _language(signed_in, language)
    page = signed_in.post(reverse("connectors:channel_check", args=[channel.pk]), follow=True)
    html = page.content.decode().replace("&#x27;", "'")
    assert words in html and "write:statuses" in html
