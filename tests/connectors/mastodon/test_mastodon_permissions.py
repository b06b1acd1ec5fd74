"""Connecting a Mastodon channel checks what it will be asked to do: a read-only token is caught by
the health check (which names the missing permission), before the first reply fails with 403.
Against the fake Mastodon-API server on loopback."""

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


def test_a_token_with_the_needed_permissions_passes_and_names_the_account_by_its_domain(
    toots, platform_server, owner_actor
):
    platform_server.on("GET", APP, Answer(body=fixture("app_verify_credentials.json")))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == ""
    assert sync.account == "@maisondupont@mastodon.example"  # not the API's host, 127.0.0.1
    assert sync.scopes == ["read", "write:statuses", "write:media"]


def test_a_server_that_does_not_tell_the_scopes_is_not_refused(toots, platform_server, owner_actor):
    sync = services.check_channel(actor=owner_actor, channel=toots)  # apps endpoint: 404
    assert sync.last_error_code == "" and sync.scopes == []


def test_a_revoked_token_on_the_apps_endpoint_is_an_expired_token(toots, platform_server, owner_actor):
    platform_server.on("GET", APP, Answer(401, {"error": "The access token was revoked"}))
    sync = services.check_channel(actor=owner_actor, channel=toots)
    assert sync.last_error_code == "token_expired"


def test_broad_scopes_cover_the_narrow_ones():
    assert missing_scopes(["read", "write"]) == []
    assert missing_scopes(["read:accounts", "write"]) == ["read:notifications"]
    assert missing_scopes(["profile", "write:statuses"]) == ["read:notifications", "read:accounts"]
