"""The one HTTP client of connectors and listening's searches, against a real server on loopback:
the size limit holds while reading, encodings are undone once, waits are read from the answer,
the address guard and Palabre's User-Agent apply to the channel side and the searches alike."""

from __future__ import annotations

import gzip
import threading
import tracemalloc
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from platform_server import DrippingServer

from palabre.connectors import guarded_requests, http_client, outbound, rss, search
from palabre.connectors.base import MalformedPayload

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
    '<item><guid isPermaLink="false">a-1</guid><title>Bonjour</title><description>Un billet.</description></item>'
    "</channel></rss>"
)


class _Server:
    """Answers every GET with what `answer(handler)` writes; keeps the requests' headers."""

    def __init__(self, answer):
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server.headers.append(dict(self.headers))
                answer(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(allow_loopback):
    servers = []

    def start(answer):
        servers.append(_Server(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _chunked(handler, chunks: int, size: int = 1024):
    """A body with no Content-Length (chunked): only reading tells how large it is."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        for _ in range(chunks):
            handler.wfile.write(f"{size:x}\r\n".encode() + b"x" * size + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client stopped reading


def _encoded(body: bytes, encoding: str):
    """A handler answering `body` as compressed with `encoding`, with its length."""

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def test_an_answer_over_the_limit_is_cut_off_while_read_even_without_a_length(serve):
    server = serve(lambda handler: _chunked(handler, chunks=64))
    with pytest.raises(http_client.TooLarge):
        http_client.get(server.url, max_bytes=10_000)
    assert http_client.get(server.url, max_bytes=100_000).content == b"x" * 64 * 1024


@pytest.mark.parametrize("length", [True, False], ids=["declared", "chunked"])
def test_the_sdks_that_read_whole_answers_are_cut_off_at_the_limit_too(serve, length):
    """atproto (Bluesky) reads answers through the guard's httpx transport and Mastodon.py through
    its requests adapter, each whole, outside `http_client`: a hostile instance answering without
    end filled the worker's memory. Both stop at the limit, with or without a declared length."""

    def answer(handler):
        if not length:
            _chunked(handler, chunks=8)
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(8 * 1024))
        handler.end_headers()
        handler.wfile.write(b"x" * 8 * 1024)

    url = serve(answer).url
    with (
        httpx.Client(transport=outbound.GuardedTransport(max_bytes=4000)) as client,
        pytest.raises(outbound.TooLarge),
    ):
        client.get(url)
    with guarded_requests.requests_session(max_bytes=4000) as session, pytest.raises(outbound.TooLarge):
        session.get(url)
    # under the limit both read the answer as before
    with httpx.Client(transport=outbound.GuardedTransport(max_bytes=10_000)) as client:
        assert client.get(url).content == b"x" * 8 * 1024
    with guarded_requests.requests_session(max_bytes=10_000) as session:
        assert session.get(url).content == b"x" * 8 * 1024


def test_a_declared_length_over_the_limit_is_refused_before_reading(serve):
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "50000000")
        handler.end_headers()

    server = serve(answer)
    with pytest.raises(http_client.TooLarge):
        http_client.get(server.url)


def test_an_answer_dripped_a_byte_at_a_time_ends_at_the_timeout_of_the_whole_exchange(
    allow_loopback, monkeypatch
):
    """Each byte arrives well within the per-read timeout, so only a deadline over the whole
    exchange stops it (at 1 byte every 19 s, a 5 MB answer would hold a worker for three years)."""
    with DrippingServer(60) as server:
        monkeypatch.setattr(http_client, "_clock", server.clock)
        with pytest.raises(httpx.TimeoutException):
            http_client.get(server.url)
    assert server.now <= 22  # stopped at the deadline (20 s), not after the 60 bytes


@pytest.mark.parametrize("bound", ["timeout", "deadline"])
def test_the_requests_session_ends_a_dripped_answer_at_its_timeout(serve, bound):
    """requests and urllib3 bound each read: a byte every 50 ms under a timeout of half a second
    went on for the whole answer (10 s here, as long as the server likes in the wild), holding
    Mastodon.py's or PRAW's worker. The session's watchdog ends the exchange at its timeout, or at
    the deadline in force."""
    import requests

    with DrippingServer(200) as server, guarded_requests.requests_session() as session:
        with pytest.raises(requests.Timeout):
            if bound == "timeout":
                session.get(server.url, timeout=0.5)
            else:
                with outbound.deadline(0.5):
                    session.get(server.url, timeout=30)
        # The session serves the next exchange as before, and the watchdog of a finished one is gone.
        quick = serve(lambda handler: _chunked(handler, chunks=2))
        assert session.get(quick.url, timeout=5).content == b"x" * 2048
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join(5)  # a cancelled timer ends at once, not before it is told
        assert not timer.is_alive()


def test_a_compressed_answer_is_handed_back_decoded_once(serve):
    body = gzip.compress(FEED.encode())

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    response = http_client.get(serve(answer).url)
    assert response.text == FEED and response.status_code == 200
    assert "content-encoding" not in response.headers


def _compressed(data: bytes, encoding: str) -> bytes:
    """gzip, deflate as the standard writes it (zlib-wrapped), or the raw deflate some servers send."""
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9)
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS if encoding == "deflate" else -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_a_compression_bomb_is_cut_off_while_inflated_by_every_way_out(serve, encoding):
    """64 MB of zeros weigh 64 KB in gzip or deflate: httpx and urllib3 inflate a whole network chunk
    at once, so the size limit saw each chunk only once inflated (about 64 MB in the worker), and
    atproto's reading through the guard's transport had no limit on the decoded size at all. The
    guard inflates itself, never past the limit: the worker holds about the limit, not the bomb."""
    body = _compressed(b"\0" * (64 * 1024 * 1024), encoding)

    answer = _encoded(body, "gzip" if encoding == "gzip" else "deflate")
    url = serve(answer).url
    limit = 1024 * 1024

    def read_with_httpx():
        with httpx.Client(transport=outbound.GuardedTransport(max_bytes=limit)) as client:
            client.get(url)

    def read_with_requests():
        with guarded_requests.requests_session(max_bytes=limit) as session:
            session.get(url)

    for read in (lambda: http_client.get(url, max_bytes=limit), read_with_httpx, read_with_requests):
        tracemalloc.start()
        try:
            with pytest.raises(outbound.TooLarge):
                read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 8 * limit, f"{peak / 1e6:.0f} MB held while reading"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_a_compressed_answer_under_the_limit_reads_the_same_by_every_way_out(serve, encoding):
    text = (FEED * 200).encode()
    body = _compressed(text, encoding)

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip" if encoding == "gzip" else "deflate")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(body), 700):  # a few bytes at a time: the coding spans chunks
            piece = body[start : start + 700]
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    url = serve(answer).url
    assert http_client.get(url).content == text
    with httpx.Client(transport=outbound.GuardedTransport()) as client:
        response = client.get(url)
        assert response.content == text and "content-encoding" not in response.headers
    with guarded_requests.requests_session() as session:
        assert session.get(url).content == text
        streamed = session.get(url, stream=True)
        assert b"".join(streamed.iter_content(1000)) == text


def test_a_damaged_compressed_answer_is_a_decoding_error(serve):
    body = gzip.compress(b"bonjour " * 1000)[:-30] + b"\xff" * 30

    answer = _encoded(body, "gzip")
    with pytest.raises(httpx.DecodingError):
        http_client.get(serve(answer).url)


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_an_answer_in_an_encoding_without_an_output_bound_is_refused_before_decoding(serve, encoding):
    """httpx (and urllib3) inflate brotli and zstd with no bound on the output: 809 bytes of brotli
    became 512 MB in the worker before the size limit could see them. Palabre asks for gzip or
    deflate only and refuses another encoding, undecoded, whoever sends it."""
    import brotli
    import zstandard

    body = (
        brotli.compress(b"bonjour") if encoding == "br" else zstandard.ZstdCompressor().compress(b"bonjour")
    )

    answer = _encoded(body, encoding)
    server = serve(answer)
    with pytest.raises(outbound.RefusedEncoding):
        http_client.get(server.url)
    with guarded_requests.requests_session() as session, pytest.raises(outbound.RefusedEncoding):
        session.get(server.url)
    assert all(h["Accept-Encoding"] == "gzip, deflate" for h in server.headers)


def test_the_address_guard_applies(monkeypatch):
    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "")
    with pytest.raises(outbound.AddressRefused):
        http_client.get("http://127.0.0.1:9/feed.xml")


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "0"}, 1.0),
        ({"Retry-After": "Sat, 05 Dec 2026 08:02:00 GMT"}, 120.0),
        ({"x-ratelimit-reset": "42"}, 42.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_the_wait_a_platform_asks_for(headers, wait):
    response = httpx.Response(429, headers=headers)
    assert http_client.retry_after(response, now=datetime(2026, 12, 5, 8, 0, tzinfo=UTC)) == wait


def test_the_feed_channel_and_a_feed_search_fetch_alike(serve, org, make_channel):
    def answer(handler):
        payload = FEED.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    server = serve(answer)
    channel = make_channel(org, "rss", handle=f"{server.url}/feed")
    (post,) = rss.FeedConnector().pull(channel, "").items
    (candidate,) = rss.search({"url": f"{server.url}/feed"}, {}).candidates
    assert post.external_id == candidate.external_id == "a-1"
    assert candidate.text == "Bonjour\n\nUn billet." and post.text == "Un billet."
    assert [h["User-Agent"] for h in server.headers] == [http_client.USER_AGENT] * 2


def test_a_feed_over_the_limit_is_a_malformed_payload_for_the_channel(serve, org, make_channel, monkeypatch):
    monkeypatch.setattr(rss, "MAX_FEED_BYTES", 10_000)
    server = serve(lambda handler: _chunked(handler, chunks=64))
    channel = make_channel(org, "rss", handle=f"{server.url}/feed")
    with pytest.raises(MalformedPayload, match="larger than"):
        rss.FeedConnector().pull(channel, "")


def test_a_feed_in_an_encoding_palabre_does_not_read_is_malformed_not_retried(serve, org, make_channel):
    """The server's choice: retrying every few minutes as after a network failure changes nothing,
    the channel's health says what is wrong instead."""
    import brotli

    body = brotli.compress(FEED.encode())

    answer = _encoded(body, "br")
    server = serve(answer)
    channel = make_channel(org, "rss", handle=f"{server.url}/feed")
    with pytest.raises(MalformedPayload, match="'br'"):
        rss.FeedConnector().pull(channel, "")
    with pytest.raises(search.SearchMalformed, match="br"):
        search.get(f"{server.url}/feed")


def test_request_sends_a_form_and_does_not_follow_a_redirected_write(platform_server):
    from platform_server import Answer

    platform_server.on("POST", "/write", Answer(302, b"", {"Location": "/elsewhere"}))
    platform_server.on("POST", "/form", Answer(200, {"id": "1"}))
    answer = http_client.request("POST", f"{platform_server.url}/form", data={"message": "Bonjour"})
    assert answer.json() == {"id": "1"}
    sent = platform_server.made("POST", "/form")[0]
    assert sent.form() == {"message": ["Bonjour"]} and sent.headers["User-Agent"] == http_client.USER_AGENT
    assert http_client.request("POST", f"{platform_server.url}/write", data={"a": "b"}).status_code == 302
    assert [r.path for r in platform_server.requests] == ["/form", "/write"]
