"""The address guard: no outbound connection to loopback, private, link-local or reserved addresses,
checked again at each redirect, connected to the very address that was checked."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from platform_server import Answer

from palabre.connectors import guarded_requests, outbound
from palabre.connectors.base import PermanentError
from palabre.connectors.bluesky import BlueskyConnector
from palabre.connectors.mail import EmailConnector
from palabre.connectors.mastodon import MastodonConnector
from palabre.connectors.rss import FeedConnector
from palabre.orgs.services import set_channel_credentials

ALLOWED = "PALABRE_OUTBOUND_ALLOWED_HOSTS"


@pytest.fixture(autouse=True)
def nothing_allowed(monkeypatch):
    monkeypatch.delenv(ALLOWED, raising=False)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.3.2.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "reserved"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link_local"),
        ("::ffff:10.0.0.1", "private"),
        ("::127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link_local"),
    ],
)
def test_inner_addresses_are_refused(address, reason):
    assert outbound.why_refused(ipaddress.ip_address(address)) == reason
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_url(f"http://[{address}]/" if ":" in address else f"http://{address}/")
    assert refused.value.reason == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_public_addresses_pass(address):
    assert outbound.why_refused(ipaddress.ip_address(address)) == ""


def test_a_name_that_resolves_to_loopback_is_refused():
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_url("http://localhost:8080/feed")
    assert refused.value.reason == "loopback" and refused.value.host == "localhost"


def test_the_setting_lets_named_hosts_and_networks_through(monkeypatch):
    monkeypatch.setenv(ALLOWED, "10.1.2.0/24, .intranet.example, localhost")
    assert outbound.check_url("http://10.1.2.3/feed") == "10.1.2.3"
    assert outbound.check_url("http://localhost/feed") in {"127.0.0.1", "::1"}
    with pytest.raises(outbound.AddressRefused):
        outbound.check_url("http://10.1.3.1/feed")
    assert outbound.allowance().allows_name("feeds.intranet.example")
    assert not outbound.allowance().allows_name("intranet.example.evil.org")


def _port(server) -> int:
    return server.httpd.server_address[1]


def test_a_request_to_loopback_never_leaves(platform_server, monkeypatch):
    platform_server.on("GET", "/secret", Answer(body="the install's secret", content_type="text/plain"))
    monkeypatch.setenv(ALLOWED, "")
    with pytest.raises(outbound.AddressRefused), outbound.client() as client:
        client.get(f"{platform_server.url}/secret")
    assert platform_server.requests == []


def test_each_redirect_is_checked_again(platform_server, monkeypatch):
    # The first hop is allowed by name; it sends the client to a literal address nobody allowed.
    port = _port(platform_server)
    platform_server.on(
        "GET", "/metadata", Answer(302, headers={"Location": "http://169.254.169.254/latest/"})
    )
    platform_server.on("GET", "/inner", Answer(302, headers={"Location": f"http://127.0.0.1:{port}/secret"}))
    platform_server.on("GET", "/secret", Answer(body="the install's secret", content_type="text/plain"))
    monkeypatch.setenv(ALLOWED, "localhost")
    with outbound.client() as client:
        with pytest.raises(outbound.AddressRefused) as refused:
            client.get(f"http://localhost:{port}/metadata")
        assert refused.value.reason == "link_local"
        with pytest.raises(outbound.AddressRefused) as refused:
            client.get(f"http://localhost:{port}/inner")
        assert refused.value.reason == "loopback"
    assert [request.path for request in platform_server.requests] == ["/metadata", "/inner"]


def test_redirects_are_bounded(platform_server):
    platform_server.on("GET", "/loop", Answer(302, headers={"Location": "/loop"}))
    with pytest.raises(httpx.TooManyRedirects), outbound.client() as client:
        client.get(f"{platform_server.url}/loop")
    assert len(platform_server.requests) == outbound.MAX_REDIRECTS + 1


def test_the_checked_address_is_the_one_connected_to_and_the_name_stays_in_the_host_header(
    platform_server, monkeypatch
):
    """One resolution per request: the connection goes to the address checked (no DNS rebinding)."""
    port = _port(platform_server)
    platform_server.on("GET", "/hello", Answer(body="bonjour", content_type="text/plain"))
    resolved = []
    real = socket.getaddrinfo

    def spy(host, *args, **kwargs):
        resolved.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    with outbound.client() as client:
        response = client.get(f"http://localhost:{port}/hello")
    assert response.text == "bonjour"
    assert str(response.url) == f"http://localhost:{port}/hello"
    assert resolved.count("localhost") == 1
    assert platform_server.requests[0].headers["Host"] == f"localhost:{port}"


def test_a_channel_pointing_inside_is_refused_when_entered(org, make_channel, owner_actor):
    with pytest.raises(ValidationError) as error:
        make_channel(org, "rss", handle="http://127.0.0.1:8080/feed.xml", name="Flux")
    assert "handle" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_channel(
            org,
            "mastodon",
            handle="@maison@mastodon.example",
            name="Mastodon",
            credentials={"access_token": "t", "api_base_url": "https://[::ffff:169.254.169.254]"},
        )
    assert "credentials" in error.value.message_dict
    sky = make_channel(org, "bluesky", handle="maison.bsky.social", name="Bluesky")
    with pytest.raises(ValidationError) as error:
        set_channel_credentials(
            actor=owner_actor,
            channel=sky,
            credentials={"identifier": "maison", "app_password": "x", "service": "https://10.0.0.1"},
        )
    assert "credentials" in error.value.message_dict


def test_connectors_refuse_at_fetch_time_an_address_allowed_when_entered(
    org, make_channel, platform_server, monkeypatch
):
    # Entered while an intranet server was allowed; the allowance is gone since.
    feed = make_channel(org, "rss", handle=f"{platform_server.url}/feed.xml", name="Flux")
    toots = make_channel(
        org,
        "mastodon",
        handle="@maison@mastodon.example",
        name="Mastodon",
        credentials={"access_token": "t", "api_base_url": platform_server.url},
    )
    platform_server.on("POST", "/xrpc/com.atproto.server.createSession", Answer(body={}))
    sky = make_channel(
        org,
        "bluesky",
        handle="maison.bsky.social",
        name="Bluesky",
        credentials={"identifier": "maison", "app_password": "x", "service": platform_server.url},
    )
    monkeypatch.setenv(ALLOWED, "")
    for connector, channel in (
        (FeedConnector(), feed),
        (MastodonConnector(), toots),
        (BlueskyConnector(), sky),
    ):
        with translation.override("en"), pytest.raises(PermanentError, match="loopback address"):
            connector.pull(channel, "")
    assert platform_server.requests == []


def test_a_mail_server_inside_is_refused_when_entered_and_when_used(org, make_channel, monkeypatch):
    with pytest.raises(ValidationError) as error:
        make_channel(
            org,
            "email",
            handle="contact@maison.example",
            credentials={"imap_host": "10.0.0.25", "username": "u", "smtp_host": "mail.maison.example"},
        )
    assert len(error.value.message_dict["credentials"]) == 1
    monkeypatch.setenv(ALLOWED, "127.0.0.1")
    channel = make_channel(
        org,
        "email",
        handle="contact@maison.example",
        credentials={"imap_host": "127.0.0.1", "imap_port": 9, "imap_security": "none", "username": "u"},
    )
    monkeypatch.setenv(ALLOWED, "")
    with translation.override("en"), pytest.raises(PermanentError, match="loopback address"):
        EmailConnector().pull(channel, "")


def test_the_requests_session_of_mastodon_py_is_guarded_the_same_way(platform_server, monkeypatch):
    port = _port(platform_server)
    platform_server.on("GET", "/hello", Answer(body="bonjour", content_type="text/plain"))
    platform_server.on("GET", "/inner", Answer(302, headers={"Location": f"http://127.0.0.1:{port}/hello"}))
    platform_server.on("GET", "/relative", Answer(302, headers={"Location": "/hello"}))
    monkeypatch.setenv(ALLOWED, "localhost")
    resolved = []
    real = socket.getaddrinfo

    def spy(host, *args, **kwargs):
        resolved.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    with guarded_requests.requests_session() as session:
        response = session.get(f"http://localhost:{port}/relative")
        assert response.text == "bonjour" and response.url == f"http://localhost:{port}/hello"
        with pytest.raises(outbound.AddressRefused):
            session.get(f"http://localhost:{port}/inner")
    assert resolved.count("localhost") == 3  # one per request sent, redirects included
    assert [r.path for r in platform_server.requests] == ["/relative", "/hello", "/inner"]
    assert all(r.headers["Host"] == f"localhost:{port}" for r in platform_server.requests)


@pytest.fixture
def tls_server(tmp_path, allow_loopback):
    """An HTTPS server on 127.0.0.1 whose certificate names only `localhost`."""
    import datetime
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=36500))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"bonjour")

        def log_message(self, *args):
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    names = []
    context.sni_callback = lambda sock, server_name, _context: names.append(server_name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield httpd.server_address[1], cert_file, names
    httpd.shutdown()
    httpd.server_close()


def test_tls_checks_the_name_while_connecting_to_the_checked_address(tls_server):
    import ssl

    port, cert_file, names = tls_server
    url = f"https://localhost:{port}/"
    with outbound.client(verify=ssl.create_default_context(cafile=str(cert_file))) as client:
        assert client.get(url).text == "bonjour"
    with guarded_requests.requests_session() as session:
        assert session.get(url, verify=str(cert_file)).text == "bonjour"
    assert names == ["localhost", "localhost"]


def test_the_api_refuses_a_feed_inside_naming_the_field(org, client):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import Actor, create_api_token

    _token, plain = create_api_token(
        actor=Actor.palabre(org), name="ops", scopes=[Perm.CHANNELS_MANAGE.value]
    )
    response = client.post(
        "/api/channels",
        {"platform": "rss", "handle": "http://[::ffff:127.0.0.1]:5432/", "name": "Base"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert 400 <= response.status_code < 500
    assert "handle" in response.json()["fields"]
