"""Connecting a Bluesky channel says what its password may do: `createSession` answers the session
(as the com.atproto.server.createSession lexicon shows it), whose access token names the kind of
password in its `scope` claim. An app password may read, reply and publish; the account's own
password is refused; an account still queued for sign-up cannot post, and the check names it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.bluesky import BlueskyConnector, asked_permissions, session_scope

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
SESSION = "/xrpc/com.atproto.server.createSession"


def _jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.c2lnbmF0dXJl"


def _session(scope: str | None) -> Answer:
    session = load_fixture(FIXTURES, "create_session.json")
    claims = {"sub": session["did"], "aud": "did:web:bsky.social", "iat": 1714986000, "exp": 4102444800}
    if scope is not None:
        claims["scope"] = scope
    return Answer(body={**session, "accessJwt": _jwt(claims)})


@pytest.fixture
def sky(org, make_channel, platform_server):
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


def _check(platform_server, sky, owner_actor, scope):
    platform_server.on("POST", SESSION, _session(scope))
    return services.check_channel(actor=owner_actor, channel=sky)


def test_the_channel_asks_to_read_reply_and_publish_not_direct_messages():
    assert asked_permissions(BlueskyConnector()) == ["read", "reply", "publish"]


@pytest.mark.parametrize("scope", ["com.atproto.appPass", "com.atproto.appPassPrivileged"])
def test_an_app_password_is_verified(platform_server, sky, owner_actor, scope):
    sync = _check(platform_server, sky, owner_actor, scope)
    assert sync.last_error_code == ""
    assert sync.account == "@maisondupont.bsky.social"
    assert sync.permissions_checked == "verified" and sync.scopes == [scope]


def test_the_fixture_session_is_an_ordinary_app_password():
    assert session_scope(load_fixture(FIXTURES, "create_session.json")["accessJwt"]) == "com.atproto.appPass"


def test_an_account_waiting_for_sign_up_cannot_post_and_the_check_says_what_is_missing(
    platform_server, sky, owner_actor
):
    sync = _check(platform_server, sky, owner_actor, "com.atproto.signupQueued")
    assert sync.last_error_code == "permission_missing"
    assert "does not allow read, reply, publish" in sync.last_error
    assert "waiting to be let in" in sync.last_error


def test_the_accounts_own_password_is_refused(platform_server, sky, owner_actor):
    sync = _check(platform_server, sky, owner_actor, "com.atproto.access")
    assert sync.last_error_code == "permanent"
    assert "not an app password" in sync.last_error


def test_a_session_that_does_not_say_is_a_partial_check(platform_server, sky, owner_actor):
    sync = _check(platform_server, sky, owner_actor, None)
    assert sync.last_error_code == ""
    assert sync.permissions_checked == "partial"
    assert "does not say what these credentials may do" in sync.permissions_note


def test_an_unreadable_token_is_no_scope():
    assert session_scope("not-a-jwt") is None


def test_a_taken_down_account_is_refused_with_words(platform_server, sky, owner_actor):
    sync = _check(platform_server, sky, owner_actor, "com.atproto.takendown")
    assert sync.last_error_code == "permanent" and "taken down" in sync.last_error
