"""Connecting a channel through the OAuth flow in a real browser, against a small authorisation
server on loopback (an authorise page where the person allows access and is sent back with a
code, a token endpoint, an account endpoint): the channel says it is not connected, the button
sends the browser to the platform, and the channel comes back connected."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

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
