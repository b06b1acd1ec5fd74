"""Palabre's one address guard for outbound connections: no request to the install's own network.

An organisation types addresses (a listening source, an alert webhook, a Mastodon instance, a
Bluesky service, a feed, a mail server). Without a guard, `http://169.254.169.254/` (a cloud's metadata service),
`http://127.0.0.1:5432/` or a router's page would be fetched from inside the install and shown
back to that organisation. So every outbound connection:

- resolves the host and refuses it when any of its addresses is loopback, private, link-local,
  shared (CGNAT), reserved, multicast or unspecified, IPv4 or IPv6, including IPv4 addresses
  embedded in IPv6 (IPv4-mapped `::ffff:127.0.0.1`, IPv4-compatible, 6to4, Teredo, NAT64);
- connects to the very address it checked (`GuardedTransport` for httpx, `GuardedAdapter` for
  requests in `guarded_requests`, `open_socket` for the rest put it in place of the name, and keep the name in the Host
  header and in TLS SNI and certificate checks): no second DNS answer (DNS rebinding) can slip
  between the check and the connection;
- does it again at each redirect, itself (`MAX_REDIRECTS` at most), since each hop goes through
  the same transport;
- stops at a deadline for the whole exchange when the caller sets one (`deadline`): a per-read
  timeout alone lets a server that sends one byte every few seconds hold a worker for days.

`PALABRE_OUTBOUND_ALLOWED_HOSTS` names what is let through all the same (an intranet feed, a
test server on loopback): host names (`feeds.intranet`, or `.intranet` for a domain), addresses
or networks (`10.1.2.0/24`, `127.0.0.1`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre import config

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_REDIRECTS = 5
# The most an answer may weigh as it comes over the network: SDKs that read whole answers
# themselves (atproto, Mastodon.py) are cut off here instead of filling the worker's memory.
MAX_BYTES = 5 * 1024 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


# Why an address is refused, in the reader's language (forms show it next to the field).
REASONS = {
    "loopback": gettext_lazy("a loopback address"),
    "link_local": gettext_lazy("a link-local address"),
    "multicast": gettext_lazy("a multicast address"),
    "unspecified": gettext_lazy("an unspecified address"),
    "private": gettext_lazy("a private address"),
    "reserved": gettext_lazy("a reserved address"),
    "local_name": gettext_lazy("a local name"),
    "no_host": gettext_lazy("no host in the address"),
}


class AddressRefused(httpx.TransportError):
    """The host is, or resolves to, an address Palabre does not connect to.

    A subclass of httpx's TransportError, so callers that already handle network failures handle
    this one too; its message names the host, the address and why, in the active language."""

    def __init__(self, host: str, reason: str, address: str = ""):
        self.host = host
        self.address = address
        self.reason = reason  # a key of REASONS
        super().__init__(self.explain())

    def _where(self) -> str:
        return f"{self.host} ({self.address})" if self.address and self.address != self.host else self.host

    def explain(self) -> str:
        return _("Palabre does not connect to %(host)s: %(why)s.") % {
            "host": self._where(),
            "why": REASONS[self.reason],
        }


class TooLarge(httpx.HTTPError):
    """The answer is over the size limit; it was not read further."""

    def __init__(self, url: str, limit: int):
        self.limit = limit
        super().__init__(f"{url}: the answer is larger than {limit} bytes")


class RefusedEncoding(httpx.DecodingError):
    """The answer is compressed in an encoding whose decoders have no bound on their output
    (brotli, zstd: a few hundred bytes can inflate to gigabytes); it was not decoded."""

    def __init__(self, url: str, encoding: str):
        self.encoding = encoding
        super().__init__(f"{url}: the answer is compressed as {encoding!r}, which Palabre does not read")


# What Palabre asks for and reads: gzip and deflate inflate at most about 1,000 times a chunk.
ACCEPT_ENCODING = "gzip, deflate"
_READABLE_ENCODINGS = {"", "identity", "gzip", "x-gzip", "deflate"}


def _unreadable_encoding(headers) -> str:
    """The first content coding of the answer Palabre does not decode, or ""."""
    codings = [c.strip().lower() for c in str(headers.get("content-encoding") or "").split(",")]
    return next((c for c in codings if c not in _READABLE_ENCODINGS), "")


def _declared_over(headers, limit: int) -> bool:
    declared = str(headers.get("content-length") or "").strip()
    return declared.isdigit() and int(declared) > limit


@dataclass(frozen=True)
class Allowance:
    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def allows_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.names or any(host.endswith(suffix) for suffix in self.suffixes)

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def allowance() -> Allowance:
    """What PALABRE_OUTBOUND_ALLOWED_HOSTS lets through (read at each call: tests change it)."""
    names, suffixes, networks = set(), [], []
    for entry in (part.strip().lower() for part in config.OUTBOUND_ALLOWED_HOSTS.raw().split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            if entry.startswith("."):
                suffixes.append(entry)
            else:
                names.add(entry.rstrip("."))
    return Allowance(frozenset(names), tuple(suffixes), tuple(networks))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def why_refused(address: IPAddress) -> str:
    """Why Palabre does not connect to this address (a key of REASONS), or "" when it does."""
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:  # the connection goes to the IPv4 address: it alone decides
            return why_refused(address.ipv4_mapped)
        for inner in _embedded_ipv4(address):
            reason = why_refused(inner)
            if reason:
                return reason
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:  # shared (CGNAT), documentation and the like
        return "reserved"
    return ""


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` (in the resolver's order), each one checked; raise AddressRefused."""
    host = host.strip("[]")
    allowed = allowance()
    named = allowed.allows_name(host)
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise httpx.ConnectError(f"{host}: cannot resolve the name ({error})") from error
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise httpx.ConnectError(f"{host}: the name has no address")
    if not named:
        # Every address is checked, not only the first: a name may answer a public and a private one.
        for address in addresses:
            reason = why_refused(address)
            if reason and not allowed.allows_address(address):
                raise AddressRefused(host, reason, str(address))
    return [str(address) for address in addresses]


def _default_port(scheme: str) -> int:
    return {"https": 443, "wss": 443, "http": 80, "ws": 80}.get(scheme, 443)


def check_url(url: str) -> str:
    """Resolve and check the URL's host now; answer the first address; raise AddressRefused.

    See `checked_base_url` for clients that make their own connections."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise AddressRefused(url, "no_host")
    return resolve(parts.hostname, parts.port or _default_port(parts.scheme))[0]


def open_socket(url: str, *, timeout: float) -> socket.socket:
    """A TCP connection to the URL's host, made to an address that was checked (for clients that
    take a ready socket, as websockets does); the caller keeps the name for TLS and Host."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise AddressRefused(url, "no_host")
    port = parts.port or _default_port(parts.scheme)
    failure: OSError | None = None
    for address in resolve(parts.hostname, port):
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            failure = error
    raise httpx.ConnectError(f"{parts.hostname}:{port}: {failure}")


def checked_base_url(url: str) -> str:
    """The URL, once its host was checked: an early, clear refusal before a client is built.

    Alone it would leave a window: a client that connects by itself resolves the name again (a
    DNS answer that changes in between, rebinding, could reach a refused address) and follows
    redirects unchecked. So clients get the guard too: httpx ones `GuardedTransport` (atproto),
    requests ones `guarded_requests.requests_session()` (Mastodon.py, PRAW), websockets, imaplib and smtplib a socket
    from `open_socket`."""
    check_url(url)
    return url


def refusal_for_url(url: str) -> AddressRefused | None:
    """Why an address typed in a form is refused now, or None. A name that does not resolve here
    passes (it is checked again, and for good, at each connection), unless it is a local one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return AddressRefused(url, "no_host")
    try:
        check_url(url)
    except AddressRefused as refused:
        return refused
    except httpx.ConnectError:
        local = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
        if local and not allowance().allows_name(host):
            return AddressRefused(host, "local_name")
    return None


def refuse_addresses(urls: list[tuple[str, str]]) -> None:
    """Raise a ValidationError naming each field (of `(field, url)` pairs) whose URL is refused."""
    errors: dict[str, list[str]] = {}
    for field, url in urls:
        refusal = refusal_for_url(url)
        if refusal is not None:
            errors.setdefault(field, []).append(refusal.explain())
    if errors:
        raise ValidationError(errors)


class _Inflater:
    """The content codings of an answer (gzip, deflate, in the order applied) undone with zlib's
    `max_length`, so that no more than `limit` decoded bytes ever exist: httpx and urllib3 inflate a
    whole network chunk at once (64 KB of gzip can hold 64 MB), then the size check comes too late."""

    def __init__(self, codings: list[str], limit: int, url: str):
        self._limit, self._url, self._out = limit, url, 0
        self._layers = [_ZlibLayer(coding) for coding in reversed(codings)]

    def feed(self, data: bytes) -> bytes:
        for layer in self._layers:
            data = layer.feed(data, self._room())
        return self._count(data)

    def flush(self) -> bytes:
        data = b""
        for layer in self._layers:
            data = layer.feed(data, self._room()) + layer.flush(self._room())
        return self._count(data)

    def _room(self) -> int:
        # One byte past the limit is enough to know it is passed.
        return self._limit - self._out + 1

    def _count(self, data: bytes) -> bytes:
        self._out += len(data)
        if self._out > self._limit:
            raise TooLarge(self._url, self._limit)
        return data


class _ZlibLayer:
    """One gzip or deflate coding. "deflate" is zlib-wrapped by the standard, raw from some servers:
    the first bytes tell which."""

    def __init__(self, coding: str):
        self._coding = coding
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16) if "gzip" in coding else None
        self._pending = b""

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            self._pending += data
            if len(self._pending) < 2:
                return b""
            wrapped = (self._pending[0] & 0x0F) == 8 and int.from_bytes(self._pending[:2], "big") % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._pending = self._pending, b""
        out = bytearray()
        while data:
            try:
                out += self._zlib.decompress(data, max(room - len(out), 1))
            except zlib.error as error:
                raise httpx.DecodingError(
                    f"the answer's {self._coding} coding is damaged: {error}"
                ) from error
            if len(out) >= room:
                break  # past the limit already: the caller raises TooLarge
            data = self._zlib.unconsumed_tail
        return bytes(out)

    def flush(self, room: int) -> bytes:
        if self._zlib is None:  # fewer than two bytes came: nothing to inflate
            return b""
        return self._zlib.flush()[:room]


def _content_codings(headers) -> list[str]:
    codings = [c.strip().lower() for c in str(headers.get("content-encoding") or "").split(",")]
    return [c for c in codings if c not in ("", "identity")]


def _without_codings(headers) -> list[tuple[str, str]]:
    """The answer's headers once its body is decoded here: no coding left, its length unknown."""
    return [
        (name, value)
        for name, value in headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length")
    ]


class _CappedStream(httpx.SyncByteStream):
    """An answer's bytes, up to a limit as they come over the network and, when they are
    compressed, decoded here up to the same limit (httpx then sees them as plain)."""

    def __init__(self, stream, limit: int, url: str, codings: list[str] | None = None):
        self._stream, self._limit, self._url = stream, limit, url
        self._inflater = _Inflater(codings, limit, url) if codings else None

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._stream:
            seen += len(chunk)
            if seen > self._limit:
                raise TooLarge(self._url, self._limit)
            yield self._inflater.feed(chunk) if self._inflater else chunk
        if self._inflater:
            yield self._inflater.flush()

    def close(self) -> None:
        self._stream.close()


# The end of the exchange under way in this thread (or task), and the clock it is read on.
_deadline: ContextVar[tuple[float, Callable[[], float]] | None] = ContextVar(
    "outbound_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Every connection, TLS handshake, write and read made through `GuardedTransport` inside the
    block ends by `seconds` from now (httpx's timeouts bound each operation, not their sum)."""
    token = _deadline.set((clock() + seconds, clock))
    try:
        yield
    finally:
        _deadline.reset(token)


def _time_left(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    bound = _deadline.get()
    if bound is None:
        return timeout
    end, clock = bound
    left = end - clock()
    if left <= 0:
        raise expired("the time allowed for the exchange ran out")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation waits at most until the deadline in force."""

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(super().connect_tcp(host, port, left, local_address, socket_options))


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that connects only to checked addresses, pinned for the connection, and
    keeps to the `deadline` in force."""

    def __init__(self, *args, max_bytes: int = MAX_BYTES, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        # httpx takes no network backend; httpcore's pool reads this one at each new connection.
        self._pool._network_backend = _DeadlineBackend()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING  # httpx offers br and zstd when installed
        response = self._pinned(request)
        refused = _unreadable_encoding(response.headers)
        if refused:
            response.close()
            raise RefusedEncoding(str(request.url), refused)
        if _declared_over(response.headers, self.max_bytes):
            response.close()
            raise TooLarge(str(request.url), self.max_bytes)
        codings = _content_codings(response.headers)
        return httpx.Response(
            response.status_code,
            headers=_without_codings(response.headers) if codings else response.headers,
            stream=_CappedStream(response.stream, self.max_bytes, str(request.url), codings),
            extensions=response.extensions,
        )

    def _pinned(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        addresses = resolve(host, request.url.port or _default_port(request.url.scheme))
        if _literal(host) is not None:
            return super().handle_request(request)
        # A copy goes out, so that redirects and the response still see the name: the copy carries
        # the Host header set from the name, and TLS checks the certificate against the name.
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = host
        failure: httpx.ConnectError | None = None
        for address in addresses:  # each one checked; the next when one does not answer (IPv6)
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return super().handle_request(pinned)
            except httpx.ConnectError as error:
                failure = error
        raise failure


def client(*, follow_redirects: bool = True, max_bytes: int = MAX_BYTES, **options) -> httpx.Client:
    """An httpx client whose every request, redirects included, goes through the address guard."""
    verify = options.pop("verify", True)
    return httpx.Client(
        transport=GuardedTransport(verify=verify, max_bytes=max_bytes),
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        **options,
    )
