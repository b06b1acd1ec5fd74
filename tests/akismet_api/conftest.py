"""The real `akismet` client talking to a real Palabre server on loopback.

The client always calls https://rest.akismet.com; a transport rewrites each request to the live
server (its host and port), so the client's own code builds every request and reads every answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import akismet
import httpx
import pytest

from palabre.moderation import services as moderation
from palabre.moderation.models import ModerationSite
from palabre.orgs.services import Actor


def _to_live(request: httpx.Request, base: httpx.URL, keep_host: bool) -> None:
    request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
    if not keep_host:
        request.headers["Host"] = f"{base.host}:{base.port}"


class LiveTransport(httpx.HTTPTransport):
    def __init__(self, base: str, *, keep_host: bool = False):
        super().__init__()
        self.base, self.keep_host = httpx.URL(base), keep_host

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _to_live(request, self.base, self.keep_host)
        return super().handle_request(request)


class AsyncLiveTransport(httpx.AsyncHTTPTransport):
    def __init__(self, base: str, *, keep_host: bool = False):
        super().__init__()
        self.base, self.keep_host = httpx.URL(base), keep_host

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _to_live(request, self.base, self.keep_host)
        return await super().handle_async_request(request)


@dataclass
class Registered:
    site: ModerationSite
    key: str

    @property
    def config(self) -> akismet.Config:
        return akismet.Config(key=self.key, url=self.site.url)


@pytest.fixture
def register_site():
    """`register_site(org, url)`: a moderation site created by the service; returns (site, key)."""

    def make(organisation, url: str = "https://blog.maison-dupont.fr/", name: str = "Blog") -> Registered:
        site, key = moderation.create_moderation_site(actor=Actor.palabre(organisation), name=name, url=url)
        return Registered(site, key)

    return make


@pytest.fixture
def blog(org, register_site) -> Registered:
    return register_site(org)


@pytest.fixture
def http(live_server):
    """A plain httpx client on the live server, for what the akismet package does not send."""
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def sync_client(live_server):
    """`sync_client(registered)`: akismet.SyncClient whose requests reach the live server."""
    clients = []

    def make(registered: Registered, *, key: str | None = None, url: str | None = None) -> akismet.SyncClient:
        http_client = httpx.Client(
            transport=LiveTransport(live_server.url), headers={"User-Agent": akismet.USER_AGENT}, timeout=30
        )
        clients.append(http_client)
        config = akismet.Config(key=key or registered.key, url=url or registered.site.url)
        return akismet.SyncClient(config=config, http_client=http_client)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def async_http(live_server):
    """`async_http()`: an httpx.AsyncClient whose requests reach the live server."""

    def make() -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=AsyncLiveTransport(live_server.url),
            headers={"User-Agent": akismet.USER_AGENT},
            timeout=30,
        )

    return make
