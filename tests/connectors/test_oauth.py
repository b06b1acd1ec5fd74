"""The OAuth 2.0 connection of a channel, against a loopback authorisation server: the button sends
the person to the platform with a signed state and a PKCE challenge; the callback checks the state,
exchanges the code through the HTTP client and stores the credentials; the token is renewed
before a call when it nears its expiry, and a refused renewal asks for a reconnection."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone, translation
from platform_server import Answer

from palabre.connectors import http_client, oauth, services
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    FieldKind,
    OAuthSpec,
    TokenExpired,
)
from palabre.connectors.connection import connection_of
from palabre.connectors.models import ChannelSync
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor, set_channel_credentials

CALLBACK = "http://testserver/connectors/oauth/callback/"


class OAuthForum(Connector):
    """A platform that connects through OAuth: its health asks who the token belongs to."""

    platform = "discourse"
    capabilities = frozenset({Capability.PULL, Capability.REPLY, Capability.HIDE, Capability.UNHIDE})
    credential_fields = (
        CredentialField("client_id", "Client id", required=True),
        CredentialField("client_secret", "Client secret", kind=FieldKind.SECRET, required=True),
        CredentialField("access_token", "Access token", kind=FieldKind.SECRET),
        CredentialField("refresh_token", "Refresh token", kind=FieldKind.SECRET),
        CredentialField("token_expires_at", "Token expiry"),
    )
    base_url = ""

    def health(self, channel):
        token = channel.read_credentials().get("access_token", "")
        response = http_client.get(f"{self.base_url}/api/me", headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 401:
            raise TokenExpired("the token was refused")
        return ChannelHealthInfo(account=response.json()["name"])


@pytest.fixture
def forum_oauth(platform_server, use_connector):
    spec = OAuthSpec(
        authorize_url=f"{platform_server.url}/oauth/authorize",
        token_url=f"{platform_server.url}/oauth/token",
        scopes=("read", "moderate"),
        pkce=True,
    )
    connector = type("Forum", (OAuthForum,), {"oauth": spec, "base_url": platform_server.url})
    use_connector(connector)
    platform_server.on("GET", "/api/me", Answer(200, {"name": "maison-dupont"}))
    return platform_server


@pytest.fixture
def app_channel(org, make_channel, forum_oauth):
    return make_channel(
        org,
        "discourse",
        handle="forum.maison-dupont.fr",
        name="Forum",
        credentials={"client_id": "app-42", "client_secret": "s3cret"},
    )


@pytest.fixture
def signed_in(client, owner, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(owner)
    return client


def _start(client, channel) -> dict[str, list[str]]:
    response = client.post(f"/connectors/channels/{channel.pk}/oauth/")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)


def _token(server, **extra):
    body = {"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600, "refresh_token": "ref-1"}
    server.on("POST", "/oauth/token", Answer(200, {**body, **extra}))


def test_the_button_sends_the_person_to_the_platform_with_scopes_state_and_a_pkce_challenge(
    signed_in, app_channel, forum_oauth
):
    response = signed_in.post(f"/connectors/channels/{app_channel.pk}/oauth/")
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{forum_oauth.url}/oauth/authorize"
    query = parse_qs(location.query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["app-42"]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["scope"] == ["read moderate"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0]
    assert "s3cret" not in response["Location"]  # the secret never travels through the browser


def test_the_callback_exchanges_the_code_and_stores_the_credentials(signed_in, app_channel, forum_oauth):
    _token(forum_oauth)
    query = _start(signed_in, app_channel)
    response = signed_in.get(CALLBACK, {"code": "the-code", "state": query["state"][0]})
    assert response.status_code == 302
    assert response["Location"] == f"/connectors/channels/{app_channel.pk}/"

    (sent,) = forum_oauth.made("POST", "/oauth/token")
    form = {key: values[0] for key, values in sent.form().items()}
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == CALLBACK
    assert (form["client_id"], form["client_secret"]) == ("app-42", "s3cret")
    # The verifier the browser never saw matches the challenge it carried.
    challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=")
    assert challenge.decode() == query["code_challenge"][0]

    app_channel.refresh_from_db()
    credentials = app_channel.read_credentials()
    assert credentials["access_token"] == "tok-1"
    assert credentials["refresh_token"] == "ref-1"
    assert credentials["client_id"] == "app-42" and credentials["client_secret"] == "s3cret"
    assert credentials["token_expires_at"]
    actions = set(
        AuditEvent.objects.filter(organisation=app_channel.organisation).values_list("action", flat=True)
    )
    assert {
        "connectors.oauth_started",
        "connectors.oauth_connected",
        "channel.credentials_replaced",
    } <= actions
    assert connection_of(app_channel).connected
    # Tried at once: the account the platform names is on the channel's page.
    page = signed_in.get(f"/connectors/channels/{app_channel.pk}/")
    assert "maison-dupont" in page.content.decode()
    assert "Not connected" not in page.content.decode()


def test_the_token_expiry_the_platform_gave_is_kept_and_shown(signed_in, app_channel, forum_oauth):
    # The platform's health says nothing of the expiry; the token endpoint said expires_in=3600.
    _token(forum_oauth)
    before = timezone.now()
    query = _start(signed_in, app_channel)
    signed_in.get(CALLBACK, {"code": "the-code", "state": query["state"][0]})
    sync = ChannelSync.objects.get(channel=app_channel)
    assert sync.token_expires_at is not None
    assert (
        before + timedelta(seconds=3600) <= sync.token_expires_at <= timezone.now() + timedelta(seconds=3600)
    )
    page = signed_in.get(f"/connectors/channels/{app_channel.pk}/").content.decode()
    facts = page.split("Token expiry", 1)[1].split("</dd>", 1)[0]
    assert "not told by the platform" not in facts
    assert str(sync.token_expires_at.astimezone(timezone.get_current_timezone()).year) in facts


def test_the_channel_page_shows_the_redirect_url_and_the_button_once_the_app_is_entered(
    signed_in, app_channel, org, make_channel, forum_oauth
):
    response = signed_in.get(f"/connectors/channels/{app_channel.pk}/")
    page = response.content.decode()
    assert CALLBACK in page
    # The button's answer is a redirect to the platform: the page's CSP lets its forms go there.
    policy = response.headers.get("Content-Security-Policy", "")
    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert urlsplit(forum_oauth.url).netloc in form_action and "'self'" in form_action
    assert 'id="oauth-connect-button"' in page
    assert "Not connected" in page  # no token yet

    bare = make_channel(org, "discourse", handle="other.forum", name="Other")
    page = signed_in.get(f"/connectors/channels/{bare.pk}/").content.decode()
    assert 'id="oauth-connect-button"' not in page
    assert "client id and secret" in page
    response = signed_in.post(f"/connectors/channels/{bare.pk}/oauth/", follow=True)
    assert "client id and secret" in response.content.decode()


def test_a_refusal_on_the_platform_is_said_and_nothing_is_stored(signed_in, app_channel, forum_oauth):
    query = _start(signed_in, app_channel)
    response = signed_in.get(CALLBACK, {"error": "access_denied", "state": query["state"][0]})
    assert response.status_code == 400
    assert "The access was refused on the platform" in response.content.decode()
    assert forum_oauth.made("POST", "/oauth/token") == []
    app_channel.refresh_from_db()
    assert "access_token" not in app_channel.read_credentials()


def test_the_refusal_is_said_in_french(signed_in, app_channel):
    query = _start(signed_in, app_channel)
    response = signed_in.get(
        CALLBACK, {"error": "access_denied", "state": query["state"][0]}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 400
    assert "L’accès a été refusé sur la plateforme" in response.content.decode()


@pytest.mark.parametrize("tamper", ["forged", "replayed", "other_person"])
def test_a_state_not_issued_to_this_person_and_browser_is_refused(
    tamper, signed_in, app_channel, forum_oauth, org, make_member
):
    _token(forum_oauth)
    state = _start(signed_in, app_channel)["state"][0]
    if tamper == "forged":
        state = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
    elif tamper == "replayed":
        assert signed_in.get(CALLBACK, {"code": "c", "state": state}).status_code == 302
    else:
        other = make_member(org, "admin").user
        signed_in = Client()
        signed_in.force_login(other)
    before = app_channel.read_credentials() if tamper != "replayed" else None
    response = signed_in.get(CALLBACK, {"code": "c2", "state": state})
    assert response.status_code == 400
    assert "cannot be trusted" in response.content.decode()
    if before is not None:
        app_channel.refresh_from_db()
        assert app_channel.read_credentials() == before
    assert len(forum_oauth.made("POST", "/oauth/token")) == (1 if tamper == "replayed" else 0)


def test_an_expired_state_is_refused(signed_in, app_channel, forum_oauth, clock):
    _token(forum_oauth)
    state = _start(signed_in, app_channel)["state"][0]
    clock.shift(timedelta(seconds=oauth.STATE_MAX_AGE + 60))
    response = signed_in.get(CALLBACK, {"code": "c", "state": state})
    assert response.status_code == 400
    assert "took too long" in response.content.decode()
    assert forum_oauth.made("POST", "/oauth/token") == []


def test_an_error_of_the_token_endpoint_is_said(signed_in, app_channel, forum_oauth):
    forum_oauth.on(
        "POST", "/oauth/token", Answer(400, {"error": "invalid_grant", "error_description": "Code expired"})
    )
    state = _start(signed_in, app_channel)["state"][0]
    response = signed_in.get(CALLBACK, {"code": "old", "state": state})
    assert response.status_code == 400
    text = response.content.decode()
    assert "refused to give Palabre its access" in text and "invalid_grant" in text
    assert f"/connectors/channels/{app_channel.pk}/" in text  # back to the channel
    assert AuditEvent.objects.filter(action="connectors.oauth_failed").exists()


def test_another_organisations_channel_cannot_be_connected(signed_in, make_org, make_channel, forum_oauth):
    theirs = make_channel(
        make_org("Autre"), "discourse", credentials={"client_id": "x", "client_secret": "y"}
    )
    assert signed_in.post(f"/connectors/channels/{theirs.pk}/oauth/").status_code == 404


# --- keeping the token fresh --------------------------------------------------------------------


def _connected(channel, *, expires_in: timedelta, refresh_token: str = "ref-1"):
    set_channel_credentials(
        actor=Actor.palabre(channel.organisation),
        channel=channel,
        credentials={
            "client_id": "app-42",
            "client_secret": "s3cret",
            "access_token": "old-token",
            "refresh_token": refresh_token,
            "token_expires_at": (timezone.now() + expires_in).isoformat(),
        },
    )
    channel.refresh_from_db()
    return channel


def test_a_token_near_its_expiry_is_renewed_before_the_call(app_channel, forum_oauth):
    channel = _connected(app_channel, expires_in=timedelta(minutes=2))
    forum_oauth.on(
        "POST",
        "/oauth/token",
        Answer(200, {"access_token": "new-token", "token_type": "bearer", "expires_in": 7200}),
    )
    sync = services.refresh_health(channel)
    assert not sync.is_failing
    (sent,) = forum_oauth.made("POST", "/oauth/token")
    assert sent.form()["grant_type"] == ["refresh_token"]
    assert sent.form()["refresh_token"] == ["ref-1"]
    (asked,) = forum_oauth.made("GET", "/api/me")
    assert asked.headers["Authorization"] == "Bearer new-token"
    channel.refresh_from_db()
    credentials = channel.read_credentials()
    assert credentials["access_token"] == "new-token"
    assert credentials["refresh_token"] == "ref-1"  # kept: the platform did not send another
    assert AuditEvent.objects.filter(action="connectors.token_refreshed").count() == 1
    assert oauth.refresh_due(credentials, now=timezone.now() + timedelta(hours=1)) is False


def test_a_token_far_from_its_expiry_is_used_as_it_is(app_channel, forum_oauth):
    channel = _connected(app_channel, expires_in=timedelta(hours=3))
    services.refresh_health(channel)
    assert forum_oauth.made("POST", "/oauth/token") == []
    assert forum_oauth.made("GET", "/api/me")[0].headers["Authorization"] == "Bearer old-token"


def test_a_refused_renewal_marks_the_channel_for_reconnection(app_channel, forum_oauth):
    channel = _connected(app_channel, expires_in=timedelta(minutes=1))
    forum_oauth.on("POST", "/oauth/token", Answer(400, {"error": "invalid_grant"}))
    sync = services.refresh_health(channel)
    assert sync.last_error_code == "token_expired"
    assert forum_oauth.made("GET", "/api/me") == []  # no call with a dead token
    connection = connection_of(channel)
    assert connection.reason == "reconnect"
    with translation.override("en"):
        assert "connect it again" in connection.next_step
    assert AuditEvent.objects.filter(action="connectors.token_refresh_refused").exists()
    channel.refresh_from_db()
    assert channel.read_credentials()["access_token"] == "old-token"


def test_a_token_without_a_refresh_token_asks_for_reconnection(app_channel, forum_oauth):
    channel = _connected(app_channel, expires_in=timedelta(minutes=1), refresh_token="")
    sync = services.refresh_health(channel)
    assert sync.last_error_code == "token_expired"
    assert forum_oauth.made("POST", "/oauth/token") == []


def test_saving_the_apps_credentials_asks_to_connect_rather_than_failing(
    signed_in, org, forum_oauth, make_channel
):
    channel = make_channel(org, "discourse", handle="new.forum", name="New forum")
    response = signed_in.post(
        f"/channels/{channel.pk}/credentials/",
        {"credential_client_id": "app-42", "credential_client_secret": "s3cret"},
        follow=True,
    )
    text = response.content.decode()
    assert "Now connect the channel with the platform" in text
    assert forum_oauth.made("GET", "/api/me") == []  # no token to try yet
