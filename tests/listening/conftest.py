"""Listening fixtures: a real HTTP server on loopback serving payload fixtures, queries, sources."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class Loopback:
    """Routes: path -> (status, headers, body); every request is kept in `requests`."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[dict] = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                loopback.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, payload = loopback.routes.get(path, (404, {}, b"not found"))
                if callable(payload):
                    status, headers, payload = payload(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(
        self, path: str, body, *, status: int = 200, content_type: str = "application/json", headers=None
    ):
        if isinstance(body, dict | list):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.routes[path] = (status, {"Content-Type": content_type, **(headers or {})}, body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback(allow_loopback):
    server = Loopback()
    yield server
    server.close()


@pytest.fixture
def make_query(db):
    from palabre.listening.services import create_query
    from palabre.orgs.services import Actor

    def make(organisation, query: str, *, name: str = "", kind: str = "brand"):
        return create_query(
            actor=Actor.palabre(organisation), name=name or query[:60], query=query, kind=kind
        )

    return make


@pytest.fixture
def make_source(db):
    from palabre.listening.services import create_source
    from palabre.orgs.services import Actor

    def make(organisation, kind: str, config: dict | None = None, *, name: str = "", interval: int = 15):
        return create_source(
            actor=Actor.palabre(organisation),
            name=name or f"{kind} source",
            kind=kind,
            config=config or {},
            interval_minutes=interval,
        )

    return make
