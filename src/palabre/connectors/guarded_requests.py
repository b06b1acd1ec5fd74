"""The address guard for the SDKs that speak `requests` (Mastodon.py, PRAW): a session whose every
request, each redirect included, goes to a checked address, whose answers are read (and inflated)
up to a size limit, and whose whole exchange ends at its timeout.

`requests` and urllib3 bound each socket operation, not the exchange: a server that sends a byte
just before each read times out holds a worker for as long as it likes. A watchdog shuts the
exchange's sockets down when its time is up (the deadline in force, `outbound.deadline`, or else the
timeout the SDK passes), which ends the read under way; the caller gets `requests.Timeout`.

Imported by those connectors when they are called, not at start-up (`requests` costs CPU)."""

from __future__ import annotations

import contextlib
import socket
import threading
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpcore
import requests
import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from palabre.connectors import outbound


class _Watchdog:
    """Shuts down every socket of one exchange once `seconds` have passed."""

    def __init__(self, seconds: float):
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # A blocked read in another thread returns at once; close() alone would not wake it.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


# The watchdog of the exchange under way in this thread, which its connections report their sockets to.
_watchdog: ContextVar[_Watchdog | None] = ContextVar("requests_watchdog", default=None)


class _Watched:
    """A urllib3 connection that shows its socket to the exchange's watchdog: the plain socket as
    soon as it is connected (a TLS handshake may drip too), the one in use for each answer (a
    connection kept alive serves several exchanges)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if (watchdog := _watchdog.get()) is not None:
            watchdog.watch(sock)
        return sock

    def getresponse(self, *args, **kwargs):
        if (watchdog := _watchdog.get()) is not None:
            watchdog.watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _exchange_seconds(timeout: Any) -> float | None:
    """How long the whole exchange may take: what is left of the deadline in force, or else the
    timeout given to `requests` (its connect and read parts together), or None for no bound."""
    try:
        left = outbound._time_left(None, httpcore.ReadTimeout)
    except httpcore.ReadTimeout:
        return 0.0
    if left is not None:
        return left
    if isinstance(timeout, tuple):
        parts = [part for part in timeout if part is not None]
        return float(sum(parts)) if parts else None
    return float(timeout) if timeout is not None else None


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """The `requests` counterpart of `outbound.GuardedTransport`: each request, each redirect
    included, goes to a checked address; the name stays in the Host header, SNI and certificate
    check; an answer is read up to `max_bytes`; the exchange ends at its timeout."""

    def __init__(self, *args, max_bytes: int = outbound.MAX_BYTES, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        seconds = _exchange_seconds(kwargs.get("timeout"))
        if seconds is None:
            return self._send(request, **kwargs)
        watchdog = _Watchdog(seconds)
        token = _watchdog.set(watchdog)
        try:
            with watchdog:
                return self._send(request, **kwargs)
        except Exception as error:
            if watchdog.fired:
                raise requests.Timeout(
                    f"{request.url}: no complete answer within {seconds:.0f} s", request=request
                ) from error
            raise
        finally:
            _watchdog.reset(token)

    def _send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        # urllib3 offers br and zstd when installed
        request.headers["Accept-Encoding"] = outbound.ACCEPT_ENCODING
        response = self._pinned(request, **{**kwargs, "stream": True})
        refused = outbound._unreadable_encoding(response.headers)
        if refused:
            response.close()
            raise outbound.RefusedEncoding(request.url, refused)
        if outbound._declared_over(response.headers, self.max_bytes):
            response.close()
            raise outbound.TooLarge(request.url, self.max_bytes)
        # Read here, up to the limit, and decoded here (urllib3 would inflate a whole network
        # chunk at once): at most `max_bytes`, so a streamed answer is read now too.
        codings = outbound._content_codings(response.headers)
        inflater = outbound._Inflater(codings, self.max_bytes, request.url) if codings else None
        body, seen = bytearray(), 0
        try:
            for chunk in response.raw.stream(64 * 1024, decode_content=False):
                seen += len(chunk)
                if seen > self.max_bytes:
                    raise outbound.TooLarge(request.url, self.max_bytes)
                body += inflater.feed(chunk) if inflater else chunk
                if len(body) > self.max_bytes:
                    raise outbound.TooLarge(request.url, self.max_bytes)
            if inflater:
                body += inflater.flush()
        except outbound.TooLarge:
            response.close()
            raise
        if codings:
            for name in ("Content-Encoding", "Content-Length"):
                response.headers.pop(name, None)
        response._content = bytes(body)  # what `Response.content` keeps once read
        response._content_consumed = True  # iter_content() then slices it (stream=True too)
        return response

    def _pinned(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        address = outbound.resolve(host, parts.port or outbound._default_port(parts.scheme))[0]
        if outbound._literal(host) is not None:
            return super().send(request, **kwargs)
        port = f":{parts.port}" if parts.port else ""
        pinned = request.copy()
        pinned.url = urlunsplit(parts._replace(netloc=(f"[{address}]" if ":" in address else address) + port))
        pinned.headers["Host"] = host + port
        pinned.palabre_server_name = host
        response = super().send(pinned, **kwargs)
        response.url, response.request = request.url, request  # redirects resolve against the name
        return response

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = getattr(request, "palabre_server_name", None)
        if name and host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs


def requests_session(*, max_bytes: int = outbound.MAX_BYTES) -> requests.Session:
    """A `requests` session that only reaches checked addresses (environment proxies ignored),
    reads an answer up to `max_bytes` and ends each exchange at its timeout."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = outbound.MAX_REDIRECTS
    adapter = GuardedAdapter(max_bytes=max_bytes)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
