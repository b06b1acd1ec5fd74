"""`palabre.wsgi.application`, the WSGI application `palabre serve` runs: the protocol paths go to a
lean handler without the site's middleware, every other path through the whole stack."""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from palabre import wsgi
from palabre.moderation import services as moderation
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db

SITE_URL = "https://blog.maison-dupont.fr/"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@contextmanager
def _connection_kept():
    # A server closes the database connection after each request; the test's transaction lives on
    # it, so (as Django's test client does) the request signals leave it open here.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Answer:
    """One request, as a WSGI server hands it to the application."""
    body = urlencode(form or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT_LANGUAGE": "fr",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if form is not None:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), response_headers

    with _connection_kept():
        result = wsgi.application(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    return Answer(started["status"], started["headers"], content)


@pytest.fixture
def key(org) -> str:
    _site, raw = moderation.create_moderation_site(actor=Actor.palabre(org), name="Blog", url=SITE_URL)
    return raw


def test_the_protocol_paths_are_the_ones_routed_to_the_lean_handler():
    assert wsgi.PROTOCOL_PREFIXES == ("/1.1/", "/1.2/", "/v1alpha1/", "/$discovery/")
    assert isinstance(wsgi.application.protocols, wsgi.ProtocolHandler)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_protocol_path_skips_the_sites_middleware_and_keeps_the_security_headers(key, version):
    answer = call("POST", f"/{version}/verify-key", {"key": key, "blog": SITE_URL})
    assert (answer.status, answer.body) == (200, b"valid")
    assert answer.header("Content-Length") == "5"
    assert answer.header("Transfer-Encoding") is None
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("Referrer-Policy")
    assert answer.all("Set-Cookie") == []
    assert "Cookie" not in (answer.header("Vary") or "")
    assert answer.header("Content-Language") is None  # LocaleMiddleware did not run


def test_a_protocol_error_answer_is_lean_too(key):
    answer = call("POST", "/1.1/comment-check", {"api_key": key})
    assert answer.status == 200 and answer.body == b"invalid"
    assert answer.header("X-akismet-debug-help") == 'Empty "blog" value'
    assert answer.header("Content-Length") == "7"
    assert answer.all("Set-Cookie") == []


def test_perspective_paths_are_lean(key):
    answer = call("GET", "/$discovery/rest")
    assert answer.status == 200
    assert answer.header("Content-Length") == str(len(answer.body))
    assert answer.all("Set-Cookie") == [] and answer.header("Content-Language") is None
    assert answer.header("X-Content-Type-Options") == "nosniff"


def test_a_page_still_goes_through_the_whole_stack():
    answer = call("GET", "/login/")
    assert answer.status == 200
    assert answer.header("Content-Language") == "fr"
    assert any(cookie.strip().startswith("csrftoken=") for cookie in answer.all("Set-Cookie"))
    assert "Cookie" in answer.header("Vary")
    assert answer.header("X-Frame-Options") == "DENY"
    assert answer.header("X-Content-Type-Options") == "nosniff"
    # A path that only starts like a protocol one is the site's too.
    assert call("GET", "/1.1").header("Content-Language") == "fr"


def test_verify_key_answers_alike_through_the_lean_handler_and_the_whole_stack(key, client):
    cases = [
        {"key": key, "blog": SITE_URL},
        {"key": key, "blog": "https://another-blog.example.com/"},
        {"key": "0" * 24, "blog": SITE_URL},
        {"key": key},
    ]
    for form in cases:
        lean = call("POST", "/1.1/verify-key", form)
        full = client.post("/1.1/verify-key", form)
        assert (lean.status, lean.body) == (full.status_code, full.content), form
        assert lean.header("X-akismet-debug-help") == full.headers.get("X-akismet-debug-help"), form
    assert [call("POST", "/1.1/verify-key", form).body for form in cases] == [
        b"valid",
        b"invalid",
        b"invalid",
        b"invalid",
    ]


@pytest.mark.parametrize(
    "path", ["/1.1/verify-key", "/1.2/usage-limit", "/1.1/comment-check", "/v1alpha1/comments:analyze"]
)
def test_a_host_outside_the_allowed_hosts_is_refused_on_protocol_paths_as_on_the_site(key, path):
    site = call("GET", "/login/", headers={"Host": "attacker.example"})
    assert site.status == 400
    answer = call(
        "POST", path, {"key": key, "api_key": key, "blog": SITE_URL}, headers={"Host": "attacker.example"}
    )
    assert (answer.status, answer.body) == (site.status, site.body)
    assert answer.header("Content-Type") == site.header("Content-Type")
    assert answer.header("X-akismet-debug-help") is None  # no view ran
    # The same request for an allowed host is answered by the view.
    allowed = call(
        "POST", path, {"key": key, "api_key": key, "blog": SITE_URL}, headers={"Host": "localhost:8000"}
    )
    assert allowed.body != site.body


def test_protocol_calls_are_counted_in_the_request_metrics(key):
    """/metrics counts what `palabre serve` answers on the protocol paths too (docs/operations.md:
    `view` is the URL's name), refusals included."""
    from prometheus_client import REGISTRY

    def counted(view: str, status: str) -> float:
        labels = {"method": "POST", "view": view, "status": status}
        return REGISTRY.get_sample_value("palabre_http_requests_total", labels) or 0.0

    valid, refused = counted("akismet_verify_key", "200"), counted("unmatched", "404")
    assert call("POST", "/1.1/verify-key", {"key": key, "blog": SITE_URL}).body == b"valid"
    assert call("POST", "/1.1/no-such-call", {"key": key}).status == 404
    assert counted("akismet_verify_key", "200") == valid + 1
    assert counted("unmatched", "404") == refused + 1
