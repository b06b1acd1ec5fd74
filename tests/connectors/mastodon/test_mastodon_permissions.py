"""Connecting a Mastodon channel checks what it will be asked to do: a read-only token is caught by
the health check (which names the missing permission), before the first reply fails with 403.
The token's own scopes (`GET /oauth/token/info`, Doorkeeper's) are read first: a token may carry
fewer than its application; where the server tells only the application's, the check says it is
partial. Against the fake Mastodon-API server on loopback, with payloads shaped as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.mastodon import missing_scopes
from palabre.connectors.queries import health_of

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
VERIFY = "/api/v1/accounts/verify_credentials"
APP = "/api/v1/apps/verify_credentials"
TOKEN_INFO = "/oauth/token/info"


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture
def toots(org, make_channel, platform_server):
    platform_server.on("GET", VERIFY, Answer(body=fixture("verify_credentials.json")))
    return make_channel(
        org,
        "mastodon",
        handle="@maisondupont@mastodon.example",
        name="Maison Dupont",
        credentials={"access_token": "secret-token", "api_base_url": platform_server.url},
    )


def _app(scopes):
    return Answer(body={**fixture("app_verify_credentials.json"), "scopes": scopes})


def test_a_read_only_token_is_caught_at_connection_and_the_missing_permission_named(
    toots, platform_server, owner_actor
):
    platform_server.on("GET", APP, _app(["read"]))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == "permission_missing"
    assert "write:statuses" in sync.last_error and "read:" not in sync.last_error.split("(it has")[0]
    assert health_of(owner_actor, toots).needs_attention
    # Nothing was posted to find this out.
    assert not platform_server.made("POST", "/api/v1/statuses")


def _token(scope):
    return Answer(body={**fixture("token_info.json"), "scope": scope})


def test_a_token_with_the_needed_permissions_passes_and_names_the_account_by_its_domain(
    toots, platform_server, owner_actor
):
    platform_server.on("GET", TOKEN_INFO, Answer(body=fixture("token_info.json")))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == ""
    assert sync.account == "@maisondupont@mastodon.example"  # not the API's host, 127.0.0.1
    assert sync.scopes == ["read", "write:statuses", "write:media"]
    assert sync.permissions_checked == "verified" and sync.permissions_note == ""
    (asked,) = platform_server.made("GET", TOKEN_INFO)
    assert asked.headers["Authorization"] == "Bearer secret-token"
    # The token told: the application's scopes were not needed.
    assert not platform_server.made("GET", APP)


def test_a_token_with_fewer_scopes_than_its_application_is_caught(toots, platform_server, owner_actor):
    # The application may write; this token was authorised for reading only.
    platform_server.on("GET", APP, Answer(body=fixture("app_verify_credentials.json")))
    platform_server.on("GET", TOKEN_INFO, _token(["read"]))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == "permission_missing"
    assert "access token lacks the permission(s) write:statuses (it has: read)" in sync.last_error
    assert not platform_server.made("POST", "/api/v1/statuses")


def test_space_separated_token_scopes_are_read_too(toots, platform_server, owner_actor):
    platform_server.on("GET", TOKEN_INFO, _token("read:notifications read:accounts"))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == "permission_missing" and "write:statuses" in sync.last_error


def test_without_token_info_the_application_scopes_make_a_partial_check(toots, platform_server, owner_actor):
    # An older server: /oauth/token/info answers 404; the application's scopes are enough.
    platform_server.on("GET", APP, Answer(body=fixture("app_verify_credentials.json")))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == ""
    assert sync.permissions_checked == "partial"
    assert "token's own permissions" in sync.permissions_note


def test_a_server_that_does_not_tell_the_scopes_is_not_refused_but_not_verified(
    toots, platform_server, owner_actor
):
    sync = services.check_channel(actor=owner_actor, channel=toots)  # token info, apps: 404
    assert sync.last_error_code == "" and sync.scopes == []
    assert sync.permissions_checked == "partial"


def test_a_revoked_token_on_the_token_info_route_is_an_expired_token(toots, platform_server, owner_actor):
    platform_server.on("GET", TOKEN_INFO, Answer(401, {"error": "invalid_token"}))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == "token_expired"


def test_a_revoked_token_on_the_apps_endpoint_is_an_expired_token(toots, platform_server, owner_actor):
    platform_server.on("GET", APP, Answer(401, {"error": "The access token was revoked"}))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == "token_expired"


def test_broad_scopes_cover_the_narrow_ones():
    assert missing_scopes(["read", "write"]) == []
    assert missing_scopes(["read:accounts", "write"]) == ["read:notifications"]
    assert missing_scopes(["profile", "write:statuses"]) == ["read:notifications", "read:accounts"]


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Permissions partly checked"), ("fr", "Autorisations vérifiées en partie")],
)
def test_the_health_list_says_when_the_permissions_were_checked_only_in_part(
    toots, platform_server, owner_actor, client, owner, language, words
):
    from django.urls import reverse

    platform_server.on("GET", APP, Answer(body=fixture("app_verify_credentials.json")))
    services.check_channel(actor=owner_actor, channel=toots)
    client.force_login(owner)
    client.post(reverse("language"), {"language": language, "next": "/"})
    assert words in client.get(reverse("connectors:health")).content.decode()
    platform_server.on("GET", TOKEN_INFO, Answer(body=fixture("token_info.json")))
    services.check_channel(actor=owner_actor, channel=toots)  # a server that tells the token's
    assert words not in client.get(reverse("connectors:health")).content.decode()
