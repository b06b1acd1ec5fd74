"""Connecting a channel through the OAuth flow in a real browser, against a small authorisation
server on loopback (an authorise page where the person allows access and is sent back with a
code, a token endpoint, an account endpoint): the channel says it is not connected, the button
sends the browser to the platform, and the channel comes back connected. First with a stand-in
connector, then an X channel through the real `XConnector`, the loopback server playing X's side
(its authorise page, its token endpoint for a confidential client, `GET /2/users/me`)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from palabre.connectors import http_client
from palabre.connectors.base import (
    Capability,
    ChannelHealthInfo,
    Connector,
    CredentialField,
    FieldKind,
    OAuthSpec,
    TokenExpired,
)
from palabre.connectors.x import XConnector

PASSWORD = "Palabre-e2e-2024!"
SHOTS = Path(os.environ.get("PALABRE_SHOTS", "/tmp/shots"))

pytestmark = pytest.mark.e2e


class Provider:
    """The platform's side of OAuth 2.0: /authorize shows a consent page whose button goes back to
    the redirect URI with a code and the state; /token trades the code (checking the PKCE
    verifier was sent) for a token; /api/me names the account of a valid token."""

    def __init__(self) -> None:
        self.token_requests: list[dict[str, list[str]]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/authorize":
                    back = (
                        query["redirect_uri"] + "?" + urlencode({"code": "code-123", "state": query["state"]})
                    )
                    page = (
                        "<!doctype html><html lang='en'><head><meta name='viewport' "
                        "content='width=device-width'><title>Forum: authorise</title></head><body>"
                        f"<h1>Allow Palabre to act for your forum account?</h1><p>Scopes: {query.get('scope', '')}</p>"
                        f"<a id='allow' href='{back}'>Allow</a></body></html>"
                    )
                    self._send(200, page.encode(), "text/html; charset=utf-8")
                elif parts.path == "/api/me":
                    if self.headers.get("Authorization") == "Bearer token-from-forum":
                        self._send(200, json.dumps({"name": "maison-dupont"}).encode(), "application/json")
                    else:
                        self._send(401, b"{}", "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                provider.token_requests.append(form)
                if form.get("code") == ["code-123"] and form.get("code_verifier"):
                    token = {
                        "access_token": "token-from-forum",
                        "token_type": "bearer",
                        "expires_in": 3600,
                        "refresh_token": "refresh-from-forum",
                    }
                    self._send(200, json.dumps(token).encode(), "application/json")
                else:
                    self._send(400, json.dumps({"error": "invalid_grant"}).encode(), "application/json")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ForumOverOAuth(Connector):
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
        answer = http_client.get(f"{self.base_url}/api/me", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code == 401:
            raise TokenExpired("the token was refused")
        return ChannelHealthInfo(account=answer.json()["name"])


@pytest.fixture
def provider(monkeypatch):
    from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector

    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1,::1")
    server = Provider()
    spec = OAuthSpec(
        authorize_url=f"{server.url}/authorize",
        token_url=f"{server.url}/token",
        scopes=("read", "moderate"),
        pkce=True,
    )
    previous = connector_class_for("discourse")
    register_connector("discourse", type("Forum", (ForumOverOAuth,), {"oauth": spec, "base_url": server.url}))
    yield server
    if previous is None:
        unregister_connector("discourse")
    else:
        register_connector("discourse", previous)
    server.stop()


@pytest.fixture
def forum(transactional_db, provider):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    brand = services.create_organisation(name="Maison Dupont", owner=owner)
    return services.create_channel(
        actor=services.Actor.for_user(owner, brand),
        platform="discourse",
        handle="forum.maison-dupont.fr",
        name="Forum Maison Dupont",
        credentials={"client_id": "app-42", "client_secret": "s3cret"},
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_a_channel_is_connected_through_the_platforms_authorisation_page(
    live_server, forum, provider, new_page, sign_in, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(width=width)
    sign_in(page, live_server.url, "camille", PASSWORD)
    page.goto(f"{live_server.url}/connectors/channels/{forum.pk}/")
    expect(page.locator("#connection-state")).to_contain_text("Not connected")
    expect(page.locator("#oauth-redirect-url")).to_have_text(f"{live_server.url}/connectors/oauth/callback/")
    page.screenshot(path=str(SHOTS / f"oauth-not-connected-{width}.png"), full_page=True)

    page.click("#oauth-connect-button")
    expect(page.locator("h1")).to_contain_text("Allow Palabre")  # on the platform's page now
    expect(page.locator("body")).to_contain_text("read moderate")
    page.click("#allow")

    # Back on Palabre: the code was exchanged, the credentials stored and tried at once.
    expect(page.locator("h1")).to_contain_text("Forum Maison Dupont")
    expect(page.locator("body")).to_contain_text("is connected through the platform")
    expect(page.locator("body")).to_contain_text("Connected as maison-dupont")
    expect(page.locator("#connection-state")).to_have_count(0)
    expect(page.locator("#oauth-connect-button")).to_contain_text("Reconnect")
    page.screenshot(path=str(SHOTS / f"oauth-connected-{width}.png"), full_page=True)
    (request,) = provider.token_requests
    assert request["grant_type"] == ["authorization_code"]
    assert request["code_verifier"][0]
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the channel page fits the screen"
    page.context.close()


# --- the X channel, through the real connector --------------------------------------------------

X_CLIENT_ID = "TWFpc29uRHVwb250QXBw"
X_CLIENT_SECRET = "x-app-secret-7f3a"
X_SCOPES = XConnector.oauth.scopes
X_ME = {"id": "1460523745", "name": "Maison Dupont", "username": "maisondupont"}


class XProvider:
    """X's side, as X documents its OAuth 2.0 authorisation-code flow with PKCE and API v2
    (docs.x.com: "OAuth 2.0 Authorization Code Flow with PKCE", "GET /2/users/me"):

    - `GET /i/oauth2/authorize` checks the request (response_type=code, the app's client id, the
      redirect URI, the scopes, an S256 code challenge) and shows a consent page whose button goes
      back to the redirect URI with a code and the state;
    - `POST /2/oauth2/token` is for a confidential client: the app proves itself with HTTP Basic
      (client id and secret), and the code verifier must hash to the challenge; the token's
      `scope` is one space-separated string, as X answers it;
    - `GET /2/users/me` names the account of a valid bearer token, with the rate-limit headers."""

    def __init__(self) -> None:
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.api_requests: list[str] = []
        self.challenges: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect URI)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str, headers=()) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: dict, headers=()) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/i/oauth2/authorize":
                    provider.authorize_requests.append(query)
                    wanted = (
                        query.get("response_type") == "code"
                        and query.get("client_id") == X_CLIENT_ID
                        and query.get("code_challenge_method") == "S256"
                        and query.get("code_challenge")
                        and query.get("state")
                        and query.get("redirect_uri")
                    )
                    if not wanted:
                        self._send(400, b"<p>Something went wrong</p>", "text/html; charset=utf-8")
                        return
                    code = f"x-code-{len(provider.authorize_requests)}"
                    provider.challenges[code] = (query["code_challenge"], query["redirect_uri"])
                    back = query["redirect_uri"] + "?" + urlencode({"state": query["state"], "code": code})
                    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in query.get("scope", "").split(" "))
                    page = (
                        "<!doctype html><html lang='en'><head><meta name='viewport' "
                        "content='width=device-width'><title>X: authorise app</title></head><body>"
                        "<h1>Palabre wants to access your X account</h1>"
                        f"<p>Signed in as @{X_ME['username']}</p><ul id='scopes'>{scopes}</ul>"
                        f"<a id='x-allow' href='{html.escape(back)}'>Authorize app</a></body></html>"
                    )
                    self._send(200, page.encode(), "text/html; charset=utf-8")
                elif parts.path == "/2/users/me":
                    provider.api_requests.append(self.path)
                    if self.headers.get("Authorization") != "Bearer x-access-token":
                        self._json(401, {"title": "Unauthorized", "type": "about:blank", "status": 401})
                        return
                    limits = (
                        ("x-rate-limit-limit", "75"),
                        ("x-rate-limit-remaining", "74"),
                    )
                    self._json(200, {"data": X_ME}, limits)
                else:
                    self._json(404, {"title": "Not Found Error", "status": 404})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.token_requests.append(
                    {"form": form, "authorization": self.headers.get("Authorization")}
                )
                if urlsplit(self.path).path != "/2/oauth2/token":
                    self._json(404, {"title": "Not Found Error", "status": 404})
                    return
                basic = "Basic " + base64.b64encode(f"{X_CLIENT_ID}:{X_CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != basic:
                    self._json(
                        401,
                        {
                            "error": "unauthorized_client",
                            "error_description": "Missing valid authorization header",
                        },
                    )
                    return
                challenge, redirect_uri = provider.challenges.pop(form.get("code", ""), ("", ""))
                verifier = form.get("code_verifier", "")
                computed = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                )
                if (
                    form.get("grant_type") != "authorization_code"
                    or not challenge
                    or computed != challenge
                    or form.get("redirect_uri") != redirect_uri
                ):
                    self._json(
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": "Value passed for the authorization code was invalid.",
                        },
                    )
                    return
                token = {
                    "token_type": "bearer",
                    "expires_in": 7200,
                    "access_token": "x-access-token",
                    "scope": " ".join(X_SCOPES),
                    "refresh_token": "x-refresh-token",
                }
                self._json(200, token)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def x_provider(monkeypatch):
    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1,::1")
    server = XProvider()
    # X's real flow, only its addresses moved to the loopback server.
    monkeypatch.setattr(
        XConnector,
        "oauth",
        dataclasses.replace(
            XConnector.oauth,
            authorize_url=f"{server.url}/i/oauth2/authorize",
            token_url=f"{server.url}/2/oauth2/token",
        ),
    )
    yield server
    server.stop()


@pytest.fixture
def x_channel(transactional_db, x_provider):
    from django.contrib.auth import get_user_model

    from palabre.orgs import services

    owner = get_user_model().objects.create_user("camille", password=PASSWORD)
    brand = services.create_organisation(name="Maison Dupont", owner=owner)
    channel = services.create_channel(
        actor=services.Actor.for_user(owner, brand),
        platform="x",
        handle="@maisondupont",
        name="Maison Dupont sur X",
    )
    channel.options = {**channel.options, "api_base_url": x_provider.url}
    channel.save(update_fields=["options"])
    return channel


@pytest.mark.parametrize("width", [1280, 390])
def test_an_x_channel_is_connected_through_xs_authorisation_page(
    live_server, x_channel, x_provider, new_page, sign_in, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(width=width)
    sign_in(page, live_server.url, "camille", PASSWORD, lang="fr")
    page.goto(f"{live_server.url}/connectors/channels/{x_channel.pk}/")
    expect(page.locator("#connection-state")).to_contain_text("Non connecté")
    expect(page.locator("#oauth-connect-button")).to_have_count(0)  # no app typed yet
    page.screenshot(path=str(SHOTS / f"oauth-x-not-connected-{width}.png"), full_page=True)

    # The organisation's own app on X: its tier, client id and secret.
    page.locator("#oauth-connect").get_by_role("link", name="Saisir les identifiants").click()
    page.select_option("#id_credential_tier", "basic")
    page.fill("#id_credential_client_id", X_CLIENT_ID)
    page.fill("#id_credential_client_secret", X_CLIENT_SECRET)
    page.click("form.stacked button[type=submit]")
    # Saved; the channel list says what comes next, and its link leads back to the channel's page.
    expect(page.locator("body")).to_contain_text("Connectez maintenant le canal avec la plateforme")
    page.screenshot(path=str(SHOTS / f"oauth-x-app-saved-{width}.png"), full_page=True)
    page.get_by_role("row", name="Maison Dupont sur X").get_by_role("link", name="État").click()
    expect(page.locator("#oauth-connect-button")).to_contain_text("Connecter avec X")

    page.click("#oauth-connect-button")
    expect(page.locator("h1")).to_contain_text("Palabre wants to access your X account")  # on X now
    for scope in X_SCOPES:
        expect(page.locator("#scopes")).to_contain_text(scope)
    page.screenshot(path=str(SHOTS / f"oauth-x-consent-{width}.png"), full_page=True)
    page.click("#x-allow")

    # Back on Palabre: the code exchanged at X, the token stored, the account asked of X at once.
    expect(page.locator("h1")).to_contain_text("Maison Dupont sur X")
    expect(page.locator("body")).to_contain_text("« Maison Dupont sur X » est connecté par la plateforme.")
    # The same server-rendered page holds the connection check's outcome: read at once.
    assert "Connecté en tant que @maisondupont" in page.locator("body").inner_text()
    expect(page.locator("#connection-state")).to_have_count(0)
    expect(page.locator("#oauth-connect-button")).to_contain_text("Reconnecter avec X")
    page.screenshot(path=str(SHOTS / f"oauth-x-connected-{width}.png"), full_page=True)

    (authorise,) = x_provider.authorize_requests
    assert authorise["redirect_uri"] == f"{live_server.url}/connectors/oauth/callback/"
    assert authorise["scope"].split(" ") == list(X_SCOPES)
    (exchange,) = x_provider.token_requests
    assert exchange["form"]["grant_type"] == "authorization_code"
    assert "client_secret" not in exchange["form"]  # the secret travels only in the Basic header
    assert x_provider.api_requests, "the connection was tried against X's API"
    stored = type(x_channel).objects.get(pk=x_channel.pk).read_credentials()
    assert stored["access_token"] == "x-access-token"
    assert stored["refresh_token"] == "x-refresh-token"
    assert stored["scope"].split() == list(X_SCOPES)
    assert stored["tier"] == "basic" and stored["client_id"] == X_CLIENT_ID
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "the channel page fits the screen"
    page.context.close()
